"""Hybrid retrieval: dense (passage and sentence vectors) and BM25 (jieba) results fused by
reciprocal rank."""

from __future__ import annotations

import atexit
import collections
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from index.errors import IndexChangedError, IndexMissingError, ModelError, chroma_errors
from index.manifest import Manifest
from index.model import Document, Passage
from index.settings import Settings
from index.shards import PARTS, Part, report_parts, top
from index.store import IndexOutdatedError, IndexStore, close_client, open_client
from index.tokens import tokenize
from index.vectors import Vectors

RRF_K = 60
_CANDIDATES = 30
_QUERY_CACHE = 512
_DENSE_CACHE = 64  # a question's passage scans (its search and its decision use one)
_PASSAGE_CACHE = 4096  # passages parsed lately: a question reads a hundred or so
# Keyword hits sorted at first to find the reports whose best rows come first (see
# _best_per_doc): a dozen reports almost always appear among these; else all are sorted.
_PER_DOC_WINDOW = 512

__all__ = [
    "Hit",
    "Part",
    "Retriever",
    "get_retriever",
    "report_parts",
    "require_index",
    "using_retriever",
]


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
        manifest: The live manifest.
    """

    def __init__(self, settings: Settings, embeddings, manifest: Manifest) -> None:
        self.settings = settings
        self.embeddings = embeddings
        store = IndexStore(settings)
        self.manifest = manifest
        if manifest.outdated:
            raise IndexOutdatedError(settings.home)
        # Embedded, a client opened now sees every vector of this generation (one opened
        # before another process's build would not): one client per generation.
        self._client = open_client(settings)
        self.records = store.records(manifest.model_id, self._client)
        with self._chroma():
            self.index = store.open_index(manifest, self.records)
        self.vectors = Vectors(self.records, self.index)
        self._stop = threading.Event()
        self._prefetch = threading.Thread(
            target=self.vectors.prefetch, args=(self._stop,), daemon=True
        )
        self._prefetch.start()
        atexit.register(self._finish)  # a thread inside Chroma at exit crashes the process
        self.documents = self.index.documents
        self.codes = self.index.code_of
        self.bm25 = self.index.keyword
        _quiet_blas()
        self._closed = False
        self._users = 0  # questions reading it now (see using_retriever)
        self.stale = False  # its client's view of the vectors is out of date: reopen it
        self._passages: dict[int, Passage] = {}
        self._vectors: dict[str, list[float]] = {}  # repeated questions skip the model
        # The passage scan of a question, kept for its decision after its search.
        self._dense_found: dict[tuple, dict[int, float]] = {}
        self._cache_lock = threading.Lock()

    def close(self) -> None:
        """Release the Chroma client; a question still reading this generation is asked
        again on the new one (``IndexChangedError``)."""
        self._finish()
        self._closed = True
        close_client(self.settings, self._client)

    def _finish(self) -> None:
        """Stop reading reports' vectors in the background, once the report being read is."""
        self._stop.set()
        self._prefetch.join()
        atexit.unregister(self._finish)

    @contextlib.contextmanager
    def _chroma(self):
        """Chroma errors as ours; any error of a closed retriever's client means the
        generation was replaced."""
        try:
            with chroma_errors(self.settings):
                yield
        except IndexChangedError:
            raise
        except Exception as exc:
            if getattr(self, "_closed", False):
                raise IndexChangedError(exc) from exc
            raise

    def holds(self, term: str, doc_ids: set[str] | None = None) -> bool:
        """Whether some passage of these documents (all: ``None``) has ``term`` among its
        words, as the keyword index tokenised them."""
        return bool(self._admitted(doc_ids)[self.index.doc_code[self.bm25.rows_with(term)]].any())

    def _admitted(self, doc_ids: set[str] | None) -> np.ndarray:
        """Per report code, whether ``doc_ids`` (all: ``None``) admits it; the last entry,
        code -1, is a removed passage's and never admitted."""
        admitted = np.zeros(len(self.codes) + 1, dtype=bool)
        if doc_ids is None:
            admitted[:-1] = True
        else:
            admitted[[self.codes[d] for d in doc_ids if d in self.codes]] = True
        return admitted

    def report_hits(self, query: str, doc_id: str, section: str | None = None) -> list[Hit]:
        """Every passage of report ``doc_id`` (under ``section`` when given), in report
        order, as hits of ``query`` (their sentences' similarities to it; no search scores)."""
        vector = self._query_vector(query)
        with self._chroma():
            self.vectors.report(self.codes[doc_id])
        rows = (r for a, b in self.index.live_ranges([doc_id]) for r in range(a, b))
        none = collections.defaultdict(float)
        return [
            self._hit(r, 0.0, none, none, vector)
            for r in rows
            if section is None or self.passage(r).section == section
        ]

    def passage(self, row: int) -> Passage:
        """The passage at ``row`` (parsed once, then kept among the recent ones)."""
        found = self._passages.get(row)
        if found is None:
            found = self._keep(self._passages, row, self.index.passage(row), _PASSAGE_CACHE)
        return found

    def _keep(self, cache: dict, key, value, size: int):
        """Remember ``value`` in ``cache``, forgetting the oldest entry past ``size``."""
        with self._cache_lock:
            if len(cache) >= size:
                cache.pop(next(iter(cache)))
            cache[key] = value
        return value

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
        keyword_scores = self.bm25.scores(tokenize(query))
        if doc_ids is not None:
            admitted = self._admitted(doc_ids)[self.index.doc_code]
            keyword_scores = np.where(admitted, keyword_scores, 0.0)
        keyword_rank = [int(i) for i in top(keyword_scores, _CANDIDATES)]
        keyword_rank = [i for i in keyword_rank if keyword_scores[i] > 0]
        by_sentence = self._best_by_sentence(query, doc_ids) if mode == "hybrid" else []
        # The exact scan of the scoped sentences already ranks passages by meaning (it was
        # chosen over Chroma's slower filtered search): passage vectors serve unscoped ones.
        scan = doc_ids is not None and mode == "hybrid"
        dense = self.passage_similarities(query, doc_ids) if mode != "keyword" and not scan else {}
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
        if vector is not None:
            with self._chroma():
                self.vectors.fetch_units(best)
        return [self._hit(r, fused.get(r, 0.0), dense, keyword_scores, vector) for r in best]

    def _best_by_sentence(self, query: str, doc_ids: set[str] | None) -> list[int]:
        """Passages ranked by their sentence most similar to the query, among the sentences
        of ``doc_ids`` only (all live ones when ``None``)."""
        vector = np.asarray(self._query_vector(query), np.float32)
        with self._chroma():
            return self.vectors.best_by_sentence(vector, self._codes(doc_ids), _CANDIDATES)

    def _codes(self, doc_ids: set[str] | None) -> list[int] | None:
        return None if doc_ids is None else [self.codes[d] for d in doc_ids if d in self.codes]

    def sentence_similarities(self, row: int, vector) -> tuple[float, ...]:
        """Cosine similarity of the query ``vector`` to each sentence of passage ``row``."""
        if vector is None:
            return ()
        with self._chroma():
            units = self.vectors.units_of(row)
        return tuple(float(x) for x in units @ np.asarray(vector, np.float32))

    def _query_vector(self, query: str) -> list[float]:
        vector = self._vectors.get(query)
        if vector is None:
            try:
                vector = self.embeddings.embed_query(query)
            except Exception as exc:
                raise ModelError(
                    f"embedding the question failed: {exc}", "问题向量化失败。"
                ) from exc
            self._keep(self._vectors, query, vector, _QUERY_CACHE)
        return vector

    def _distinct(self, rows: list[int]) -> list[int]:
        """Rows with duplicate passage text (the same report indexed twice) merged."""
        seen: set[str] = set()
        out = []
        for row in rows:
            text = self.passage(row).text
            if text not in seen:
                seen.add(text)
                out.append(row)
        return out

    def _best_per_doc(self, scores: np.ndarray, n: int, max_docs: int = 12) -> list[int]:
        """The best ``n`` keyword rows of each of the ``max_docs`` reports whose best
        keyword rows come first, best first."""
        positive = int(np.count_nonzero(scores > 0))
        window = min(_PER_DOC_WINDOW, positive)
        while True:  # the first reports to appear, best row first
            codes = self.index.doc_code[top(scores, window)]
            docs = list(dict.fromkeys(int(c) for c in codes))
            if len(docs) >= max_docs or window >= positive:
                break
            window = positive
        rows = []
        for code in docs[:max_docs]:
            doc = self.index.doc_ids[code]
            own = np.concatenate([np.arange(a, b) for a, b in self.index.live_ranges([doc])])
            rows += [int(r) for r in own[top(scores[own], n)] if scores[r] > 0]
        return sorted(rows, key=lambda r: -scores[r])

    def _hit(self, row: int, score: float, dense: dict, keyword_scores, vector) -> Hit:
        passage = self.passage(row)
        return Hit(
            passage=passage,
            document=self.documents[passage.doc_id],
            score=score,
            dense=dense.get(row, 0.0),
            keyword=float(keyword_scores[row]),
            sentence_sims=self.sentence_similarities(row, vector),
            part=PARTS[self.index.parts[row]],
        )

    def passage_similarities(self, query: str, doc_ids: set[str] | None) -> dict[int, float]:
        """The passages of ``doc_ids`` (all live ones when ``None``) closest to ``query``
        in meaning: row -> cosine similarity, best first (a few hundred at most)."""
        key = (query, frozenset(doc_ids) if doc_ids is not None else None)
        found = self._dense_found.get(key)
        if found is None:
            found = self._keep(self._dense_found, key, self._dense(query, doc_ids), _DENSE_CACHE)
        return found

    def _dense(self, query: str, doc_ids: set[str] | None) -> dict[int, float]:
        """Row -> cosine similarity, best first."""
        vector = np.asarray(self._query_vector(query), np.float32)
        with self._chroma():
            return self.vectors.best_passages(vector, self._codes(doc_ids), _CANDIDATES)


def _quiet_blas() -> None:
    """One BLAS thread: the sentence scan is one matrix-vector product, and OpenBLAS's
    spinning worker threads would otherwise take the cores the query embedding needs
    (measured: 104 ms -> 52 ms per question embedding on 2 cores)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def require_index(settings: Settings) -> Manifest:
    """The live manifest, or :class:`IndexMissingError` when there is no report to search."""
    manifest = IndexStore(settings).read_manifest()
    if manifest is not None and manifest.outdated:
        raise IndexOutdatedError(settings.home)
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
        open_client(settings)
        _REACHED.add(url)


_CACHE: dict[tuple[str, str, int], Retriever] = {}
_LOCK = threading.Condition()
# How long a question of a new generation waits for the questions still reading the old
# one; past it, it is answered from the old one (a build keeps its records until the next).
HANDOFF_SECONDS = 5.0


def reopen_retriever(settings: Settings, embeddings, manifest: Manifest) -> None:
    """Have the next question of ``manifest``'s generation open a new retriever: another
    process changed the vectors under this one's embedded client, which keeps the view it
    loaded (``IndexChangedError`` with no new generation)."""
    with _LOCK:
        found = _CACHE.get((str(settings.home), manifest.generation, id(embeddings)))
        if found is not None:
            found.stale = True


def get_retriever(settings: Settings, embeddings, manifest: Manifest | None = None) -> Retriever:
    """A retriever for the live generation, shared by every caller in this process (see
    :func:`using_retriever`; this one is not counted as in use).

    Args:
        settings: Which index.
        embeddings: The query embedding model.
        manifest: The live manifest if the caller has just read it (else it is read here).
    """
    with using_retriever(settings, embeddings, manifest) as retriever:
        return retriever


@contextlib.contextmanager
def using_retriever(
    settings: Settings, embeddings, manifest: Manifest | None = None
) -> Iterator[Retriever]:
    """The live generation's retriever, counted as in use until the caller is done.

    When a build goes live, the old retriever is closed and the new one opened only once
    no question reads the old one: closing it under a question failed the question, and an
    embedded client opened beside another on the same path shares the other's stale view
    of the vectors. Questions of the new generation wait for that, at most
    ``HANDOFF_SECONDS``.
    """
    manifest = manifest or require_index(settings)
    key = (str(settings.home), manifest.generation, id(embeddings))
    with _LOCK:
        retriever = _handoff(key, settings, embeddings, manifest)
        retriever._users += 1
    try:
        yield retriever
    finally:
        with _LOCK:
            retriever._users -= 1
            _LOCK.notify_all()


def _handoff(key, settings: Settings, embeddings, manifest: Manifest) -> Retriever:
    """The retriever of ``key``, made once no other is in use (the caller holds _LOCK)."""
    deadline = time.monotonic() + HANDOFF_SECONDS
    while True:
        found = _CACHE.get(key)
        if found is not None and not found.stale:
            return found
        busy = [r for r in _CACHE.values() if r._users]
        if not busy:
            for old in _CACHE.values():  # its embedded client would hold the old vectors
                old.close()
            _CACHE.clear()
            _CACHE[key] = Retriever(settings, embeddings, manifest)
            return _CACHE[key]
        left = deadline - time.monotonic()
        if left <= 0:
            return busy[0]
        _LOCK.wait(left)
