"""Segments: the pieces, written once, that generations of an index share.

A segment is a folder of passages in stored order: ``passages.jsonl`` (one passage and its
keyword tokens a line) with the byte offset of every line, the passage ids, the sentence
vectors, which part of its report each passage is in, and a keyword index of its own. A
generation is a list of segments, each with the reports it no longer holds (removed or
replaced since it was written): adding a report writes one small segment and a new list,
whatever the size of the index, and removing one only names it in the list. Small
segments at the end are merged (see :func:`merge_plan`), so a generation has a few
segments, not one per build.

A reader opens a generation as :class:`OpenGeneration`: arrays of row codes and offsets,
the sentence vectors memory-mapped, the keyword indexes of all segments scored as one
(:class:`KeywordIndex`, with the document frequencies and lengths of the whole
generation), and a passage parsed only when it is read.

A generation written before segments existed is a folder holding those files itself
(sentence vectors as float16, without offsets or parts): it opens as a generation of
one segment, the folder, which is read whole once to make what it lacks.
"""

from __future__ import annotations

import functools
import json
import math
import mmap
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

import numpy as np

from index.bm25 import BM25
from index.model import Document, Passage
from index.vocab import FIRST_YEAR_SECTION, PLAN_SECTION, REVIEW_SECTION

SEGMENTS_FILE = "segments.json"  # in a generation folder: its segments, what each dropped
PASSAGES_FILE = "passages.jsonl"
OFFSETS_FILE = "offsets.npy"  # byte offset of every line of PASSAGES_FILE, and its size
IDS_FILE = "passage_ids"  # one a line, in stored order (not .txt: not a report)
COUNTS_FILE = "sentence_counts.npy"  # sentences per passage, in stored order
# float32 (of float16 values): numpy casts float16 at ~7 ns a number, which at 10^5
# passages made every question or start-up seconds slower than reading twice the bytes.
VECTORS_FILE = "sentences-f32.npy"
OLD_VECTORS_FILE = "sentences.npy"  # float16, written before segments
PARTS_FILE = "parts.npy"  # PARTS code of each passage
# The compact copy of a large segment's vectors (see PREFILTER_SENTENCES); segments written
# before it held an 8-bit copy, "sentences-sq8.faiss", which is no longer read.
QUANTIZED_FILE = "sentences-pq4.faiss"
# The passage vectors (unit length), searched here rather than in a Chroma
# collection: adding a report to a collection of 10^5 vectors cost seconds of Chroma's
# alone (importing it, loading its HNSW index of them all), writing a small file nothing.
PASSAGE_VECTORS_FILE = "passages-f32.npy"  # float32 of float16 values, as the sentences
PASSAGE_QUANTIZED_FILE = "passages-pq4.faiss"  # the compact copy of a large segment's
BM25_FOLDER = "bm25"

Part = Literal["review", "plan", "outlook", ""]
PARTS: tuple[Part, ...] = ("", "review", "plan", "outlook")
_FUTURE = re.compile(r"十[一二三四五六七八九]五|五年|中长期|远景|20[3-5]\d年")

# A segment is merged into the one before it while that one holds fewer than this many
# times its passages: sizes then at least double from the newest segment back, so a
# generation of N passages has about log2(N / report) segments and a passage is rewritten
# about log2 times over its life.
MERGE_RATIO = 2
# A segment whose removed passages outnumber its live ones is rewritten without them.
DEAD_SHARE = 0.5
# Scanning more sentence vectors than this exactly takes longer than the rest of a question
# (~45 ms on a 2-core laptop): beyond it a compact copy picks candidates, which are then
# scored exactly. The copy is faiss's 4-bit product quantiser with one code per two
# dimensions, scanned with SIMD lookups ("fast scan"): an eighth of the bytes of float32,
# 5*10^5 sentences in 5 ms where an 8-bit copy (a quarter of the bytes, decoded one value
# at a time) took 40-90 ms, most of an answer at 10^5 passages.
PREFILTER_SENTENCES = 100_000
# The same for passage vectors, over fewer rows: an unscoped question scans every live
# passage (a scoped one reads its sentences instead), and 6*10^4 of them exactly took
# 25-40 ms of an answer at 10^5 passages; the compact copy takes 1-2 ms.
PREFILTER_PASSAGES = 20_000
# Candidates the copy hands on: eleven times the 90 sentences a search takes. Measured on
# the 34 reports' e5 sentence vectors and the eval questions: 99.8% of the exact best 90
# are among them (the 8-bit copy: 100%; a code per four dimensions: 91%).
PREFILTER_KEEP = 1000
_ENCODE_ROWS = 65_536  # vectors quantised at a time (100 MB of float32 at 384 dimensions)
_TRAIN_ROWS = 65_536  # vectors the quantiser learns its codes from, spread over the segment


def passage_to_json(p: Passage, tokens: list[str]) -> dict:
    """A passage and its keyword tokens as one line of ``passages.jsonl`` (``asdict``'s
    deep copy was most of writing 10^5 passages)."""
    line = {f.name: getattr(p, f.name) for f in fields(p)}
    line["sentences"] = [list(s) for s in p.sentences]
    return {**line, "tokens": tokens}


def passage_from_json(raw: dict) -> tuple[Passage, list[str]]:
    """Inverse of the passages-file line format: the passage and its BM25 tokens."""
    tokens = raw.pop("tokens")
    raw["sentences"] = tuple(tuple(s) for s in raw["sentences"])
    return Passage(**raw), tokens


def doc_of(passage_id: str) -> str:
    """The document a passage id belongs to (ids start with it, see ``store.passage_id``)."""
    return passage_id.split(":", 1)[0]


@dataclass(frozen=True)
class SegmentRef:
    """One segment of a generation: its folder name and the reports of it left out."""

    name: str
    dropped: frozenset[str] = frozenset()

    def to_json(self) -> dict:
        return {"name": self.name, "dropped": sorted(self.dropped)}

    @classmethod
    def from_json(cls, raw: dict) -> SegmentRef:
        return cls(raw["name"], frozenset(raw.get("dropped", ())))


def write_refs(generation_folder: Path, refs: Sequence[SegmentRef]) -> None:
    """Write a generation's list of segments (into its new folder, not yet live)."""
    generation_folder.mkdir(parents=True, exist_ok=True)
    data = {"segments": [r.to_json() for r in refs]}
    (generation_folder / SEGMENTS_FILE).write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def read_refs(generation_folder: Path) -> list[SegmentRef] | None:
    """A generation's segments, ``None`` for one written before segments existed."""
    try:
        data = json.loads((generation_folder / SEGMENTS_FILE).read_text("utf-8"))
    except FileNotFoundError:
        return None
    return [SegmentRef.from_json(r) for r in data["segments"]]


def write_segment(
    folder: Path,
    passages: Sequence[tuple[Passage, list[str]]],
    vectors: np.ndarray | None,
    parts: np.ndarray,
    passage_vectors: np.ndarray,
) -> None:
    """Write one segment: ``passages`` with their sentence vectors (one row a sentence, in
    passage order; ``None`` when the index keeps none), report parts (PARTS codes) and
    passage vectors (one row a passage)."""
    from index.store import passage_id

    folder.mkdir(parents=True, exist_ok=True)
    offsets = np.zeros(len(passages) + 1, dtype=np.int64)
    with (folder / PASSAGES_FILE).open("wb") as fh:
        for n, (p, tokens) in enumerate(passages):
            line = json.dumps(passage_to_json(p, tokens), ensure_ascii=False).encode() + b"\n"
            fh.write(line)
            offsets[n + 1] = offsets[n] + len(line)
    np.save(folder / OFFSETS_FILE, offsets)
    ids = "".join(f"{passage_id(p)}\n" for p, _ in passages)
    (folder / IDS_FILE).write_text(ids, "utf-8")
    np.save(folder / COUNTS_FILE, np.array([len(p.sentences) for p, _ in passages], np.int32))
    np.save(folder / PARTS_FILE, np.asarray(parts, dtype=np.int8))
    if vectors is not None and len(vectors):
        vectors = np.asarray(vectors, dtype=np.float16).astype(np.float32)  # a server's values
        with (folder / VECTORS_FILE).open("wb") as fh:
            np.save(fh, vectors)
        if len(vectors) > PREFILTER_SENTENCES:
            import faiss

            faiss.write_index(_quantize(vectors), str(folder / QUANTIZED_FILE))
    passage_vectors = np.asarray(passage_vectors, dtype=np.float32).reshape(len(passages), -1)
    norms = np.linalg.norm(passage_vectors, axis=1, keepdims=True)
    passage_vectors = passage_vectors / np.where(norms > 0, norms, 1)  # a dot is the cosine
    passage_vectors = passage_vectors.astype(np.float16).astype(np.float32)  # a server's values
    with (folder / PASSAGE_VECTORS_FILE).open("wb") as fh:
        np.save(fh, passage_vectors)
    if len(passage_vectors) > PREFILTER_PASSAGES:
        import faiss

        faiss.write_index(_quantize(passage_vectors), str(folder / PASSAGE_QUANTIZED_FILE))
    BM25.from_tokens([tokens for _, tokens in passages]).save(folder / BM25_FOLDER)


# Segments opened lately, shared by a process's generations and builds: a segment never
# changes once written, and a new generation mostly consists of the last one's segments.
_OPENED = 32


@functools.lru_cache(maxsize=_OPENED)
def open_segment(folder: Path) -> Segment:
    """The segment in ``folder``, opened once per process while it is among the recent."""
    return Segment(folder)


class Segment:
    """One segment opened for reading: ids, counts and offsets in memory, the rest mapped.
    Open one through :func:`open_segment`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        path = folder / PASSAGES_FILE
        size = path.stat().st_size
        with path.open("rb") as fh:
            self._data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        complete = (folder / IDS_FILE).exists() and BM25.saved(folder / BM25_FOLDER)
        if complete:
            self.ids = (folder / IDS_FILE).read_text("utf-8").splitlines()
            self.counts = np.load(folder / COUNTS_FILE)
            self.bm25 = BM25.load(folder / BM25_FOLDER)
        else:  # an early generation's folder: what it lacks comes from its passages
            self.bm25 = None
        if self.bm25 is None:
            from index.store import passage_id

            parsed = self.parsed()
            self.ids = [passage_id(p) for p, _ in parsed]
            self.counts = np.array([len(p.sentences) for p, _ in parsed], np.int32)
            self.bm25 = BM25.from_tokens([t for _, t in parsed])
        if (folder / OFFSETS_FILE).exists():
            self.offsets = np.load(folder / OFFSETS_FILE)
        else:
            ends = np.flatnonzero(np.frombuffer(self._data, np.uint8) == 10) + 1 if size else []
            self.offsets = np.concatenate([[0], ends]).astype(np.int64)
        self.size = len(self.ids)
        self.doc_runs = _runs(self.ids)
        self._lock = threading.Lock()
        self._indexes: dict[str, object] = {}  # the compact copies read, see candidates()

    def passage(self, row: int) -> tuple[Passage, list[str]]:
        """Passage ``row`` of this segment, with its keyword tokens."""
        line = self._data[self.offsets[row] : self.offsets[row + 1]]
        return passage_from_json(json.loads(line))

    def parsed(self) -> list[tuple[Passage, list[str]]]:
        """Every passage of the segment (for merging, and early generations)."""
        lines = self._data[:].split(b"\n")[:-1] if len(self._data) else []
        return [passage_from_json(json.loads(line)) for line in lines]

    def vectors(self) -> np.ndarray | None:
        """The sentence vectors as float32, memory-mapped; ``None`` if it has none, or
        vectors of another parser's sentences."""
        path = self.folder / VECTORS_FILE
        if path.exists():
            found = np.load(path, mmap_mode="r")
        elif (self.folder / OLD_VECTORS_FILE).exists():
            found = np.load(self.folder / OLD_VECTORS_FILE).astype(np.float32)
        else:
            return None
        return found if len(found) == int(self.counts.sum()) else None

    def passage_vectors(self) -> np.ndarray | None:
        """The passage vectors, memory-mapped; ``None`` in a segment written before they
        were kept here (its vectors are in the home's Chroma collection)."""
        path = self.folder / PASSAGE_VECTORS_FILE
        return np.load(path, mmap_mode="r") if path.exists() else None

    def candidates(
        self,
        vector: np.ndarray,
        spans: list[tuple[int, int]],
        k: int,
        copy: str = QUANTIZED_FILE,
    ) -> np.ndarray:
        """About the ``k`` rows of ``spans`` (local ranges) nearest ``vector`` by the
        compact ``copy`` (of the sentence or the passage vectors): candidates to score
        exactly."""
        index = self._quantized(copy)
        if spans == [(0, index.ntotal)]:
            _, found = index.search(vector[None, :], k)
            return found[0][found[0] >= 0]
        # A fast-scan index takes no filter: it is asked for as many more as the spans are
        # a smaller share of it (spans this large are a good share of it), and those outside
        # are dropped.
        chosen = np.zeros(index.ntotal, dtype=bool)
        for a, b in spans:
            chosen[a:b] = True
        wanted = min(index.ntotal, -(-k * index.ntotal // max(int(chosen.sum()), 1)))
        _, found = index.search(vector[None, :], wanted)
        found = found[0][found[0] >= 0]
        return found[chosen[found]][:k]

    def _quantized(self, copy: str):
        """The compact copy ``copy``: the segment's file, or made now for a segment written
        without one (8 s per 5*10^5 vectors) and kept beside its vectors for the processes
        after this one, when the folder may be written."""
        with self._lock:
            if copy not in self._indexes:
                import faiss

                faiss.omp_set_num_threads(1)  # one core per question, as for BLAS
                path = self.folder / copy
                if path.exists():
                    self._indexes[copy] = faiss.read_index(str(path))
                else:
                    source = self.vectors() if copy == QUANTIZED_FILE else self.passage_vectors()
                    self._indexes[copy] = _quantize(source)
                    _keep_quantized(self._indexes[copy], path)
            return self._indexes[copy]

    def parts(self, documents: dict[str, Document]) -> np.ndarray:
        """The PARTS code of every passage."""
        path = self.folder / PARTS_FILE
        if path.exists():
            return np.load(path)
        return part_codes([p for p, _ in self.parsed()], documents)

    def docs(self) -> set[str]:
        return {doc for doc, _, _ in self.doc_runs}


def _quantize(vectors: np.ndarray):
    """A faiss 4-bit product quantiser, fast-scan, of ``vectors`` (its codes learnt from
    rows spread over them), read a block at a time: a memory-mapped file is not kept in
    memory."""
    import faiss

    dim = vectors.shape[1]
    index = faiss.IndexPQFastScan(
        dim, dim // 2 if dim % 2 == 0 else dim, 4, faiss.METRIC_INNER_PRODUCT
    )
    step = max(1, len(vectors) // _TRAIN_ROWS)
    index.train(np.ascontiguousarray(vectors[::step][:_TRAIN_ROWS], dtype=np.float32))
    for start in range(0, len(vectors), _ENCODE_ROWS):
        index.add(_vector_block(vectors, start, _ENCODE_ROWS))
    return index


def _keep_quantized(index, path: Path) -> None:
    """Write ``index`` to ``path`` in one step; a reader that may not write goes without."""
    import faiss

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        faiss.write_index(index, str(tmp))
        os.replace(tmp, path)
    except (OSError, RuntimeError):  # faiss words a file it cannot open as a RuntimeError
        tmp.unlink(missing_ok=True)


def _vector_block(vectors: np.ndarray, start: int, rows: int) -> np.ndarray:
    if not isinstance(vectors, np.memmap):
        return np.ascontiguousarray(vectors[start : start + rows])
    dim = vectors.shape[1]
    count = min(rows, len(vectors) - start) * dim
    offset = vectors.offset + start * dim * vectors.itemsize
    block = np.fromfile(vectors.filename, dtype=vectors.dtype, count=count, offset=offset)
    return block.reshape(-1, dim)


def _runs(ids: list[str]) -> list[tuple[str, int, int]]:
    """``(doc_id, first row, end row)`` of each run of one report's passages."""
    runs: list[tuple[str, int, int]] = []
    for row, pid in enumerate(ids):
        doc = doc_of(pid)
        if runs and runs[-1][0] == doc:
            runs[-1] = (doc, runs[-1][1], row + 1)
        else:
            runs.append((doc, row, row + 1))
    return runs


def live_rows(segment: Segment, dropped: frozenset[str]) -> np.ndarray:
    """Which rows of ``segment`` a generation that dropped ``dropped`` holds."""
    alive = np.ones(segment.size, dtype=bool)
    for doc, a, b in segment.doc_runs:
        if doc in dropped:
            alive[a:b] = False
    return alive


def merge_plan(sizes: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Which segments to write as one: ``sizes`` holds each segment's (live, all) passages;
    the answer groups consecutive positions, a group of one being kept as it is unless
    mostly dead."""
    groups = [[i] for i in range(len(sizes))]
    live = [n for n, _ in sizes]
    while len(groups) > 1 and live[-2] < MERGE_RATIO * live[-1]:
        groups[-2:] = [groups[-2] + groups[-1]]
        live[-2:] = [live[-2] + live[-1]]
    return [g for g in groups if any(sizes[i][0] for i in g)]


def needs_rewrite(group: list[int], sizes: Sequence[tuple[int, int]]) -> bool:
    """Whether a group of :func:`merge_plan` must be written anew."""
    if len(group) > 1:
        return True
    live, total = sizes[group[0]]
    return total - live > DEAD_SHARE * total


class KeywordIndex:
    """The keyword indexes of a generation's segments scored as one BM25 over its rows:
    document frequencies, passage count and average length are the generation's, so the
    scores are those of one index of the same passages.

    Args:
        parts: Per segment, its index, its first row in the generation, and which of its
            rows the generation holds (``None``: all).
        rows: Rows of the generation, removed ones included (they score 0).
    """

    def __init__(
        self, parts: Sequence[tuple[BM25, int, np.ndarray | None]], rows: int, k1=1.2, b=0.75
    ) -> None:
        self.parts = parts
        self.rows = rows
        self.k1, self.b = k1, b
        lengths = [
            np.asarray(bm.lengths) if alive is None else np.asarray(bm.lengths)[alive]
            for bm, _, alive in parts
        ]
        every = np.concatenate(lengths) if lengths else np.zeros(0, np.float32)
        self.size = len(every)
        avg = float(every.mean()) if self.size else 1.0
        self._norm = [
            (k1 * (1 - b + b * np.asarray(bm.lengths) / max(avg, 1.0))).astype(np.float32)
            for bm, _, _ in parts
        ]

    def _postings(self, term: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
        out = []
        for n, (bm, _, alive) in enumerate(self.parts):
            col = bm.vocab.get(term)
            if col is None:
                continue
            a, b = bm.indptr[col], bm.indptr[col + 1]
            rows, tf = bm.indices[a:b], bm.tf[a:b]
            if alive is not None:
                keep = alive[rows]
                rows, tf = rows[keep], tf[keep]
            if len(rows):
                out.append((n, rows, tf))
        return out

    def rows_with(self, term: str) -> np.ndarray:
        """The generation's rows whose passage has ``term`` among its words."""
        found = [self.parts[n][1] + rows for n, rows, _ in self._postings(term)]
        return np.concatenate(found) if found else np.zeros(0, np.int64)

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term``; a term the index never saw gets the most."""
        return self._idf(sum(len(rows) for _, rows, _ in self._postings(term)))

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every row for the query tokens (0 for removed rows)."""
        out = np.zeros(self.rows, dtype=np.float32)
        for term in set(query):
            postings = self._postings(term)
            if not postings:
                continue
            weight = np.float32(self._idf(sum(len(rows) for _, rows, _ in postings)))
            for n, rows, tf in postings:
                first, norm = self.parts[n][1], self._norm[n]
                out[first + rows] += weight * tf * (self.k1 + 1) / (tf + norm[rows])
        return out


class OpenGeneration:
    """A generation opened for searching, its passages read only when asked for.

    Args:
        segments: Each segment's folder and the reports of it the generation dropped.
        documents: The generation's documents (their order gives the row codes).
    """

    def __init__(
        self, segments: Sequence[tuple[Path, frozenset[str]]], documents: Sequence[Document]
    ) -> None:
        self.documents = {d.doc_id: d for d in documents}
        self.doc_ids = [d.doc_id for d in documents]  # row code -> document
        code = {d.doc_id: n for n, d in enumerate(documents)}
        self.segments = [open_segment(path) for path, _ in segments]
        self.first_row = np.cumsum([0] + [s.size for s in self.segments])
        self.rows = int(self.first_row[-1])
        # Row -> its document's position in ``documents``; -1 (never admitted) if removed.
        self.doc_code = np.full(self.rows, -1, dtype=np.int32)
        self.ranges: dict[str, list[tuple[int, int]]] = {}
        keyword, parts = [], []
        for seg, (_, dropped), first in zip(self.segments, segments, self.first_row, strict=False):
            for doc, a, b in seg.doc_runs:
                if doc not in dropped and doc in code:
                    self.doc_code[first + a : first + b] = code[doc]
                    self.ranges.setdefault(doc, []).append((first + a, first + b))
            alive = None
            if dropped & seg.docs():
                alive = self.doc_code[first : first + seg.size] >= 0
            keyword.append((seg.bm25, int(first), alive))
            parts.append(seg.parts(self.documents))
        self.keyword = KeywordIndex(keyword, self.rows)
        self.parts = np.concatenate(parts) if parts else np.zeros(0, np.int8)
        counts = np.concatenate([s.counts for s in self.segments] or [np.zeros(0, np.int32)])
        self.first_sentence = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        vectors = [s.vectors() for s in self.segments]
        self.vectors = None if any(v is None for v in vectors) else vectors
        self.first_vector = self.first_sentence[self.first_row]
        self._segment_starts = set(self.first_row.tolist())
        found = [s.passage_vectors() for s in self.segments]
        # None: a segment of it was written before passage vectors were kept in segments,
        # and the home's Chroma collection is searched instead (until the next build).
        self.passage_vectors = None if any(v is None for v in found) else found

    @functools.cached_property
    def row_of(self) -> dict[str, int]:
        """Row of each live passage id (for results of a Chroma collection)."""
        return {
            pid: int(first) + n
            for seg, first in zip(self.segments, self.first_row, strict=False)
            for n, pid in enumerate(seg.ids)
            if self.doc_code[first + n] >= 0
        }

    def passage(self, row: int) -> Passage:
        """The passage at ``row``."""
        n = int(np.searchsorted(self.first_row, row, side="right")) - 1
        return self.segments[n].passage(row - int(self.first_row[n]))[0]

    def live_ranges(self, doc_ids: Iterable[str] | None = None) -> list[tuple[int, int]]:
        """Row ranges of ``doc_ids`` (every live document's when ``None``), in row order,
        touching ones of the same segment joined."""
        docs = self.ranges if doc_ids is None else {d: self.ranges.get(d, []) for d in doc_ids}
        out: list[tuple[int, int]] = []
        for a, b in sorted(r for rs in docs.values() for r in rs):
            if out and out[-1][1] == a and a not in self._segment_starts:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    def sentence_block(self, a: int, b: int) -> np.ndarray:
        """Sentence vectors ``a`` to ``b`` (in generation order) of one segment."""
        n = int(np.searchsorted(self.first_vector, a, side="right")) - 1
        base = int(self.first_vector[n])
        return self.vectors[n][a - base : b - base]

    def best_sentences(
        self, vector: np.ndarray, ranges: list[tuple[int, int]], n: int
    ) -> np.ndarray:
        """The ``n`` sentences of the passages in row ``ranges`` (see :meth:`live_ranges`)
        most similar to ``vector``, best first, as positions in generation order.

        Exact: a segment's ranges are scanned, or when they hold more than
        ``PREFILTER_SENTENCES`` sentences, the candidates of its compact copy are scored.
        """
        spans: dict[int, list[tuple[int, int]]] = {}
        for a, b in ranges:
            seg = int(np.searchsorted(self.first_row, a, side="right")) - 1
            base = int(self.first_vector[seg])
            first, end = int(self.first_sentence[a]) - base, int(self.first_sentence[b]) - base
            if end > first:
                spans.setdefault(seg, []).append((first, end))
        found, _ = self._nearest(
            vector, spans, n, self.vectors, self.first_vector, QUANTIZED_FILE, PREFILTER_SENTENCES
        )
        return found

    def best_passages(
        self, vector: np.ndarray, ranges: list[tuple[int, int]], n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` passages of row ``ranges`` most similar to ``vector`` (unit length),
        best first: their rows and cosine similarities. Exact, as :meth:`best_sentences`,
        over passage vectors (there must be some: see ``passage_vectors``)."""
        spans: dict[int, list[tuple[int, int]]] = {}
        for a, b in ranges:
            seg = int(np.searchsorted(self.first_row, a, side="right")) - 1
            base = int(self.first_row[seg])
            spans.setdefault(seg, []).append((a - base, b - base))
        return self._nearest(
            vector,
            spans,
            n,
            self.passage_vectors,
            self.first_row,
            PASSAGE_QUANTIZED_FILE,
            PREFILTER_PASSAGES,
        )

    def _nearest(self, vector, spans, n, vectors, first, copy, prefilter):
        """Positions (in generation order) and similarities of the ``n`` rows of ``spans``
        (per segment, local row ranges of its ``vectors``) nearest ``vector``."""
        sims, found = [], []
        for seg, local in spans.items():
            rows, base = vectors[seg], int(first[seg])
            if sum(b - a for a, b in local) > prefilter:
                chosen = np.sort(self.segments[seg].candidates(vector, local, PREFILTER_KEEP, copy))
                sims.append(rows[chosen] @ vector)
                found.append(chosen + base)
                continue
            for a, b in local:
                sims.append(rows[a:b] @ vector)
                found.append(np.arange(a + base, b + base))
        if not sims:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        sims, found = np.concatenate(sims), np.concatenate(found)
        best = top(sims, n)
        return found[best], sims[best]


def top(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest ``values``, largest first: a partial sort, since a full
    one of every sentence's similarity took most of a question's time at 10^5 passages."""
    if n < len(values):
        part = np.argpartition(-values, n)[:n]
        return part[np.argsort(-values[part])]
    return np.argsort(-values)


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


def part_codes(passages: list[Passage], documents: dict[str, Document]) -> np.ndarray:
    """:func:`report_parts` as PARTS codes, as a segment keeps them."""
    return np.array([PARTS.index(p) for p in report_parts(passages, documents)], np.int8)


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
