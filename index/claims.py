"""The build lock of an index on a Chroma server, shared by every machine that builds it.

Claims are records of the index's meta collection (``lock:TOKEN``, with the time it was
last refreshed): the lock needs nothing of Chroma but that a read sees the writes made
before it, not that a second ``add`` of an id is ignored.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Iterator

from index.errors import IndexBusyError

# A build refreshes its lock claim every LOCK_TTL / 3 seconds; a killed build's claim is
# ignored (and deleted) once it has not been refreshed for LOCK_TTL.
LOCK_TTL = 60.0
_NOWHERE = [0.0]  # a claim needs a vector; it is never searched


class BuildLock:
    """The build lock of the index whose meta collection is ``meta``."""

    def __init__(self, meta) -> None:
        self._meta = meta

    @contextlib.contextmanager
    def held(self, wait: float) -> Iterator[None]:
        """Hold the index's build lock, shared by every machine on the server.

        A build writes its claim, then reads every claim: it holds the lock only if its
        own is the only fresh one, else it withdraws and tries again. Two builds cannot
        both hold it: the later of the two reads comes after both claims were written.
        This needs only that a read sees the writes made before it.

        Raises:
            IndexBusyError: Another build held it for ``wait`` seconds.
        """
        mine = f"lock:{uuid.uuid4().hex}"
        deadline = time.monotonic() + wait
        while not self._claim(mine):
            self._meta.delete(ids=[mine])
            if time.monotonic() >= deadline:
                raise IndexBusyError(
                    "another build is running on this index of the Chroma server",
                    "另一个索引任务正在进行，请稍后再试。",
                )
            time.sleep(random.uniform(0.2, 1.0))  # two claimants must not retry in step
        done = threading.Event()
        keeper = threading.Thread(target=self._refresh, args=(mine, done), daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join()
            with contextlib.suppress(Exception):  # a lost server: the claim goes stale
                self._meta.delete(ids=[mine])

    def _claim(self, mine: str) -> bool:
        self._stamp(mine)
        got = self._meta.get(where={"kind": "lock"}, include=["metadatas"])
        now = time.time()
        stale = [
            i for i, m in zip(got["ids"], got["metadatas"], strict=True) if now - m["at"] > LOCK_TTL
        ]
        if stale:
            self._meta.delete(ids=stale)
        return set(got["ids"]) - set(stale) == {mine}

    def _stamp(self, mine: str) -> None:
        self._meta.upsert(
            ids=[mine], embeddings=[_NOWHERE], metadatas=[{"kind": "lock", "at": time.time()}]
        )

    def _refresh(self, mine: str, done: threading.Event) -> None:
        while not done.wait(LOCK_TTL / 3):
            with contextlib.suppress(Exception):  # a passing outage: the next refresh
                self._stamp(mine)
