"""Report shards: each report version's passages and keyword counts, the text side of the index.

Chroma holds the vectors (see :mod:`index.records`). A shard is one file per report
version (``shards/DOC@VERSION.jsonl``): a line per passage in report order, then one line
of what the keyword index needs of the report (:class:`ShardKeys`: its BM25 counts,
each passage's sentence count and report part). It is byte for byte the document of the
report's record on Chroma, so a home that lacks a shard (another machine built it) writes
the record's document as it comes, without reading it. A shard never changes once
written: a changed report is a new version, a new shard. Their keyword index is
:mod:`index.keyword`.

A reader opens the live reports as one :class:`OpenIndex`: rows numbered across the
reports in the keyword index's order, and a passage parsed only when it is read.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import mmap
import os
import re
import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import orjson  # chromadb's own JSON library: a report's lines read 3x faster than with json

from index.bm25 import Postings, postings_of
from index.model import Document, Passage
from index.vocab import FIRST_YEAR_SECTION, PLAN_SECTION, REVIEW_SECTION

if TYPE_CHECKING:
    from index.keyword import Keywords

SHARD_SUFFIX = ".jsonl"

Part = Literal["review", "plan", "outlook", ""]
PARTS: tuple[Part, ...] = ("", "review", "plan", "outlook")
_FUTURE = re.compile(r"十[一二三四五六七八九]五|五年|中长期|远景|20[3-5]\d年")


def version_of(doc: Document) -> str:
    """The version of a report: its file bytes and metadata (its hash), cut short."""
    return doc.sha256[:16]


def shard_name(doc: Document) -> str:
    """A report version's name: its shard's, its records' id prefix."""
    return f"{doc.doc_id}@{version_of(doc)}"


@dataclass(frozen=True)
class ShardKeys:
    """What the keyword index needs of a report: its BM25 counts, and each passage's
    sentence count and report part (``PARTS`` code)."""

    postings: Postings
    counts: np.ndarray
    parts: np.ndarray

    @property
    def size(self) -> int:
        return len(self.counts)

    def to_line(self) -> str:
        p = self.postings
        return orjson.dumps(
            {
                "counts": self.counts.tolist(),
                "parts": self.parts.tolist(),
                "lengths": p.lengths.astype(np.int64).tolist(),
                "width": p.width.tolist(),
                "terms": list(p.terms),
                # Arrays of ~7,000 numbers a report as bytes: as JSON numbers, reading
                # 10^5 passages' took 1 s of a new chat server's start.
                "term": _pack(p.term),
                "tf": _pack(p.tf),
            }
        ).decode()

    @classmethod
    def from_line(cls, line: bytes | str) -> ShardKeys:
        raw = orjson.loads(line)
        postings = Postings(
            tuple(raw["terms"]),
            _unpack(raw["term"]),
            _unpack(raw["tf"]),
            np.asarray(raw["width"], np.int32),
            np.asarray(raw["lengths"], np.float32),
        )
        return cls(postings, np.asarray(raw["counts"], np.int32), np.asarray(raw["parts"], np.int8))


def _pack(values: np.ndarray) -> str:
    # Compressed: counts are mostly 1, and these arrays were 40% of a shard's bytes, which
    # a new chat server fetches and writes for every report.
    return base64.b64encode(zlib.compress(np.ascontiguousarray(values, "<i4").tobytes())).decode()


def _unpack(text: str) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), "<i4").astype(np.int32)


def passage_to_json(p: Passage) -> dict:
    """A passage as one line of a shard (``asdict``'s deep copy was most of writing 10^5
    passages)."""
    line = {f.name: getattr(p, f.name) for f in fields(p)}
    line["sentences"] = [list(s) for s in p.sentences]
    return line


def passage_from_json(raw: dict) -> Passage:
    """Inverse of :func:`passage_to_json`."""
    raw["sentences"] = tuple(tuple(s) for s in raw["sentences"])
    return Passage(**raw)


def shard_keys(doc: Document, passages: Sequence[Passage], tokens: list[list[str]]) -> ShardKeys:
    """The keys of ``doc``'s shard, from its passages and their keyword tokens."""
    counts = np.array([len(p.sentences) for p in passages], np.int32)
    return ShardKeys(postings_of(tokens), counts, part_codes(list(passages), {doc.doc_id: doc}))


def shard_text(passages: Sequence[Passage], keys: ShardKeys) -> str:
    """A report's shard (also its record's document on Chroma): its passages, then its keys."""
    lines = [orjson.dumps(passage_to_json(p)).decode() for p in passages]
    return "\n".join([*lines, keys.to_line()])


def shard_sum(text: str) -> str:
    """The sha256 of a shard's text as its file holds it (the manifest keeps it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sum(path: Path) -> str:
    """The sha256 of the file at ``path``."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def write_shard(path: Path, text: str) -> None:
    """Write a shard into a new file renamed into place (a shard is there whole or not at
    all); another process writing the same one meanwhile writes the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text, "utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# Shards opened lately, shared by a process's readers: a shard never changes once
# written, and a new index mostly consists of the last one's shards.
_OPENED = 4096


@functools.lru_cache(maxsize=_OPENED)
def open_shard(path: Path) -> Shard:
    """The shard at ``path``, opened once per process while it is among the recent."""
    return Shard(path)


class Shard:
    """One report version's shard opened for reading, mapped; a passage is parsed when it is
    read. Open one through :func:`open_shard`.

    Raises:
        FileNotFoundError: There is no shard at ``path``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as fh:
            self._data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        ends = np.flatnonzero(np.frombuffer(self._data, np.uint8) == ord("\n"))
        # Line n is bytes offsets[n]:offsets[n + 1] - 1; the last line is the keys.
        self.offsets = np.concatenate([[0], ends + 1, [len(self._data) + 1]]).astype(np.int64)
        self.size = len(self.offsets) - 2

    def passage(self, row: int) -> Passage:
        """Passage ``row`` of the report.

        Raises:
            IndexCorruptError: The shard does not read back (a truncated file).
        """
        try:
            return passage_from_json(orjson.loads(self._line(row)))
        except (ValueError, TypeError, KeyError) as exc:
            from index.errors import IndexCorruptError

            raise IndexCorruptError(f"{self.path.name}: {exc}") from exc

    def keys(self) -> ShardKeys:
        """What the keyword index needs of the report."""
        return ShardKeys.from_line(self._line(self.size))

    def _line(self, n: int) -> bytes:
        return self._data[self.offsets[n] : self.offsets[n + 1] - 1]


class OpenIndex:
    """The live reports opened for searching, as rows in the keyword index's order.

    Args:
        keyword: The live reports' keyword index (its report order is the rows' order).
        shards: The shard of each report of ``keyword``, in its order.
        documents: The live documents.
    """

    def __init__(
        self, keyword: Keywords, shards: Sequence[Path], documents: Sequence[Document]
    ) -> None:
        self.documents = {d.doc_id: d for d in documents}
        self.names = list(keyword.names)
        self.doc_ids = [name.partition("@")[0] for name in self.names]  # row code -> document
        self._shards = list(shards)
        self.first_row = np.concatenate([[0], np.cumsum(keyword.sizes)]).astype(np.int64)
        self.rows = int(self.first_row[-1])
        self.doc_code = np.repeat(np.arange(len(self.names), dtype=np.int32), keyword.sizes)
        self.code_of = {d: n for n, d in enumerate(self.doc_ids)}
        self.keyword = keyword.bm25
        self.parts = keyword.parts
        self.counts = keyword.counts
        self.first_sentence = np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)

    def passage(self, row: int) -> Passage:
        """The passage at ``row``."""
        n = int(self.doc_code[row])
        # open_shard keeps it open: a question reads a few reports
        return open_shard(self._shards[n]).passage(row - int(self.first_row[n]))

    def live_ranges(self, doc_ids: Iterable[str] | None = None) -> list[tuple[int, int]]:
        """Row range of each of ``doc_ids`` (every live document's when ``None``), in row order."""
        codes = (
            range(len(self.names))
            if doc_ids is None
            else sorted(self.code_of[d] for d in set(doc_ids) if d in self.code_of)
        )
        return [(int(self.first_row[c]), int(self.first_row[c + 1])) for c in codes]

    def record_id(self, row: int) -> str:
        """The Chroma id of the passage at ``row`` (see ``Records.add_report``)."""
        n = int(self.doc_code[row])
        return f"{self.names[n]}:{row - int(self.first_row[n])}"

    def row_of(self, record_id: str) -> int | None:
        """The row of a passage's Chroma id; ``None`` for one of a report not live here."""
        name, _, order = record_id.rpartition(":")
        code = self.code_of.get(name.partition("@")[0])
        if code is None or self.names[code] != name:
            return None
        return int(self.first_row[code]) + int(order)


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
            title = passages[row].section.split(" > ")[0]
            part = _section_part(title, doc.year if doc else None)
            seen_plan = seen_plan or part == "plan"
            parts[row] = part or ("plan" if seen_plan else "review")
    return parts


def part_codes(passages: list[Passage], documents: dict[str, Document]) -> np.ndarray:
    """:func:`report_parts` as PARTS codes, as a shard keeps them."""
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
