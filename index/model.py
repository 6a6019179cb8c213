"""Typed records that cross module boundaries: documents, passages, build reports."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


def content_hash(text: str) -> str:
    """Hex SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    """One report as indexed.

    Attributes:
        doc_id: Stable id derived from the source path.
        title: Report title, e.g. ``2025年太原市政府工作报告``.
        year: The year the report plans for (``None`` when unknown).
        region: ``太原市``, ``山西省``, ``全国`` … (empty when unknown).
        source: Path of the file it was read from.
        sha256: Hash of the raw file bytes plus any metadata override.
    """

    doc_id: str
    title: str
    year: int | None
    region: str
    source: str
    sha256: str


@dataclass(frozen=True)
class Passage:
    """A retrievable piece of a report with its exact address.

    Attributes:
        doc_id: Id of the document it belongs to.
        text: The passage text, a slice of the cleaned document text.
        section: Section path, parts joined by `` > ``.
        paragraph: 1-based paragraph number in the cleaned document.
        start: Offset of ``text`` in the cleaned document.
        end: End offset (exclusive) in the cleaned document.
        sentences: ``(start, end)`` offsets of each sentence, relative to ``text``; a
            long sentence is cut between clauses (see :func:`index.chunking.evidence_units`).
    """

    doc_id: str
    text: str
    section: str
    paragraph: int
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...] = field(default=())


@dataclass(frozen=True)
class ParsedDocument:
    """A document, its cleaned text and its passages."""

    document: Document
    text: str
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Failure:
    """A file a build could not read.

    Attributes:
        source: The file's path.
        reason: Why, in English.
        reason_zh: Why, in Chinese (for the chat).
    """

    source: str
    reason: str
    reason_zh: str


@dataclass(frozen=True)
class BuildReport:
    """What a build did.

    Attributes:
        added: Sources indexed for the first time.
        updated: Sources whose content changed.
        unchanged: Sources skipped because nothing changed.
        removed: Sources dropped from the index.
        failed: One :class:`Failure` for each file that could not be read.
        chunks: Passages in the index after the build.
        embedded: Passages that had to be embedded (the rest came from the cache).
        seconds: Wall time of the build.
        upgraded: The index was built by an earlier version and is now brought up to
            date: every report was written again from its file and the embedding cache.
    """

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failed: tuple[Failure, ...] = ()
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0
    upgraded: bool = False

    def to_json(self) -> dict:
        """The ``--json`` form printed by ``reportqa index build``."""
        return {
            "added": list(self.added),
            "updated": list(self.updated),
            "unchanged": list(self.unchanged),
            "removed": list(self.removed),
            "failed": [asdict(f) for f in self.failed],
            "chunks": self.chunks,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
            "upgraded": self.upgraded,
        }


@dataclass(frozen=True)
class IndexedDocument(Document):
    """A document as listed by ``reportqa index list``: with its passage count."""

    passages: int = 0
