"""Report shards: each report version's passages and keyword tokens, the text side of the index.

Chroma holds the vectors (see :mod:`index.records`). A shard is a folder of one report
version's passages in report order (``passages.jsonl``, one passage and its keyword tokens
a line, with every line's byte offset), their sentence counts and which part of the report
each is in. A shard never changes once written: a changed report is a new version, a new
shard. A home keeps the shards of the live reports as a cache: a build writes them, and a
home that lacks one (another machine built it) makes it from the report's record on the
Chroma server. Their keyword index is :mod:`index.keyword`.

A reader opens the live reports as one :class:`OpenIndex`: rows numbered across the
reports in the keyword index's order, and a passage parsed only when it is read.
"""

from __future__ import annotations

import functools
import mmap
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import orjson  # chromadb's own JSON library: a report's lines read 3x faster than with json

from index.model import Document, Passage
from index.vocab import FIRST_YEAR_SECTION, PLAN_SECTION, REVIEW_SECTION

if TYPE_CHECKING:
    from index.keyword import Keywords

PASSAGES_FILE = "passages.jsonl"
OFFSETS_FILE = "offsets.npy"  # byte offset of every line of PASSAGES_FILE, and its size
COUNTS_FILE = "sentence_counts.npy"  # sentences per passage
PARTS_FILE = "parts.npy"  # PARTS code of each passage

Part = Literal["review", "plan", "outlook", ""]
PARTS: tuple[Part, ...] = ("", "review", "plan", "outlook")
_FUTURE = re.compile(r"十[一二三四五六七八九]五|五年|中长期|远景|20[3-5]\d年")


def version_of(doc: Document) -> str:
    """The version of a report: its file bytes and metadata (its hash), cut short."""
    return doc.sha256[:16]


def shard_name(doc: Document) -> str:
    """A report version's name: its shard folder's, its records' id prefix."""
    return f"{doc.doc_id}@{version_of(doc)}"


def passage_to_json(p: Passage, tokens: list[str]) -> dict:
    """A passage and its keyword tokens as one line of a shard (``asdict``'s deep copy was
    most of writing 10^5 passages)."""
    line = {f.name: getattr(p, f.name) for f in fields(p)}
    line["sentences"] = [list(s) for s in p.sentences]
    return {**line, "tokens": tokens}


def passage_from_json(raw: dict) -> tuple[Passage, list[str]]:
    """Inverse of :func:`passage_to_json`: the passage and its BM25 tokens."""
    tokens = raw.pop("tokens")
    raw["sentences"] = tuple(tuple(s) for s in raw["sentences"])
    return Passage(**raw), tokens


def shard_lines(passages: Sequence[tuple[Passage, list[str]]]) -> list[str]:
    """The lines of a shard's passages file (also a report record's document on Chroma)."""
    return [orjson.dumps(passage_to_json(p, t)).decode() for p, t in passages]


def write_shard(folder: Path, doc: Document, lines: Sequence[str]) -> list[list[str]]:
    """Write the shard of ``doc`` from its passages' lines (see :func:`shard_lines`), into a
    new folder renamed into place (a shard is there whole or not at all); its passages'
    keyword tokens, read on the way."""
    passages = [passage_from_json(orjson.loads(line)) for line in lines]
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    try:
        data = [line.encode() + b"\n" for line in lines]
        (tmp / PASSAGES_FILE).write_bytes(b"".join(data))
        offsets = np.concatenate([[0], np.cumsum([len(d) for d in data])]).astype(np.int64)
        np.save(tmp / OFFSETS_FILE, offsets)
        counts = np.array([len(p.sentences) for p, _ in passages], np.int32)
        np.save(tmp / COUNTS_FILE, counts)
        np.save(tmp / PARTS_FILE, part_codes([p for p, _ in passages], {doc.doc_id: doc}))
        try:
            os.rename(tmp, folder)
        except OSError:  # another process wrote the same shard meanwhile: the same bytes
            if not (folder / PARTS_FILE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [tokens for _, tokens in passages]


# Shards opened lately, shared by a process's readers: a shard never changes once
# written, and a new index mostly consists of the last one's shards.
_OPENED = 4096


@functools.lru_cache(maxsize=_OPENED)
def open_shard(folder: Path) -> Shard:
    """The shard in ``folder``, opened once per process while it is among the recent."""
    return Shard(folder)


class Shard:
    """One report version's shard opened for reading: counts, parts and offsets in memory,
    passages mapped. Open one through :func:`open_shard`.

    Raises:
        FileNotFoundError: There is no shard in ``folder``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        path = folder / PASSAGES_FILE
        size = path.stat().st_size
        with path.open("rb") as fh:
            self._data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self.offsets = np.load(folder / OFFSETS_FILE)
        self.counts = np.load(folder / COUNTS_FILE)
        self.parts = np.load(folder / PARTS_FILE)
        self.size = len(self.counts)

    def passage(self, row: int) -> tuple[Passage, list[str]]:
        """Passage ``row`` of the report, with its keyword tokens."""
        line = self._data[self.offsets[row] : self.offsets[row + 1]]
        return passage_from_json(orjson.loads(line))

    def tokens(self) -> list[list[str]]:
        """Every passage's keyword tokens, in report order."""
        return [self.passage(row)[1] for row in range(self.size)]


class OpenIndex:
    """The live reports opened for searching, as rows in the keyword index's order.

    Args:
        keyword: The live reports' keyword index (its report order is the rows' order).
        shards: The folder of each report of ``keyword``, in its order.
        documents: The live documents.
    """

    def __init__(
        self, keyword: Keywords, shards: Sequence[Path], documents: Sequence[Document]
    ) -> None:
        self.documents = {d.doc_id: d for d in documents}
        self.names = list(keyword.names)
        self.doc_ids = [name.partition("@")[0] for name in self.names]  # row code -> document
        self._folders = list(shards)
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
        return open_shard(self._folders[n]).passage(row - int(self.first_row[n]))[0]

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
