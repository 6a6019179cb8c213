"""Every report's key figures as data: the rows behind ``reportqa figures`` and
``GET /api/figures`` (:class:`~assistant.types.FigureRow`)."""

from __future__ import annotations

from dataclasses import asdict

from assistant.types import FigureRow, ReportFilter
from assistant.within import admitted
from index.errors import IndexMissingError
from index.figures import Figure, FigureKind, year_of
from index.keyfigures import report_figures
from index.model import Document
from index.settings import Settings

# The columns of a CSV of figures, in order: the fields a user sorts and compares by first.
COLUMNS = (
    "region",
    "year",
    "indicator",
    "canonical",
    "value",
    "value_high",
    "unit",
    "qualifier",
    "kind",
    "text",
    "report",
    "doc_id",
    "paragraph",
    "start",
    "end",
    "section",
)


def key_figures(
    within: ReportFilter | None = None,
    *,
    doc_id: str | None = None,
    kind: FigureKind | None = None,
    settings: Settings | None = None,
) -> list[FigureRow]:
    """The key figures (targets and results, or only ``kind``) of the indexed reports
    ``within`` admits (all without a filter; only the report ``doc_id`` with one), by region,
    then year, then the report's order.

    Raises:
        IndexMissingError: There is no index yet.
    """
    from index.build import list_documents

    settings = settings or Settings.from_env()
    documents = list_documents(settings)
    if not documents:
        raise IndexMissingError("there is no index yet", "还没有建立索引。")
    chosen = [d for d in admitted(documents, within) if doc_id in (None, d.doc_id)]
    rows = [
        figure_row(doc, f)
        for doc, figures in report_figures(settings, chosen)
        for f in figures
        if kind in (None, f.kind)
    ]
    return sorted(rows, key=lambda r: (r.region, r.year or 0))


def figure_row(doc: Document, figure: Figure) -> FigureRow:
    """The row of ``figure``, a key figure of the report ``doc``: the figure's fields but
    its passage, with the report's."""
    fields = {k: v for k, v in asdict(figure).items() if k != "passage"}
    year = year_of(doc.year, figure.kind)
    return FigureRow(report=doc.title, doc_id=doc.doc_id, region=doc.region, year=year, **fields)
