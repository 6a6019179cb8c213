"""A small BM25 over pre-tokenised passages, kept on disk as arrays that open memory-mapped.

The index is the term-by-passage matrix of term frequencies in compressed-column form
(``indptr``, ``indices``, ``tf``, the layout bm25s uses) plus each passage's length and the
vocabulary. Weights are computed per query term from these, so a new generation is the
old one with some passages dropped and some added (:meth:`BM25.merged`): no passage that
stayed is tokenised or counted again. We keep our own code rather than bm25s itself: its
import pulls in scipy (0.7 s of a cold ``reportqa ask``, more than opening the arrays),
and it cannot drop and add passages.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np

_ARRAYS = ("indptr", "indices", "tf", "lengths")
VOCAB_FILE = "vocab.json"
FORMAT = 2  # 1 kept precomputed weights, which cannot be merged


class BM25:
    """Okapi BM25 with Lucene's idf.

    Build one with :meth:`from_tokens` or :meth:`merged`, keep it with :meth:`save`, reopen
    it with :meth:`load`.

    Args:
        vocab: Term → column of the matrix.
        indptr: Column ``j``'s passages are ``indices[indptr[j]:indptr[j + 1]]``.
        indices: Passage rows, column by column, ascending within a column.
        tf: How often the column's term occurs in each passage of ``indices``.
        lengths: Tokens per passage.
        k1: Term-frequency saturation.
        b: Length normalisation.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        indptr: np.ndarray,
        indices: np.ndarray,
        tf: np.ndarray,
        lengths: np.ndarray,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.vocab = vocab
        self.indptr = indptr
        self.indices = indices
        self.tf = tf
        self.lengths = lengths
        self.k1, self.b = k1, b
        self.size = len(lengths)
        avg = float(lengths.mean()) if self.size else 1.0
        self._norm = (k1 * (1 - b + b * np.asarray(lengths) / max(avg, 1.0))).astype(np.float32)

    @classmethod
    def from_tokens(cls, corpus: list[list[str]], k1: float = 1.2, b: float = 0.75) -> BM25:
        """Index one token list per passage (repeats kept: BM25 counts them)."""
        return cls.merged(None, None, corpus, k1=k1, b=b)

    @classmethod
    def merged(
        cls,
        base: BM25 | None,
        keep: np.ndarray | None,
        corpus: list[list[str]],
        k1: float = 1.2,
        b: float = 0.75,
    ) -> BM25:
        """``base``'s passages where ``keep`` is true, in order, then one per ``corpus`` list.

        Args:
            base: An index to start from, or ``None``.
            keep: One flag per passage of ``base``.
            corpus: Token lists of the passages to add.
        """
        vocab = dict(base.vocab) if base is not None else {}
        if base is not None and keep is not None:
            keep = np.asarray(keep, dtype=bool)
            stays = keep[base.indices]
            renumber = np.cumsum(keep) - 1
            # Kept postings stay in (term, row) order: rows are renumbered, not reordered.
            rows = renumber[base.indices[stays]]
            tf = np.asarray(base.tf)[stays]
            ends = np.concatenate([[0], np.cumsum(stays)])[base.indptr]
            lengths = [np.asarray(base.lengths)[keep]]
            offset = int(keep.sum())
        else:
            rows, tf = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            ends, lengths, offset = np.zeros(1, dtype=np.int64), [], 0
        terms, new_rows, new_tfs = _postings(vocab, corpus, offset)
        lengths.append(np.asarray([len(doc) for doc in corpus], dtype=np.float32))
        order = np.argsort(terms, kind="stable")  # by term; rows ascending within
        # Each new posting goes at the end of its term's kept postings (no sort of them all).
        ends = np.concatenate([ends, np.full(len(vocab) + 1 - len(ends), ends[-1])])
        at = ends[terms[order] + 1]
        indices = np.insert(rows, at, new_rows[order])
        tf = np.insert(tf, at, new_tfs[order])
        counts = np.diff(ends) + np.bincount(terms, minlength=len(vocab))
        return cls(
            vocab,
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            indices.astype(np.int32),
            tf.astype(np.float32),
            np.concatenate(lengths).astype(np.float32),
            k1,
            b,
        )

    def save(self, folder: Path) -> None:
        """Write the arrays and vocabulary into ``folder`` (created)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            with (folder / f"{name}.npy").open("wb") as fh:
                np.save(fh, getattr(self, name))
        meta = {"format": FORMAT, "k1": self.k1, "b": self.b, "vocab": self.vocab}
        (folder / VOCAB_FILE).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25 | None:
        """Open a saved index, its arrays memory-mapped; ``None`` if it is of an older format."""
        meta = json.loads((folder / VOCAB_FILE).read_text("utf-8"))
        if meta.get("format") != FORMAT:
            return None
        arrays = [np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS]
        return cls(meta["vocab"], *arrays, k1=meta["k1"], b=meta["b"])

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term``; a term the index never saw gets the most."""
        col = self.vocab.get(term)
        df = 0 if col is None else int(self.indptr[col + 1] - self.indptr[col])
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def rows_with(self, term: str) -> np.ndarray:
        """The passages that have ``term`` among their tokens."""
        col = self.vocab.get(term)
        if col is None:
            return np.zeros(0, np.int64)
        return np.asarray(self.indices[self.indptr[col] : self.indptr[col + 1]])

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query tokens."""
        out = np.zeros(self.size, dtype=np.float32)
        for term in set(query):
            col = self.vocab.get(term)
            if col is None:
                continue
            a, b = self.indptr[col], self.indptr[col + 1]
            if a == b:  # every passage that had it is gone
                continue
            rows, tf = self.indices[a:b], self.tf[a:b]
            out[rows] += np.float32(self.idf(term)) * tf * (self.k1 + 1) / (tf + self._norm[rows])
        return out


def _postings(
    vocab: dict[str, int], corpus: list[list[str]], offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(term, row, count)`` of every distinct term of each passage of ``corpus`` (rows
    numbered from ``offset``), new terms added to ``vocab`` in sorted order. In numpy: a
    Python loop over each passage's terms took 3-10 s at 10^5 passages."""
    flat = list(itertools.chain.from_iterable(corpus))
    for term in sorted(set(flat) - vocab.keys()):
        vocab[term] = len(vocab)
    ids = np.fromiter(map(vocab.__getitem__, flat), np.int64, len(flat))
    rows = np.repeat(np.arange(len(corpus), dtype=np.int64), [len(doc) for doc in corpus])
    keys, counts = np.unique(ids * max(len(corpus), 1) + rows, return_counts=True)
    terms, local = np.divmod(keys, max(len(corpus), 1))
    return terms, local + offset, counts.astype(np.float32)
