"""Content-hash embedding cache: a text one of the user's builds embedded is never embedded
again, in any of their index homes (one cache per user and model, see
:meth:`index.store.IndexStore.cache_path`).

The cache only saves time, so a corrupt cache file is moved aside and started afresh
rather than failing the build.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.model import content_hash

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

_BATCH = 64
# How long a write waits for another process's: far more than one batch's insert takes.
_WAIT_SECONDS = 60.0
_RETRY_SECONDS = 0.02  # a new file's switch to WAL takes about a millisecond
# Vectors read back at once when filling an array: 4096 x 384 floats is a few MB.
_LOOKUP_CHUNK = 4096
# What a text costs to embed beyond its characters, in characters (its prompt, [CLS] and
# [SEP], the per-text work): fitted by benchmarks/fit_time_left.py (bf16, 2 cores: 13).
TEXT_COST = 13
# Primary result codes of a damaged file (extended codes keep these in their low byte).
_CORRUPT = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})

log = logging.getLogger(__name__)


class CachedEmbeddings:
    """Wraps an embedding model with a persistent cache keyed by model and text hash.

    It has the interface of langchain's ``Embeddings`` without deriving from it: a build
    whose texts are all cached then never imports langchain (about a second).

    Args:
        base: The real embedding model, or a function that loads it: then it is loaded
            only if something is not in the cache.
        path: SQLite file of the cache.
        model_id: Identifies ``base`` so two models never share vectors.
        use_cache: ``False`` re-embeds everything (and refreshes the cache).
    """

    def __init__(
        self,
        base: Embeddings | Callable[[], Embeddings],
        path: Path,
        model_id: str,
        use_cache: bool = True,
    ):
        self._base = base
        self.model_id = model_id
        self.use_cache = use_cache
        self.embedded = 0
        # (texts embedded, texts to embed, seconds left or None while unknown)
        self.progress: Callable[[int, int, float | None], None] | None = None
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = _connect(path)
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            self._set_aside(exc)
            self._db = _connect(path)

    @property
    def base(self) -> Embeddings:
        """The wrapped model, loaded on first use when a loader was given."""
        if not hasattr(self._base, "embed_documents"):  # any model with the interface
            self._base = self._base()
        return self._base

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        """Move the corrupt cache file (and its journal) to ``*.corrupt``; one is kept."""
        aside = self.path.with_name(self.path.name + ".corrupt")
        log.warning(
            "embedding cache %s is corrupt (%s); moved it to %s and starting an empty one",
            self.path,
            exc,
            aside,
        )
        for suffix in ("", "-journal", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                os.replace(source, aside.with_name(aside.name + suffix))

    def _reset(self, exc: sqlite3.DatabaseError) -> None:
        """Replace a cache found corrupt while in use by an empty one (lock held)."""
        self._db.close()
        self._set_aside(exc)
        self._db = _connect(self.path)

    def _known(self, hashes: list[str]) -> set[str]:
        """Which of ``hashes`` the cache holds (without reading their vectors)."""
        return {h for (h,) in self._select("hash", hashes)}

    def _lookup(self, hashes: list[str]) -> dict[str, list[float]]:
        return {
            h: np.frombuffer(blob, dtype=np.float32).tolist()
            for h, blob in self._select("hash, vec", hashes)
        }

    def _select(self, columns: str, hashes: list[str]) -> list[tuple]:
        """``columns`` of the cached rows of ``hashes``; none when the cache proves corrupt
        (it is replaced, and everything is a miss: the model embeds it again)."""
        rows: list[tuple] = []
        with self._lock:
            try:
                for i in range(0, len(hashes), 500):
                    chunk = hashes[i : i + 500]
                    marks = ",".join("?" * len(chunk))
                    rows += self._db.execute(
                        f"SELECT {columns} FROM emb WHERE model=? AND hash IN ({marks})",
                        [self.model_id, *chunk],
                    )
            except sqlite3.DatabaseError as exc:
                if not _is_corrupt(exc):
                    raise
                self._reset(exc)
                return []
        return rows

    def _store(self, pairs: list[tuple[str, list[float]]]) -> None:
        rows = [(self.model_id, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in pairs]

        def insert() -> None:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?)", rows)

        with self._lock:
            try:
                insert()
            except sqlite3.DatabaseError as exc:
                if not _is_corrupt(exc):
                    raise  # a full disk is the build's to report (index.errors.storage_errors)
                self._reset(exc)
                insert()

    def fill(self, texts: list[str]) -> set[str]:
        """Embed what the cache lacks of ``texts`` (all of it when ``use_cache`` is off),
        each distinct text once, and keep the vectors only in the cache: a build's memory
        grows with a batch, not with the report.

        The texts are embedded longest first: a batch of texts of one length pads little
        (a report's sentences in their own order embedded at half the speed, measured), and
        the largest batches, the most memory, come at once.

        Returns:
            The content hashes of the texts it embedded.
        """
        hashes = list(dict.fromkeys(content_hash(t) for t in texts))
        known = self._known(hashes) if self.use_cache else set()
        text_of = {content_hash(t): t for t in texts}
        missing = sorted((h for h in hashes if h not in known), key=lambda h: -len(text_of[h]))
        clock = TimeLeft(sum(cost(text_of[h]) for h in missing))
        for i in range(0, len(missing), _BATCH):
            batch = missing[i : i + _BATCH]
            if self.progress and i == 0:  # the first batch may load the model: seconds
                self.progress(0, len(missing), None)
            vectors = self.base.embed_documents([text_of[h] for h in batch])
            self._store(list(zip(batch, vectors, strict=True)))
            self.embedded += len(batch)
            clock.done(sum(cost(text_of[h]) for h in batch))
            if self.progress:
                self.progress(min(i + _BATCH, len(missing)), len(missing), clock.seconds_left())
        return set(missing)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages, taking unchanged ones from the cache."""
        self.fill(texts)
        hashes = [content_hash(t) for t in texts]
        known = self._lookup(sorted(set(hashes)))
        return [known[h] for h in hashes]

    def embed_array(self, texts: list[str], dtype=np.float16) -> np.ndarray:
        """One row per text (float16 as the index stores sentence vectors; passage vectors
        are float32), from the cache after :meth:`fill`; read a chunk at a time so no list
        of vectors piles up."""
        self.fill(texts)
        hashes = [content_hash(t) for t in texts]
        out: np.ndarray | None = None
        for i in range(0, len(hashes), _LOOKUP_CHUNK):
            chunk = hashes[i : i + _LOOKUP_CHUNK]
            known = self._lookup(sorted(set(chunk)))
            rows = np.asarray([known[h] for h in chunk], dtype=dtype)
            if out is None:
                out = np.empty((len(hashes), rows.shape[1]), dtype=dtype)
            out[i : i + len(chunk)] = rows
        return out if out is not None else np.zeros((0, 0), dtype=dtype)

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (never cached: queries are cheap and rarely repeat)."""
        return self.base.embed_query(text)

    def close(self) -> None:
        """Close the cache database."""
        self._db.close()


def _connect(path: Path) -> sqlite3.Connection:
    # One cache serves every home of the user: builds in other processes write it at the
    # same time. WAL lets them read while one writes; a writer waits for another's batch
    # (milliseconds) rather than failing.
    db = sqlite3.connect(str(path), check_same_thread=False, timeout=_WAIT_SECONDS)
    # Turning a new file to WAL takes a lock SQLite's busy wait does not cover: a build
    # opening the same new cache at that moment is told "locked" at once, so it retries.
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS emb"
                " (model TEXT, hash TEXT, vec BLOB, PRIMARY KEY(model, hash))"
            )
            return db
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                db.close()
                raise
            time.sleep(_RETRY_SECONDS)
        except sqlite3.Error:
            db.close()
            raise


def _is_corrupt(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _CORRUPT


def cost(text: str) -> int:
    """What embedding ``text`` costs, in characters: its own, and TEXT_COST for being one."""
    return len(text) + TEXT_COST


class TimeLeft:
    """How long the rest of an embedding takes, at the speed seen so far: seconds per unit
    of :func:`cost` since the first batch (which also loads the model), times the cost left.

    Args:
        total: The cost of the texts to embed.
    """

    def __init__(self, total: int) -> None:
        self.left = total
        self._since: float | None = None  # when the first batch ended
        self._cost = 0  # cost embedded since then

    def done(self, cost: int) -> None:
        """Texts costing ``cost`` more are embedded."""
        self.left -= cost
        if self._since is None:
            self._since = time.monotonic()
        else:
            self._cost += cost

    def seconds_left(self) -> float | None:
        """The estimate; ``None`` until a batch after the first has been timed."""
        if self._since is None or not self._cost:
            return None
        return max(0.0, self.left) * (time.monotonic() - self._since) / self._cost
