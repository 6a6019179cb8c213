"""A whole report as the index holds it: its passages in order, for reading a cited
passage in its place (the page's source viewer)."""

from __future__ import annotations

from dataclasses import dataclass

from index.errors import IndexMissingError, ReportNotFoundError
from index.model import Document, Passage
from index.settings import Settings


@dataclass(frozen=True)
class ReportText:
    """One indexed report and every passage of it.

    Attributes:
        document: The report (title, year, region, source file).
        passages: Its passages in report order; headings alone are not passages, each
            passage's ``section`` names the headings above it.
    """

    document: Document
    passages: tuple[Passage, ...]


def report_text(doc_or_source: str, *, settings: Settings | None = None) -> ReportText:
    """The report whose id or source path is ``doc_or_source``, with its passages in order
    (as a citation's ``source`` names its report).

    Raises:
        IndexMissingError: There is no index yet.
        ReportNotFoundError: No live report has that id or source (removed since).
        IndexCorruptError: The report's passages do not read back.
        StoreUnavailableError: Its passages are on a Chroma server that does not answer.
    """
    from index.shards import open_shard
    from index.store import IndexStore

    settings = settings or Settings.from_env()
    store = IndexStore(settings)
    manifest = store.read_manifest()
    if manifest is None:
        raise IndexMissingError("there is no index yet", "还没有建立索引。")
    found = [d for d in manifest.documents if doc_or_source in (d.doc_id, d.source)]
    if not found:
        raise ReportNotFoundError(
            f"no indexed report {doc_or_source}", "这份报告已不在索引中（可能已被删除或修改）。"
        )
    document = found[0]
    store.with_shards(manifest, [document])
    shard = open_shard(store.shard_path(document))  # the process's open shards, as a question
    return ReportText(document, tuple(shard.passage(n) for n in range(shard.size)))
