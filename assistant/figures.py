"""Every report's key figures as data: the rows behind ``reportqa figures`` and
``GET /api/figures``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from assistant.types import ReportFilter
from assistant.within import admitted
from index.errors import IndexMissingError
from index.figures import FigureKind, report_figures
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
)


@dataclass(frozen=True)
class FigureRow:
    """One key figure of one report, with the report it is from and where it says it.

    Attributes:
        report: The report's title.
        doc_id: The report's id (as ``reportqa index list`` shows it).
        region: The report's region.
        year: The report's plan year.
        indicator: As the report names it ("城镇新增就业").
        canonical: Its common name across reports ("GDP增长"), or ``None``.
        value: The figure, ``None`` for an item without one ("居民收入增长和经济增长同步").
        value_high: The upper end of a range, else ``None``.
        unit: The unit as written, ``None`` without a figure.
        qualifier: "左右", "以上", "以内", "以下", "不低于", "不超过", "同步",
            "完成国家下达任务" or "".
        kind: "target" or "result".
        text: The report's exact words for it.
        paragraph: The paragraph that holds them.
        start: Their offset in the cleaned report.
        end: Their end offset (exclusive).
    """

    report: str
    doc_id: str
    region: str
    year: int | None
    indicator: str
    canonical: str | None
    value: float | None
    value_high: float | None
    unit: str | None
    qualifier: str
    kind: FigureKind
    text: str
    paragraph: int
    start: int
    end: int

    def to_json(self) -> dict:
        """The row as JSON-ready fields (the API's and ``reportqa figures --json``'s)."""
        return asdict(self)


def key_figures(
    within: ReportFilter | None = None, *, settings: Settings | None = None
) -> list[FigureRow]:
    """The key figures of the indexed reports ``within`` admits (all without a filter), by
    region, then year, then the report's order.

    Raises:
        IndexMissingError: There is no index yet.
    """
    from index.build import list_documents

    settings = settings or Settings.from_env()
    documents = list_documents(settings)
    if not documents:
        raise IndexMissingError("there is no index yet", "还没有建立索引。")
    chosen = admitted(documents, within)
    rows = [
        FigureRow(
            report=doc.title,
            doc_id=doc.doc_id,
            region=doc.region,
            year=doc.year,
            indicator=f.indicator,
            canonical=f.canonical,
            value=f.value,
            value_high=f.value_high,
            unit=f.unit,
            qualifier=f.qualifier,
            kind=f.kind,
            text=f.text,
            paragraph=f.paragraph,
            start=f.start,
            end=f.end,
        )
        for doc, figures in report_figures(settings, chosen)
        for f in figures
    ]
    return sorted(rows, key=lambda r: (r.region, r.year or 0))
