"""On-disk layout of an index: manifest, passage generations and their segments.

Every build writes a new *generation* (a list of segments, see :mod:`index.segments`:
the live one's, less the reports that went, and one new segment of what came) and only
then swaps ``manifest.json`` atomically; a build that dies half-way leaves the old
manifest, and so the old index, untouched. A segment holds its passages' vectors itself,
so a build writes what came and nothing else, and drops segments no kept generation
uses. With a Chroma server the server is the index (see :mod:`index.shared`): its
passage records, one collection per index and model, are shared by the generations; a
passage's id says what it holds (its report, place and text), so a build adds only the
records no generation had and, once no kept generation uses them, deletes the ones that
went. The generation before the current one is kept so that readers which opened it
moments ago can finish their query. A build that fails (disk full, no permission, the
Chroma server gone) removes its own half-written generation and the records it added
before the error is reported.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from index.errors import (
    IndexChangedError,
    ReportQAError,
    StorageError,
    StoreUnavailableError,
)
from index.model import Document, Passage
from index.settings import Settings

if TYPE_CHECKING:
    import numpy as np

    from index.segments import OpenGeneration, SegmentRef
    from index.shared import SharedIndex

MANIFEST_FORMAT = 1
_GET_BATCH = 5000  # ids per get/delete call: well under chromadb's batch limit
SHARED_PREFIX = "rqs-"
# An embedded home's Chroma collection: the passage vectors of segments written before
# segments kept them, searched until the next build writes those segments again.
CHROMA_FOLDER = "chroma"
COLLECTION_FILE = "collection"


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` says: the live generation and its documents."""

    generation: str
    collection: str
    model_id: str
    documents: tuple[Document, ...]
    passage_counts: dict[str, int]
    previous: str | None = None
    # Each document's file stamp when it was hashed (see ``index.parse.file_stamp``): a
    # build does not read a file whose stamp is unchanged. Absent: hash it.
    stamps: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def to_json(self) -> dict:
        documents = []
        for d in self.documents:
            entry = {**asdict(d), "passages": self.passage_counts.get(d.doc_id, 0)}
            if d.doc_id in self.stamps:
                entry["stamp"] = list(self.stamps[d.doc_id])
            documents.append(entry)
        return {
            "format": MANIFEST_FORMAT,
            "generation": self.generation,
            "collection": self.collection,
            "model_id": self.model_id,
            "previous": self.previous,
            "documents": documents,
        }

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        docs, counts, stamps = [], {}, {}
        for raw in data["documents"]:
            counts[raw["doc_id"]] = raw.pop("passages", 0)
            stamp = raw.pop("stamp", None)
            if stamp is not None:
                stamps[raw["doc_id"]] = tuple(stamp)
            docs.append(Document(**raw))
        return cls(
            generation=data["generation"],
            collection=data["collection"],
            model_id=data["model_id"],
            documents=tuple(docs),
            passage_counts=counts,
            previous=data.get("previous"),
            stamps=stamps,
        )


def passage_id(p: Passage) -> str:
    """Chroma id of a passage: unique within a generation, the same in every generation
    that holds the same passage, and another one when its text changes."""
    digest = hashlib.sha256(f"{p.section}\0{p.text}".encode()).hexdigest()[:12]
    return f"{p.doc_id}:{p.paragraph}:{p.start}:{digest}"


class IndexStore:
    """Reads and writes one index home (``Settings.home``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home
        self.manifest_path = self.home / "manifest.json"
        self.generations = self.home / "generations"
        self._client = None
        self._shared = None

    @property
    def lock_path(self) -> Path:
        return self.home / "build.lock"

    @property
    def cache_path(self) -> Path:
        return self.home / "embeddings.sqlite"

    @property
    def shared(self) -> SharedIndex | None:
        """The index on the Chroma server, the source of truth when one is configured."""
        if self.settings.chroma_url and self._shared is None:
            from index.shared import SharedIndex

            name = f"{SHARED_PREFIX}{self._tag()}"
            client = self.client()
            with _OPEN_LOCK:
                shared = _SHARED.setdefault(
                    (self.settings.chroma_url, name), SharedIndex(client, name)
                )
            self._shared = shared
        return self._shared

    def read_manifest(self) -> Manifest | None:
        """The live manifest, or ``None`` when nothing was built yet."""
        if self.shared is not None:
            with chroma_errors(self.settings):
                live = self.shared.read_live()
            if live is None:
                return None
            key = (self.settings.chroma_url, self.shared.name)
            known = _MANIFESTS.get(key)
            if known is None or known[0] != live:  # parsed once per version, as below
                known = (live, Manifest.from_json(json.loads(live)))
                _MANIFESTS[key] = known
            return known[1]
        return self._read_local_manifest()

    def _read_local_manifest(self) -> Manifest | None:
        # Read once per version: every question checks it, and at 10^5 passages (a
        # thousand reports) parsing it took 20-50 ms. A new manifest is a new file.
        try:
            stat = self.manifest_path.stat()
            version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            known = _MANIFESTS.get(self.manifest_path)
            if known is not None and known[0] == version:
                return known[1]
            manifest = Manifest.from_json(json.loads(self.manifest_path.read_text("utf-8")))
        except FileNotFoundError:
            return None
        _MANIFESTS[self.manifest_path] = (version, manifest)
        return manifest

    def segment_folder(self, name: str) -> Path:
        return self.home / "segments" / name

    def refs(self, generation: str) -> list[SegmentRef] | None:
        """The segments of ``generation``; ``None`` for one written before segments."""
        from index.segments import read_refs

        return read_refs(self.generations / generation)

    def segments_of(self, generation: str) -> list[tuple[Path, frozenset[str]]]:
        """Each segment folder of ``generation`` with the reports it no longer holds; a
        generation written before segments is a folder that holds its files itself."""
        refs = self.refs(generation)
        if refs is None:
            return [(self.generations / generation, frozenset())]
        return [(self.segment_folder(r.name), r.dropped) for r in refs]

    def holds(self, generation: str) -> bool:
        """Whether this home has a copy of ``generation``."""
        from index.segments import PASSAGES_FILE, SEGMENTS_FILE

        folder = self.generations / generation
        return (folder / SEGMENTS_FILE).exists() or (folder / PASSAGES_FILE).exists()

    def open_generation(self, manifest: Manifest) -> OpenGeneration:
        """``manifest``'s generation opened for searching.

        Raises:
            IndexChangedError: Two builds have replaced it since the manifest was read.
        """
        from index.segments import OpenGeneration

        if not self.holds(manifest.generation):
            raise IndexChangedError(f"generation {manifest.generation} is gone")
        try:
            return OpenGeneration(self.segments_of(manifest.generation), manifest.documents)
        except FileNotFoundError as exc:
            raise IndexChangedError(exc) from exc

    def _live(self, generation: str):
        """``(segment, rows the generation holds)`` for each of its segments."""
        from index.segments import live_rows, open_segment

        for path, dropped in self.segments_of(generation):
            segment = open_segment(path)
            yield segment, live_rows(segment, dropped)

    def read_passages(self, generation: str) -> list[tuple[Passage, list[str]]]:
        """All passages of a generation with their tokens, in stored order."""
        return [
            pt
            for segment, alive in self._live(generation)
            for pt, keep in zip(segment.parsed(), alive, strict=True)
            if keep
        ]

    def read_ids(self, generation: str) -> list[str]:
        """The passage ids of a generation in stored order."""
        return [
            pid
            for segment, alive in self._live(generation)
            for pid, keep in zip(segment.ids, alive, strict=True)
            if keep
        ]

    def read_sentence_vectors(self, generation: str):
        """The generation's sentence vectors in stored order, or ``None`` if it has none."""
        import numpy as np

        blocks = []
        for segment, alive in self._live(generation):
            vectors = segment.vectors()
            if vectors is None:
                return None
            blocks.append(vectors[np.repeat(alive, segment.counts)])
        return np.concatenate(blocks) if blocks else None

    def client(self):
        """The Chroma client: a server when ``chroma_url`` is set, else embedded on disk.

        Raises:
            StoreUnavailableError: The Chroma server does not answer. The failure is not
                remembered: the next call tries again, so a restarted server is picked up.
        """
        if self._client is None:
            self._client = _open_client(self.settings)
        return self._client

    def collection(self, name: str, create: bool = False):
        """The Chroma collection ``name`` (cosine space); we always hand it the vectors, so
        it gets no embedding function and Chroma's default model can never run."""
        with chroma_errors(self.settings):
            client = self.client()
            if create:
                return client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                )
            return client.get_collection(name, embedding_function=None)

    def can_extend(self, manifest: Manifest, model_id: str) -> bool:
        """Whether a build may start from ``manifest``'s generation without reading it whole:
        it is made of segments (all still there) and holds vectors of ``model_id``."""
        if manifest.model_id != model_id:
            return False
        if not manifest.documents:
            return True
        refs = self.refs(manifest.generation)
        return refs is not None and all(self.segment_folder(r.name).is_dir() for r in refs)

    def write_generation(
        self,
        documents: Iterable[Document],
        passages: list[tuple[Passage, list[str]]],
        passage_vectors: np.ndarray,
        model_id: str,
        previous: Manifest | None,
        sentence_vectors: np.ndarray | None = None,
        progress: Callable[[int, int, str], None] | None = None,
        base: Manifest | None = None,
        kept: frozenset[str] = frozenset(),
        stamps: dict[str, tuple[int, ...]] | None = None,
    ) -> Manifest:
        """Write passages and vectors as a new generation, then make it live.

        If any step fails the new generation's files and collection are removed before the
        error propagates, and the manifest still names the previous generation.

        Args:
            documents: Every document of the new generation.
            passages: The passages to add, with their keyword tokens.
            passage_vectors: One vector per passage of ``passages``.
            model_id: The model that made the vectors.
            previous: The live manifest, recorded as the new one's predecessor.
            sentence_vectors: One vector per sentence of ``passages`` in order; they are
                kept as float16 (half the size, and cosine ranks do not change).
            progress: Hears ``(done, total, "storing")`` as passages are written.
            base: A generation (see :meth:`can_extend`) whose passages of the ``kept``
                documents the new one holds too, first and in their order: its segments
                are shared, not copied, so adding one report costs that report, not the
                whole index.
            stamps: The file stamps of ``documents`` (those known).
        """
        documents = tuple(documents)
        generation = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        collection = self.collection_for(model_id)
        counts: dict[str, int] = {}
        if base is not None:
            counts = {d: n for d, n in base.passage_counts.items() if d in kept}
        for p, _ in passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        manifest = Manifest(
            generation=generation,
            collection=collection,
            model_id=model_id,
            documents=documents,
            passage_counts=counts,
            previous=previous.generation if previous else None,
            stamps={d.doc_id: stamps[d.doc_id] for d in documents if d.doc_id in (stamps or {})},
        )
        if progress:
            progress(0, len(passages), "storing")
        try:
            refs = self._carried(base.generation, kept) if base is not None else []
            refs = self._write_files(
                generation,
                passages,
                sentence_vectors,
                passage_vectors,
                collection,
                refs,
                documents,
            )
            if self.shared is not None:
                with chroma_errors(self.settings):
                    # Named before they are sent, so that the clean-up finds them.
                    self.shared.record_generation(generation, refs)
                    for ref in refs:  # the others are the live generation's, on the server
                        if ref.name.startswith(f"{generation}-"):
                            self.shared.send_segment(self.segment_folder(ref.name))
                    self.shared.publish(manifest.to_json())  # every reader uses it now
            if progress:
                progress(len(passages), len(passages), "storing")
            _atomic_write(self.manifest_path, json.dumps(manifest.to_json(), ensure_ascii=False))
        except BaseException:
            # The manifest still names the previous generation; clean up now rather than at
            # the next build, so a full disk gets its space back before the error is shown.
            self._discard(generation)
            raise
        return manifest

    def collection_for(self, model_id: str) -> str:
        """The collection of this index's passage vectors made with ``model_id``."""
        model = hashlib.sha256(model_id.encode()).hexdigest()[:8]
        return f"{SHARED_PREFIX}{self._tag()}-{model}"

    def _tag(self) -> str:
        """This index's part of collection names: the shared index's name on a Chroma
        server (every home there reads it), else one this home's path gives."""
        return self.settings.index_name if self.settings.chroma_url else _home_tag(self.home)

    def ensure_local(self, manifest: Manifest) -> None:
        """Make sure this home holds a copy of ``manifest``'s generation.

        Only with a Chroma server, where another machine may have built it: the copy
        fetches just the segments this home lacks (segments keep their names everywhere).

        Raises:
            IndexChangedError: The generation was dropped from the server meanwhile.
        """
        if self.shared is None or self.holds(manifest.generation):
            return
        from filelock import FileLock

        from index.segments import write_refs

        self.home.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.home / "sync.lock")):
            if self.holds(manifest.generation):
                return  # another thread of ours copied it meanwhile
            with chroma_errors(self.settings):
                refs = self.shared.generation_refs(manifest.generation)
                if refs is None:
                    raise IndexChangedError(f"generation {manifest.generation} was dropped")
                for ref in refs:
                    folder = self.segment_folder(ref.name)
                    if not folder.is_dir():
                        folder.parent.mkdir(parents=True, exist_ok=True)
                        self.shared.fetch_segment(ref.name, folder)
            before = self._read_local_manifest()  # this home's copy until now
            write_refs(self.generations / manifest.generation, refs)
            _atomic_write(self.manifest_path, json.dumps(manifest.to_json(), ensure_ascii=False))
            self._collect_local({manifest.generation} | ({before.generation} if before else set()))

    def _carried(self, generation: str, kept: Iterable[str]) -> list[SegmentRef]:
        """``generation``'s segments, each dropping every report but ``kept``; a segment
        left with none is left out."""
        from index.segments import SegmentRef, open_segment

        kept = set(kept)
        refs = []
        for ref in self.refs(generation) or ():
            docs = open_segment(self.segment_folder(ref.name)).docs()
            if docs & kept - ref.dropped:
                refs.append(SegmentRef(ref.name, frozenset(ref.dropped | (docs - kept))))
        return refs

    def _write_files(
        self,
        generation: str,
        passages: list[tuple[Passage, list[str]]],
        sentence_vectors: np.ndarray | None,
        passage_vectors: np.ndarray,
        collection: str,
        refs: list[SegmentRef],
        documents: Iterable[Document],
    ) -> list[str]:
        """Write a generation: the segments ``refs``, then a new one of ``passages``, with
        the small segments at the end merged (:func:`index.segments.merge_plan`). Returns
        its segments. ``collection`` holds the passage vectors of segments written before
        segments kept them."""
        from index.segments import SegmentRef, part_codes, write_refs, write_segment

        folder = self.generations / generation
        folder.mkdir(parents=True, exist_ok=True)
        (folder / COLLECTION_FILE).write_text(collection, encoding="utf-8")
        by_id = {d.doc_id: d for d in documents}
        refs = list(refs)
        if passages:
            name = f"{generation}-new"
            parts = part_codes([p for p, _ in passages], by_id)
            write_segment(
                self.segment_folder(name), passages, sentence_vectors, parts, passage_vectors
            )
            refs.append(SegmentRef(name))
        refs = self._merged(generation, refs, by_id, collection)
        write_refs(folder, refs)
        return refs

    def _merged(
        self,
        generation: str,
        refs: list[SegmentRef],
        documents: dict[str, Document],
        collection: str,
    ) -> list[SegmentRef]:
        """``refs`` with the groups :func:`index.segments.merge_plan` picks written as one
        segment each (without the passages they dropped), and a segment written before
        segments kept passage vectors written again with them (its vectors read from
        ``collection``, once)."""
        import numpy as np

        from index.segments import (
            SegmentRef,
            live_rows,
            merge_plan,
            needs_rewrite,
            open_segment,
            write_segment,
        )

        segments = [open_segment(self.segment_folder(r.name)) for r in refs]
        alive = [live_rows(s, r.dropped) for s, r in zip(segments, refs, strict=True)]
        sizes = [(int(a.sum()), len(a)) for a in alive]
        out = []
        for n, group in enumerate(merge_plan(sizes)):
            old = segments[group[0]].passage_vectors() is None
            if not needs_rewrite(group, sizes) and not old:
                out.append(refs[group[0]])
                continue
            passages, vectors, parts, dense = [], [], [], []
            for i in group:
                seg, keep = segments[i], alive[i]
                passages += [pt for pt, k in zip(seg.parsed(), keep, strict=True) if k]
                found = seg.vectors()
                vectors.append(None if found is None else found[np.repeat(keep, seg.counts)])
                parts.append(seg.parts(documents)[keep])
                held = seg.passage_vectors()
                if held is None:
                    ids = [pid for pid, k in zip(seg.ids, keep, strict=True) if k]
                    dense.append(self._stored_vectors(collection, ids))
                else:
                    dense.append(held[keep])
            name = f"{generation}-{n}"
            whole = None if any(v is None for v in vectors) else np.concatenate(vectors)
            write_segment(
                self.segment_folder(name),
                passages,
                whole,
                np.concatenate(parts),
                np.concatenate(dense),
            )
            out.append(SegmentRef(name))
        return out

    def _stored_vectors(self, name: str, ids: list[str]) -> np.ndarray:
        """The vectors of passages ``ids`` in the Chroma collection ``name``, in order; those
        it lacks (or all, if it is not there) from the home's other collections: a home
        moved to another folder names its collection after the new one."""
        import numpy as np

        by_id: dict[str, np.ndarray] = {}
        with chroma_errors(self.settings):
            held = [getattr(c, "name", c) for c in self.client().list_collections()]
            for source in sorted(held, key=lambda n: n != name):  # ``name`` first
                missing = [i for i in ids if i not in by_id]
                if not missing:
                    break
                collection = self.collection(source)
                for start in range(0, len(missing), _GET_BATCH):
                    batch = missing[start : start + _GET_BATCH]
                    got = collection.get(ids=batch, include=["embeddings"])
                    by_id.update(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
        return np.array([by_id[i] for i in ids], dtype=np.float32)

    def _discard(self, generation: str) -> None:
        """Remove a generation that never went live and its segments (on a Chroma server,
        what it sent goes at the next build's clean-up: it named them first)."""
        shutil.rmtree(self.generations / generation, ignore_errors=True)
        for folder in self.segment_folder(".").glob(f"{generation}-*"):
            shutil.rmtree(folder, ignore_errors=True)

    def collect_garbage(self, manifest: Manifest | None) -> None:
        """Drop generations and segments that neither the live nor the previous generation
        uses, nor one that was live less than ``RETIRED_GRACE_SECONDS`` ago (on a Chroma
        server, all but the live and the previous one), and a home's Chroma collection
        once no kept generation searches it.

        While one does (a home written before segments held passage vectors), the vectors
        deleted are those the dropped generations held and no kept one holds (ids are
        read from the generations' own lists): the collection is never listed whole.
        """
        keep = {manifest.generation, manifest.previous} if manifest else set()
        if self.shared is not None:
            with contextlib.suppress(Exception):  # what stays is deleted by the next build
                self._collect_shared({g for g in keep if g})
            self._collect_local(keep | self._recently_live())
            return
        keep = {g for g in keep | self._recently_live() if g and (self.generations / g).is_dir()}
        if not any(self.uses_chroma(g) for g in keep):
            # Passage vectors are in the segments: the collection is left from before.
            shutil.rmtree(self.home / CHROMA_FOLDER, ignore_errors=True)
            self._collect_local(keep)
            return
        # Generations written before collections were shared each named their own.
        collection_of = {g: self._collection_of(g) for g in keep}
        used = set(collection_of.values())
        tag = _home_tag(self.home)
        with contextlib.suppress(Exception):
            for col in self.client().list_collections():
                name = getattr(col, "name", col)
                ours = name.startswith((f"rq-{tag}-", f"{SHARED_PREFIX}{tag}-"))
                if ours and name not in used:
                    self.client().delete_collection(name)
            wanted = {i for g in keep for i in self.read_ids(g)}
            for name, unused in self._unused_ids(keep, wanted).items():
                if name in used and unused:
                    collection = self.client().get_collection(name)
                    for start in range(0, len(unused), _GET_BATCH):
                        collection.delete(ids=unused[start : start + _GET_BATCH])
        self._collect_local(keep)

    def uses_chroma(self, generation: str) -> bool:
        """Whether ``generation`` of this home has segments written before they kept passage
        vectors (those are searched in the home's Chroma collection)."""
        from index.segments import PASSAGE_VECTORS_FILE

        return any(
            not (path / PASSAGE_VECTORS_FILE).exists() for path, _ in self.segments_of(generation)
        )

    def _unused_ids(self, keep: set[str], wanted: set[str]) -> dict[str, list[str]]:
        """Per collection, the passage ids that generations other than ``keep`` hold and
        ``wanted`` lacks. (A segment no generation names never had vectors added: a build
        names its segments before it adds any.)"""
        unused: dict[str, set[str]] = {}
        for gen in self.generations.iterdir():
            if gen.is_dir() and gen.name not in keep:
                with contextlib.suppress(FileNotFoundError):  # half removed already
                    found = unused.setdefault(self._collection_of(gen.name), set())
                    found.update(i for i in self.read_ids(gen.name) if i not in wanted)
        return {name: sorted(ids) for name, ids in unused.items()}

    def _collect_local(self, keep: set[str]) -> None:
        """Remove every generation but ``keep`` from this home, and the segments only
        they used (not one written less than RETIRED_GRACE_SECONDS ago: another thread may
        be writing it for a generation not yet named)."""
        if self.generations.is_dir():
            for gen in self.generations.iterdir():
                if gen.name not in keep:
                    shutil.rmtree(gen, ignore_errors=True)
        segments = self.segment_folder(".")
        if segments.is_dir():
            named = {r.name for g in keep if g for r in self.refs(g) or ()}
            now = time.time()
            for folder in segments.iterdir():
                fresh = now - folder.stat().st_mtime < RETIRED_GRACE_SECONDS
                if folder.name not in named and not fresh:
                    shutil.rmtree(folder, ignore_errors=True)

    def _collect_shared(self, keep: set[str]) -> None:
        """On the server: drop the lists of generations other than ``keep`` (the live one
        and the one before), and the segments only they named."""
        from index.shared import OldServerIndexError

        generations = self.shared.generations()
        named: dict[str, set[str]] = {}
        for generation in generations:
            try:
                refs = self.shared.generation_refs(generation) or ()
            except OldServerIndexError:  # an earlier layout's id list (its records stay)
                refs = ()
            named[generation] = {r.name for r in refs}
        wanted = {n for g in keep for n in named.get(g, ())}
        dropped = [g for g in generations if g not in keep]
        self.shared.drop(dropped, {n for g in dropped for n in named[g]} - wanted)

    def _collection_of(self, generation: str) -> str:
        try:
            return (self.generations / generation / COLLECTION_FILE).read_text("utf-8").strip()
        except FileNotFoundError:
            return f"rq-{_home_tag(self.home)}-{generation}"

    def _recently_live(self) -> set[str]:
        """Generations replaced less than ``RETIRED_GRACE_SECONDS`` ago: a question that
        read the manifest just before may still be reading them."""
        if not self.generations.is_dir():
            return set()
        # Oldest first by when they were written (names only say the second); a generation
        # stopped being live when the next one was written.
        written = sorted(
            (p for p in self.generations.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
        )
        now = time.time()
        return {
            older.name
            for older, newer in itertools.pairwise(written)
            if now - newer.stat().st_mtime < RETIRED_GRACE_SECONDS
        }


# A question reads its generation for about a second (an LLM's answer reads no index); a
# minute leaves ample room, and builds of real reports come minutes apart.
RETIRED_GRACE_SECONDS = 60.0


def _home_tag(home: Path) -> str:
    return hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a half-written manifest must not take up the disk
        raise


# Clients and shared indexes, one per server (or embedded folder) and process: a client
# costs two TLS contexts (90 ms), and every question asks the server for the live manifest.
_CLIENTS: dict[str, object] = {}
# The last manifest read from each home, with the file's (inode, mtime, size) then, and
# from each index on a Chroma server, with its text.
_MANIFESTS: dict[Path | tuple[str, str], tuple[object, Manifest]] = {}
_SHARED: dict[tuple[str, str], SharedIndex] = {}
_OPEN_LOCK = threading.Lock()


def _open_client(settings: Settings):
    key = settings.chroma_url or str(settings.home.resolve())
    with _OPEN_LOCK:
        client = _CLIENTS.get(key)
    if client is None:  # a failure is not kept: the next call tries the server again
        client = _new_client(settings)
        with _OPEN_LOCK:
            client = _CLIENTS.setdefault(key, client)
    return client


def _new_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        import httpx
        from chromadb.errors import ChromaError

        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        # chromadb reports a refused connection as ValueError("Could not connect ...").
        except (ValueError, httpx.HTTPError, ChromaError) as exc:
            raise store_unavailable(settings, exc) from exc
    settings.home.mkdir(parents=True, exist_ok=True)
    path = str(settings.home / CHROMA_FOLDER)
    return chromadb.PersistentClient(path=path, settings=chroma_settings)


def store_unavailable(settings: Settings, reason: BaseException) -> StoreUnavailableError:
    """The error for a Chroma server that cannot be reached."""
    url = settings.chroma_url
    return StoreUnavailableError(
        f"cannot reach the Chroma server at {url} (REPORTQA_CHROMA_URL): {reason}",
        f"无法连接向量库服务器（REPORTQA_CHROMA_URL={url}），请确认它已启动。",
    )


@contextlib.contextmanager
def chroma_errors(settings: Settings) -> Iterator[None]:
    """Turn a lost connection to the Chroma server into :class:`StoreUnavailableError`,
    and a collection that is gone into :class:`IndexChangedError`.

    A collection goes when two builds have made newer generations live while a reader
    still used it (only the live and the previous one are kept).
    """
    import httpx
    from chromadb.errors import NotFoundError

    try:
        yield
    except httpx.TransportError as exc:  # refused, reset, timed out: not a bug of ours
        raise store_unavailable(settings, exc) from exc
    except NotFoundError as exc:
        raise IndexChangedError(exc) from exc


_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


@contextlib.contextmanager
def storage_errors(home: Path) -> Iterator[None]:
    """Turn a full disk or a denied write under ``home`` into :class:`StorageError`.

    Wrap only code that writes the index: reading a report the user may not open is a
    per-file failure, not an index problem.
    """
    try:
        yield
    except ReportQAError:
        raise  # already says what went wrong
    except Exception as exc:
        problem = _storage_problem(exc)
        if problem == "full":
            raise StorageError(
                f"no space left on the disk of {home}; the build was undone and the "
                "previous index is intact",
                "磁盘空间不足，本次建索引已撤销，原有索引不受影响。",
            ) from exc
        if problem == "denied":
            raise StorageError(
                f"no permission to write the index at {home}; the build was undone and the "
                "previous index is intact",
                f"没有写入索引目录（{home}）的权限，本次建索引已撤销，原有索引不受影响。",
            ) from exc
        raise


def _storage_problem(exc: BaseException) -> Literal["full", "denied"] | None:
    """Whether ``exc``, or an error that caused it, is a full disk or a denied write.

    SQLite (the cache, embedded Chroma) and Chroma's Rust core report these only in words.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _DISK_FULL:
            return "full"
        if isinstance(seen, OSError) and seen.errno in _DENIED:
            return "denied"
        text = str(seen).lower()
        if "disk is full" in text or "no space left" in text:
            return "full"
        if "readonly database" in text or "permission denied" in text:
            return "denied"
        seen = seen.__cause__ or seen.__context__
    return None
