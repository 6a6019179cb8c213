"""Hybrid retrieval: dense (Chroma) and BM25 (jieba) results fused by reciprocal rank."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from index.bm25 import BM25
from index.errors import IndexMissingError, ModelError
from index.model import Document, Passage
from index.settings import Settings
from index.store import IndexStore, Manifest, passage_id
from index.tokens import tokenize

RRF_K = 60
_CANDIDATES = 30
_QUERY_CACHE = 512


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with the scores that put it there."""

    passage: Passage
    document: Document
    score: float
    dense: float
    keyword: float


class Retriever:
    """Searches one generation of an index; reload it when the manifest moves on.

    Args:
        settings: Which index to open.
        embeddings: The query embedding model (must be the one the index was built with).
    """

    def __init__(self, settings: Settings, embeddings, manifest: Manifest) -> None:
        self.settings = settings
        self.embeddings = embeddings
        store = IndexStore(settings)
        self.manifest = manifest
        stored = store.read_passages(manifest.generation)
        self.passages = [p for p, _ in stored]
        self.row = {passage_id(p): i for i, p in enumerate(self.passages)}
        self.documents = {d.doc_id: d for d in manifest.documents}
        self.doc_of_row = np.array([p.doc_id for p in self.passages], dtype=object)
        self.bm25 = BM25([tokens for _, tokens in stored])
        self.vectors = store.vectorstore(manifest.collection, embeddings)
        self._vectors: dict[str, list[float]] = {}  # repeated questions skip the model
        self._vectors_lock = threading.Lock()

    def search(
        self,
        query: str,
        doc_ids: set[str] | None = None,
        k: int = 8,
        *,
        mode: str = "hybrid",
        per_doc: int = 0,
    ) -> list[Hit]:
        """The best passages for ``query``.

        Args:
            query: The question (scope words already removed).
            doc_ids: Search only these documents; ``None`` searches all.
            k: How many fused results to return.
            mode: ``hybrid``, ``keyword`` (BM25 only) or ``dense`` (vectors only).
            per_doc: Also add the best keyword passages, this many each, of the dozen
                documents that match best, so that a report which ranks low overall
                still gets its say.
        """
        allowed = None if doc_ids is None else np.isin(self.doc_of_row, list(doc_ids))
        keyword_scores = self.bm25.scores(tokenize(query))
        if allowed is not None:
            keyword_scores = np.where(allowed, keyword_scores, 0.0)
        keyword_rank = [int(i) for i in np.argsort(-keyword_scores)[:_CANDIDATES]]
        keyword_rank = [i for i in keyword_rank if keyword_scores[i] > 0]
        dense = self._dense(query, doc_ids) if mode != "keyword" else {}
        rankings = {"hybrid": (keyword_rank, list(dense)), "keyword": (keyword_rank,)}
        fused: dict[int, float] = {}
        for ranking in rankings.get(mode, (list(dense),)):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = self._distinct(sorted(fused, key=lambda r: -fused[r]))[:k]
        if per_doc:
            best += [r for r in self._best_per_doc(keyword_scores, per_doc) if r not in best]
        return [self._hit(r, fused.get(r, 0.0), dense, keyword_scores) for r in best]

    def _query_vector(self, query: str) -> list[float]:
        vector = self._vectors.get(query)
        if vector is None:
            try:
                vector = self.embeddings.embed_query(query)
            except Exception as exc:
                raise ModelError(
                    f"embedding the question failed: {exc}", "问题向量化失败。"
                ) from exc
            with self._vectors_lock:
                if len(self._vectors) >= _QUERY_CACHE:
                    self._vectors.pop(next(iter(self._vectors)))
                self._vectors[query] = vector
        return vector

    def _distinct(self, rows: list[int]) -> list[int]:
        """Rows with duplicate passage text (the same report indexed twice) merged."""
        seen: set[str] = set()
        out = []
        for row in rows:
            text = self.passages[row].text
            if text not in seen:
                seen.add(text)
                out.append(row)
        return out

    def _best_per_doc(self, scores: np.ndarray, n: int, max_docs: int = 12) -> list[int]:
        taken: dict[str, int] = {}
        rows = []
        for row in np.argsort(-scores):
            if scores[row] <= 0:
                break
            doc = self.doc_of_row[row]
            if doc not in taken and len(taken) >= max_docs:
                continue
            if taken.get(doc, 0) < n:
                taken[doc] = taken.get(doc, 0) + 1
                rows.append(int(row))
        return rows

    def _hit(self, row: int, score: float, dense: dict, keyword_scores) -> Hit:
        passage = self.passages[row]
        return Hit(
            passage=passage,
            document=self.documents[passage.doc_id],
            score=score,
            dense=dense.get(row, 0.0),
            keyword=float(keyword_scores[row]),
        )

    def _dense(self, query: str, doc_ids: set[str] | None) -> dict[int, float]:
        """Row -> cosine similarity, best first."""
        vector = self._query_vector(query)
        where = None if doc_ids is None else {"doc_id": {"$in": sorted(doc_ids)}}
        found = self.vectors.similarity_search_by_vector_with_relevance_scores(
            vector, k=_CANDIDATES, filter=where
        )
        out: dict[int, float] = {}
        for doc, distance in found:
            row = self.row.get(doc.id)
            if row is not None:
                out[row] = 1.0 - float(distance)
        return out


def require_index(settings: Settings) -> Manifest:
    """The live manifest, or :class:`IndexMissingError` when there is no report to search."""
    manifest = IndexStore(settings).read_manifest()
    if manifest is None or not manifest.documents:
        raise IndexMissingError(
            f"the index at {settings.home} has no reports yet; run `reportqa index build`",
            "索引里还没有报告，请先添加报告（或运行 reportqa index build --sample）。",
        )
    return manifest


_CACHE: dict[tuple[str, str, int], Retriever] = {}
_LOCK = threading.Lock()


def get_retriever(settings: Settings, embeddings, manifest: Manifest | None = None) -> Retriever:
    """A retriever for the live generation, shared by every caller in this process.

    Args:
        settings: Which index.
        embeddings: The query embedding model.
        manifest: The live manifest if the caller has just read it (else it is read here).
    """
    manifest = manifest or require_index(settings)
    key = (str(settings.home), manifest.generation, id(embeddings))
    with _LOCK:
        retriever = _CACHE.get(key)
        if retriever is None:
            retriever = Retriever(settings, embeddings, manifest)
            _CACHE.clear()
            _CACHE[key] = retriever
    return retriever
