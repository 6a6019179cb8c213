"""Several conversations in the browser (ui.chats, ui.chat_list) and one exported as
Markdown (ui.export): plain functions, no browser."""

from __future__ import annotations

import dataclasses
import json

import pytest

from assistant.types import Answer
from tests.test_ui import citation, found
from ui import chats
from ui.conversation import added, chat_with, new_state
from ui.render import error_html, stopped_html


def talk(*questions: str, state: dict | None = None) -> dict:
    """A conversation of ``questions``, each answered (one starting with "停" stopped)."""
    state = state or new_state()
    for q in questions:
        reply = stopped_html("新增") if q.startswith("停") else "答"
        answer = None if q.startswith("停") else found(q)
        state = added(state, q, chat_with(state, q, reply), answer)
    return state


def asked(book: dict) -> list[list[str]]:
    """The questions of each conversation of ``book``, in the list's order."""
    return [[q for q, _ in chat["pairs"]] for chat in book["chats"]]


def test_conversations_are_new_kept_switched_renamed_and_deleted():
    book = chats.new_book()
    first = book["current"]
    book = chats.kept(book, talk("甲"))
    twice = chats.with_new(chats.with_new(book))  # one empty conversation, not two
    assert len(twice["chats"]) == 2 and twice["current"] == twice["chats"][0]["id"]
    book = chats.with_new(book)
    second = book["current"]
    assert second != first and asked(book) == [[], ["甲"]]
    book = chats.kept(book, talk("乙"))
    assert asked(book) == [["乙"], ["甲"]] and chats.state_of(book) == talk("乙")
    # Switching shows the other conversation, its history and its answers' JSON, in place.
    book = chats.switched(book, first)
    state = chats.state_of(book)
    assert state == talk("甲")
    assert asked(book) == [["乙"], ["甲"]]  # no entry moves under the finger
    assert chats.switched(book, "nosuch") is None
    # An exchange moves its conversation to the top; an unchanged one stays where it is.
    assert chats.kept(book, state) == book
    book = chats.kept(book, talk("丙", state=state))
    assert asked(book) == [["甲", "丙"], ["乙"]]
    # Titles: the first question cut short, or the given one; blank gives the question back.
    long = "今年全市新增多少养老床位和社区食堂以及老年助餐点"
    book = chats.kept(chats.with_new(book), talk(long))
    assert chats.choices(book)[0] == (long[:20] + "…", book["current"])
    book = chats.renamed(book, "  养老\n问题 ")
    assert chats.choices(book)[0][0] == "养老 问题"
    assert chats.title_of(chats.current(chats.renamed(book, "  "))) == long[:20] + "…"
    assert chats.title_of(chats.new_chat()) == "新对话"
    # Deleting shows the most recently used one left; the last gone, an empty one.
    book = chats.deleted(book)
    assert asked(book) == [["甲", "丙"], ["乙"]] and book["current"] == first
    book = chats.deleted(chats.deleted(book))
    assert len(book["chats"]) == 1 and chats.state_of(book) == new_state()


def test_what_the_browser_kept_is_checked_and_the_earlier_shape_becomes_the_first():
    one = talk("甲", "停一下", "乙")  # the one conversation an earlier version kept
    book = chats.restored_book(json.loads(json.dumps(one)))
    assert len(book["chats"]) == 1 and asked(book) == [["甲", "乙"]]
    state = chats.state_of(book)
    assert state["messages"] == one["messages"] and state["turns"] == one["turns"]
    assert chats.title_of(chats.current(book)) == "甲"
    # A book comes back as it was (through JSON, as the browser keeps it).
    book = chats.kept(chats.with_new(book), talk("丙"))
    back = chats.restored_book(json.loads(json.dumps(book)))
    assert back == book
    # The one on screen is named by id; an unknown one shows the first.
    assert chats.restored_book({**back, "current": "gone"})["current"] == back["chats"][0]["id"]
    # Broken entries are left out, a repeated id kept once; garbage starts afresh.
    broken = {"current": "x", "chats": [7, {"id": ""}, back["chats"][0], back["chats"][0]]}
    assert asked(chats.restored_book(broken)) == [["丙"]]
    for garbage in (None, "text", [], {}, {"chats": "no"}, {"messages": []}):
        restored = chats.restored_book(garbage)
        assert len(restored["chats"]) == 1 and chats.state_of(restored) == new_state()


def test_the_browser_keeps_thirty_conversations_and_a_megabyte(monkeypatch):
    monkeypatch.setattr(chats, "CHATS_SAVED", 3)
    book = chats.new_book()
    for q in ("甲", "乙", "丙", "丁"):
        book = chats.kept(chats.with_new(book), talk(q))
    assert asked(book) == [["丁"], ["丙"], ["乙"]]  # the least recently used went
    book = chats.switched(book, book["chats"][2]["id"])  # 乙, last: on screen, it stays
    book = chats.kept(chats.with_new(book), talk("戊"))
    assert asked(book) == [["戊"], ["丁"], ["丙"]]
    # Past the bytes, the least recently used go first, never the one on screen.
    book = chats.kept(chats.switched(book, book["chats"][2]["id"]), talk("丙", "己"))
    assert asked(book) == [["丙", "己"], ["戊"], ["丁"]]
    size = sum(len(json.dumps(c, ensure_ascii=False).encode()) for c in book["chats"][:2])
    monkeypatch.setattr(chats, "BYTES_SAVED", size + 10)
    assert asked(chats.restored_book(book)) == [["丙", "己"], ["戊"]]
    monkeypatch.setattr(chats, "BYTES_SAVED", 10)
    assert asked(chats.kept(book, talk("庚"))) == [["庚"]]


def test_the_browser_key_is_made_once_and_kept_in_the_home(tmp_path, caplog):
    home = tmp_path / "home"
    key = chats.browser_key(home)
    assert len(key) >= 24 and chats.browser_key(home) == key  # a second start: the same
    path = home / chats.KEY_FILE
    assert path.read_text() == key and path.stat().st_mode & 0o777 == 0o600
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert chats.browser_key(blocked) != chats.browser_key(blocked)  # per process, said
    assert "will not survive a restart" in caplog.text


def test_two_starts_of_the_app_encrypt_the_browsers_copy_with_one_key(settings):
    import gradio as gr

    from tests.test_ui import FakeCore
    from ui import create_app

    def key() -> str:
        fake = FakeCore()
        app = create_app(settings, answer_fn=fake.answer, stream_fn=fake.stream)
        (state,) = [b for b in app.blocks.values() if isinstance(b, gr.BrowserState)]
        assert state.storage_key == chats.SAVED_KEY
        return state.secret

    assert key() == key() == (settings.home / chats.KEY_FILE).read_text()


# --- the handlers of the list ------------------------------------------------------------


def test_the_lists_handlers_show_the_conversation_they_pick():
    import gradio as gr

    from ui import chat_list

    state, messages, book, listed = chat_list.restore(None)  # a first visit
    assert state == new_state() and messages == [] and len(book["chats"]) == 1
    book, listed = chat_list.keep(talk("甲"), book)
    assert listed["choices"] == [("甲", book["current"])] and listed["value"] == book["current"]
    first = book["current"]
    state, messages, book, listed, *rows = chat_list.new(book)
    assert state == new_state() and rows == [gr.update(visible=False)] * 2
    book, _ = chat_list.keep(talk("乙"), book)
    state, messages, book, listed, *_ = chat_list.switch(book, first)
    assert [q for q, _ in state["pairs"]] == ["甲"] and messages == state["messages"]
    assert chat_list.switch(book, "gone") == (gr.skip(),) * 6
    assert chat_list.ask_rename(book)[1] == "甲"
    book, listed, _ = chat_list.rename(book, "<b>养老</b>")
    assert listed["choices"][1] == ("<b>养老</b>", first)  # a radio shows its label as text
    assert "&lt;b&gt;养老&lt;/b&gt;" in chat_list.ask_delete(book)[1]  # HTML: escaped
    state, messages, book, listed, *_ = chat_list.delete(book)
    assert [q for q, _ in state["pairs"]] == ["乙"] and len(book["chats"]) == 1
    state, messages, book, _ = chat_list.cleared(book)
    assert state == new_state() and messages == [] and len(book["chats"]) == 1


def test_export_gives_the_markdown_and_its_file_name(monkeypatch):
    from ui import chat_list

    notes = []
    monkeypatch.setattr("gradio.Info", notes.append)
    book, _ = chat_list.keep(talk("甲"), chats.new_book())
    saved = json.loads(chat_list.export(chats.state_of(book), book))
    assert saved["name"] == "对话-甲.md" and saved["text"].startswith("# 甲\n")
    assert chat_list.export(new_state(), book) == "" and notes  # nothing to save, said


# --- Markdown ----------------------------------------------------------------------------

NEAR = Answer(
    "今年新增多少张医疗床位",
    "报告未给出医疗床位的数字。",
    False,
    (citation(),),
    kind="near_miss",
)
HOSTILE = dataclasses.replace(
    found("# 标题 *加粗* <b>x</b>"),
    citations=(citation(quote="1. 新增养老床位2000张。", section="三、重点工作 > *民生*"),),
    note="大模型暂不可用，本回答直接摘自报告原文。",
)
REFUSAL = Answer("火星基地建几座", "已索引的报告中没有找到这个问题的答案。", False)


def exchange(question: str, answer: Answer | None, reply: str = "答") -> dict:
    state = new_state()
    return added(state, question, chat_with(state, question, reply), answer)


@pytest.mark.parametrize(
    ("state", "expected", "absent"),
    [
        (  # an answer: the question, its text, then each passage it cites
            exchange("今年新增多少养老床位", found()),
            [
                "## 1. 今年新增多少养老床位\n\n新增养老床位2000张[1]。\n\n**出处**\n\n",
                "[1] 2025年太原市政府工作报告 · 2025年 · 太原市 · 三、重点工作 > （八）民生 · "
                "第85段\n\n> 新增养老床位2000张。\n",
            ],
            ["<script", "可能相关"],
        ),
        (  # a near miss's passage is shown as what it is
            exchange(NEAR.question, NEAR),
            [
                "报告未给出医疗床位的数字。",
                "**相关内容（不是所问的数字）**",
                "> 新增养老床位2000张。",
            ],
            ["**出处**"],
        ),
        (  # a refusal cites nothing
            exchange(REFUSAL.question, REFUSAL),
            ["## 1. 火星基地建几座\n\n已索引的报告中没有找到这个问题的答案。\n"],
            ["出处", "[1]"],
        ),
        (  # a stopped reply and an error keep their words
            exchange("乙\n二", None, stopped_html("新增养老")),
            ["## 1. 乙 二\n\n（已停止）新增养老\n"],
            [],
        ),
        (
            exchange("长", None, error_html("问题太长了，请精简到300字以内。")),
            ["（出错了）问题太长了，请精简到300字以内。"],
            ["<div"],
        ),
        (  # markup in a question or a report reads as the text it is; the note is kept
            exchange(HOSTILE.question, HOSTILE),
            [
                "## 1. \\# 标题 \\*加粗\\* \\<b>x\\</b>",
                "三、重点工作 > \\*民生\\* · 第85段",
                "> 1\\. 新增养老床位2000张。",
                "*大模型暂不可用，本回答直接摘自报告原文。*",
            ],
            ["*加粗*"],
        ),
    ],
    ids=["answer", "near-miss", "refusal", "stopped", "error", "markup"],
)
def test_a_conversation_as_markdown(state, expected, absent):
    from ui.export import conversation_markdown

    text = conversation_markdown("养老 *问题*", state)
    assert text.startswith("# 养老 \\*问题\\*\n\n## 1. ") and text.endswith("\n")
    for part in expected:
        assert part in text
    for part in absent:
        assert part not in text


def test_every_exchange_is_exported_in_order():
    from ui.export import conversation_markdown

    text = conversation_markdown("对话", talk("甲", "停一下", "乙"))
    assert text.index("## 1. 甲") < text.index("## 2. 停一下") < text.index("## 3. 乙")
    assert text.count("**出处**") == 2


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("今年新增多少养老床位", "对话-今年新增多少养老床位.md"),
        ('a/b\\c:d*e?f"g<h>i|j', "对话-a_b_c_d_e_f_g_h_i_j.md"),
        ("..", "对话-对话.md"),
        ("tab\there", "对话-tab_here.md"),
    ],
)
def test_the_file_name_is_safe_everywhere(title, name):
    from ui.export import file_name

    assert file_name(title) == name
