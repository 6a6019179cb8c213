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
from collections.abc import Sequence
from dataclasses import dataclass
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
        return cls.merged(None, None, [postings_of(corpus)], k1=k1, b=b)

    @classmethod
    def merged(
        cls,
        base: BM25 | None,
        keep: np.ndarray | None,
        added: Sequence[Postings],
        k1: float = 1.2,
        b: float = 0.75,
    ) -> BM25:
        """``base``'s passages where ``keep`` is true, in order, then ``added``'s passages.

        Args:
            base: An index to start from, or ``None``.
            keep: One flag per passage of ``base``.
            added: The counts of the passages to add, a report's after another's.
        """
        vocab = _Numbering(base.vocab if base is not None else {})
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
        terms, new_rows, new_tfs = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], []
        for p in added:  # a report's local term ids become the index's, new terms numbered
            lookup = np.fromiter(map(vocab.__getitem__, p.terms), np.int64, len(p.terms))
            terms.append(lookup[p.term])
            new_rows.append(offset + np.repeat(np.arange(len(p.width), dtype=np.int64), p.width))
            new_tfs.append(p.tf)
            lengths.append(p.lengths)
            offset += len(p.width)
        term_ids, added_rows = np.concatenate(terms), np.concatenate(new_rows)
        new_tf = np.concatenate([np.zeros(0, np.float32), *new_tfs])
        order = _stable_order(term_ids)  # by term; rows ascending within
        ends = np.concatenate([ends, np.full(len(vocab) + 1 - len(ends), ends[-1])])
        if len(rows):
            # Each new posting goes at the end of its term's kept postings (no sort of them all).
            at = ends[term_ids[order] + 1]
            indices = np.insert(rows, at, added_rows[order])
            tf = np.insert(tf, at, new_tf[order])
        else:
            indices, tf = added_rows[order], new_tf[order]
        counts = np.diff(ends) + np.bincount(term_ids, minlength=len(vocab))
        return cls(
            dict(vocab),
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            indices.astype(np.int32),
            tf.astype(np.float32),
            np.concatenate([np.zeros(0, np.float32), *lengths]).astype(np.float32),
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


class _Numbering(dict):
    """Term -> column; a term looked up for the first time gets the next column. One pass
    over a thousand reports' terms: a union of them first, then the lookups, took 2 s."""

    def __missing__(self, term: str) -> int:
        column = self[term] = len(self)
        return column


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative integer keys below 2^32, as two
    passes over 16 bits each: numpy sorts 16-bit keys by radix, 2.5x faster on 7*10^6."""
    keys = np.asarray(keys, np.int64)
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    high = (keys[order] >> 16).astype(np.uint16)
    return order[np.argsort(high, kind="stable")] if high.any() else order


@dataclass(frozen=True)
class Postings:
    """One report's passages as BM25 counts, what an index needs of them: the report's
    distinct terms, and passage after passage its distinct terms (ids into ``terms``,
    ascending) with how often each occurs."""

    terms: tuple[str, ...]
    term: np.ndarray  # int32 ids into ``terms``
    tf: np.ndarray  # int32 occurrences, one per ``term``
    width: np.ndarray  # int32: how many of ``term`` each passage has
    lengths: np.ndarray  # float32: tokens per passage


def postings_of(corpus: list[list[str]]) -> Postings:
    """The counts of one token list per passage. In numpy: a Python loop over each
    passage's terms took 3-10 s at 10^5 passages."""
    flat = list(itertools.chain.from_iterable(corpus))
    terms = sorted(set(flat))
    local = {t: n for n, t in enumerate(terms)}
    ids = np.fromiter(map(local.__getitem__, flat), np.int64, len(flat))
    rows = np.repeat(np.arange(len(corpus), dtype=np.int64), [len(doc) for doc in corpus])
    span = max(len(terms), 1)
    keys, counts = np.unique(rows * span + ids, return_counts=True)  # passage-major
    row, term = np.divmod(keys, span)
    return Postings(
        tuple(terms),
        term.astype(np.int32),
        counts.astype(np.int32),
        np.bincount(row, minlength=len(corpus)).astype(np.int32),
        np.asarray([len(doc) for doc in corpus], dtype=np.float32),
    )
