"""One process writes an embedded home while a server serves it: the server.

Embedded Chroma is not safe for two processes writing one folder: a soak run with a
server's page uploads beside builds of another process on one embedded home damaged the
store ("Failed to apply logs to the hnsw segment writer", every question failed after).
So a server holds this home's serving lock for its life; a build or removal in another
process meets it and is refused with a message that names the server, and a second server
on the home is refused at start. A server waits at start for a build already running in
another process (it must not write beside it either). Reading (``reportqa ask``, ``index
list``) stays open to every process. Many processes on one index use a Chroma server
(``REPORTQA_CHROMA_URL``), where none of this applies.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from index.errors import IndexServedError, storage_errors
from index.settings import Settings

LOCK_FILE = "serving.lock"
HOLDER_FILE = "serving.json"  # who holds the lock, for the refusal's message
# A build probes the lock by taking it for an instant; a server starting in that instant
# waits this long instead of failing (a probe holds it for microseconds).
_PROBE_SECONDS = 2.0

_HELD: dict[Path, object] = {}  # this process's serving locks, by home


def _key(settings: Settings) -> Path:
    return settings.home.resolve()


@contextlib.contextmanager
def serving(settings: Settings, url: str) -> Iterator[None]:
    """Hold ``settings.home``'s serving lock while the body runs (a server's life).

    Raises:
        IndexServedError: Another server serves this home.
        StorageError: The home cannot be written.
    """
    if settings.chroma_url:
        yield
        return
    from filelock import FileLock, Timeout

    with storage_errors(settings.home):
        settings.home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.home / LOCK_FILE))
    try:
        lock.acquire(timeout=_PROBE_SECONDS)
    except Timeout:
        raise _served(settings, starting=True) from None
    holder = settings.home / HOLDER_FILE
    try:
        with contextlib.suppress(OSError):  # only the refusal's wording needs it
            holder.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
        _HELD[_key(settings)] = lock
        yield
    finally:
        _HELD.pop(_key(settings), None)
        with contextlib.suppress(OSError):
            holder.unlink()
        lock.release()


def wait_for_builds(settings: Settings, waiting) -> None:
    """Return when no build of another process runs on this home; ``waiting`` is called
    once if one does (call it holding the serving lock: no new one can start)."""
    if settings.chroma_url:
        return
    from filelock import FileLock, Timeout

    from index.store import IndexStore

    lock = FileLock(str(IndexStore(settings).lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        waiting()
        lock.acquire()
    lock.release()


def check_not_served(settings: Settings) -> None:
    """Refuse a write to an embedded home that another process serves.

    Call it holding the build lock: a server that starts after this check waits for that
    lock (see :func:`wait_for_builds`), so no server writes beside this build.

    Raises:
        IndexServedError: A server in another process serves this home.
    """
    if settings.chroma_url or _key(settings) in _HELD:
        return
    from filelock import FileLock, Timeout

    path = settings.home / LOCK_FILE
    if not path.exists():
        return
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise _served(settings, starting=False) from None
    lock.release()


def _served(settings: Settings, starting: bool) -> IndexServedError:
    url, pid = "", ""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        holder = json.loads((settings.home / HOLDER_FILE).read_text("utf-8"))
        url, pid = str(holder.get("url", "")), str(holder.get("pid", ""))
    who = f"服务器（{url}，进程 {pid}）" if url else "另一个服务器"
    who_en = f"a server ({url}, pid {pid})" if url else "another server"
    if starting:
        return IndexServedError(
            f"{who_en} already serves {settings.home}; stop it or serve another "
            "REPORTQA_HOME (many servers share one index through REPORTQA_CHROMA_URL)",
            f"{who}已在使用这个索引（{settings.home}）：请先停止它，或换一个 REPORTQA_HOME；"
            "多个服务器共用一个索引请用 Chroma 服务器（REPORTQA_CHROMA_URL）。",
        )
    return IndexServedError(
        f"{who_en} serves {settings.home}: add or remove reports through its page or API, "
        "or stop it first (two processes writing one embedded index damage it)",
        f"{who}正在使用这个索引：请在它的网页或 API 上传、删除报告，或先停止服务器再用命令行"
        "建立索引（两个进程同时写一个本地索引会损坏它）。",
    )
