"""Entry point of ingestion: a report file in, a :class:`ParsedDocument` out."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from index.chunking import MAX_CHARS, chunk_text
from index.clean import clean_text
from index.errors import ReadError
from index.metadata import effective_override, infer_metadata, meta_paths
from index.model import Document, ParsedDocument
from index.readers import (
    SUPPORTED_SUFFIXES,
    max_file_bytes,
    read_limited,
    read_text,
    unsupported_format,
)
from index.settings import Settings

__all__ = [
    "SUPPORTED_SUFFIXES",
    "doc_id_for",
    "file_stamp",
    "identify",
    "iter_report_files",
    "parse_file",
]

META_SUFFIX = ".meta.json"
SLUG_MAX_CHARS = 60

# Part of every document hash: bump it when cleaning, chunking, metadata inference or the
# report parts a segment keeps change, so the next build re-reads every file (unchanged
# passages still come from the embedding cache). 7: 开好局/起好步 sections are the plan.
# 8: an article's opening lines (国务院总理, X市人民政府) no longer make it a report.
# 9: a "sentence" of over 512 characters (a table, a text with no stops) is cut.
PARSER_VERSION = b"9\0"


def doc_id_for(path: Path) -> str:
    """Stable id of a source file: a slug of its stem plus a hash of its resolved path.

    Chinese characters are kept in the slug, e.g. ``p06-山西省-2026-1a2b3c4d``.
    """
    resolved = path.resolve()
    slug = re.sub(r"[\W_]+", "-", resolved.stem.lower()).strip("-")[:SLUG_MAX_CHARS] or "report"
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


def parse_file(
    path: Path,
    override: dict | None = None,
    *,
    max_bytes: int | None = None,
    max_passages: int | None = None,
) -> ParsedDocument:
    """Read, clean and chunk one report.

    Args:
        path: The report file (.txt, .md, .html/.htm, .docx or .pdf).
        override: ``title``/``year``/``region`` values that win over the
            ``.meta.json`` beside the file and over inference.
        max_bytes: The largest file, and the most it may unpack to or hold as text;
            ``None`` takes ``REPORTQA_MAX_FILE_MB`` from the environment.
        max_passages: The most passages; ``None`` takes ``REPORTQA_MAX_PASSAGES``.

    Returns:
        The document record, its cleaned text and its passages.

    Raises:
        ReadError: The file is missing, unsupported, undecodable, over the limit or
            holds no text.
    """
    limit = max_file_bytes() if max_bytes is None else max_bytes
    most = Settings.from_env().max_passages if max_passages is None else max_passages
    resolved, raw = _read_raw(Path(path), limit)
    text = read_text(resolved, raw, max_bytes=limit)
    # Refused before cleaning and cutting when even passages of twice the usual length
    # could not hold it, and after cutting when it makes too many.
    if len(text) > 2 * MAX_CHARS * most:
        raise _too_many(path, most)
    text = clean_text(text)
    if not text.strip():
        raise ReadError(path, "no report text left after cleaning", "清理后没有正文内容")
    settings = effective_override(resolved, override)
    meta = infer_metadata(resolved, text, settings)
    doc_id = doc_id_for(resolved)
    document = Document(
        doc_id=doc_id,
        title=meta.title,
        year=meta.year,
        region=meta.region,
        source=str(resolved),
        sha256=_fingerprint(raw, settings),
    )
    passages = chunk_text(doc_id, text)
    if len(passages) > most:
        raise _too_many(path, most)
    return ParsedDocument(document=document, text=text, passages=passages)


def _too_many(path: Path, most: int) -> ReadError:
    return ReadError(
        path,
        f"more text than {most} passages (REPORTQA_MAX_PASSAGES); refused: is it a report?",
        f"正文超过 {most} 段的上限（REPORTQA_MAX_PASSAGES），已拒绝：这是一份报告吗？",
    )


def identify(
    path: Path, override: dict | None = None, *, max_bytes: int | None = None
) -> tuple[str, str]:
    """``(doc_id, sha256)`` that :func:`parse_file` would give ``path``, without parsing
    it: a build reads an unchanged report's bytes, not its text.

    Raises:
        ReadError: The file is missing, unreadable or over the limit.
    """
    limit = max_file_bytes() if max_bytes is None else max_bytes
    resolved, raw = _read_raw(Path(path), limit)
    return doc_id_for(resolved), _fingerprint(raw, effective_override(resolved, override))


# A file changed within this long of its stamp being taken may have changed again within the
# same timestamp tick (kernels stamp files from a clock that moves every few milliseconds,
# some file systems every second or two): it gets no stamp, and the next build hashes it.
_SETTLED_NS = 3_000_000_000


def file_stamp(path: Path) -> tuple[int, ...] | None:
    """The parser version, then size and modification time (ns) of a report file and of the
    two meta files that may sit beside it (-1, -1 for one that is absent): while a file's
    stamp is the one the index recorded, its bytes, meta file and parser are those it
    hashed, and a build need not read them.

    ``None`` for a file that is missing or was modified too recently to be sure of.
    """
    now = time.time_ns()
    # The hash a stamp stands for includes the parser version: a new parser reads again.
    stamp: list[int] = [int(PARSER_VERSION.rstrip(b"\0"))]
    for name in (path, *meta_paths(path)):
        try:
            stat = os.stat(name)
        except OSError:
            if name == path:
                return None
            stamp += (-1, -1)
            continue
        if now - stat.st_mtime_ns < _SETTLED_NS:
            return None
        stamp += (stat.st_size, stat.st_mtime_ns)
    return tuple(stamp)


def _read_raw(path: Path, limit: int) -> tuple[Path, bytes]:
    if not path.is_file():
        reason = "is a directory, not a file" if path.is_dir() else "no such file"
        raise ReadError(path, reason, "是文件夹，不是文件" if path.is_dir() else "文件不存在")
    resolved = path.resolve()
    try:
        return resolved, read_limited(resolved, limit)
    except OSError as exc:
        raise ReadError(path, f"cannot read the file ({exc.strerror})", "无法读取文件") from exc


def _fingerprint(raw: bytes, settings: dict) -> str:
    """What says a report changed: its bytes, the metadata it was given, our parser."""
    given = json.dumps(settings, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(PARSER_VERSION + raw + b"\0" + given).hexdigest()


def _is_meta(path: Path) -> bool:
    return path.name.lower().endswith(META_SUFFIX)


def _is_report(path: Path) -> bool:
    return (
        path.suffix.lower() in SUPPORTED_SUFFIXES
        and not _is_meta(path)
        and not path.name.startswith((".", "~$"))
    )


def iter_report_files(paths: Iterable[Path]) -> list[Path]:
    """The report files named by ``paths``, searching directories recursively.

    Hidden files, Office lock files (``~$…``) and ``*.meta.json`` are skipped in
    directories. A file named explicitly with an unsupported suffix is an error
    rather than silently ignored.

    Returns:
        Resolved paths, sorted and without duplicates.

    Raises:
        ReadError: A path does not exist, or a named file is not a supported format.
    """
    found: set[Path] = set()
    for path in map(Path, paths):
        if not path.exists():
            raise ReadError(path, "no such file or directory", "文件或文件夹不存在")
        if path.is_dir():
            found.update(
                child.resolve()
                for child in path.rglob("*")
                if child.is_file() and _is_report(child) and not _hidden_below(child, path)
            )
        elif _is_meta(path):
            continue
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.add(path.resolve())
        else:
            raise unsupported_format(path)
    return sorted(found, key=str)


def _hidden_below(child: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in child.relative_to(root).parts)
