"""The index's records in Chroma: the vector store, embedded or on a ``chroma run`` server.

One code path for both: a home's embedded ``PersistentClient`` (``REPORTQA_HOME/chroma``)
or an ``HttpClient`` (``REPORTQA_CHROMA_URL``). Collections of one index and model
(``rq-INDEX-MODEL-…``):

- ``passages``: a record per passage, its passage vector, with the metadata scope needs
  (report, region, year, report part, section, paragraph, offsets), so a scoped search is
  a ``where`` filter;
- ``units-0`` … ``units-7``: a record per sentence (evidence unit) of each passage, its
  vector, a report's sentences all in one of eight collections (see ``UNIT_SHARDS``);
- ``reports``: a record per report version, its shard (see :mod:`index.shards`: its
  passages and keyword counts) as the document, so any machine has it to search.

and ``rq-INDEX-meta``: ``live``, the live manifest (one record: a build goes live for
every reader at once), and the build lock's claims (see :mod:`index.claims`). Ids say
what a record holds (``DOC@VERSION:ORDER``, ``…#SENTENCE``): an unchanged report is never
written again, and a build killed at any point leaves only records of versions no
manifest names, which the next build deletes. Embeddings are always ours: no collection
gets an embedding function, so Chroma's default model can never run.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from index.errors import IndexCorruptError
from index.model import Document, Passage
from index.shards import PARTS, shard_name

LIVE = "live"
_NOWHERE = [0.0]  # reports and meta records need a vector; they are never searched
_BATCH = 5000  # records per add/get call: well under chromadb's batch limit
_REPORTS_PER_GET = 20  # report records are large (a report's passages): fewer per call
_AHEAD = 4  # calls in flight while a caller reads the results of the one before
# Search breadth: Chroma's default (100) found 97% of the exact 90 best sentences on the
# 34 reports; 400 finds them all, as the exact scans this replaced did.
EF_SEARCH = 400
# Chroma saves a collection's vector index every ``sync_threshold`` records and inserts
# the ones after it again when a process first touches the collection: at its default of
# 1,000 that first touch took 0.2-0.9 s for each of our nine searched collections.
_SEARCHED = {
    "hnsw": {"space": "cosine", "ef_search": EF_SEARCH, "sync_threshold": 100, "batch_size": 100}
}
# Records never searched (a report's passages, the manifest) are large: Chroma replays the
# records its vector index has not saved yet on every call, and at its default of 1,000
# each call on 32 reports' records took 1.2-1.8 s (saving every 2: 0.01 s).
_STORED = {"hnsw": {"sync_threshold": 2, "batch_size": 2}}


# A report's sentence vectors go to one of this many collections, by its id: adding a
# report loads the vector index of one of them (at 10^5 passages, 5*10^5 sentences, the
# first write to one collection of them all took 2.5-4 s), and a search of all sentences
# asks each (at 34 reports, 8 more calls of 1-2 ms).
UNIT_SHARDS = 8


def unit_shard(doc_id: str) -> int:
    """Which sentence collection holds ``doc_id``'s sentences (the same in every process)."""
    return hashlib.sha256(doc_id.encode()).digest()[0] % UNIT_SHARDS


def collection_prefix(index_name: str, model_id: str) -> str:
    """The collections of one index's vectors made with ``model_id``."""
    return f"rq-{index_name}-{hashlib.sha256(model_id.encode()).hexdigest()[:8]}"


class Records:
    """The Chroma collections of one index and embedding model.

    Args:
        client: A chromadb client (embedded or HTTP).
        index_name: Which index (``Settings.index_name``).
        model_id: The model that made the vectors.
    """

    def __init__(self, client, index_name: str, model_id: str) -> None:
        self.client = client
        self.index_name = index_name
        self.prefix = collection_prefix(index_name, model_id)
        self._opened: dict[str, object] = {}
        self._lock = threading.Lock()

    def _collection(self, kind: str, searched: bool = False):
        with self._lock:
            found = self._opened.get(kind)
            if found is None:
                name = f"rq-{self.index_name}-meta" if kind == "meta" else f"{self.prefix}-{kind}"
                config = _SEARCHED if searched else _STORED
                found = self.client.get_or_create_collection(
                    name, embedding_function=None, configuration=config
                )
                self._opened[kind] = found
            return found

    @property
    def passages(self):
        return self._collection("passages", searched=True)

    def units(self, doc_id: str):
        """The collection of ``doc_id``'s sentence vectors."""
        return self._collection(f"units-{unit_shard(doc_id)}", searched=True)

    def unit_collections(self) -> list:
        """Every collection of sentence vectors."""
        return [self._collection(f"units-{n}", searched=True) for n in range(UNIT_SHARDS)]

    @property
    def reports(self):
        return self._collection("reports")

    @property
    def meta(self):
        return self._collection("meta")

    def lock(self, wait: float):
        """The index's build lock on the server, held for ``wait`` seconds at most (see
        :class:`index.claims.BuildLock`)."""
        from index.claims import BuildLock

        return BuildLock(self.meta).held(wait)

    # -- writing ---------------------------------------------------------------------

    def add_report(
        self,
        doc: Document,
        shard: str,
        passages: Sequence[Passage],
        passage_vectors: np.ndarray,
        unit_vectors: np.ndarray,
        parts: np.ndarray,
        rewrite: bool = False,
    ) -> None:
        """Write one report version: its units, passages, then its report record (whose
        presence says the rest is there). ``upsert``: a build killed half-way may have
        written some already. When its last passage is there as it would be written, all
        its vectors are (a version's vectors never change: its id names its text and
        parser, the collection its model), and only the report record is written: an
        upgrade of the index's format, at 10^5 passages, writes 10^3 records, not 6*10^5.
        ``rewrite`` (a rebuild) writes them all: a damaged store's vectors are replaced."""
        name = shard_name(doc)
        ids = [f"{name}:{n}" for n in range(len(passages))]
        common = {"report": name, "doc_id": doc.doc_id}
        meta = [
            {
                **common,
                "order": n,
                "region": doc.region,
                "year": doc.year if doc.year is not None else -1,
                "part": PARTS[int(parts[n])] or "unknown",
                "section": p.section,
                "paragraph": p.paragraph,
                "start": p.start,
                "end": p.end,
            }
            for n, p in enumerate(passages)
        ]
        unit_ids = [
            f"{pid}#{k}"
            for pid, p in zip(ids, passages, strict=True)
            for k in range(len(p.sentences))
        ]
        there = (
            self.passages.get(ids=ids[-1:], include=["metadatas"]) if ids and not rewrite else None
        )
        complete = (
            there is not None
            and there["metadatas"] == meta[-1:]
            # and the last sentence where this layout keeps it (a home of an earlier one
            # may hold its passages and not its sentences)
            and bool(self.units(doc.doc_id).get(ids=unit_ids[-1:], include=[])["ids"])
        )
        if not complete:
            unit_meta = [
                {**common, "order": n, "n": k}
                for n, p in enumerate(passages)
                for k in range(len(p.sentences))
            ]
            _upsert(self.units(doc.doc_id), unit_ids, unit_vectors, unit_meta)
            _upsert(self.passages, ids, passage_vectors, meta)
        self.reports.upsert(
            ids=[name],
            embeddings=[_NOWHERE],
            documents=[shard],
            metadatas=[{**common, "passages": len(passages)}],
        )

    def mark_pending(self, names: Sequence[str]) -> None:
        """Name report versions whose records a build is about to write or delete, before it
        does: a build killed half-way leaves records that the next one finds by these."""
        ids = [f"pending:{n}" for n in names]
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            self.meta.upsert(
                ids=batch,
                embeddings=[_NOWHERE] * len(batch),
                metadatas=[{"kind": "pending", "report": i.partition(":")[2]} for i in batch],
            )

    def clear_pending(self, names: Sequence[str]) -> None:
        """Forget that ``names`` were pending (they are live now)."""
        ids = [f"pending:{n}" for n in names]
        for start in range(0, len(ids), _BATCH):
            self.meta.delete(ids=ids[start : start + _BATCH])

    def pending_reports(self) -> set[str]:
        """The report versions named by :meth:`mark_pending` and not settled since."""
        got = self.meta.get(where={"kind": "pending"}, include=["metadatas"])
        return {m["report"] for m in got["metadatas"]}

    def drop_reports(self, names: Sequence[str]) -> None:
        """Delete every record of the report versions ``names``."""
        for start in range(0, len(names), 100):
            where = {"report": {"$in": list(names[start : start + 100])}}
            for collection in (*self.unit_collections(), self.passages, self.reports):
                collection.delete(where=where)
            self.meta.delete(where={"$and": [{"kind": "pending"}, where]})

    def drop_other_models(self) -> None:
        """Delete this index's collections of other embedding models."""
        mine, others = f"rq-{self.index_name}-", (self.prefix, f"rq-{self.index_name}-meta")
        for col in self.client.list_collections():
            name = getattr(col, "name", col)
            if name.startswith(mine) and not name.startswith(others):
                self.client.delete_collection(name)

    # -- reading ---------------------------------------------------------------------

    def report_texts(self, names: Sequence[str]) -> Iterator[tuple[str, str | None]]:
        """Each report version of ``names`` with its shard, ``None`` for one with no record,
        in order, fetched a few at a time ahead of the caller."""
        batches = [names[i : i + _REPORTS_PER_GET] for i in range(0, len(names), _REPORTS_PER_GET)]

        def fetch(batch: Sequence[str]) -> list[tuple[str, str | None]]:
            got = self.reports.get(ids=list(batch), include=["documents"])
            found = dict(zip(got["ids"], got["documents"], strict=True))
            return [(name, found.get(name)) for name in batch]

        for found in _stream(fetch, batches):
            yield from found

    @contextlib.contextmanager
    def warming(self) -> Iterator[None]:
        """Search each searched collection once while the caller works: a Chroma server
        loads a collection's vector index at its first search (at 10^5 passages, 3 s of a
        new chat server's first question)."""
        collections = [self.passages, *self.unit_collections()]
        # One thread, one collection after another: the fetches the caller makes meanwhile
        # keep the pool.
        worker = threading.Thread(target=lambda: [_warm(c) for c in collections])
        worker.start()
        try:
            yield
        finally:
            worker.join()

    def report_vectors(self, name: str, counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """A report version's passage vectors and sentence vectors, in report order, read by
        id (``counts``: each passage's sentences): a filter on the report took twice as long."""
        ids = [f"{name}:{n}" for n in range(len(counts))]
        units = [f"{pid}#{k}" for pid, count in zip(ids, counts, strict=True) for k in range(count)]
        found = []
        for collection, wanted in (
            (self.passages, ids),
            (self.units(name.partition("@")[0]), units),
        ):
            by_id = _embeddings(collection, wanted)
            whole = len(by_id) == len(wanted)
            found.append(
                np.array([by_id[i] for i in wanted], np.float32)
                if whole
                else np.zeros((0, 0), np.float32)
            )
        return found[0], found[1]

    def unit_vectors(self, passages: dict[str, int]) -> dict[str, np.ndarray]:
        """The sentence vectors of passages (record id -> its sentence count), in order."""
        by_shard: dict[int, list[str]] = {}
        for pid, count in passages.items():
            shard = by_shard.setdefault(unit_shard(pid.partition("@")[0]), [])
            shard += [f"{pid}#{k}" for k in range(count)]

        def fetch(item: tuple[int, list[str]]) -> dict[str, np.ndarray]:
            shard, ids = item
            return _embeddings(self._collection(f"units-{shard}", searched=True), ids)

        by_id = {k: v for found in _each(fetch, by_shard.items()) for k, v in found.items()}
        return {
            pid: np.array([by_id[f"{pid}#{k}"] for k in range(count)], np.float32)
            for pid, count in passages.items()
            if all(f"{pid}#{k}" in by_id for k in range(count))
        }

    def nearest_passages(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        """The ``n`` passage records nearest ``vector``: ``(id, cosine similarity)``."""
        return self._nearest(self.passages, vector, n)

    def nearest_units(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        """The ``n`` sentence records nearest ``vector``: ``(passage id, similarity)``."""
        shards = self.unit_collections()
        found = [f for got in _each(lambda c: self._nearest(c, vector, n), shards) for f in got]
        found.sort(key=lambda f: -f[1])
        return [(uid.rpartition("#")[0], sim) for uid, sim in found[:n]]

    def _nearest(self, collection, vector, n: int) -> list[tuple[str, float]]:
        found = collection.query(
            query_embeddings=np.asarray(vector, np.float32)[None, :],
            n_results=n,
            include=["distances"],
        )
        nearest = [
            (i, 1.0 - float(d)) for i, d in zip(found["ids"][0], found["distances"][0], strict=True)
        ]
        if nearest and nearest[0][1] == 0.0:  # nothing like the question: a zeroed store?
            _embeddings(collection, [nearest[0][0]])
        return nearest

    # -- the live manifest and the build lock ----------------------------------------

    def read_live(self) -> str | None:
        """The live manifest's JSON text, or ``None`` before the first build."""
        found = self.meta.get(ids=[LIVE], include=["documents"])
        return found["documents"][0] if found["ids"] else None

    def publish(self, manifest_json: str) -> None:
        """Make ``manifest_json`` the live manifest for every reader at once."""
        self.meta.upsert(ids=[LIVE], embeddings=[_NOWHERE], documents=[manifest_json])


_POOL: list = []  # one thread pool per process, made at first use
_POOL_LOCK = threading.Lock()


def _pool():
    with _POOL_LOCK:
        if not _POOL:
            from concurrent.futures import ThreadPoolExecutor

            _POOL.append(ThreadPoolExecutor(UNIT_SHARDS, thread_name_prefix="chroma"))
    return _POOL[0]


def _each(fn, items) -> list:
    """``fn`` of every item, called at once (each a request to the server, or a search
    Chroma runs outside the GIL), in order."""
    items = list(items)
    if len(items) <= 1:
        return [fn(i) for i in items]
    return list(_pool().map(fn, items))


def _stream(fn, items) -> Iterator:
    """``fn`` of every item in order, each yielded as it is ready, the rest called
    meanwhile a few at a time (not all at once: a caller that stops early stops them)."""
    pending: list = []
    for item in items:
        pending.append(_pool().submit(fn, item))
        if len(pending) > _AHEAD:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()


def _warm(collection) -> None:
    with contextlib.suppress(Exception):  # only a head start: the question reports errors
        got = collection.peek(1)
        if len(got["embeddings"]):
            collection.query(query_embeddings=got["embeddings"][:1], n_results=1, include=[])


def _embeddings(collection, ids: list[str]) -> dict[str, np.ndarray]:
    """The vectors of the records ``ids`` of ``collection`` that it holds, by id.

    Raises:
        IndexCorruptError: One is all zeros: no model makes such a vector, a damaged store
            does, and it matched nothing (every question on its report refused in silence).
    """
    by_id: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), _BATCH):
        got = collection.get(ids=ids[start : start + _BATCH], include=["embeddings"])
        vectors = np.asarray(got["embeddings"], np.float32)
        if len(vectors) and not np.abs(vectors).max(axis=1).all():
            raise IndexCorruptError("向量库中有全零向量", rebuild=True)
        by_id.update(zip(got["ids"], vectors, strict=True))
    return by_id


def _upsert(collection, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
    for start in range(0, len(ids), _BATCH):
        end = start + _BATCH
        collection.upsert(
            ids=ids[start:end], embeddings=vectors[start:end], metadatas=metadatas[start:end]
        )
