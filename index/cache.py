"""Content-hash embedding cache: a passage whose text did not change is never re-embedded."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from index.model import content_hash

_BATCH = 64


class CachedEmbeddings(Embeddings):
    """Wraps an embedding model with a persistent cache keyed by model and text hash.

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
        self.progress: Callable[[int, int], None] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS emb"
            " (model TEXT, hash TEXT, vec BLOB, PRIMARY KEY(model, hash))"
        )
        self._lock = threading.Lock()

    @property
    def base(self) -> Embeddings:
        """The wrapped model, loaded on first use when a loader was given."""
        if not isinstance(self._base, Embeddings):
            self._base = self._base()
        return self._base

    def _lookup(self, hashes: list[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        with self._lock:
            for i in range(0, len(hashes), 500):
                chunk = hashes[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT hash, vec FROM emb WHERE model=? AND hash IN ({marks})",
                    [self.model_id, *chunk],
                )
                for h, blob in rows:
                    found[h] = np.frombuffer(blob, dtype=np.float32).tolist()
        return found

    def _store(self, pairs: list[tuple[str, list[float]]]) -> None:
        rows = [(self.model_id, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in pairs]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?)", rows)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages, taking unchanged ones from the cache."""
        hashes = [content_hash(t) for t in texts]
        known = self._lookup(sorted(set(hashes))) if self.use_cache else {}
        missing = list(dict.fromkeys(h for h in hashes if h not in known))
        text_of = dict(zip(hashes, texts, strict=True))
        for i in range(0, len(missing), _BATCH):
            batch = missing[i : i + _BATCH]
            vectors = self.base.embed_documents([text_of[h] for h in batch])
            self._store(list(zip(batch, vectors, strict=True)))
            known.update(zip(batch, vectors, strict=True))
            self.embedded += len(batch)
            if self.progress:
                self.progress(min(i + _BATCH, len(missing)), len(missing))
        return [list(known[h]) for h in hashes]

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (never cached: queries are cheap and rarely repeat)."""
        return self.base.embed_query(text)

    def close(self) -> None:
        """Close the cache database."""
        self._db.close()
