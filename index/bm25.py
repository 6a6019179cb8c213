"""A small BM25 over pre-tokenised passages, kept on disk as arrays that open memory-mapped.

The index is the term-by-passage matrix of precomputed BM25 weights in compressed-column
form (``indptr``, ``indices``, ``weights``) plus the vocabulary, the layout bm25s uses.
We keep our own 60 lines rather than bm25s itself: its import pulls in scipy (0.7 s of a
cold ``reportqa ask``, more than opening the arrays), and we need its scoring and idf only.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

_FILES = ("indptr", "indices", "weights")
VOCAB_FILE = "vocab.json"


class BM25:
    """Okapi BM25 (Lucene's idf) with precomputed per-term weights.

    Build one with :meth:`from_tokens`, keep it with :meth:`save`, reopen it with :meth:`load`.

    Args:
        vocab: Term → column of the matrix.
        indptr: Column ``j``'s passages are ``indices[indptr[j]:indptr[j + 1]]``.
        indices: Passage rows, column by column.
        weights: The BM25 weight of each (term, passage) pair in ``indices``.
        size: Number of passages.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        indptr: np.ndarray,
        indices: np.ndarray,
        weights: np.ndarray,
        size: int,
    ) -> None:
        self.vocab = vocab
        self.indptr = indptr
        self.indices = indices
        self.weights = weights
        self.size = size

    @classmethod
    def from_tokens(cls, corpus: list[list[str]], k1: float = 1.2, b: float = 0.75) -> BM25:
        """Index one token list per passage.

        Args:
            corpus: One token list per passage, repeats kept.
            k1: Term-frequency saturation.
            b: Length normalisation.
        """
        size = len(corpus)
        lengths = np.array([len(doc) for doc in corpus], dtype=np.float32)
        avg = float(lengths.mean()) if size else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1.0))
        vocab: dict[str, int] = {}
        cols, rows, tfs = [], [], []
        for i, doc in enumerate(corpus):
            for term, tf in Counter(doc).items():
                cols.append(vocab.setdefault(term, len(vocab)))
                rows.append(i)
                tfs.append(tf)
        col = np.array(cols, dtype=np.int64)
        order = np.argsort(col, kind="stable")  # column by column, rows ascending within
        indices = np.array(rows, dtype=np.int32)[order]
        tf = np.array(tfs, dtype=np.float32)[order]
        counts = np.bincount(col, minlength=len(vocab))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        idf = np.log1p((size - counts + 0.5) / (counts + 0.5)).astype(np.float32)
        weights = np.repeat(idf, counts) * tf * (k1 + 1) / (tf + norm[indices])
        return cls(vocab, indptr, indices, weights.astype(np.float32), size)

    def save(self, folder: Path) -> None:
        """Write the arrays and vocabulary into ``folder`` (created)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            with (folder / f"{name}.npy").open("wb") as fh:
                np.save(fh, getattr(self, name))
        meta = {"size": self.size, "vocab": self.vocab}
        (folder / VOCAB_FILE).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25:
        """Open a saved index; the arrays are memory-mapped, not read."""
        meta = json.loads((folder / VOCAB_FILE).read_text("utf-8"))
        arrays = [np.load(folder / f"{name}.npy", mmap_mode="r") for name in _FILES]
        return cls(meta["vocab"], *arrays, size=meta["size"])

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term``; a term the index never saw gets the most."""
        col = self.vocab.get(term)
        df = 0 if col is None else int(self.indptr[col + 1] - self.indptr[col])
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query tokens."""
        out = np.zeros(self.size, dtype=np.float32)
        for term in set(query):
            col = self.vocab.get(term)
            if col is not None:
                a, b = self.indptr[col], self.indptr[col + 1]
                out[self.indices[a:b]] += self.weights[a:b]
        return out
