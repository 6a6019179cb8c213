"""The keyword index of the live reports: one BM25 over their passages, kept per home.

Chroma cannot score BM25 on one machine (its sparse indexes and ``search()`` are
server-only), so the keyword side is ours. It is derived data, made on the home that
reads it from the reports' shards (each holds its report's BM25 counts, see
:class:`index.shards.ShardKeys`), never shipped: a folder per manifest
(``keyword/GENERATION``) holding one BM25 over every live passage (:mod:`index.bm25`),
the report versions in its row order, and each row's sentence count and report part. A
new manifest's index is the one before with the rows of reports that went dropped and
the new reports' counts appended (:meth:`index.bm25.BM25.merged`): adding a report costs
that report's counts, not the index's, and the scores are those of one index of the same
passages. One index rather than one per report: at 10^5 passages (a thousand reports) a
question's word weights took 6 ms a word over per-report indexes, and opening them 2.7 s.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.bm25 import BM25
from index.model import Document
from index.shards import ShardKeys, file_sum, open_shard, shard_name

KEYWORD_FOLDER = "keyword"
_REPORTS = "reports.json"  # the report versions in row order, and their passage counts
_COUNTS = "sentence_counts.npy"
_PARTS = "parts.npy"
_BM25 = "bm25"
_SUMS = "sha256.json"  # each file's sha256 by its path in the folder: `reportqa index check`


@dataclass(frozen=True)
class Keywords:
    """A manifest's keyword index: its BM25, report versions in row order with their
    passage counts, and each row's sentence count and report part (``PARTS`` code)."""

    bm25: BM25
    names: tuple[str, ...]
    sizes: tuple[int, ...]
    counts: np.ndarray
    parts: np.ndarray


def open_keywords(
    home: Path,
    generation: str,
    documents: Sequence[Document],
    shard_path: Callable[[Document], Path],
    keep: frozenset[str] = frozenset(),
    grace: float = 60.0,
    known: dict[str, ShardKeys] | None = None,
) -> Keywords:
    """The keyword index of ``generation`` (its ``documents``' shards must be there), made
    now from the newest one this home has when it lacks it; indexes of generations other
    than ``generation`` and ``keep``, made more than ``grace`` seconds ago, are removed.
    ``known`` holds the keys of shards the caller has just written (not read again).
    """
    root = home / KEYWORD_FOLDER
    folder = root / generation
    if not (folder / _REPORTS).exists():
        root.mkdir(parents=True, exist_ok=True)
        base = _newest(root, generation)
        _write(folder, documents, shard_path, base, known or {})
        _collect(root, {generation, *keep}, grace)
    return load_keywords(folder)


def load_keywords(folder: Path) -> Keywords:
    listing = json.loads((folder / _REPORTS).read_text("utf-8"))
    bm25 = BM25.load(folder / _BM25)
    return Keywords(
        bm25,
        tuple(listing["names"]),
        tuple(listing["sizes"]),
        np.load(folder / _COUNTS),
        np.load(folder / _PARTS),
    )


def keywords_intact(folder: Path) -> bool | None:
    """Whether every file of the keyword index in ``folder`` has the sha256 it was written
    with; ``None`` for an index written before sums, which only reading back can check."""
    try:
        stated = json.loads((folder / _SUMS).read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return False
    try:
        return stated == _sums(folder)
    except OSError:
        return False


def _sums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): file_sum(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != _SUMS
    }


def _newest(root: Path, generation: str) -> Keywords | None:
    """The most recently made keyword index of this home, if one can be read."""
    made = sorted(
        (p for p in root.iterdir() if (p / _REPORTS).exists() and p.name != generation),
        key=lambda p: p.stat().st_mtime,
    )
    for folder in reversed(made):
        try:
            return load_keywords(folder)
        except (OSError, ValueError):  # removed meanwhile, or half there: try the one before
            continue
    return None


def _write(
    folder: Path,
    documents: Sequence[Document],
    shard_path: Callable[[Document], Path],
    base: Keywords | None,
    known: dict[str, ShardKeys],
) -> None:
    """Write the keyword index of ``documents``: ``base``'s rows of the reports that stay, in
    their order, then the other reports' passages; into a new folder renamed into place."""
    wanted = {shard_name(d): d for d in documents}
    kept = [n for n in (base.names if base else ()) if n in wanted]
    new = [n for n in wanted if n not in set(kept)]
    keys = {n: known.get(n) or open_shard(shard_path(wanted[n])).keys() for n in new}
    added = [keys[n].postings for n in new]
    if base is not None:
        keep = np.repeat([n in wanted for n in base.names], base.sizes).astype(bool)
        bm25 = BM25.merged(base.bm25, keep, added)
        counts, parts = [base.counts[keep]], [base.parts[keep]]
    else:
        bm25, counts, parts = BM25.merged(None, None, added), [], []
    counts += [keys[n].counts for n in new]
    parts += [keys[n].parts for n in new]
    sizes = [s for n, s in zip(base.names, base.sizes, strict=True) if n in wanted] if base else []
    sizes += [keys[n].size for n in new]
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    try:
        bm25.save(tmp / _BM25)
        np.save(tmp / _COUNTS, np.concatenate(counts or [np.zeros(0, np.int32)]).astype(np.int32))
        np.save(tmp / _PARTS, np.concatenate(parts or [np.zeros(0, np.int8)]).astype(np.int8))
        listing = {"names": kept + new, "sizes": [int(s) for s in sizes]}
        (tmp / _REPORTS).write_text(json.dumps(listing, ensure_ascii=False), "utf-8")
        (tmp / _SUMS).write_text(json.dumps(_sums(tmp)), "utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:  # another process made it meanwhile
            if not (folder / _REPORTS).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _collect(root: Path, keep: set[str], grace: float) -> None:
    """Remove the keyword indexes of other generations made more than ``grace`` seconds
    ago: a question that read the manifest before may still read its index."""
    now = time.time()
    for folder in root.iterdir():  # a killed writer's ".…tmp" folder too
        if folder.name not in keep and now - folder.stat().st_mtime > grace:
            shutil.rmtree(folder, ignore_errors=True)
