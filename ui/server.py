"""Serving the page: mounted on the JSON API's FastAPI app, one port, one auth."""

from __future__ import annotations

import logging
import threading
import time

import gradio as gr

from index import Settings
from index.readers import max_file_bytes
from ui.chat_list import CSS as CHATS_CSS
from ui.chat_list import SCRIPT as CHATS_SCRIPT
from ui.followups import CSS as FOLLOWUPS_CSS
from ui.followups import SCRIPT as FOLLOWUPS_SCRIPT
from ui.redo import CSS as REDO_CSS
from ui.redo import SCRIPT as REDO_SCRIPT
from ui.style import CSS, head, theme
from ui.uploads import ALLOWED_SUFFIXES
from ui.viewer import CSS as VIEWER_CSS
from ui.viewer import SCRIPT as VIEWER_SCRIPT

log = logging.getLogger(__name__)

# Conversations kept in server memory (Gradio keeps 10,000, about 55 KB each, so a busy
# server grew by 500 MB before the oldest went): a conversation older than the last
# thousand is forgotten by the server (the page still shows it).
SESSIONS_KEPT = 1000


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
        css=CSS + VIEWER_CSS + FOLLOWUPS_CSS + CHATS_CSS + REDO_CSS,
        head=head(",".join(ALLOWED_SUFFIXES))
        + f"<script>{VIEWER_SCRIPT}</script><script>{FOLLOWUPS_SCRIPT}</script>"
        + f"<script>{CHATS_SCRIPT}</script><script>{REDO_SCRIPT}</script>",
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
    from ui.app import create_app

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
