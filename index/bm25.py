"""A small BM25 over pre-tokenised passages, rebuilt in memory from the stored tokens."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np


class BM25:
    """Okapi BM25 with an inverted index.

    Args:
        corpus: One token list per passage.
        k1: Term-frequency saturation.
        b: Length normalisation.
    """

    def __init__(self, corpus: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(corpus)
        lengths = np.array([len(doc) for doc in corpus], dtype=np.float32)
        avg = float(lengths.mean()) if self.size else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1.0))
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(corpus):
            for term, tf in Counter(doc).items():
                postings[term].append((i, tf))
        self._postings = {}
        self._idf: dict[str, float] = {}
        for term, items in postings.items():
            ids = np.fromiter((i for i, _ in items), dtype=np.int64, count=len(items))
            tfs = np.fromiter((tf for _, tf in items), dtype=np.float32, count=len(items))
            idf = math.log(1 + (self.size - len(items) + 0.5) / (len(items) + 0.5))
            self._idf[term] = idf
            self._postings[term] = (ids, idf * tfs * (k1 + 1) / (tfs + norm[ids]))

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term``; a term the index never saw gets the most."""
        hit = self._idf.get(term)
        return hit if hit is not None else math.log(1 + (self.size + 0.5) / 0.5)

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query tokens."""
        out = np.zeros(self.size, dtype=np.float32)
        for term in set(query):
            hit = self._postings.get(term)
            if hit is not None:
                out[hit[0]] += hit[1]
        return out

    def top(self, query: list[str], k: int, allowed: np.ndarray | None = None) -> list[int]:
        """Indices of the ``k`` best passages with a positive score.

        Args:
            query: Query tokens.
            k: How many to return at most.
            allowed: Optional boolean mask of passages in scope.
        """
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [int(i) for i in order if scores[i] > 0]
