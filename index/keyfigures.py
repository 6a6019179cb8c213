"""Each report's key figures, read when it is indexed and kept beside its shard.

A report's figures are its targets (:func:`index.figures.target_figures`), the target of
each common indicator its plan states outside the targets paragraph
(:func:`index.figures.stated_figure`), and the headline results of the year it reviews
(:func:`index.results.result_figures`). They are written beside the report version's
shard (``shards/DOC@VERSION.figures.json``) when the report is indexed, so a changed
report has new ones, and go with its shard. A home that fetched a shard from a Chroma
server, or whose figures an earlier extractor wrote (``FIGURES_VERSION``), reads them
from the shard once and keeps them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import orjson

from index import vocab
from index.figures import Figure, stated_figure, target_figures
from index.model import Document, Passage
from index.results import result_figures
from index.settings import Settings

FIGURES_SUFFIX = ".figures.json"
# Raised whenever what the extractors return changes: figures an earlier version kept are
# read again from their shards (the shards themselves do not change).
FIGURES_VERSION = 6


def extract_figures(doc: Document, passages: Sequence[Passage], parts: Sequence[str]) -> dict:
    """A report's figures as kept: its targets, the targets stated elsewhere in its plan
    (of each common indicator its targets lack) and its results."""
    targets = target_figures(passages)
    have = {f.canonical for f in targets}
    elsewhere = [
        found
        for name, _ in vocab.INDICATORS
        if name not in have and (found := stated_figure(passages, name, parts))
    ]
    results = result_figures(passages, parts, doc.year)
    return {
        "version": FIGURES_VERSION,
        "targets": [asdict(f) for f in targets],
        "elsewhere": [asdict(f) for f in elsewhere],
        "results": [asdict(f) for f in results],
    }


def write_figures(path: Path, kept: dict) -> None:
    """Keep a report's figures at ``path`` (whole or not at all)."""
    from index.shards import write_shard

    write_shard(path, orjson.dumps(kept).decode())


def _read(path: Path) -> dict | None:
    """The figures kept at ``path``, or ``None`` when there are none of this version."""
    try:
        kept = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return kept if kept.get("version") == FIGURES_VERSION else None


def report_figures(
    settings: Settings,
    documents: Sequence[Document] | None = None,
    asked: Sequence[str] | None = None,
) -> list[tuple[Document, list[Figure]]]:
    """Each live report's key figures (of ``documents``, default every live report), in the
    index's order: its targets and results, and for each indicator of ``asked`` (common
    names) its targets paragraph lacks, the target of it stated elsewhere in its plan.

    Raises:
        IndexMissingError: There is no index yet.
        IndexCorruptError: A report's passages do not read back.
        StoreUnavailableError: Its passages are on a Chroma server that does not answer.
    """
    from index.errors import IndexMissingError
    from index.shards import PARTS, open_shard
    from index.store import IndexStore

    store = IndexStore(settings)
    manifest = store.read_manifest()
    if manifest is None:
        raise IndexMissingError("there is no index yet", "还没有建立索引。")
    wanted = None if documents is None else {d.doc_id for d in documents}
    docs = [d for d in manifest.documents if wanted is None or d.doc_id in wanted]
    store.with_shards(manifest, docs)
    found = []
    for doc in docs:
        path = store.figures_path(doc)
        kept = _read(path)
        if kept is None:
            shard = open_shard(store.shard_path(doc))  # the process's open shards
            passages = [shard.passage(n) for n in range(shard.size)]
            kept = extract_figures(doc, passages, [PARTS[c] for c in shard.keys().parts])
            # a home this process may not write: read them from the shard each time
            with contextlib.suppress(OSError):
                write_figures(path, kept)
        figures = [Figure(**f) for f in kept["targets"]]
        figures += [Figure(**f) for f in kept["elsewhere"] if f["canonical"] in (asked or ())]
        figures += [Figure(**f) for f in kept["results"]]
        found.append((doc, figures))
    return found
