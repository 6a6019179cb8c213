"""The answers the pages are running, so that a stop is one state change whatever its timing.

An answer's end is claimed once: by the answer finishing or by a stop, whichever comes first.
Both go through the run's inbox, one queue the answering handler reads in order: the
answer's pieces and its end are put there by a worker thread, a stop by the stop button's
handler. The handler shows what it reads first of "done" and "stop" and ignores the rest,
so a stop after the end does nothing and a stop before it always wins. (Gradio's
``cancels=`` could kill an answer after it had already been shown as finished, or let a
last piece in after the "已停止" marker; a stop here never touches the answer's event.)
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections import OrderedDict

# Runs a page registered but never answered (the page was closed at the wrong moment) are
# forgotten oldest first past this many: a run is a few bytes, a server sees many pages.
KEPT = 1000

PIECE, DONE, STOP = "piece", "done", "stop"


class Run:
    """One answer's inbox; ``ended`` once its handler has claimed the end."""

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.ended = threading.Event()  # the worker stops reading the stream then

    def put(self, kind: str, value=None) -> None:
        self.inbox.put((kind, value))


class Runs:
    """The runs of every page, by the id each page holds while its answer runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, Run] = OrderedDict()

    def start(self) -> str:
        """A new run's id (the page sends it with its stop)."""
        run_id = uuid.uuid4().hex
        with self._lock:
            self._runs[run_id] = Run()
            while len(self._runs) > KEPT:
                self._runs.popitem(last=False)
        return run_id

    def take(self, run_id: str | None) -> Run:
        """The run ``run_id`` for its answering handler, which owns it from now on; an
        unknown id (a call without a page) gets a run of its own that nothing can stop."""
        with self._lock:
            run = self._runs.get(run_id or "")
        return run or Run()

    def stop(self, run_id: str | None) -> None:
        """Ask the run to stop; nothing happens when its answer has already ended."""
        with self._lock:
            run = self._runs.get(run_id or "")
            if run is not None and not run.ended.is_set():
                run.put(STOP)

    def end(self, run_id: str | None, run: Run) -> None:
        """The run's handler is done with it: later stops find nothing."""
        with self._lock:
            run.ended.set()
            if self._runs.get(run_id or "") is run:
                del self._runs[run_id]
