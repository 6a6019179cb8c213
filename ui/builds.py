"""One change to the index at a time from the page, said while it runs, and cancellable.

Every change the page makes (an upload, a removal, an edit) takes its turn at the one
:class:`BuildDesk` of the server process. The desk knows what runs and since when, so an
upload that has to wait is told what it waits for, and the running change can be
cancelled: its next progress step raises :class:`~index.errors.BuildCancelled`, and the
build deletes what it wrote and leaves the index as it was (``index.write.commit``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from index.errors import BuildCancelled, IndexBusyError

# A queued change waits this long for the one before it: ten reports of the largest size
# take minutes to embed; past half an hour the asker has gone and the page says so.
QUEUE_WAIT_SECONDS = 1800.0


@dataclass(frozen=True)
class Running:
    """The change the desk runs: what it is about (file names, a title) and since when."""

    what: str
    since: float  # time.monotonic()

    def describe(self) -> str:
        """In Chinese, for the page: "正在为「a.txt」建立索引（已进行 12 秒）"."""
        return f"正在为「{self.what}」建立索引（已进行 {time.monotonic() - self.since:.0f} 秒）"


class BuildDesk:
    """Runs the page's changes to the index one at a time (see the module docstring)."""

    def __init__(self) -> None:
        self._turn = threading.Lock()
        self._cancel = threading.Event()
        self._running: Running | None = None
        # Held while the running change and its cancel flag change together: a cancel
        # asked as one change ends never reaches the next.
        self._state = threading.Lock()

    @property
    def running(self) -> Running | None:
        """The change running now, or ``None``."""
        return self._running

    @contextlib.contextmanager
    def turn(self, what: str, wait: float = QUEUE_WAIT_SECONDS) -> Iterator[Callable[[], None]]:
        """Wait for the change before (at most ``wait`` seconds), then run this one.

        Yields the check the change calls at each step: it raises ``BuildCancelled`` once
        :meth:`cancel` was asked for this change.

        Raises:
            IndexBusyError: The change before did not end within ``wait`` seconds.
        """
        if not self._turn.acquire(timeout=wait):
            before = self._running
            doing = before.describe() if before else "另一个更新正在进行"
            raise IndexBusyError(
                "another change to the index is still running",
                f"{doing}，等待超时，请稍后再试。",
            )
        try:
            with self._state:
                self._cancel.clear()
                self._running = Running(what, time.monotonic())
            yield self._check
        finally:
            with self._state:
                self._running = None
                self._cancel.clear()
            self._turn.release()

    def _check(self) -> None:
        if self._cancel.is_set():
            raise BuildCancelled()

    def cancel(self) -> str:
        """Ask the running change to stop; what the page says, in Chinese."""
        with self._state:
            running = self._running
            if running is None:
                return "当前没有正在建立的索引。"
            self._cancel.set()
        return f"已请求取消为「{running.what}」建立索引，索引将保持原样。"


# The server's one desk: the page's uploads, removals and edits all wait at it.
DESK = BuildDesk()
