"""Several conversations in headless chromium: new, switch, rename, delete (asked first),
export as Markdown, all kept across a reload and a server restart; an earlier version's one
kept conversation loads as the first; on a phone the question box stays on screen.

The page's helpers are those of ``tests/test_ui_browser.py``; the answers are a fake's,
which say how many turns of history they were given, and cite the sample report itself
(so the source viewer opens it).
"""

from __future__ import annotations

import json

import pytest

from tests import test_ui_browser as browser
from tests.test_ui_browser import SIZES, _ask, _click, _find, _shot, _wait
from tests.test_ui_redo import _press

pytestmark = browser.pytestmark
ui_settings, url, open_page = browser.ui_settings, browser.url, browser.open_page


@pytest.fixture(scope="module")
def counting(ui_settings):
    """A fake answer function whose answers end "（问题）前文N轮" and cite the sample
    report's own passage on elderly-care beds."""
    from assistant.report_text import report_text
    from assistant.types import Answer
    from index import list_documents
    from tests.test_ui import FakeCore, citation

    (document,) = list_documents(ui_settings)
    report = report_text(document.source, settings=ui_settings)
    passage = next(p for p in report.passages if "新增养老床位2000张" in p.text)
    cited = citation(
        text=passage.text,
        quote="新增养老床位2000张",
        source=document.source,
        paragraph=passage.paragraph,
        section=passage.section,
    )

    class Counting(FakeCore):
        def answer(self, question, history=None, **kw):
            self.calls.append(question)
            text = f"新增养老床位2000张[1]（{question}）前文{len(history or [])}轮"
            return Answer(question, text, True, (cited,), kind="figure")

    return Counting()


def _start(settings, fake, port: int):
    from ui import create_app, serve

    return serve(
        create_app(settings, answer_fn=fake.answer, stream_fn=fake.stream), port=port, block=False
    )


@pytest.fixture(scope="module")
def counted(ui_settings, counting):
    server = _start(ui_settings, counting, browser._free_port())
    yield server.local_url
    server.close()


# Texts read in one script: the page may redraw between two reads of elements.
_TEXTS = "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText.trim());"


def _texts(driver, css: str) -> list[str]:
    return driver.execute_script(_TEXTS, css)


def _listed(driver) -> list[str]:
    return _texts(driver, "#rq-chats label")


def _questions(driver) -> list[str]:
    return _texts(driver, "#rq-chat .rq-question")


# Where the open list's left edge is (0 once it has slid in), or null when it is folded.
_SLID = "return document.querySelector('#rq-chats-bar.open')?.getBoundingClientRect().left"


def _opened(driver) -> bool:
    return driver.execute_script(_SLID) == 0


def _bar(driver) -> None:
    """The conversation list, opened (a phone folds it away)."""
    if not _find(driver, "#rq-chats-bar.open"):  # by script: a toast ("谢谢…") may lie over it
        toggle = _wait(driver, lambda d: _find(d, "#rq-chats-bar .toggle-button"))[0]
        driver.execute_script("arguments[0].click();", toggle)
    _wait(driver, _opened)


def _pick(driver, title: str, expect: list[str]) -> None:
    """Show conversation ``title``; wait until the chat holds questions ``expect``."""
    _bar(driver)
    label = _wait(driver, lambda d: [x for x in _find(d, "#rq-chats label") if x.text == title])
    label[0].click()
    _wait(driver, lambda d: _questions(d) == expect)


# Whether the element is what a tap at its centre reaches (not a panel still sliding over).
_REACHED = """const r = arguments[0].getBoundingClientRect();
const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
return !!hit && arguments[0].contains(hit);"""


def _tap(driver, css: str) -> None:
    """Click the first ``css`` once the page has settled around it."""
    element = _find(driver, css)[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    _wait(driver, lambda d: d.execute_script(_REACHED, element))
    element.click()


def _visible(driver, css: str) -> bool:
    found = _find(driver, css)
    return bool(found) and found[0].is_displayed()


@SIZES
def test_conversations_new_switch_rename_export_delete_and_reload(
    open_page, counted, counting, ui_settings, tmp_path, size
):
    laptop = size[0] > 600
    driver = open_page(*size, at=counted)
    _wait(driver, lambda d: _opened(d) == laptop)  # open on a laptop, folded on a phone
    _ask(driver, "甲", "（甲）前文0轮")
    _ask(driver, "甲二", "（甲二）前文1轮")
    _bar(driver)
    _click(driver, "#rq-chat-new")
    _wait(driver, lambda d: not _questions(d))
    _wait(driver, lambda d: _opened(d) == laptop)  # on a phone, folded again to show it
    _ask(driver, "乙", "（乙）前文0轮")  # a conversation of its own
    _bar(driver)
    assert _listed(driver) == ["乙", "甲"]  # the most recent first, named by its question
    # Switched back: its messages, and the history of its follow-ups, 👍/👎 and sources.
    _pick(driver, "甲", ["甲", "甲二"])
    _ask(driver, "甲三", "（甲三）前文2轮")
    asked = len(counting.calls)
    _press(driver, "重试")  # asked again with the same history, in place
    _wait(driver, lambda d: len(counting.calls) > asked and browser._enabled(d, "#rq-ask"))
    assert counting.calls[-1] == "甲三" and _questions(driver) == ["甲", "甲二", "甲三"]
    _wait(driver, lambda d: _texts(d, "#rq-chat .rq-answer .rq-text")[-1].endswith("前文2轮"))
    first = _find(driver, "#rq-chat .rq-answer")[0]
    first.find_element("css selector", ".rq-link").click()
    view = "#rq-viewer-holder .rq-viewer"
    _wait(driver, lambda d: _visible(d, view) and "第 1 / 1 处" in _find(d, view)[0].text)
    assert "新增养老床位2000张" in _find(driver, f"{view} .rq-view-cited mark")[0].text
    _find(driver, f"{view} .rq-view-close")[0].click()
    _wait(driver, lambda d: not _visible(d, view))
    feedback = ui_settings.home / "feedback.jsonl"
    before = feedback.read_text("utf-8").count("\n") if feedback.exists() else 0
    _wait(driver, lambda d: _opened(d) == laptop)  # the list is back once the viewer closed
    _tap(driver, "#rq-chat button[aria-label='赞'], #rq-chat button[aria-label='Like']")
    _wait(driver, lambda d: feedback.exists() and feedback.read_text("utf-8").count("\n") > before)
    assert json.loads(feedback.read_text("utf-8").splitlines()[-1])["question"] == "甲"
    # 重命名
    _bar(driver)
    _click(driver, "#rq-chat-rename")
    box = _wait(driver, lambda d: browser._enabled(d, "#rq-rename-box input"))
    assert box.get_attribute("value") == "甲"
    box.clear()
    box.send_keys("养老床位", "\n")
    _wait(driver, lambda d: _listed(d) == ["养老床位", "乙"])  # used last: first
    # 导出: the Markdown handed to the page's save helper
    driver.execute_script(
        "window.__saved = []; window.rqSave = (t, n, k) => window.__saved.push([t, n, k]);"
    )
    _click(driver, "#rq-chat-export")
    text, name, kind = _wait(driver, lambda d: d.execute_script("return window.__saved[0]"))
    assert name == "对话-养老床位.md" and kind == "text/markdown"
    assert text.startswith("# 养老床位\n")
    assert "## 3. 甲三\n\n新增养老床位2000张[1]（甲三）前文2轮" in text
    assert "[1] 2025年太原市政府工作报告 · 2025年 · 太原市 · " in text
    assert "\n> 新增养老床位2000张\n" in text
    if laptop:
        _shot(driver, tmp_path, "conversations.png")
    # 删除 asks first: cancelled, it stays; confirmed, it goes and the other one shows.
    _pick(driver, "乙", ["乙"])
    _bar(driver)
    _click(driver, "#rq-chat-delete")
    _wait(driver, lambda d: "删除对话“乙”" in "".join(_texts(d, "#rq-delete-text")))
    _click(driver, "#rq-delete-no")
    _wait(driver, lambda d: not _visible(d, "#rq-delete-yes"))
    assert _listed(driver) == ["养老床位", "乙"] and _questions(driver) == ["乙"]
    _click(driver, "#rq-chat-delete")
    _click(driver, "#rq-delete-yes")
    _wait(driver, lambda d: _listed(d) == ["养老床位"] and _questions(d) == ["甲", "甲二", "甲三"])
    # A reload keeps them all: the list, its titles, the conversation and its history.
    driver.refresh()
    _wait(driver, lambda d: _questions(d) == ["甲", "甲二", "甲三"])
    _bar(driver)
    assert _listed(driver) == ["养老床位"]
    _ask(driver, "甲四", "（甲四）前文3轮")


_SCREEN = """const r = arguments[0].getBoundingClientRect();
return [r.top, r.bottom, window.innerHeight];"""
# The buttons one can tap in the chat's column and the open list; [n] links, words in a
# sentence, are not tap targets of their own.
_TAPS = """return [...document.querySelectorAll(
    '#rq-chat-column button:not(.rq-link), #rq-chats-bar button, #rq-chats label')]
  .filter((b) => b.offsetParent && b.getBoundingClientRect().width)
  .map((b) => [b.getAttribute('aria-label') || b.id || b.textContent.trim(),
    b.getBoundingClientRect().height]);"""


def test_a_phone_keeps_the_question_box_on_screen_and_taps_44_px(open_page, counted, tmp_path):
    driver = open_page(390, 844, at=counted)
    for n in range(5):
        _ask(driver, f"第{n + 1}个问题", f"前文{n}轮")
    box = _find(driver, "#rq-question textarea")[0]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    assert height > 3 * 844  # a long conversation, to scroll through
    for at in (0, height // 3, height // 2):
        driver.execute_script("window.scrollTo(0, arguments[0])", at)
        top, bottom, screen = driver.execute_script(_SCREEN, box)
        assert top >= 0 and bottom <= screen, (at, top, bottom)
    _shot(driver, tmp_path, "phone-long-390x844.png")
    _bar(driver)
    taps = driver.execute_script(_TAPS)
    assert len(taps) > 15, taps  # the chat's buttons, the examples, the list's
    assert [t for t in taps if t[1] < 44] == [], taps


@pytest.fixture
def port():
    return browser._free_port()


def test_an_earlier_kept_conversation_loads_and_a_restart_keeps_every_one(
    open_page, ui_settings, counting, port
):
    import gradio as gr

    from tests.test_ui import found
    from ui import render
    from ui.chats import SAVED_KEY, browser_key
    from ui.conversation import added, chat_with, new_state, saved

    # What an earlier version kept: one conversation, under the same key.
    reply = render.answer_html(found())
    old = added(new_state(), "旧问题", chat_with(new_state(), "旧问题", reply), found())
    with gr.Blocks() as earlier:
        kept = gr.BrowserState(None, storage_key=SAVED_KEY, secret=browser_key(ui_settings.home))
        earlier.load(lambda: saved(old), outputs=kept)
        gr.Textbox(elem_id="rq-question")  # what open_page waits for
    earlier.launch(server_port=port, prevent_thread_lock=True, quiet=True)
    driver = open_page(at=f"http://127.0.0.1:{port}/")
    stored = f"return localStorage.getItem('{SAVED_KEY}')"
    _wait(driver, lambda d: d.execute_script(stored))
    earlier.close()
    server = _start(ui_settings, counting, port)  # this version, on the same address
    try:
        driver.get(server.local_url)
        _wait(driver, lambda d: _questions(d) == ["旧问题"])
        _ask(driver, "新问题", "（新问题）前文1轮")  # its history came along
        _bar(driver)
        _click(driver, "#rq-chat-new")
        _wait(driver, lambda d: not _questions(d))
        _ask(driver, "另一个", "前文0轮")
    finally:
        server.close()
    # A restart: a new app (with Gradio's default, a new BrowserState had a new key).
    server = _start(ui_settings, counting, port)
    try:
        driver.get(server.local_url)
        _wait(driver, lambda d: _questions(d) == ["另一个"])
        assert _listed(driver) == ["另一个", "旧问题"]
        _pick(driver, "旧问题", ["旧问题", "新问题"])
    finally:
        server.close()
