"""Stop in headless chromium, pressed at ten points of an answer's life: each time the
question shows once and its reply is the whole answer or one "已停止", never both or neither.

The answers come from a fake core that waits at a named point of its life until the test
lets it on, so each point is reached for certain (no timing); the page, its server and the
helpers are those of ``tests/test_ui_browser.py``.
"""

from __future__ import annotations

import threading

import pytest

from tests import test_ui_browser as browser
from tests.test_ui_browser import WAIT, _find, _wait

pytestmark = browser.pytestmark
ui_settings, url, open_page = browser.ui_settings, browser.url, browser.open_page


class Plan:
    """Where one question's answer waits (``hold``: start, piece1…, end) and whether it
    fails once let on."""

    def __init__(self, hold: str | None = None, fail: bool = False) -> None:
        self.hold, self.fail = hold, fail
        self.reached, self.go = threading.Event(), threading.Event()

    def at(self, point: str) -> None:
        if point == self.hold:
            self.reached.set()
            self.go.wait()


class Stops:
    """The stops the server has taken in: a stop clicked reaches the server after the
    click returns, so a plan let on before may end its answer first (which then rightly
    wins)."""

    def __init__(self) -> None:
        self.count, self._heard = 0, threading.Condition()

    def heard(self) -> None:
        with self._heard:
            self.count += 1
            self._heard.notify_all()

    def past(self, count: int) -> bool:
        """Wait until more than ``count`` stops were taken in."""
        with self._heard:
            return self._heard.wait_for(lambda: self.count > count, WAIT)


STOPS = Stops()


@pytest.fixture(scope="module")
def stepped(ui_settings):
    """The app with a fake core whose answers follow the plans of their questions."""
    from index import ReportQAError
    from tests.test_ui import FakeCore, FakeStream
    from ui import create_app, serve

    plans: dict[str, Plan] = {}

    class Stepped(FakeCore):
        def stream(self, question, history=None, **kw):
            plan = plans[question]
            plan.at("start")  # retrieving: nothing streamed yet
            if plan.fail:
                raise ReportQAError("failed", "检索失败。")
            answer = self.answer(question, history, **kw)

            class Steps(FakeStream):
                def __iter__(inner):
                    text = answer.text
                    for n, i in enumerate(range(0, len(text), 3), 1):
                        yield text[i : i + 3]
                        plan.at(f"piece{n}")
                    plan.at("end")  # every piece is in, the answer not yet
                    inner.answer = answer

            return Steps(answer)

    from ui.runs import Runs

    taken_in = Runs.stop

    def stop(runs, run_id):
        taken_in(runs, run_id)
        STOPS.heard()

    fake = Stepped()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Runs, "stop", stop)  # before the page takes the runs' methods
        app = create_app(ui_settings, answer_fn=fake.answer, stream_fn=fake.stream)
        server = serve(app, port=browser._free_port(), block=False)
        yield server.local_url, plans
        for plan in plans.values():  # a stopped answer's thread may still wait
            plan.go.set()
        server.close()


# The conversation as shown: each question's text, each reply's kind.
_SHOWN = """return [...document.querySelectorAll('#rq-chat .rq-question, #rq-chat .rq-msg')]
  .map((e) => e.classList.contains('rq-question') ? 'Q ' + e.textContent
    : ['rq-answer', 'rq-stopped', 'rq-error', 'rq-streaming', 'rq-pending']
        .filter((c) => e.classList.contains(c)).join(' ') || e.className);"""

# Clicks stop the moment the answer is shown (before the page has put the ask button
# back), and says whether stop was still there to click.
_STOP_WHEN_ANSWERED = """const chat = document.querySelector('#rq-chat');
const seen = chat.querySelectorAll('.rq-answer').length; window.__late = null;
const watch = new MutationObserver(() => {
  if (chat.querySelectorAll('.rq-answer').length <= seen) return;
  watch.disconnect(); const stop = document.querySelector('#rq-stop');
  window.__late = !!(stop && stop.offsetParent); if (window.__late) stop.click();
});
watch.observe(chat, {childList: true, subtree: true, characterData: true});"""

# Clicks stop the moment it shows: before the answer's handler has started, most times.
_STOP_WHEN_SHOWN = """window.__early = null;
const watch = new MutationObserver(() => {
  const stop = document.querySelector('#rq-stop');
  if (!(stop && stop.offsetParent)) return;
  watch.disconnect(); window.__early = true; stop.click();
});
watch.observe(document.body, {childList: true, subtree: true, attributes: true});"""


def _settled(question: str):
    """The exchange of ``question`` is over: shown, its reply in, the box takes questions
    and 提问 is back (the box and 提问 are so before the question has been taken, too)."""

    def over(driver):
        shown = driver.execute_script(_SHOWN)
        if f"Q {question}" not in shown or shown[-1] in ("rq-streaming", "rq-pending"):
            return False
        return browser._enabled(driver, "#rq-question textarea") and _find(driver, "#rq-ask")

    return over


def _stop(driver, how: str) -> None:
    if how == "click":
        driver.execute_script("document.querySelector('#rq-stop').click();")
    elif how == "twice":
        driver.execute_script("const s = document.querySelector('#rq-stop'); s.click(); s.click();")
    elif how == "esc":
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        ActionChains(driver).send_keys(Keys.ESCAPE).perform()


# (hold, stop how, fails, expected reply: "answer", "stopped" or None for either)
POINTS = [
    ("start", "click", False, "stopped"),  # retrieving, nothing streamed
    ("piece1", "click", False, "stopped"),  # the first piece shown
    ("piece3", "click", False, "stopped"),  # mid-stream
    ("end", "click", False, "stopped"),  # every piece in, the answer not yet
    ("piece2", "twice", False, "stopped"),  # a double click
    ("start", "esc", False, "stopped"),  # Esc
    ("start", "click", True, "stopped"),  # an answer that would have failed
    ("end", "racing", False, None),  # stop and the answer's end at once
    (None, "answered", False, "answer"),  # just after the answer is shown
    (None, "shown", False, None),  # as soon as stop shows, before the answer starts
]


def test_stop_is_one_state_change_at_ten_points_of_an_answer(open_page, stepped):
    from selenium.webdriver.common.keys import Keys

    at, plans = stepped
    driver = open_page(at=at)
    box = _find(driver, "#rq-question textarea")[0]
    expected: list[str] = []
    for n, (hold, how, fails, reply) in enumerate(POINTS, 1):
        question = f"第{n}个问题"
        plan = plans[question] = Plan(hold, fails)
        if how == "answered":
            driver.execute_script(_STOP_WHEN_ANSWERED)
        elif how == "shown":
            driver.execute_script(_STOP_WHEN_SHOWN)
        box.send_keys(question, Keys.ENTER)
        if hold:
            assert plan.reached.wait(WAIT), f"{question}: never reached {hold}"
            shown = "#rq-chat .rq-pending" if hold == "start" else "#rq-chat .rq-streaming"
            _wait(driver, lambda d, css=shown: _find(d, css))
            if how == "racing":
                plan.go.set()
                _stop(driver, "click")
            else:
                stops = STOPS.count
                _stop(driver, how)
                assert STOPS.past(stops), f"{question}: the stop never reached the server"
                plan.go.set()
        _wait(driver, _settled(question))
        if how == "answered":  # the point was reached: stop was pressed on the answer
            assert driver.execute_script("return window.__late") is True
        if how == "shown":
            assert driver.execute_script("return window.__early") is True
        shown = driver.execute_script(_SHOWN)
        got = shown[-1]
        assert got in ("rq-answer", "rq-stopped"), (question, shown)
        assert reply is None or got == f"rq-{reply}", (question, shown)
        expected += [f"Q {question}", got]
        assert shown == expected, question  # the question once, one reply, earlier kept
        if got == "rq-stopped" and hold and hold.startswith("piece"):
            stopped = _find(driver, "#rq-chat .rq-stopped")[-1].text
            assert "新增养" in stopped  # what had arrived stays, marked stopped
    driver.refresh()  # the conversation the browser kept is the one shown
    _wait(driver, lambda d: len(d.execute_script(_SHOWN)) == len(expected))
    assert driver.execute_script(_SHOWN) == expected
