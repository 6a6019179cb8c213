"""The Gradio app: chat with streamed, cited answers; report list and upload; the ``/ask`` API."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # must be set before gradio is imported

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from index import ReportQAError, Settings, list_documents
from index.readers import format_mb, max_file_bytes
from ui import render
from ui.style import CSS, SHOW_LAST_QUESTION, head, theme
from ui.uploads import ALLOWED_SUFFIXES, add_reports

log = logging.getLogger(__name__)

TITLE = "政府工作报告问答"
EXAMPLES = ("今年新增多少养老床位", "城镇新增就业目标是多少", "六条优势赛道是哪些")
CONCURRENCY = 8
SERVER_MAX_FILE_SIZE = "64mb"  # Gradio's own cap (English 413); below it the limit speaks Chinese
STREAM_INTERVAL = 0.05
# Conversations kept in server memory (Gradio keeps 10,000, about 55 KB each, so a busy
# server grew by 500 MB before the oldest went): a conversation older than the last
# thousand is forgotten by the server (the page still shows it).
SESSIONS_KEPT = 1000
INTERNAL_ERROR = "内部错误，请稍后再试；如果一直出现，请查看服务器日志。"


_STAGES = {"reading": "正在读取报告", "embedding": "正在计算向量", "storing": "正在写入索引"}


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


def _new_state() -> dict:
    return {"pairs": [], "messages": []}


def _chat(state: dict, question: str, reply_html: str) -> list[dict]:
    return [
        *state["messages"],
        {"role": "user", "content": render.user_html(question)},
        {"role": "assistant", "content": reply_html},
    ]


def _replies(core: _Core, question: str, pairs):
    """Yield ``(reply_html, final, answer)``; the final reply is an answer or an error."""
    try:
        stream = core.stream_fn(
            question, core.history(pairs), settings=core.settings, embeddings=core.embeddings
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
        log.exception("answering %r failed", question)
        yield render.error_html(INTERNAL_ERROR), True, None
        return
    yield render.answer_html(answer), True, answer


def _log_refusal(question: str, exc: ReportQAError) -> None:
    """One INFO line for a question answered with a message (empty, no index, …)."""
    log.info("not answered %r: %s: %s", question, type(exc).__name__, exc)


def _make_respond(core: _Core):
    def respond(question: str, state: dict):
        """Stream an answer to ``question`` into the chat, then show its citation cards."""
        question = (question or "").strip()
        state = state or _new_state()
        if not question:
            yield "", state["messages"], state
            return
        yield "", _chat(state, question, render.streaming_html("")), state
        for reply, final, answer in _replies(core, question, state["pairs"]):
            messages = _chat(state, question, reply)
            if final:  # failed exchanges stay on screen but out of the assistant's history
                extra = [(question, answer.text)] if answer is not None else []
                state = {"pairs": [*state["pairs"], *extra], "messages": messages}
            yield "", messages, state

    return respond


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


def _documents(core: _Core) -> str:
    try:
        return render.documents_html(list_documents(core.settings))
    except ReportQAError as exc:
        return render.error_html(exc.message_zh)


def _make_upload(core: _Core):
    def upload(files, progress=gr.Progress()):  # noqa: B008 -- gradio's injection idiom
        """Index uploaded reports with a progress bar; per-file results in Chinese."""
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
        if not paths:
            return "", _documents(core), None
        progress(0, desc="正在读取报告…")

        def step(done: int, total: int, stage: str) -> None:
            progress((done, total), desc=_STAGES[stage], unit="段" if stage != "reading" else "份")

        result = add_reports(
            paths, settings=core.settings, embeddings=core.embeddings, progress=step
        )
        return render.status_html(result.lines), _documents(core), None

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


def _chat_column(core: _Core, state) -> None:
    chat = gr.Chatbot(
        label="对话",
        show_label=False,
        elem_id="rq-chat",
        autoscroll=False,
        height="calc(100vh - 290px)",
        min_height=360,
        buttons=["copy"],
        feedback_options=None,
        sanitize_html=True,
        placeholder="在下方输入问题，或点击示例问题。",
    )
    with gr.Row(equal_height=True, elem_id="rq-input-row"):
        box = gr.Textbox(
            label="提问",
            show_label=False,
            container=False,
            placeholder="输入问题，按回车提问",
            elem_id="rq-question",
            scale=5,
            max_lines=4,
            max_length=500,
        )
        ask_btn = gr.Button("提问", variant="primary", elem_id="rq-ask", scale=1, min_width=72)
    with gr.Row(elem_id="rq-examples"):
        gr.HTML('<span class="rq-examples-label">示例问题：</span>', elem_id="rq-examples-label")
        buttons = [gr.Button(q, size="sm", elem_classes="rq-example") for q in EXAMPLES]
        clear = gr.Button("清空对话", size="sm", variant="secondary", elem_id="rq-clear")
    respond = _make_respond(core)
    common = dict(outputs=[box, chat, state], api_visibility="private", concurrency_id="chat")
    box.submit(respond, inputs=[box, state], **common)
    ask_btn.click(respond, inputs=[box, state], **common)
    for button in buttons:
        button.click(respond, inputs=[button, state], **common)
    chat.change(None, js=SHOW_LAST_QUESTION, api_visibility="private")
    clear.click(
        lambda: ("", [], _new_state()), outputs=[box, chat, state], api_visibility="private"
    )
    chat.clear(lambda: ("", _new_state()), outputs=[box, state], api_visibility="private")


def _reports_column(core: _Core, demo) -> None:
    gr.HTML('<h3 class="rq-h">报告列表</h3>', elem_id="rq-docs-title")
    docs = gr.HTML(_documents(core), elem_id="rq-docs")
    gr.HTML('<h3 class="rq-h">上传报告</h3>', elem_id="rq-upload-title")
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
    files.upload(
        _make_upload(core),
        inputs=files,
        outputs=[status, docs, files],
        show_progress_on=files,
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="build",
    )
    demo.load(lambda: _documents(core), outputs=docs, api_visibility="private")


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
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                _chat_column(core, state)
            with gr.Column(scale=2, min_width=300):
                _reports_column(core, demo)
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
    api = create_api(app.rq_core, auth=auth)
    gr.mount_gradio_app(
        api,
        app,
        path="/",
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="请输入用户名和密码。" if auth else None,
        show_error=False,
        max_file_size=SERVER_MAX_FILE_SIZE,
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
