"""Gradio's folder of uploaded files: its temporary copies removed once handled, what no
handler took swept after a while and at start, and a quota on what may wait there."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ui.builds import QUEUE_WAIT_SECONDS

log = logging.getLogger(__name__)


def remove_temporary(files: Sequence[str | Path]) -> None:
    """Delete Gradio's temporary copies of uploaded files, and nothing outside its folder.

    Gradio leaves each upload at ``<upload folder>/<random>/<name>``;
    once a report is copied to ``uploads/`` (or refused) that copy only takes disk space.
    """
    root = upload_folder().resolve()
    for item in files:
        path = Path(item).resolve()  # a link out of the folder resolves outside it
        if root not in path.parents or not path.is_file():
            continue
        try:
            path.unlink(missing_ok=True)
            if path.parent != root and not any(path.parent.iterdir()):
                path.parent.rmdir()
        except OSError as exc:  # a leftover temp file must not turn a result into an error
            log.warning("cannot remove the uploaded temporary file %s: %s", path, exc)


# An upload no handler took (a file posted to Gradio's upload route alone, a page closed
# while its upload waited, a killed server's) is deleted once it is this old: a quarter of
# an hour longer than an upload may wait its turn (QUEUE_WAIT_SECONDS) before it is copied
# or refused, so that a queued upload's file is still there when its turn comes.
UPLOAD_TTL_SECONDS = QUEUE_WAIT_SECONDS + 900.0
SWEEP_EVERY_SECONDS = 60.0
QUOTA_FULL = "服务器上待处理的上传已达上限，请稍后再试。"


def upload_folder() -> Path:
    """Gradio's folder of uploaded files (``GRADIO_TEMP_DIR``)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def sweep_uploads(root: Path, older_than: float = UPLOAD_TTL_SECONDS) -> int:
    """Delete the files under ``root`` last changed more than ``older_than`` seconds ago and
    the folders they leave empty; the bytes of the files that stay."""
    now, kept = time.time(), 0
    if not root.is_dir():
        return 0
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            path = Path(folder, name)
            try:
                stat = path.lstat()
                if now - stat.st_mtime > older_than:
                    path.unlink()
                else:
                    kept += stat.st_size
            except OSError:  # gone meanwhile, or not ours to delete: the next sweep
                continue
        if Path(folder) != root:
            with contextlib.suppress(OSError):  # not empty: it stays
                Path(folder).rmdir()
    return kept


class UploadJanitor:
    """Sweeps Gradio's upload folder at start and every ``SWEEP_EVERY_SECONDS`` until stopped."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.root = self.root or upload_folder()
        sweep_uploads(self.root)  # what a killed server left
        self._thread = threading.Thread(target=self._run, daemon=True, name="upload-janitor")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SWEEP_EVERY_SECONDS):
            sweep_uploads(self.root)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class UploadGuard:
    """ASGI middleware on Gradio's upload route.

    An upload is refused (507, JSON, Chinese) when the files waiting in the upload folder
    and this one would pass ``quota`` bytes, before any of it is read; the quota is what one
    page upload may hold, MAX_FILES files of the largest size. A file over the size limit,
    which Gradio refuses with an English 413 in plain text, gets the JSON error shape of
    the API doors and the Chinese message ``too_large``.
    """

    def __init__(self, app, quota: int, too_large: str) -> None:
        self.app, self.quota, self.too_large = app, quota, too_large

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.endswith("/upload"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        size = int(declared) if declared.isdigit() else 0
        if sweep_uploads(upload_folder()) + size > self.quota:
            await _json(send, 507, "upload_quota", QUOTA_FULL)
            return
        await self.app(scope, receive, self._chinese_413(send))

    def _chinese_413(self, send):
        replaced = False

        async def sending(message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                replaced = True
            elif not replaced:
                await send(message)
            elif not message.get("more_body", False):  # Gradio's text is dropped
                await _json(send, 413, "file_too_large", self.too_large)

        return sending


async def _json(send, status: int, error: str, message: str) -> None:
    """Send a whole JSON error response of the API doors' shape."""
    import json

    body = json.dumps({"error": error, "message": message}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
