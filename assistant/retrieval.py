"""Hybrid retrieval: dense (Chroma) and BM25 (jieba) results fused by reciprocal rank."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from index.bm25 import BM25
from index.errors import IndexMissingError, ModelError
from index.model import Document, Passage
from index.settings import Settings
from index.store import IndexStore, passage_id
from index.tokens import tokenize

RRF_K = 60
_CANDIDATES = 30


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

    def __init__(self, settings: Settings, embeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        store = IndexStore(settings)
        manifest = store.read_manifest()
        if manifest is None or not manifest.documents:
            raise IndexMissingError(
                f"the index at {settings.home} has no reports yet; run `reportqa index build`",
                "索引里还没有报告，请先添加报告（或运行 reportqa index build --sample）。",
            )
        self.manifest = manifest
        stored = store.read_passages(manifest.generation)
        self.passages = [p for p, _ in stored]
        self.row = {passage_id(p): i for i, p in enumerate(self.passages)}
        self.documents = {d.doc_id: d for d in manifest.documents}
        self.doc_of_row = np.array([p.doc_id for p in self.passages], dtype=object)
        self.bm25 = BM25([tokens for _, tokens in stored])
        self.vectors = store.vectorstore(manifest.collection, embeddings)

    def search(self, query: str, doc_ids: set[str] | None = None, k: int = 8) -> list[Hit]:
        """The ``k`` best passages for ``query``, limited to ``doc_ids`` when given."""
        allowed = None if doc_ids is None else np.isin(self.doc_of_row, list(doc_ids))
        keyword_scores = self.bm25.scores(tokenize(query))
        if allowed is not None:
            keyword_scores = np.where(allowed, keyword_scores, 0.0)
        keyword_rank = [int(i) for i in np.argsort(-keyword_scores)[:_CANDIDATES]]
        keyword_rank = [i for i in keyword_rank if keyword_scores[i] > 0]
        dense = self._dense(query, doc_ids)
        fused: dict[int, float] = {}
        for ranking in (keyword_rank, list(dense)):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda r: -fused[r])[:k]
        return [
            Hit(
                passage=self.passages[r],
                document=self.documents[self.passages[r].doc_id],
                score=fused[r],
                dense=dense.get(r, 0.0),
                keyword=float(keyword_scores[r]),
            )
            for r in best
        ]

    def _dense(self, query: str, doc_ids: set[str] | None) -> dict[int, float]:
        """Row -> cosine similarity, best first."""
        try:
            vector = self.embeddings.embed_query(query)
        except Exception as exc:
            raise ModelError(f"embedding the question failed: {exc}", "问题向量化失败。") from exc
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


_CACHE: dict[tuple[str, str, int], Retriever] = {}
_LOCK = threading.Lock()


def get_retriever(settings: Settings, embeddings) -> Retriever:
    """A retriever for the live generation, shared by every caller in this process."""
    manifest = IndexStore(settings).read_manifest()
    key = (str(settings.home), manifest.generation if manifest else "", id(embeddings))
    with _LOCK:
        retriever = _CACHE.get(key)
        if retriever is None:
            retriever = Retriever(settings, embeddings)
            _CACHE.clear()
            _CACHE[key] = retriever
    return retriever
