"""Hybrid retrieval: dense (Chroma) and BM25 (jieba) results fused by reciprocal rank."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np

from index.bm25 import BM25
from index.errors import IndexChangedError, IndexMissingError, ModelError
from index.model import Document, Passage
from index.settings import Settings
from index.store import IndexStore, Manifest, chroma_errors, passage_id
from index.tokens import tokenize
from index.vocab import FIRST_YEAR_SECTION, PLAN_SECTION, REVIEW_SECTION

RRF_K = 60
_CANDIDATES = 30
_FUTURE = re.compile(r"十[一二三四五六七八九]五|五年|中长期|远景|20[3-5]\d年")
_QUERY_CACHE = 512


Part = Literal["review", "plan", "outlook", ""]


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with the scores that put it there.

    ``sentence_sims`` holds the query's cosine similarity to each of the passage's
    sentences (empty when the index has no sentence vectors); ``part`` says whether the
    passage reviews the past, plans the report's year or looks further ahead.
    """

    passage: Passage
    document: Document
    score: float
    dense: float
    keyword: float
    sentence_sims: tuple[float, ...] = ()
    part: Part = ""


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
        store.ensure_local(manifest)  # built on another machine: copy what is new
        try:
            stored = store.read_passages(manifest.generation)
        except FileNotFoundError as exc:  # two builds replaced it since the manifest was read
            raise IndexChangedError(exc) from exc
        self.passages = [p for p, _ in stored]
        self.row = {passage_id(p): i for i, p in enumerate(self.passages)}
        self.documents = {d.doc_id: d for d in manifest.documents}
        self.doc_of_row = np.array([p.doc_id for p in self.passages], dtype=object)
        self.bm25 = store.read_bm25(manifest.generation) or BM25.from_tokens(
            [tokens for _, tokens in stored]
        )
        self.vectors = store.collection(manifest.collection)
        _quiet_blas()
        sentences = store.read_sentence_vectors(manifest.generation)
        counts = [len(p.sentences) for p in self.passages]
        self.first_sentence = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        if sentences is not None and len(sentences) != self.first_sentence[-1]:
            sentences = None  # written by another parser version: judge by passages only
        self.sentence_vectors = None if sentences is None else np.asarray(sentences, np.float32)
        self.sentence_row = np.repeat(np.arange(len(self.passages)), counts)
        self.parts = report_parts(self.passages, self.documents)
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
        by_sentence = self._best_by_sentence(query, allowed) if mode == "hybrid" else []
        # Chroma's filtered ANN search costs more than an exact scan of the scoped
        # sentences, which already ranks passages by meaning: it serves unscoped searches.
        scan = doc_ids is not None and mode == "hybrid" and self.sentence_vectors is not None
        dense = self._dense(query, doc_ids) if mode != "keyword" and not scan else {}
        rankings = {
            "hybrid": (keyword_rank, list(dense), by_sentence),
            "keyword": (keyword_rank,),
        }
        fused: dict[int, float] = {}
        for ranking in rankings.get(mode, (list(dense),)):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = self._distinct(sorted(fused, key=lambda r: -fused[r]))[:k]
        if per_doc:
            best += [r for r in self._best_per_doc(keyword_scores, per_doc) if r not in best]
        vector = self._query_vector(query) if mode != "keyword" else None
        return [self._hit(r, fused.get(r, 0.0), dense, keyword_scores, vector) for r in best]

    def _best_by_sentence(self, query: str, allowed: np.ndarray | None) -> list[int]:
        """Passages ranked by their sentence most similar to the query."""
        if self.sentence_vectors is None or not len(self.sentence_vectors):
            return []
        sims = self.sentence_vectors @ np.asarray(self._query_vector(query), np.float32)
        if allowed is not None:
            sims = np.where(allowed[self.sentence_row], sims, -1.0)
        top = _top(sims, _CANDIDATES * 3)
        return list(dict.fromkeys(int(self.sentence_row[i]) for i in top if sims[i] > -1))[
            :_CANDIDATES
        ]

    def sentence_similarities(self, row: int, vector) -> tuple[float, ...]:
        """Cosine similarity of the query ``vector`` to each sentence of passage ``row``."""
        if self.sentence_vectors is None or vector is None:
            return ()
        a, b = self.first_sentence[row], self.first_sentence[row + 1]
        sims = self.sentence_vectors[a:b] @ np.asarray(vector, np.float32)
        return tuple(float(x) for x in sims)

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

    def _hit(self, row: int, score: float, dense: dict, keyword_scores, vector) -> Hit:
        passage = self.passages[row]
        return Hit(
            passage=passage,
            document=self.documents[passage.doc_id],
            score=score,
            dense=dense.get(row, 0.0),
            keyword=float(keyword_scores[row]),
            sentence_sims=self.sentence_similarities(row, vector),
            part=self.parts[row],
        )

    def _dense(self, query: str, doc_ids: set[str] | None) -> dict[int, float]:
        """Row -> cosine similarity, best first."""
        vector = self._query_vector(query)
        where = None if doc_ids is None else {"doc_id": {"$in": sorted(doc_ids)}}
        from chromadb.errors import ChromaError

        try:
            with chroma_errors(self.settings):  # a server that went away after we opened it
                found = self.vectors.query(
                    query_embeddings=[vector],
                    n_results=_CANDIDATES,
                    where=where,
                    include=["distances"],
                )
        except ChromaError as exc:  # chromadb words a deleted collection several ways
            if IndexStore(self.settings).read_manifest() != self.manifest:
                raise IndexChangedError(exc) from exc
            raise
        out: dict[int, float] = {}
        for passage, distance in zip(found["ids"][0], found["distances"][0], strict=True):
            row = self.row.get(passage)
            if row is not None:
                out[row] = 1.0 - float(distance)
        return out


def _top(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest ``values``, largest first: a partial sort, since a full
    one of every sentence's similarity took most of a question's time at 10^5 passages."""
    if n < len(values):
        part = np.argpartition(-values, n)[:n]
        return part[np.argsort(-values[part])]
    return np.argsort(-values)


def _quiet_blas() -> None:
    """One BLAS thread: the sentence scan is one matrix-vector product, and OpenBLAS's
    spinning worker threads would otherwise take the cores the query embedding needs
    (measured: 104 ms -> 52 ms per question embedding on 2 cores)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def report_parts(passages: list[Passage], documents: dict[str, Document]) -> list[Part]:
    """Which part of its report each passage is in: review, plan or outlook.

    Reports review the past year first and plan the coming one after. A top-level section
    is read by its title (回顾/成就 -> review; its own year or 安排/任务 -> plan; a five-year
    horizon -> outlook); an untitled one takes the part of the sections around it: before
    the first plan section it reviews, after it it plans.
    """
    parts: list[Part] = []
    by_doc: dict[str, list[int]] = {}
    for row, p in enumerate(passages):
        by_doc.setdefault(p.doc_id, []).append(row)
        parts.append("")
    for doc_id, rows in by_doc.items():
        doc = documents.get(doc_id)
        seen_plan = False
        for row in rows:
            top = passages[row].section.split(" > ")[0]
            part = _section_part(top, doc.year if doc else None)
            seen_plan = seen_plan or part == "plan"
            parts[row] = part or ("plan" if seen_plan else "review")
    return parts


def _section_part(title: str, year: int | None) -> Part:
    own_year = year is not None and f"{year}年" in title
    last_year = year is not None and f"{year - 1}年" in title
    if REVIEW_SECTION.search(title) or (last_year and not own_year):
        return "review"
    if own_year or FIRST_YEAR_SECTION.search(title):
        return "plan"
    if _FUTURE.search(title):
        return "outlook"
    if PLAN_SECTION.search(title):
        return "plan"
    return ""


def require_index(settings: Settings) -> Manifest:
    """The live manifest, or :class:`IndexMissingError` when there is no report to search."""
    manifest = IndexStore(settings).read_manifest()
    if manifest is None or not manifest.documents:
        raise IndexMissingError(
            f"the index at {settings.home} has no reports yet; run `reportqa index build`",
            "索引里还没有报告，请先添加报告（或运行 reportqa index build --sample）。",
        )
    return manifest


_REACHED: set[str] = set()


def require_store(settings: Settings) -> None:
    """Raise :class:`StoreUnavailableError` now when the configured Chroma server is down.

    Checked until the server has answered once in this process: it saves loading the
    model (seconds) only to fail after; later a lost server is reported by the search.
    """
    url = settings.chroma_url
    if url and url not in _REACHED:
        IndexStore(settings).client()
        _REACHED.add(url)


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
