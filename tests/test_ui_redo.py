"""重试 and 编辑 in headless chromium: the last answer asked again with the same history, a
question edited and asked instead of it and what followed; the browser keeps the result;
neither can be pressed from a question sent until the page takes questions again.

The page, its server and the helpers are those of ``tests/test_ui_browser.py``.
"""

from __future__ import annotations

import threading

import pytest

from tests import test_ui_browser as browser
from tests.test_ui_browser import WAIT, _ask, _find, _wait

pytestmark = browser.pytestmark
ui_settings, url, open_page = browser.ui_settings, browser.url, browser.open_page


@pytest.fixture(scope="module")
def counted(ui_settings):
    """The app with a fake core whose answers say how many came before them and how many
    turns of history they were given: "…（问题）第3次，前文1轮"; and the fake, whose count
    each test starts afresh."""
    from assistant.types import Answer
    from tests.test_ui import FakeCore
    from ui import create_app, serve

    class Counted(FakeCore):
        def answer(self, question, history=None, **kw):
            base = super().answer(question, history, **kw)
            n = len(self.calls)
            text = f"{base.text}第{n}次，前文{len(history or [])}轮"
            return Answer(**{**base.__dict__, "text": text})

    fake = Counted()
    app = create_app(ui_settings, answer_fn=fake.answer, stream_fn=fake.stream)
    server = serve(app, port=browser._free_port(), block=False)
    yield server.local_url, fake
    server.close()


# The conversation as shown: each question's text and each reply's text.
_SHOWN = """return [...document.querySelectorAll('#rq-chat .rq-question, #rq-chat .rq-msg')]
  .map((e) => e.classList.contains('rq-question') ? 'Q ' + e.innerText
    : e.querySelector('.rq-text')?.innerText || e.className);"""


def _shown(driver) -> list[str]:
    return driver.execute_script(_SHOWN)


def _settled(driver):
    return browser._enabled(driver, "#rq-question textarea") and _find(driver, "#rq-ask")


def _press(driver, label: str, nth: int = -1) -> None:
    """Click Gradio's chat button ``label`` (重试, 编辑, 发送); ``nth`` of them."""

    def shown(d):
        found = [b for b in _find(d, f'#rq-chat button[aria-label="{label}"]')]
        return found or False

    button = _wait(driver, shown)[nth]
    driver.execute_script("arguments[0].click();", button)


def test_regenerate_asks_the_last_question_again_with_the_same_history(open_page, counted):
    at, fake = counted
    fake.calls.clear()
    driver = open_page(at=at)
    _ask(driver, "甲", "（甲）")
    _ask(driver, "乙", "第2次，前文1轮")
    _press(driver, "重试")
    _wait(driver, lambda d: "第3次" in d.find_element("css selector", "#rq-chat").text)
    _wait(driver, _settled)
    expected = ["Q 甲", "新增养老床位2000张[1]。（甲）第1次，前文0轮"]
    expected += ["Q 乙", "新增养老床位2000张[1]。（乙）第3次，前文1轮"]
    assert _shown(driver) == expected  # the answer replaced, not added
    driver.refresh()  # the browser keeps the replacement
    _wait(driver, lambda d: len(_shown(d)) == 4)
    assert _shown(driver) == expected
    _ask(driver, "丙", "前文2轮")  # the history the assistant reads has the new answer


def test_edit_a_question_and_ask_it_instead_of_it_and_what_followed(open_page, counted):
    at, fake = counted
    fake.calls.clear()
    from selenium.webdriver.common.keys import Keys

    driver = open_page(at=at)
    _ask(driver, "甲", "（甲）")
    _ask(driver, "乙<b>&$", "（乙")
    _press(driver, "编辑")  # the last question's
    area = _wait(driver, lambda d: _find(d, "#rq-chat textarea.edit-textarea"))[0]
    _wait(driver, lambda d: area.get_attribute("value") == "乙<b>&$")  # its text, not HTML
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys("丙")
    _press(driver, "发送")
    _wait(driver, lambda d: "（丙）" in d.find_element("css selector", "#rq-chat").text)
    _wait(driver, _settled)
    shown = _shown(driver)
    assert shown[::2] == ["Q 甲", "Q 丙"] and shown[3].endswith("（丙）第3次，前文1轮")
    _press(driver, "编辑", 0)  # the first question: everything after it goes
    area = _wait(driver, lambda d: _find(d, "#rq-chat textarea.edit-textarea"))[0]
    _wait(driver, lambda d: area.get_attribute("value") == "甲")
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys("丁")
    _press(driver, "发送")
    _wait(driver, lambda d: "（丁）" in d.find_element("css selector", "#rq-chat").text)
    _wait(driver, _settled)
    expected = ["Q 丁", "新增养老床位2000张[1]。（丁）第4次，前文0轮"]
    assert _shown(driver) == expected
    driver.refresh()
    _wait(driver, lambda d: len(_shown(d)) == 2)
    assert _shown(driver) == expected


class Hold:
    """Once armed, the next answer waits before it starts (as one waits for its turn in a
    busy queue): the question taken and the page busy, nothing of the answer shown yet."""

    def __init__(self) -> None:
        self.armed, self.reached, self.go = False, threading.Event(), threading.Event()

    def at_start(self) -> None:
        if self.armed:
            self.armed = False
            self.reached.set()
            self.go.wait()


@pytest.fixture(scope="module")
def held(ui_settings):
    """The app with a fake core whose answers start when the test's :class:`Hold` lets them;
    and the fake (its calls) and the hold."""
    from tests.test_ui import FakeCore
    from ui import create_app, serve
    from ui.runs import Runs

    hold, fake, taken = Hold(), FakeCore(), Runs.take

    def take(runs, run_id):  # the answer's handler takes its run before it shows anything
        hold.at_start()
        return taken(runs, run_id)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Runs, "take", take)
        app = create_app(ui_settings, answer_fn=fake.answer, stream_fn=fake.stream)
        server = serve(app, port=browser._free_port(), block=False)
        yield server.local_url, fake, hold
        hold.go.set()
        server.close()


_REDO = '#rq-chat button[aria-label="重试"], #rq-chat button[aria-label="编辑"]'

# Records every state of the page in which it is busy (the question box disabled) and a
# 重试 or 编辑 can be pressed: from the question taken until the page takes questions again.
_WATCH_REDO = f"""window.__pressable = [];
new MutationObserver(() => {{
  const box = document.querySelector('#rq-question textarea');
  if (!box || !box.disabled) return;
  const open = [...document.querySelectorAll('{_REDO}')].filter((b) => !b.disabled);
  if (open.length) window.__pressable.push(open.map((b) => b.ariaLabel).join(' '));
}}).observe(document.body, {{ childList: true, subtree: true, attributes: true }});"""


def _redo_buttons(driver) -> list[tuple[str, bool]]:
    return [(b.get_attribute("aria-label"), b.is_enabled()) for b in _find(driver, _REDO)]


def test_retry_and_edit_cannot_be_pressed_until_the_answer_is_over(open_page, held):
    from selenium.webdriver.common.keys import Keys

    at, fake, hold = held
    fake.calls.clear()
    driver = open_page(at=at)
    _ask(driver, "甲", "（甲）")
    assert _redo_buttons(driver) == [("编辑", True), ("重试", True)]
    driver.execute_script(_WATCH_REDO)
    hold.armed = True
    box = _find(driver, "#rq-question textarea")[0]
    box.send_keys("乙", Keys.ENTER)
    assert hold.reached.wait(WAIT), "the answer never got to its start"
    # Sent and taken (the box is disabled), the answer not started: Gradio's own lock (while
    # its handler streams) is not on yet, the page's is.
    _wait(driver, lambda d: not browser._enabled(d, "#rq-question textarea"))
    buttons = _redo_buttons(driver)
    assert buttons and not any(enabled for _, enabled in buttons), buttons
    for button in _find(driver, _REDO):  # a script's click does nothing either
        driver.execute_script("arguments[0].click();", button)
    hold.go.set()
    _wait(driver, _settled)
    assert driver.execute_script("return window.__pressable") == []
    shown = _shown(driver)
    assert shown[::2] == ["Q 甲", "Q 乙"] and shown[3].endswith("（乙）"), shown
    assert [q for q, *_ in fake.calls] == ["甲", "乙"]  # 重试 asked nothing again
    # Once the answer is over, they work again: on each question and the last answer.
    expected = [("编辑", True), ("编辑", True), ("重试", True)]
    _wait(driver, lambda d: _redo_buttons(d) == expected)
