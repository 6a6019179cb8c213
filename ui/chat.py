"""The chat column: the question box, streamed cited answers, stop, 👍/👎, the question
scope and the examples; and the ``/ask`` endpoint of the page."""

from __future__ import annotations

import logging
import threading
import time

import gradio as gr

from assistant.feedback import record_feedback
from assistant.question import QuestionError, clean_question, excerpt
from assistant.types import ReportFilter
from index import ReportQAError
from ui import chat_list, render
from ui.chat_list import ChatList
from ui.conversation import added, chat_with, new_state, turn_answer
from ui.core import Core
from ui.redo import LOCK, UNLOCK, make_redo
from ui.runs import DONE, PIECE, STOP, Run, Runs
from ui.style import FOCUS_BOX, SHOW_LAST_QUESTION

log = logging.getLogger(__name__)

EXAMPLES = ("今年新增多少养老床位", "城镇新增就业目标是多少", "六条优势赛道是哪些")
STREAM_INTERVAL = 0.05
INTERNAL_ERROR = "内部错误，请稍后再试；如果一直出现，请查看服务器日志。"
BUSY = "正在回答上一个问题…可点“停止”"
PLACEHOLDER = "输入问题，按回车提问"
ANY_REGION, ANY_YEAR = "不限地区", "不限年份"
# The page takes questions again: 重试/编辑 back (ui/redo.py), the cursor in the box.
TAKES_QUESTIONS = f"() => {{ ({UNLOCK})(); ({FOCUS_BOX})(); }}"


def within(region: str | None, year: str | None) -> ReportFilter | None:
    """The report filter chosen under the chat, or None when it admits everything."""
    region = "" if region in (None, ANY_REGION) else region
    number = int(year) if year and str(year).isdigit() else None
    return ReportFilter(region, number) if region or number else None


def _produce(core: Core, question: str, pairs, scope: ReportFilter | None, run: Run) -> None:
    """Answer into ``run``'s inbox: its pieces, then ``(reply_html, answer)`` (an answer or
    an error). On a thread of its own, so that a stop is read at once, not after the next
    piece the model sends."""
    try:
        stream = core.stream_fn(
            question,
            core.history(pairs),
            settings=core.settings,
            embeddings=core.embeddings,
            within=scope,
        )
        for delta in stream:
            if run.ended.is_set():  # stopped: the rest is not wanted
                return
            run.put(PIECE, delta)
        final = render.answer_html(stream.answer), stream.answer
    except ReportQAError as exc:
        log_refusal(question, exc)
        final = render.error_html(exc.message_zh), None
    except Exception:
        log.exception("answering %r failed", excerpt(question))
        final = render.error_html(INTERNAL_ERROR), None
    run.put(DONE, final)


def log_refusal(question: str, exc: ReportQAError) -> None:
    """One INFO line for a question answered with a message (empty, no index, …)."""
    log.info("not answered %r: %s: %s", excerpt(question), type(exc).__name__, exc)


def make_respond(core: Core, runs: Runs | None = None):
    """The handler that answers a question into the conversation (stoppable by the run
    id ``runs`` gave its page)."""
    runs = runs or Runs()

    def respond(
        question: str,
        state: dict,
        region: str | None = None,
        year: str | None = None,
        run_id: str = "",
    ):
        """Stream an answer to ``question`` into the chat, then show its citation cards;
        or what had arrived, marked "已停止", if the page stopped the run first.

        Yields ``(messages, state)``; the browser keeps the exchange once it is over
        (:func:`ui.chat_list.keep`, next). This handler is the only one writing the
        exchange, so nothing can show after its end: not a late piece, not a second end.
        """
        question = (question or "").strip()
        state = state or new_state()
        if not question:  # nothing was sent: the conversation stays as it is on screen
            yield gr.skip(), gr.skip()
            return
        run = runs.take(run_id)
        try:
            yield chat_with(state, question, render.streaming_html("")), state
            scope = within(region, year)
            args = (core, question, state["pairs"], scope, run)
            threading.Thread(target=_produce, args=args, daemon=True).start()
            text, shown = "", 0.0
            while True:
                kind, value = run.inbox.get()
                if kind == PIECE:
                    text += value
                    if time.monotonic() - shown >= STREAM_INTERVAL:
                        shown = time.monotonic()
                        yield chat_with(state, question, render.streaming_html(text)), state
                    continue
                runs.end(run_id, run)  # claimed: by the answer's end or by the stop
                reply, answer = (render.stopped_html(text), None) if kind == STOP else value
                # failed and stopped exchanges stay on screen but out of the assistant's history
                messages = chat_with(state, question, reply)
                yield messages, added(state, question, messages, answer)
                return
        finally:  # the page went away mid-answer: the worker stops reading the stream
            runs.end(run_id, run)

    return respond


def make_take(runs: Runs):
    """:func:`take`, and the id of the run a question sent starts (what its stop names)."""

    def taking(question: str):
        updates = take(question)
        return *updates, (runs.start() if updates[0] else gr.skip())

    return taking


def take(question: str):
    """Move the question out of the box and show the page busy until the answer is in.

    The box is disabled (not emptied later): nothing typed meanwhile can be dropped or
    erased, and Enter cannot send a second question into the running one.
    """
    question = (question or "").strip()
    unsent = ("", *(gr.skip(),) * (1 + len(busy(True))))
    if not question:
        return *unsent, ""
    try:
        clean_question(question)  # the core's own limit: one limit, the page's and the API's
    except QuestionError as exc:  # the text stays in the box, to shorten, and is told why
        return *unsent, render.input_note_html(exc.message_zh)
    sent = gr.update(value="", interactive=False, placeholder=BUSY)
    return question, sent, *busy(True), ""


def busy(on: bool) -> tuple:
    """Updates of the ask and stop buttons, then of the clear and example buttons (which
    would start a second answer into the same conversation) and of the conversation
    list's (which would show another conversation under the answer coming in)."""
    others = (gr.update(interactive=not on),) * (1 + len(EXAMPLES) + chat_list.LOCKED)
    return gr.update(visible=not on), gr.update(visible=on), *others


def release():
    """The box and buttons back to normal once the answer is in (or stopped)."""
    return gr.update(interactive=True, placeholder=PLACEHOLDER), *busy(False)


def make_feedback(core: Core):
    """The handler of 👍/👎 on an answer."""

    def feedback(state: dict, vote: gr.LikeData):
        """Record 👍/👎 on an answer (``assistant.record_feedback``)."""
        index = vote.index if isinstance(vote.index, int) else vote.index[0]
        answer = turn_answer(state, index // 2)
        if answer is None or vote.liked not in (True, False):
            return
        try:
            record_feedback(answer, "up" if vote.liked else "down", settings=core.settings)
        except ReportQAError as exc:
            gr.Warning(exc.message_zh)
            return
        gr.Info("谢谢，反馈已记录。")

    return feedback


def make_ask(core: Core):
    """The page's ``/ask`` endpoint (Gradio's API, for ``gradio_client``)."""

    def ask(question: str) -> dict:
        """Answer one question; returns the JSON of `reportqa ask --json` (with its
        follow-up questions in `suggestions`, as `POST /api/ask` gives them)."""
        try:
            answer = core.ask(question)
        except ReportQAError as exc:
            log_refusal(question, exc)
            # print_exception=False: the line above is the whole story, not a traceback
            raise gr.Error(exc.message_zh, print_exception=False) from exc
        return answer.to_json()

    return ask


def choice(choices: list[str], elem_id: str, min_width: int, **kwargs) -> gr.Dropdown:
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


def chat_column(core: Core, demo, state, saved_state, chats: ChatList) -> tuple:
    """The chat and everything under it, wired with the conversation list ``chats``
    (``saved_state`` is the browser's copy of the conversations); returns the chat and
    the scope dropdowns (region, year), which the reports panel fills."""
    chat = gr.Chatbot(
        label="对话",
        show_label=False,
        elem_id="rq-chat",
        autoscroll=False,
        height="calc(100vh - 360px)",
        min_height=360,
        buttons=[],  # Gradio's copy copies the HTML; each answer has its own plain copy
        feedback_options=("Like", "Dislike"),
        editable="user",  # 编辑 on a question asks it anew (ui/redo.py)
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
        scope_region = choice([ANY_REGION], "rq-scope-region", 120, scale=0)
        scope_year = choice([ANY_YEAR], "rq-scope-year", 110, scale=0)
    with gr.Row(elem_id="rq-examples"):
        gr.HTML('<span class="rq-examples-label">示例问题：</span>', elem_id="rq-examples-label")
        buttons = [gr.Button(q, size="sm", elem_classes="rq-example") for q in EXAMPLES]
        clear = gr.Button("清空对话", size="sm", variant="secondary", elem_id="rq-clear")
    with gr.Row(visible=False, elem_id="rq-clear-confirm") as confirming:
        gr.HTML('<span class="rq-confirm">清空整个对话？清空后不能恢复。</span>')
        clear_yes = gr.Button("确认清空", variant="stop", size="sm", elem_id="rq-clear-yes")
        clear_no = gr.Button("取消", size="sm", elem_id="rq-clear-no")
    asked = gr.State("")
    # The id of the run the page started, for its stop: a page's own value, sent with the
    # click, so a stop names the answer it was pressed on (a State would be read later).
    run_box = gr.Textbox("", visible="hidden", elem_id="rq-run", interactive=False)
    runs = Runs()
    respond = make_respond(core, runs)
    private = dict(api_visibility="private")
    controls = [box, ask_btn, stop_btn, clear, *buttons, *chats.locked()]  # what release() sets
    triggers = [(box.submit, box), (ask_btn.click, box)] + [(b.click, b) for b in buttons]
    starts = [
        trigger(
            make_take(runs),
            inputs=source,
            outputs=[asked, *controls, note, run_box],
            queue=False,
            js=LOCK,  # 重试/编辑 locked at once, not when the server has answered
            **private,
        )
        for trigger, source in triggers
    ]
    # 重试 under the last answer, 编辑 on a question: asked again from that exchange on.
    again, edited = make_redo(runs, (gr.update(interactive=False, placeholder=BUSY), *busy(True)))
    for listen, redo in ((chat.retry, again), (chat.edit, edited)):
        outputs = [asked, state, *controls, note, run_box]
        starts.append(listen(redo, inputs=state, outputs=outputs, queue=False, js=LOCK, **private))
    for event in starts:
        event = event.then(
            respond,
            inputs=[asked, state, scope_region, scope_year, run_box],
            outputs=[chat, state],
            concurrency_id="chat",
            **private,
        )
        event = event.then(
            chat_list.keep,
            inputs=[state, saved_state],
            outputs=[saved_state, chats.pick],
            **private,
        )
        event.then(release, outputs=controls, **private).then(None, js=TAKES_QUESTIONS, **private)
    # Not cancels=: the answer's handler ends the exchange itself (see ui/runs.py).
    stop_btn.click(runs.stop, inputs=run_box, queue=False, **private)
    chat.change(None, js=SHOW_LAST_QUESTION, **private)
    chat.like(make_feedback(core), inputs=[state], **private)
    # 清空对话 asks first: a whole conversation is gone with one click otherwise.
    clear.click(lambda: gr.update(visible=True), outputs=confirming, queue=False, **private)
    clear_no.click(lambda: gr.update(visible=False), outputs=confirming, queue=False, **private)
    emptied = [state, chat, saved_state, chats.pick]
    clear_yes.click(
        lambda kept: (*chat_list.cleared(kept), gr.update(visible=False)),
        inputs=saved_state,
        outputs=[*emptied, confirming],
        **private,
    )
    chat.clear(chat_list.cleared, inputs=saved_state, outputs=emptied, **private)
    chat_list.wire(demo, chats, chat, state, saved_state)
    return chat, (scope_region, scope_year)
