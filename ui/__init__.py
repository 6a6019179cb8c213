"""The web chat (Gradio). Gradio is imported only when an app is built or served."""

from __future__ import annotations

import os

# Before gradio is first imported, by whichever module of ui/ imports it.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


def create_app(settings=None, *, answer_fn=None, stream_fn=None, embeddings=None):
    """Build the chat app (a ``gradio.Blocks``); see :func:`ui.app.create_app`."""
    from ui.app import create_app

    return create_app(settings, answer_fn=answer_fn, stream_fn=stream_fn, embeddings=embeddings)


def serve(app, *, host="127.0.0.1", port=7860, auth=None, block=True):
    """Serve a built app and the JSON API; see :func:`ui.server.serve`."""
    from ui.server import serve

    return serve(app, host=host, port=port, auth=auth, block=block)


def launch(*, host="127.0.0.1", port=7860, auth=None, settings=None) -> None:
    """Serve the chat until interrupted (``reportqa serve``); see :func:`ui.server.launch`.

    Raises:
        IndexServedError: Another server serves this embedded home (see ``index.serving``).
    """
    from index.serving import serving, wait_for_builds
    from index.settings import Settings
    from ui.heap import limit_arenas

    limit_arenas()  # before the server's threads allocate (see ui.heap)
    settings = settings or Settings.from_env()
    with serving(settings, f"http://{host}:{port}"):
        wait_for_builds(settings, _say_waiting)
        from ui.server import launch as serve_until_interrupted

        serve_until_interrupted(host=host, port=port, auth=auth, settings=settings)


def _say_waiting() -> None:
    print("另一个进程正在建立索引，等它结束后再启动服务器……", flush=True)


__all__ = ["create_app", "launch", "serve"]
