"""The Gradio app: chat with streamed, cited answers; the reports panel (search, correct,
remove, upload); served beside the JSON API of :mod:`ui.api`."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # must be set before gradio is imported

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from assistant.feedback import record_feedback
from assistant.question import QuestionError, clean_question, excerpt
from assistant.types import Answer, ReportFilter
from index import ReportQAError, Settings, list_documents
from index.readers import format_mb, max_file_bytes
from ui import render, reports
from ui.builds import DESK
from ui.figures_view import figures_tab
from ui.style import CSS, FOCUS_BOX, SHOW_LAST_QUESTION, head, theme
from ui.uploads import ALLOWED_SUFFIXES, add_reports, edit_report, remove_report

log = logging.getLogger(__name__)

TITLE = "政府工作报告问答"
EXAMPLES = ("今年新增多少养老床位", "城镇新增就业目标是多少", "六条优势赛道是哪些")
CONCURRENCY = 8
# The page's changes to the index wait for their turn at ui.builds.DESK, which tells a
# waiting upload what it waits for: Gradio lets this many reach it at once.
CHANGES_AT_ONCE = 4
STREAM_INTERVAL = 0.05
# Conversations kept in server memory (Gradio keeps 10,000, about 55 KB each, so a busy
# server grew by 500 MB before the oldest went): a conversation older than the last
# thousand is forgotten by the server (the page still shows it).
SESSIONS_KEPT = 1000
# Exchanges kept in the browser across reloads: about 15 KB each, well inside the 5 MB a
# browser gives a page's localStorage.
EXCHANGES_SAVED = 50
SAVED_KEY = "reportqa-chat"
INTERNAL_ERROR = "内部错误，请稍后再试；如果一直出现，请查看服务器日志。"
BUSY = "正在回答上一个问题…可点“停止”"
PLACEHOLDER = "输入问题，按回车提问"
ANY_REGION, ANY_YEAR = "不限地区", "不限年份"

_STAGES = {
    "waiting": ("另一个建索引任务正在进行，等待它完成", ""),
    "reading": ("正在读取报告", "份"),
    "embedding": ("正在计算段落向量", "段"),
    "sentences": ("正在计算句子向量", "句"),
    "storing": ("正在写入索引", "段"),
}


@dataclass
class _Core:
    """What the handlers call: the assistant (or test fakes) and the index settings."""

    settings: Settings
    answer_fn: Callable
    stream_fn: Callable
    embeddings: object = None
    ready: threading.Event | None = None  # set once the model and index are loaded

    def history(self, pairs) -> list[tuple[str, str]]:
        return [(q, a) for q, a in pairs]


# --- the conversation --------------------------------------------------------------------
# The state of a conversation: ``messages`` as shown; ``pairs``, the answered (question,
# answer text) turns the assistant reads for follow-ups; ``turns``, per exchange (a user
# message and its reply) the answer's JSON, or None for an error or a stopped reply, for
# the 👍/👎 of that reply. It is kept in the browser too (gr.BrowserState), so a reload
# shows the conversation again and follow-ups still work.


def _new_state() -> dict:
    return {"pairs": [], "messages": [], "turns": []}


def _chat(state: dict, question: str, reply_html: str) -> list[dict]:
    return [
        *state["messages"],
        {"role": "user", "content": render.user_html(question)},
        {"role": "assistant", "content": reply_html},
    ]


def _added(state: dict, question: str, messages: list[dict], answer: Answer | None) -> dict:
    """``state`` with one more exchange; only answers join the assistant's history."""
    extra = [(question, answer.text)] if answer is not None else []
    turn = answer.to_json() if answer is not None else None
    return {
        "pairs": [*state["pairs"], *extra],
        "messages": messages,
        "turns": [*state.get("turns", []), turn],
    }


def _saved(state: dict) -> dict:
    """What the browser keeps: the last ``EXCHANGES_SAVED`` exchanges."""
    cut = max(0, len(state["turns"]) - EXCHANGES_SAVED)
    answered = sum(t is not None for t in state["turns"][:cut])
    return {
        "pairs": state["pairs"][answered:],
        "messages": state["messages"][2 * cut :],
        "turns": state["turns"][cut:],
    }


def _restored(saved) -> dict:
    """A conversation the browser kept, checked: anything unexpected starts afresh."""
    try:
        state = {
            "pairs": [(str(q), str(a)) for q, a in saved["pairs"]],
            "messages": [
                {"role": m["role"], "content": str(m["content"])} for m in saved["messages"]
            ],
            "turns": list(saved["turns"]),
        }
    except (KeyError, TypeError, ValueError):
        return _new_state()
    return state if len(state["messages"]) == 2 * len(state["turns"]) else _new_state()


def _within(region: str | None, year: str | None) -> ReportFilter | None:
    """The report filter chosen under the chat, or None when it admits everything."""
    region = "" if region in (None, ANY_REGION) else region
    number = int(year) if year and str(year).isdigit() else None
    return ReportFilter(region, number) if region or number else None


def _replies(core: _Core, question: str, pairs, within: ReportFilter | None):
    """Yield ``(reply_html, final, answer)``; the final reply is an answer or an error."""
    try:
        stream = core.stream_fn(
            question,
            core.history(pairs),
            settings=core.settings,
            embeddings=core.embeddings,
            within=within,
        )
        text, shown = "", 0.0
        for delta in stream:
            text += delta
            if time.monotonic() - shown >= STREAM_INTERVAL:
                shown = time.monotonic()
                yield render.streaming_html(text), False, None
        answer = stream.answer
    except ReportQAError as exc:
        _log_refusal(question, exc)
        yield render.error_html(exc.message_zh), True, None
        return
    except Exception:
        log.exception("answering %r failed", excerpt(question))
        yield render.error_html(INTERNAL_ERROR), True, None
        return
    yield render.answer_html(answer), True, answer


def _log_refusal(question: str, exc: ReportQAError) -> None:
    """One INFO line for a question answered with a message (empty, no index, …)."""
    log.info("not answered %r: %s: %s", excerpt(question), type(exc).__name__, exc)


def _make_respond(core: _Core):
    def respond(question: str, state: dict, region: str | None = None, year: str | None = None):
        """Stream an answer to ``question`` into the chat, then show its citation cards.

        Yields ``(messages, state, saved)``; ``saved`` (what the browser keeps) changes
        only with a finished exchange.
        """
        question = (question or "").strip()
        state = state or _new_state()
        if not question:  # nothing was sent: the conversation stays as it is on screen
            yield gr.skip(), gr.skip(), gr.skip()
            return
        yield _chat(state, question, render.streaming_html("")), state, gr.skip()
        for reply, final, answer in _replies(core, question, state["pairs"], _within(region, year)):
            messages = _chat(state, question, reply)
            if final:  # failed exchanges stay on screen but out of the assistant's history
                state = _added(state, question, messages, answer)
                yield messages, state, _saved(state)
            else:
                yield messages, state, gr.skip()

    return respond


def _take(question: str):
    """Move the question out of the box and show the page busy until the answer is in.

    The box is disabled (not emptied later): nothing typed meanwhile can be dropped or
    erased, and Enter cannot send a second question into the running one.
    """
    question = (question or "").strip()
    unsent = ("", *(gr.skip(),) * (1 + len(_busy(True))))
    if not question:
        return *unsent, ""
    try:
        clean_question(question)  # the core's own limit: one limit, the page's and the API's
    except QuestionError as exc:  # the text stays in the box, to shorten, and is told why
        return *unsent, render.input_note_html(exc.message_zh)
    sent = gr.update(value="", interactive=False, placeholder=BUSY)
    return question, sent, *_busy(True), ""


def _busy(busy: bool) -> tuple:
    """Updates of the ask and stop buttons, then of the clear and example buttons (which
    would start a second answer into the same conversation)."""
    others = (gr.update(interactive=not busy),) * (1 + len(EXAMPLES))
    return gr.update(visible=not busy), gr.update(visible=busy), *others


def _release():
    """The box and buttons back to normal once the answer is in (or stopped)."""
    return gr.update(interactive=True, placeholder=PLACEHOLDER), *_busy(False)


def _stopped(question: str, state: dict):
    """The reply the user stopped: shown as stopped, kept out of the assistant's history."""
    state = state or _new_state()
    if not question:
        return gr.skip(), gr.skip(), gr.skip(), *_release()
    messages = _chat(state, question, render.stopped_html())
    state = _added(state, question, messages, None)
    return messages, state, _saved(state), *_release()


def _make_feedback(core: _Core):
    def feedback(state: dict, vote: gr.LikeData):
        """Record 👍/👎 on an answer (``assistant.record_feedback``)."""
        index = vote.index if isinstance(vote.index, int) else vote.index[0]
        turns = (state or _new_state())["turns"]
        turn = turns[index // 2] if 0 <= index // 2 < len(turns) else None
        if turn is None or vote.liked not in (True, False):
            return
        try:
            record_feedback(
                Answer.from_json(turn), "up" if vote.liked else "down", settings=core.settings
            )
        except ReportQAError as exc:
            gr.Warning(exc.message_zh)
            return
        gr.Info("谢谢，反馈已记录。")

    return feedback


def _make_ask(core: _Core):
    def ask(question: str) -> dict:
        """Answer one question; returns the JSON of `reportqa ask --json`."""
        try:
            answer = core.answer_fn(
                question, None, settings=core.settings, embeddings=core.embeddings
            )
        except ReportQAError as exc:
            _log_refusal(question, exc)
            # print_exception=False: the line above is the whole story, not a traceback
            raise gr.Error(exc.message_zh, print_exception=False) from exc
        return answer.to_json()

    return ask


# --- the reports panel -------------------------------------------------------------------


@dataclass(frozen=True)
class _Panel:
    """The components the reports panel's handlers read and write."""

    search: gr.Textbox
    region: gr.Dropdown
    year: gr.Dropdown
    sort: gr.Dropdown
    docs: gr.HTML
    pick: gr.Dropdown
    scope_region: gr.Dropdown
    scope_year: gr.Dropdown

    @property
    def inputs(self) -> list:
        return [
            self.region,
            self.year,
            self.pick,
            self.search,
            self.sort,
            self.scope_region,
            self.scope_year,
        ]

    @property
    def outputs(self) -> list:
        return [
            self.docs,
            self.region,
            self.year,
            self.pick,
            self.scope_region,
            self.scope_year,
        ]


def _make_refresh(core: _Core):
    def refresh(region, year, pick, query, sort, scope_region, scope_year):
        """The list as searched, filtered and sorted; the filters' and pickers' choices
        (a choice whose reports are gone falls back to all)."""
        try:
            documents = list_documents(core.settings)
        except ReportQAError as exc:
            return render.error_html(exc.message_zh), *(gr.skip(),) * 5
        regions, years = reports.region_choices(documents), reports.year_choices(documents)
        region = region if region in regions else reports.ALL_REGIONS
        year = year if year in years else reports.ALL_YEARS
        view = reports.View(query or "", region, year, sort or reports.SORTS[0])
        shown = reports.select(documents, view)
        picks = [(reports.pick_label(d), d.doc_id) for d in shown]
        pick = pick if pick in {d.doc_id for d in shown} else None
        scope_regions = [ANY_REGION, *sorted({d.region for d in documents if d.region})]
        scope_years = [ANY_YEAR, *[y for y in years if y.isdigit()]]
        scope_region = scope_region if scope_region in scope_regions else ANY_REGION
        scope_year = scope_year if scope_year in scope_years else ANY_YEAR
        return (
            render.documents_html(shown, len(documents)),
            gr.update(choices=regions, value=region),
            gr.update(choices=years, value=year),
            gr.update(choices=picks, value=pick),
            gr.update(choices=scope_regions, value=scope_region),
            gr.update(choices=scope_years, value=scope_year),
        )

    return refresh


def _make_fill(core: _Core):
    def fill(doc_id: str | None):
        """Put the chosen report's title, year and region into the edit fields."""
        found = [d for d in list_documents(core.settings) if d.doc_id == doc_id]
        if not found:
            return "", "", "", gr.update(visible=False)
        doc = found[0]
        return doc.title, str(doc.year or ""), doc.region, gr.update(visible=False)

    return fill


def _make_save(core: _Core):
    def save(doc_id: str | None, title: str, year: str, region: str) -> str:
        """Correct the chosen report (its meta file, then a re-index); say how it went."""
        if not doc_id:
            return render.status_html([(False, "请先选择一份报告。")])
        try:
            doc = edit_report(
                doc_id,
                title=title,
                year=year,
                region=region,
                settings=core.settings,
                embeddings=core.embeddings,
            )
        except ReportQAError as exc:
            return render.status_html([(False, exc.message_zh)])
        shown = reports.pick_label(doc)
        return render.status_html([(True, f"已保存并重新索引：{shown}")])

    return save


def _make_confirm(core: _Core):
    def confirm(doc_id: str | None):
        """Ask before removing: show which report would go."""
        found = [d for d in list_documents(core.settings) if d.doc_id == doc_id]
        if not found:
            return gr.update(visible=False), "", render.status_html([(False, "请先选择一份报告。")])
        question = f"确定从索引中删除《{render.esc(found[0].title)}》吗？此操作不能撤销。"
        return gr.update(visible=True), f'<div class="rq-confirm">{question}</div>', ""

    return confirm


def _make_delete(core: _Core):
    def delete(doc_id: str | None):
        """Remove the chosen report (as ``reportqa index remove``)."""
        hide = gr.update(visible=False)
        if not doc_id:
            return hide, render.status_html([(False, "请先选择一份报告。")])
        try:
            title = remove_report(doc_id, settings=core.settings, embeddings=core.embeddings)
        except ReportQAError as exc:
            return hide, render.status_html([(False, exc.message_zh)])
        return hide, render.status_html([(True, f"已删除：{title}")])

    return delete


def _make_upload(core: _Core):
    def upload(files, progress=gr.Progress()):  # noqa: B008 -- gradio's injection idiom
        """Index uploaded reports with a progress bar; per-file results in Chinese. An
        upload that waits for another change is told what it waits for."""
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
        if not paths:
            yield "", None
            return
        if (running := DESK.running) is not None:
            waiting = f"{running.describe()}，本次上传已排队，完成后自动开始。"
            yield render.status_html([(True, waiting)]), gr.update()
        progress(0, desc="正在读取报告…")

        def step(done: int, total: int, stage: str) -> None:
            desc, unit = _STAGES[stage]
            progress((done, total) if total else 0, desc=desc, unit=unit)

        result = add_reports(
            paths, settings=core.settings, embeddings=core.embeddings, progress=step
        )
        yield render.status_html(result.lines), None

    return upload


def _header() -> None:
    gr.HTML(
        f'<div class="rq-header"><h1>{TITLE}</h1><p>根据已索引的政府工作报告回答问题，'
        "每个回答下方附有原文出处，黄色高亮为支持答案的句子。</p></div>",
        elem_id="rq-header",
    )


LOADING = "正在加载模型和索引…首个问题会在加载完成后回答。"


def _make_loading(core: _Core):
    def loading():
        """Say "loading" on the page until the server has loaded the model and index."""
        if core.ready is None or core.ready.is_set():
            yield ""
            return
        yield render.loading_html(LOADING)
        core.ready.wait()
        yield ""

    return loading


def _chat_column(core: _Core, demo, state, saved) -> tuple[gr.Dropdown, gr.Dropdown]:
    chat = gr.Chatbot(
        label="对话",
        show_label=False,
        elem_id="rq-chat",
        autoscroll=False,
        height="calc(100vh - 360px)",
        min_height=360,
        buttons=[],  # Gradio's copy copies the HTML; each answer has its own plain copy
        feedback_options=("Like", "Dislike"),
        sanitize_html=True,
        placeholder="在下方输入问题，或点击示例问题。",
    )
    with gr.Row(equal_height=True, elem_id="rq-input-row"):
        box = gr.Textbox(
            label="提问",
            show_label=False,
            container=False,
            placeholder=PLACEHOLDER,
            elem_id="rq-question",
            scale=5,
            max_lines=4,
        )
        ask_btn = gr.Button("提问", variant="primary", elem_id="rq-ask", scale=1, min_width=72)
        stop_btn = gr.Button(
            "停止", variant="stop", elem_id="rq-stop", scale=1, min_width=72, visible=False
        )
    note = gr.HTML("", elem_id="rq-input-note")
    with gr.Row(elem_id="rq-scope"):
        gr.HTML('<span class="rq-scope-label">查找范围：</span>', elem_id="rq-scope-label")
        scope_region = _choice([ANY_REGION], "rq-scope-region", 120, scale=0)
        scope_year = _choice([ANY_YEAR], "rq-scope-year", 110, scale=0)
    with gr.Row(elem_id="rq-examples"):
        gr.HTML('<span class="rq-examples-label">示例问题：</span>', elem_id="rq-examples-label")
        buttons = [gr.Button(q, size="sm", elem_classes="rq-example") for q in EXAMPLES]
        clear = gr.Button("清空对话", size="sm", variant="secondary", elem_id="rq-clear")
    with gr.Row(visible=False, elem_id="rq-clear-confirm") as confirming:
        gr.HTML('<span class="rq-confirm">清空整个对话？清空后不能恢复。</span>')
        clear_yes = gr.Button("确认清空", variant="stop", size="sm", elem_id="rq-clear-yes")
        clear_no = gr.Button("取消", size="sm", elem_id="rq-clear-no")
    asked = gr.State("")
    respond = _make_respond(core)
    private = dict(api_visibility="private")
    controls = [box, ask_btn, stop_btn, clear, *buttons]  # what _release sets
    answering = []
    triggers = [(box.submit, box), (ask_btn.click, box)] + [(b.click, b) for b in buttons]
    for trigger, source in triggers:
        event = trigger(
            _take, inputs=source, outputs=[asked, *controls, note], queue=False, **private
        )
        event = event.then(
            respond,
            inputs=[asked, state, scope_region, scope_year],
            outputs=[chat, state, saved],
            concurrency_id="chat",
            **private,
        )
        answering.append(event)
        event.then(_release, outputs=controls, **private).then(None, js=FOCUS_BOX, **private)
    stop_btn.click(
        _stopped,
        inputs=[asked, state],
        outputs=[chat, state, saved, *controls],
        cancels=answering,
        queue=False,
        **private,
    )
    chat.change(None, js=SHOW_LAST_QUESTION, **private)
    chat.like(_make_feedback(core), inputs=[state], **private)
    cleared = (lambda: ([], _new_state(), _new_state()), [chat, state, saved])
    # 清空对话 asks first: a whole conversation is gone with one click otherwise.
    clear.click(lambda: gr.update(visible=True), outputs=confirming, queue=False, **private)
    clear_no.click(lambda: gr.update(visible=False), outputs=confirming, queue=False, **private)
    clear_yes.click(
        lambda: ([], _new_state(), _new_state(), gr.update(visible=False)),
        outputs=[*cleared[1], confirming],
        **private,
    )
    chat.clear(cleared[0], outputs=cleared[1], **private)

    def restore(kept):
        """The conversation the browser kept, back on the page after a reload."""
        state = _restored(kept)
        return state, state["messages"]

    demo.load(restore, inputs=saved, outputs=[state, chat], **private)
    return scope_region, scope_year


def _reports_column(core: _Core, demo, scope: tuple[gr.Dropdown, gr.Dropdown]) -> None:
    with gr.Tabs(elem_id="rq-side"):
        with gr.Tab("报告列表", elem_id="rq-tab-reports"):
            panel = _report_list(scope)
            _report_editor(core, panel)
        with gr.Tab("上传报告", elem_id="rq-tab-upload"):
            _upload_area(core, panel)
        figures_tab(core)
    for control in (panel.search, panel.region, panel.year, panel.sort):
        control.input(trigger_mode="always_last", **_refreshing(core, panel))
    demo.load(**_refreshing(core, panel))


def _refreshing(core: _Core, panel: _Panel) -> dict:
    """The event that redraws the list after a change: quietly, the old list stays shown
    until the new one is in (no spinner over it)."""
    return dict(
        fn=_make_refresh(core),
        inputs=panel.inputs,
        outputs=panel.outputs,
        show_progress="hidden",
        api_visibility="private",
    )


def _choice(choices: list[str], elem_id: str, min_width: int, **kwargs) -> gr.Dropdown:
    """An unlabelled dropdown set to its first choice (filters, sort, question scope)."""
    return gr.Dropdown(
        choices,
        value=choices[0],
        show_label=False,
        container=False,
        elem_id=elem_id,
        min_width=min_width,
        **kwargs,
    )


def _report_list(scope: tuple[gr.Dropdown, gr.Dropdown]) -> _Panel:
    with gr.Row(elem_id="rq-filters"):
        search = gr.Textbox(
            placeholder="搜索标题、地区或年份",
            show_label=False,
            container=False,
            elem_id="rq-search",
            min_width=160,
        )
        region = _choice([reports.ALL_REGIONS], "rq-filter-region", 110)
        year = _choice([reports.ALL_YEARS], "rq-filter-year", 100)
        sort = _choice(list(reports.SORTS), "rq-sort", 120)
    docs = gr.HTML(elem_id="rq-docs")
    pick = gr.Dropdown([], value=None, label="选择报告", elem_id="rq-pick", render=False)
    return _Panel(search, region, year, sort, docs, pick, *scope)


def _report_editor(core: _Core, panel: _Panel) -> None:
    with gr.Accordion("修改或删除报告", open=False, elem_id="rq-manage"):
        panel.pick.render()
        with gr.Row():
            title = gr.Textbox(label="标题", elem_id="rq-edit-title", scale=3)
            year = gr.Textbox(label="年份", elem_id="rq-edit-year", scale=1, min_width=80)
            region = gr.Textbox(label="地区", elem_id="rq-edit-region", scale=1, min_width=100)
        with gr.Row():
            save = gr.Button("保存修改", variant="primary", elem_id="rq-save", size="sm")
            delete = gr.Button("删除报告", variant="stop", elem_id="rq-delete", size="sm")
        with gr.Row(visible=False, elem_id="rq-confirm-row") as confirm_row:
            question = gr.HTML(elem_id="rq-confirm-text")
            confirm = gr.Button("确认删除", variant="stop", elem_id="rq-confirm", size="sm")
            cancel = gr.Button("取消", elem_id="rq-cancel", size="sm")
        status = gr.HTML(elem_id="rq-manage-status")
    private = dict(api_visibility="private")
    panel.pick.change(
        _make_fill(core),
        inputs=panel.pick,
        outputs=[title, year, region, confirm_row],
        **private,
    )
    save.click(
        _make_save(core),
        inputs=[panel.pick, title, year, region],
        outputs=status,
        concurrency_limit=CHANGES_AT_ONCE,
        concurrency_id="build",
        **private,
    ).then(**_refreshing(core, panel))
    delete.click(
        _make_confirm(core),
        inputs=panel.pick,
        outputs=[confirm_row, question, status],
        **private,
    )
    confirm.click(
        _make_delete(core),
        inputs=panel.pick,
        outputs=[confirm_row, status],
        concurrency_limit=CHANGES_AT_ONCE,
        concurrency_id="build",
        **private,
    ).then(**_refreshing(core, panel))
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row, **private)


def _upload_area(core: _Core, panel: _Panel) -> None:
    kinds = "、".join(s.lstrip(".") for s in ALLOWED_SUFFIXES)
    limit = max_file_bytes(core.settings)
    # Read by the page's script (ui.style.head), which stops larger files before sending.
    gr.HTML(
        f'<div id="rq-limit" data-max-bytes="{limit}" data-max-mb="{format_mb(limit)}"></div>',
        elem_id="rq-limit-holder",
    )
    files = gr.File(
        label=f"上传报告（{kinds}；单个文件不超过 {format_mb(limit)} MB）",
        file_count="multiple",
        elem_id="rq-upload",
    )
    status = gr.HTML("", elem_id="rq-upload-status")
    stop = gr.Button("取消建立索引", elem_id="rq-cancel-build", size="sm")
    files.upload(
        _make_upload(core),
        inputs=files,
        outputs=[status, files],
        show_progress_on=files,
        api_visibility="private",
        concurrency_limit=CHANGES_AT_ONCE,
        concurrency_id="build",
    ).then(**_refreshing(core, panel))
    # Not in the "build" group: it must run while a build does.
    stop.click(
        lambda: render.status_html([(False, DESK.cancel())]),
        outputs=status,
        api_visibility="private",
        concurrency_limit=None,
    )


def create_app(
    settings: Settings | None = None,
    *,
    answer_fn: Callable | None = None,
    stream_fn: Callable | None = None,
    embeddings=None,
    ready: threading.Event | None = None,
) -> gr.Blocks:
    """Build the chat app; ``answer_fn``/``stream_fn`` default to the assistant's.

    ``ready``, when given, is set once the server has loaded what answering needs; until
    then the page says it is loading.
    """
    if answer_fn is None or stream_fn is None:
        from assistant import answer, stream_answer

        answer_fn, stream_fn = answer_fn or answer, stream_fn or stream_answer
    core = _Core(settings or Settings.from_env(), answer_fn, stream_fn, embeddings, ready)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        _header()
        loading = gr.HTML("", elem_id="rq-loading")
        state = gr.State(_new_state())
        saved = gr.BrowserState(_new_state(), storage_key=SAVED_KEY)
        with gr.Row(equal_height=False, elem_id="rq-main"):
            with gr.Column(scale=3, min_width=340, elem_id="rq-chat-column"):
                scope = _chat_column(core, demo, state, saved)
            with gr.Column(scale=2, min_width=300, elem_id="rq-side-column"):
                _reports_column(core, demo, scope)
        gr.api(_make_ask(core), api_name="ask", concurrency_limit=CONCURRENCY)
        # Unlimited: every page opened while loading waits here, not in the answer queue.
        demo.load(
            _make_loading(core), outputs=loading, api_visibility="private", concurrency_limit=None
        )
    demo.queue(default_concurrency_limit=CONCURRENCY)
    demo.rq_core = core  # what serve() hands to the JSON API
    return demo


class Server:
    """A running server: the page at ``/``, the JSON API at ``/api/…``, its docs at ``/docs``."""

    def __init__(self, blocks: gr.Blocks, api, host: str, port: int) -> None:
        import uvicorn

        self.blocks, self.api = blocks, api
        self.local_url = f"http://{host}:{port}/"
        config = uvicorn.Config(api, host=host, port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self) -> Server:
        """Serve in a background thread; return once the port accepts connections."""
        self._thread = threading.Thread(target=self.server.run, daemon=True)
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise OSError(f"cannot serve on {self.local_url} (is the port taken?)")
            time.sleep(0.01)
        return self

    def run(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C)."""
        self.server.run()

    def close(self) -> None:
        """Stop the queue, end the page's open event streams, then the server."""
        self.blocks.close(verbose=False)
        for route in self.api.routes:  # the mounted page's heartbeats wait on this event
            stop = getattr(getattr(route, "app", None), "stop_event", None)
            if stop is not None:
                stop.set()
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join()


def serve(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    block: bool = True,
) -> Server:
    """Serve ``app`` and the JSON API on ``host:port`` (loopback unless told otherwise).

    The page is mounted on the API's FastAPI app (one port, one auth); with ``block`` it
    serves until interrupted, otherwise it returns the running :class:`Server`.
    """
    from ui.api import create_api

    # mount_gradio_app takes no session capacity (launch does): the page reads it from here.
    app.state_session_capacity = SESSIONS_KEPT
    api = create_api(app.rq_core, auth=auth, host=host)
    gr.mount_gradio_app(
        api,
        app,
        path="/",
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="请输入用户名和密码。" if auth else None,
        show_error=False,
        # One limit: Gradio refuses a larger file before it is stored (in Chinese, ui.api).
        max_file_size=max_file_bytes(app.rq_core.settings),
        footer_links=["api"],
        run_history=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        theme=theme(),
        css=CSS,
        head=head(",".join(ALLOWED_SUFFIXES)),
    )
    server = Server(app, api, host, port)
    if not block:
        return server.start()
    print(f"网页：{server.local_url}　接口文档：{server.local_url}docs", flush=True)
    server.run()
    return server


def launch(
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    settings: Settings | None = None,
) -> None:
    """Serve the chat until interrupted (``reportqa serve``)."""
    settings = settings or Settings.from_env()
    ready = threading.Event()
    app = create_app(settings, ready=ready)
    threading.Thread(target=_warm_up, args=(settings, ready), daemon=True).start()
    serve(app, host=host, port=port, auth=auth, block=True)


def _warm_up(settings: Settings, ready: threading.Event) -> None:
    """Load the model and open the index while the page opens, then say it is ready."""
    from assistant import warm_up

    started = time.monotonic()
    try:
        loaded = warm_up(settings)
    except Exception as exc:  # the first question will report it properly
        log.warning("could not load the model and index ahead: %s", exc)
        loaded = False
    finally:
        ready.set()
    if loaded:
        print(f"已就绪：模型和索引已加载（{time.monotonic() - started:.1f} 秒）。", flush=True)
