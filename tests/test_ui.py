"""The web chat with fake answers: rendering, escaping, uploads, the /ask API, concurrency."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from assistant.types import Answer, Citation
from index import IndexBusyError, QuestionError, build_index, list_documents
from ui import render, uploads

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
REPORT = (
    "2025年示例市政府工作报告\n\n"
    "一、2025年主要目标\n\n"
    "今年全市将新建城市书房25座，改造老旧小区120个。\n\n"
    "二、重点工作\n\n"
    "推进“老有厚养”，新增养老床位300张，建成社区食堂40个。\n"
)


def citation(n=1, text=None, quote="新增养老床位2000张。", **kw) -> Citation:
    fields = dict(
        n=n,
        text=text
        or f"推进“老有厚养”。{SCRIPT}{IMG} 推进社会康养中心建成投用，新增养老床位2000张。",
        quote=quote,
        source="/reports/taiyuan.txt",
        title="2025年太原市政府工作报告",
        year=2025,
        region="太原市",
        section="三、重点工作 > （八）民生",
        paragraph=85,
        score=0.9,
    )
    return Citation(**{**fields, **kw})


def found(question="今年新增多少养老床位") -> Answer:
    return Answer(
        question=question, text="新增养老床位2000张[1]。", found=True, citations=(citation(),)
    )


def refusal(question="火星基地建几座") -> Answer:
    return Answer(question=question, text="已索引的报告中没有找到这个问题的答案。", found=False)


class FakeStream:
    """Like ``assistant.AnswerStream``: text deltas, then ``.answer``."""

    def __init__(self, answer: Answer) -> None:
        self._answer, self.answer = answer, None

    def __iter__(self):
        for i in range(0, len(self._answer.text), 3):
            yield self._answer.text[i : i + 3]
        self.answer = self._answer


class FakeCore:
    """Records what the UI passes to the core; echoes the question back."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.calls = error, []
        self.barrier: threading.Barrier | None = None

    def answer(
        self, question, history=None, *, settings=None, embeddings=None, llm=None, within=None
    ):
        self.calls.append((question, list(history or []), settings, embeddings))
        self.within = within
        if self.error:
            raise self.error
        if self.barrier is not None:
            self.barrier.wait()
        if "火星" in question:
            return refusal(question)
        base = found(question)
        return Answer(**{**base.__dict__, "text": f"{base.text}（{question}）"})

    def stream(self, question, history=None, **kw):
        return FakeStream(self.answer(question, history, **kw))


# --- rendering ---------------------------------------------------------------------------


def test_ui_package_does_not_import_gradio():
    code = "import sys, ui; assert 'gradio' not in sys.modules, 'gradio imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_report_text_is_escaped_and_quote_highlighted():
    card = render.citation_card(citation())
    assert "<script" not in card and "<img" not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert "onerror=&quot;alert(2)&quot;" in card
    assert '<mark class="rq-quote">新增养老床位2000张。</mark>' in card
    for part in ("[1]", "2025年太原市政府工作报告", "2025年", "太原市", "（八）民生", "第85段"):
        assert part in card
    assert "\n" not in card  # one raw HTML block for the chat's Markdown renderer


def test_quote_with_markup_is_escaped_inside_the_mark():
    text = f"前文{SCRIPT}后文"
    assert render.highlight(text, SCRIPT) == (
        '前文<mark class="rq-quote">&lt;script&gt;alert(1)&lt;/script&gt;</mark>后文'
    )
    assert "<mark" not in render.highlight("没有引文", "不存在的句子")


def test_output_stays_on_one_line():
    text = "第一段\r\n\r\n# 标题\n\n    缩进<b>"
    html = render.highlight(text, "标题")
    assert "\n" not in html and "\r" not in html and "<br><br># <mark" in html


def test_markdown_and_template_syntax_cannot_fire():
    out = render.esc("${alert(1)} `code` \\x <b>")
    assert "$" not in out and "`" not in out and "\\" not in out and "<b>" not in out


def test_answer_markers_match_cards_and_refusal_looks_different():
    html = render.answer_html(found())
    assert '<button type="button" class="rq-ref rq-link" title="查看出处">[1]</button>' in html
    assert '<span class="rq-ref rq-num">[1]</span>' in html
    assert "rq-answer" in html and "rq-refusal" not in html
    no = render.answer_html(refusal())
    assert "rq-refusal" in no and "未找到" in no and "rq-answer" not in no


def test_copy_gives_the_answer_and_its_sources_as_plain_text():
    cards = (citation(1), citation(2, quote="另一句。", region="", year=None, section=""))
    answer = Answer(question="q", text="答案[1]，另见[2]。", found=True, citations=cards)
    assert render.answer_text(answer) == (
        "答案[1]，另见[2]。\n\n"
        "[1] 2025年太原市政府工作报告 · 2025年 · 太原市 · 三、重点工作 > （八）民生 · 第85段："
        "新增养老床位2000张。\n"
        "[2] 2025年太原市政府工作报告 · 正文 · 第85段：另一句。"
    )
    html = render.answer_html(answer)
    assert "\n" not in html  # the newlines travel as entities
    payload = html.split('<div class="rq-plain">')[1].split("</div>")[0]
    assert payload.count("&#10;") == 3 and "&gt; （八）民生" in payload
    assert render.answer_text(refusal()) == refusal().text


def test_the_answer_names_its_reports():
    html = render.answer_html(found())
    assert '<div class="rq-sources">出自：2025年 太原市《2025年太原市政府工作报告》</div>' in html
    assert "rq-sources" not in render.answer_html(refusal())


def test_uncited_cards_are_folded_away():
    cards = tuple(citation(n, quote="") for n in (1, 2, 3))
    answer = Answer(question="q", text="答案[2]。", found=True, citations=cards)
    html = render.answer_html(answer)
    shown, folded = html.split('<details class="rq-more">')
    assert 'rq-num">[2]' in shown and 'rq-num">[1]' not in shown
    assert "其他相关段落（2）" in folded and 'rq-num">[1]' in folded and 'rq-num">[3]' in folded
    no = render.answer_html(Answer(question="q", text="没有找到。", found=False, citations=cards))
    assert "可能相关的段落（3）" in no


def test_error_question_and_documents_are_escaped():
    assert "&lt;img" in render.error_html(IMG) and "&lt;img" in render.user_html(IMG)

    class Doc:
        title, year, region, passages = f"报告{SCRIPT}", 2025, "示例市", 12

    table = render.documents_html([Doc()])
    assert "<script" not in table and "共 1 份报告" in table and "<td>12</td>" in table
    assert "还没有已索引的报告" in render.documents_html([])


# --- chat handler ------------------------------------------------------------------------


def test_chat_streams_then_shows_cards_and_keeps_history(settings):
    from ui.chat import make_respond
    from ui.conversation import new_state
    from ui.core import Core

    fake = FakeCore()
    respond = make_respond(Core(settings, fake.answer, fake.stream, "EMB"))
    steps = list(respond("今年新增多少养老床位", new_state()))
    assert "检索中" in steps[0][0][-1]["content"]
    assert any("rq-streaming" in s[0][-1]["content"] for s in steps[1:-1])
    # The session's conversation has the exchange only once it is over.
    assert all(s[1] == new_state() for s in steps[:-1])
    chat, state = steps[-1]
    assert [m["role"] for m in chat] == ["user", "assistant"] and state["messages"] == chat
    assert "rq-card" in chat[-1]["content"] and "<mark" in chat[-1]["content"]
    assert fake.calls[0][1:] == ([], settings, "EMB") and fake.within is None
    (turn,) = state["turns"]
    assert turn["text"] == found().text + "（今年新增多少养老床位）" and turn["citations"]
    *_, (chat, state) = respond("那城镇新增就业呢", state, "太原市", "2025")
    assert fake.calls[-1][1] == [("今年新增多少养老床位", turn["text"])]
    assert len(chat) == 4 and len(state["pairs"]) == 2 and len(state["turns"]) == 2
    assert (fake.within.region, fake.within.year) == ("太原市", 2025)


def test_chat_shows_chinese_error(settings):
    from ui.chat import make_respond
    from ui.conversation import new_state
    from ui.core import Core

    fake = FakeCore(error=QuestionError("question too long", "问题太长了，请精简到500字以内。"))
    *_, (chat, state) = make_respond(Core(settings, fake.answer, fake.stream))("长", new_state())
    assert "rq-error" in chat[-1]["content"] and "问题太长了" in chat[-1]["content"]
    assert state["pairs"] == [] and state["messages"] == chat and state["turns"] == [None]


def test_the_box_is_busy_not_emptied_while_answering():
    import gradio as gr

    from ui.chat import BUSY, PLACEHOLDER, release, take

    asked, box, ask, stop, *others, note = take("  今年新增多少养老床位 ")
    assert asked == "今年新增多少养老床位" and note == ""
    assert box["interactive"] is False and box["value"] == "" and box["placeholder"] == BUSY
    assert ask["visible"] is False and stop["visible"] is True
    assert others and all(o["interactive"] is False for o in others)
    box, ask, stop, *others = release()
    assert box == gr.update(interactive=True, placeholder=PLACEHOLDER)  # no value: kept
    assert ask["visible"] and not stop["visible"] and all(o["interactive"] for o in others)
    assert take("   ")[0] == "" and all(u == gr.skip() for u in take("   ")[1:-1])
    # over the core's limit: not sent, the box untouched, the note says why
    asked, *updates, note = take("新增养老床位" * 100)
    assert asked == "" and all(u == gr.skip() for u in updates)
    assert "600字" in note and "300字以内" in note


def test_a_stopped_reply_stays_shown_but_out_of_the_history(settings):
    from ui.chat import make_respond
    from ui.conversation import added, chat_with, new_state
    from ui.core import Core
    from ui.runs import Runs

    fake, gate, runs = FakeCore(), threading.Event(), Runs()

    def waiting(question, history=None, **kw):  # the answer comes only once let in
        gate.wait()
        return fake.stream(question, history, **kw)

    respond = make_respond(Core(settings, fake.answer, waiting), runs)
    first = added(new_state(), "甲", chat_with(new_state(), "甲", "答"), found("甲"))
    run = runs.start()
    steps = respond("乙", first, None, None, run)
    next(steps)  # 检索中…
    runs.stop(run)
    runs.stop(run)  # a second press changes nothing
    *_, (chat, state) = steps
    gate.set()  # the answer comes after the stop: it is not shown
    assert len(chat) == 4 and "已停止" in chat[-1]["content"] and "乙" in chat[-2]["content"]
    assert state["pairs"] == first["pairs"] and state["turns"][-1] is None
    assert state["messages"] == chat
    runs.stop(run)  # a stop after the end: nothing to stop


def test_asking_again_from_an_exchange_drops_it_and_what_followed():
    from ui.conversation import added, chat_with, new_state, question_at, upto

    state = new_state()
    for question, answer in (("甲", found("甲")), ("乙 <b>&$\n二", None), ("丙", found("丙"))):
        state = added(state, question, chat_with(state, question, "答"), answer)
    assert question_at(state, 1) == "乙 <b>&$\n二"  # the text asked, not its HTML
    kept = upto(state, 2)  # a stopped exchange before: the history keeps 甲's answer only
    assert kept["pairs"] == state["pairs"][:1] and kept["turns"] == state["turns"][:2]
    assert kept["messages"] == state["messages"][:4]
    assert upto(state, 0) == new_state()


def test_retry_and_edit_restart_from_their_exchange_and_an_edit_too_long_is_kept():
    import gradio as gr

    from ui.conversation import added, chat_with, new_state, upto
    from ui.redo import make_redo
    from ui.runs import Runs

    state = new_state()
    for question in ("甲", "乙"):
        state = added(state, question, chat_with(state, question, "答"), found(question))
    busy = ("BOX", "ASK", "STOP")
    again, edited = make_redo(Runs(), busy)
    asked, kept, *updates, note, run = again(state, gr.RetryData(None, {"index": 2, "value": ""}))
    assert (asked, kept, updates, note) == ("乙", upto(state, 1), list(busy), "") and run
    edit = {"index": 0, "value": " 丙 ", "previous_value": ""}
    asked, kept, *_ = edited(state, gr.EditData(None, edit))
    assert (asked, kept) == ("丙", new_state())
    long = "新增养老床位" * 100
    edit = {"index": 2, "value": long, "previous_value": ""}
    asked, kept, box, *updates, note, run = edited(state, gr.EditData(None, edit))
    assert asked == "" and kept == gr.skip() and box == gr.update(value=long)
    assert "300字以内" in note and all(u == gr.skip() for u in (*updates, run))
    stale = again(state, gr.RetryData(None, {"index": 8, "value": ""}))  # an old page
    assert stale[0] == "" and all(u == gr.skip() for u in stale[1:-2])


def test_the_browser_keeps_the_last_exchanges_and_a_bad_copy_starts_afresh(monkeypatch):
    import ui.conversation as conversation

    monkeypatch.setattr(conversation, "EXCHANGES_SAVED", 2)
    state = conversation.new_state()
    for q in ("甲", "乙", "丙"):
        state = conversation.added(
            state, q, conversation.chat_with(state, q, "答"), found(q) if q != "乙" else None
        )
    saved = conversation.saved(state)
    assert len(saved["messages"]) == 4 and len(saved["turns"]) == 2
    assert [q for q, _ in saved["pairs"]] == ["丙"]  # 乙 failed: never in the history
    assert conversation.restored(saved) == {**saved, "pairs": [tuple(p) for p in saved["pairs"]]}
    for broken in (None, {}, {"pairs": [], "messages": [{"role": "user"}], "turns": []}):
        assert conversation.restored(broken) == conversation.new_state()


def test_feedback_goes_to_the_core_with_the_whole_answer(settings):
    import json

    import gradio as gr

    from ui.chat import make_feedback
    from ui.conversation import added, chat_with, new_state
    from ui.core import Core

    state = added(new_state(), "今年新增多少养老床位", [{}, {}], found())
    state = added(state, "出错的问题", chat_with(state, "出错的问题", "错"), None)
    feedback = make_feedback(Core(settings, None, None))

    def vote(index, liked):
        return gr.LikeData(None, {"index": index, "value": "", "liked": liked})

    feedback(state, vote(1, False))
    feedback(state, vote(3, True))  # an error has no answer to judge: nothing written
    (line,) = (settings.home / "feedback.jsonl").read_text("utf-8").splitlines()
    record = json.loads(line)
    assert record["verdict"] == "down" and record["question"] == "今年新增多少养老床位"
    assert record["answer"] == found().text and record["citations"][0]["paragraph"] == 85


def test_page_says_loading_until_the_server_is_ready(settings):
    from ui.app import LOADING, make_loading
    from ui.core import Core

    fake = FakeCore()
    ready = threading.Event()
    steps = make_loading(Core(settings, fake.answer, fake.stream, None, ready))()
    assert LOADING in next(steps)
    ready.set()
    assert next(steps) == ""
    # A server that was ready before the page opened says nothing.
    assert list(make_loading(Core(settings, fake.answer, fake.stream, None, ready))()) == [""]


def test_warm_up_opens_the_index_and_says_when_there_is_none(settings, fake_embeddings, tmp_path):
    from assistant import warm_up
    from assistant.retrieval import _CACHE

    assert warm_up(settings, fake_embeddings) is False
    report = tmp_path / "r.txt"
    report.write_text("某县2026年政府工作报告\n\n今年修路30公里。", encoding="utf-8")
    build_index([report], settings=settings, embeddings=fake_embeddings)
    _CACHE.clear()
    assert warm_up(settings, fake_embeddings) is True
    assert _CACHE  # the first question finds the index open


# --- uploads -----------------------------------------------------------------------------


@pytest.fixture
def indexed(settings, fake_embeddings, tmp_path):
    """An index holding one report, and a snapshot of its documents."""
    report = tmp_path / "src" / "2025年示例市政府工作报告.txt"
    report.parent.mkdir()
    report.write_bytes(REPORT.encode("gb18030"))
    build_index([report], settings=settings, embeddings=fake_embeddings)
    return list_documents(settings)


def _upload(tmp_path, name: str, data: bytes) -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "size", "expected"),
    [
        ("report.exe", 10, "不支持的文件类型"),
        ("big.txt", 2 * 2**20, "文件太大"),  # over the 1 MB limit set below
        ("e.md", 0, "空"),
    ],
)
def test_rejected_upload_leaves_index_unchanged(
    indexed, settings, fake_embeddings, tmp_path, name, size, expected
):
    settings = dataclasses.replace(settings, max_file_mb=1)
    path = _upload(tmp_path, name, b"x" * size)
    result = uploads.add_reports([path], settings=settings, embeddings=fake_embeddings)
    assert result.indexed == 0 and expected in result.lines[0][1] and not result.lines[0][0]
    assert list_documents(settings) == indexed
    assert not any((settings.home / "uploads").glob("*"))


def test_unreadable_upload_gets_chinese_reason(indexed, settings, fake_embeddings, tmp_path):
    path = _upload(tmp_path, "broken.docx", b"PK\x03\x04 not really a docx")
    result = uploads.add_reports([path], settings=settings, embeddings=fake_embeddings)
    ok, message = result.lines[0]
    assert not ok and message.startswith("broken.docx：无法读取")
    assert list_documents(settings) == indexed
    assert not any((settings.home / "uploads").glob("*"))


def test_failed_build_restores_folder_and_index(
    indexed, settings, fake_embeddings, tmp_path, monkeypatch
):
    import index

    def busy(*args, **kwargs):
        raise IndexBusyError("busy", "另一个索引任务正在进行，请稍后再试。")

    monkeypatch.setattr(index, "build_index", busy)
    path = _upload(tmp_path, "新报告.txt", "2024年某县政府工作报告\n\n今年修路10公里。".encode())
    result = uploads.add_reports([path], settings=settings, embeddings=fake_embeddings)
    assert "另一个索引任务正在进行" in result.lines[0][1] and result.indexed == 0
    assert list_documents(settings) == indexed
    assert not any((settings.home / "uploads").glob("*"))


def test_gb18030_upload_is_indexed(settings, fake_embeddings, tmp_path):
    # A paragraph of two sentences: its sentences are texts of their own to embed.
    text = REPORT + "\n三、城市更新\n\n建成口袋公园10个。新增停车位500个。\n"
    good = _upload(tmp_path, "2025年示例市政府工作报告.txt", text.encode("gb18030"))
    bad = _upload(tmp_path, "notes.exe", b"x")
    steps = []
    result = uploads.add_reports(
        [good, bad],
        settings=settings,
        embeddings=fake_embeddings,
        progress=lambda at: steps.append((at.done, at.total, at.stage)),
    )
    assert result.indexed == 1 and steps and steps[-1][0] == steps[-1][1]
    # Each stage of the build is shown, in order.
    stages = ["reading", "embedding", "storing"]
    assert list(dict.fromkeys(s[2] for s in steps)) == stages
    # Every stage is heard before its work starts: no bar sits on another's "all done".
    for stage in stages[1:]:
        assert next(s for s in steps if s[2] == stage)[0] == 0
    assert [ok for ok, _ in result.lines] == [False, True]
    assert "已加入索引" in result.lines[1][1]
    (doc,) = list_documents(settings)
    assert doc.source == str((settings.home / "uploads" / good.name).resolve())
    again = uploads.add_reports([good], settings=settings, embeddings=fake_embeddings)
    assert "没有变化" in again.lines[0][1]


# --- the real server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fake_server(settings, fake_embeddings):
    """The app with a fake core, served on a free loopback port."""
    from ui import create_app, serve

    fake = FakeCore()
    app = create_app(
        settings, answer_fn=fake.answer, stream_fn=fake.stream, embeddings=fake_embeddings
    )
    server = serve(app, port=free_port(), block=False)
    yield server, fake
    server.close()


@pytest.mark.server
def test_ask_endpoint_returns_answer_json(fake_server):
    from gradio_client import Client

    app, fake = fake_server
    assert app.local_url.startswith("http://127.0.0.1:")
    client = Client(app.local_url, verbose=False)
    result = client.predict("今年新增多少养老床位", api_name="/ask")
    assert result == fake.answer("今年新增多少养老床位").to_json()
    assert result["citations"][0]["quote"] == "新增养老床位2000张。"
    assert client.predict("火星基地建几座", api_name="/ask")["found"] is False


@pytest.mark.server
def test_ask_endpoint_reports_chinese_error(settings):
    from gradio_client import Client

    from ui import create_app, serve

    fake = FakeCore(error=QuestionError("empty question", "请输入问题。"))
    app = serve(
        create_app(settings, answer_fn=fake.answer, stream_fn=fake.stream),
        port=free_port(),
        block=False,
    )
    try:
        with pytest.raises(Exception, match="请输入问题"):
            Client(app.local_url, verbose=False).predict("", api_name="/ask")
    finally:
        app.close()


@pytest.mark.server
def test_eight_clients_at_once_get_their_own_answers(fake_server):
    from gradio_client import Client

    app, fake = fake_server
    questions = [f"第{i}个问题：今年新增多少养老床位" for i in range(8)]

    def ask(question):
        return Client(app.local_url, verbose=False).predict(question, api_name="/ask")

    # Every answer waits until all eight are being answered: served one at a time, the
    # barrier would break (its timeout only guards against a hung test).
    fake.barrier = threading.Barrier(8, timeout=60)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(ask, questions))
    assert [r["question"] for r in results] == questions
    assert all(r["text"].endswith(f"（{q}）") for r, q in zip(results, questions, strict=True))


@pytest.mark.server
def test_auth_is_required_when_set(settings):
    from gradio_client import Client

    from ui import create_app, serve

    fake = FakeCore()
    app = serve(
        create_app(settings, answer_fn=fake.answer, stream_fn=fake.stream),
        port=free_port(),
        auth=("user", "pass"),
        block=False,
    )
    try:
        with pytest.raises(Exception):  # noqa: B017
            Client(app.local_url, verbose=False).predict("问题", api_name="/ask")
        client = Client(app.local_url, auth=("user", "pass"), verbose=False)
        assert client.predict("问题", api_name="/ask")["question"] == "问题"
    finally:
        app.close()


REAL_QUESTIONS = {
    "今年新增多少养老床位": "2000张",
    "城镇新增就业目标是多少": "8万人",
    "六条优势赛道是哪些": "低空经济",
    "地区生产总值增长目标是多少": "5%",
    "举办多少场就业招聘会": "300场",
    "完成政府补贴性技能培训多少人": "2万人",
    "新增技能人才多少": "1.5万人",
    "居民消费价格涨幅目标是多少": "2%",
}


@pytest.mark.server
@pytest.mark.integration
def test_eight_clients_at_once_with_the_real_core(sample_settings, real_embeddings):
    from gradio_client import Client

    from assistant import answer
    from ui import create_app, serve
    from ui.followups import with_suggestions

    app = serve(
        create_app(sample_settings, embeddings=real_embeddings), port=free_port(), block=False
    )
    try:

        def ask(question):
            return Client(app.local_url, verbose=False).predict(question, api_name="/ask")

        with ThreadPoolExecutor(8) as pool:
            results = dict(zip(REAL_QUESTIONS, pool.map(ask, REAL_QUESTIONS), strict=True))
    finally:
        app.close()
    for question, expected in REAL_QUESTIONS.items():
        result = results[question]
        assert result["question"] == question and result["found"], result
        assert expected in result["text"], (question, result["text"])
        assert any(expected in c["quote"] for c in result["citations"]), result["citations"]
    alone = answer("今年新增多少养老床位", settings=sample_settings, embeddings=real_embeddings)
    alone = with_suggestions(alone, sample_settings, real_embeddings)  # as /ask gives it
    assert results["今年新增多少养老床位"] == alone.to_json()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:
                found.add(address)
    return found


@pytest.mark.server
def test_reportqa_serve_binds_loopback(tmp_path):
    import json
    import urllib.request

    port = free_port()
    env = {**os.environ, "REPORTQA_HOME": str(tmp_path / "empty-home")}
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/reportqa"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(120):
            if _listening_addresses(port) or server.poll() is not None:
                break
            time.sleep(0.25)
        assert server.poll() is None, server.stderr.read().decode()
        if Path("/proc/net/tcp").exists():
            assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/config") as response:
            config = json.load(response)
        assert config["title"] == "政府工作报告问答"
        assert any(d.get("api_name") == "ask" for d in config["dependencies"])
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("kind", "found", "label", "css"),
    [
        ("near_miss", False, "报告未给出", "rq-near-miss"),
        ("overview", True, "概览", "rq-overview"),
        ("figure", True, "", "rq-answer"),
        ("refusal", False, "未找到", "rq-refusal"),
    ],
)
def test_each_kind_of_answer_renders_as_such(kind, found, label, css):
    a = Answer("问", "答[1]", found, (citation(),), "问", kind=kind)
    html = render.answer_html(a)
    assert css in html and label in html
    # a near miss shows its related passage open, labelled, never as the answer's source
    assert ("不是所问的数字" in html) == (kind == "near_miss")
    assert ("出自" in html) == found
