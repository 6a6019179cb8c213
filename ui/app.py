"""The Gradio app: chat with streamed, cited answers (:mod:`ui.chat`) beside the reports
panel (:mod:`ui.panel`); served with the JSON API by :mod:`ui.server`."""

from __future__ import annotations

import threading
from collections.abc import Callable

import gradio as gr

from index import Settings
from ui import render
from ui.chat import chat_column, make_ask
from ui.chat_list import chat_list
from ui.chats import SAVED_KEY, browser_key
from ui.conversation import new_state
from ui.core import Core
from ui.followups import suggesting_stream
from ui.panel import reports_column
from ui.viewer import source_viewer

TITLE = "政府工作报告问答"
CONCURRENCY = 8
LOADING = "正在加载模型和索引…首个问题会在加载完成后回答。"


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
    stream_fn = suggesting_stream(stream_fn)  # the chat's answers carry their follow-ups
    core = Core(settings or Settings.from_env(), answer_fn, stream_fn, embeddings, ready)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        _header()
        loading = gr.HTML("", elem_id="rq-loading")
        state = gr.State(new_state())  # the conversation on screen
        # Every conversation, in the browser (ui/chats.py); one key for every start of the
        # server, or a restart could read none of them back.
        key = browser_key(core.settings.home)
        saved = gr.BrowserState(None, storage_key=SAVED_KEY, secret=key)
        chats = chat_list()
        with gr.Row(equal_height=False, elem_id="rq-main"):
            with gr.Column(scale=3, min_width=340, elem_id="rq-chat-column"):
                _, scope = chat_column(core, demo, state, saved, chats)
            with gr.Column(scale=2, min_width=300, elem_id="rq-side-column"):
                reports_column(core, demo, scope)
        source_viewer(core, state)
        gr.api(make_ask(core), api_name="ask", concurrency_limit=CONCURRENCY)
        # Unlimited: every page opened while loading waits here, not in the answer queue.
        demo.load(
            make_loading(core), outputs=loading, api_visibility="private", concurrency_limit=None
        )
    demo.queue(default_concurrency_limit=CONCURRENCY)
    demo.rq_core = core  # what ui.server.serve() hands to the JSON API
    return demo


def _header() -> None:
    gr.HTML(
        f'<div class="rq-header"><h1>{TITLE}</h1><p>根据已索引的政府工作报告回答问题，'
        "每个回答下方附有原文出处，黄色高亮为支持答案的句子。</p></div>",
        elem_id="rq-header",
    )


def make_loading(core: Core):
    """The handler that says "loading" until the server is ready."""

    def loading():
        """Say "loading" on the page until the server has loaded the model and index."""
        if core.ready is None or core.ready.is_set():
            yield ""
            return
        yield render.loading_html(LOADING)
        core.ready.wait()
        yield ""

    return loading
