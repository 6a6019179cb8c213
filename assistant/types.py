"""What ``answer()`` returns: typed, frozen, JSON-ready."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from index.figures import FigureKind

# What an answer gives: a figure, a name or list, whether/how, a statement, an overview of
# a topic; or, not found, a near miss (what the report says instead) or a refusal.
AnswerKind = Literal[
    "figure", "name", "whether", "statement", "overview", "table", "near_miss", "refusal"
]


@dataclass(frozen=True)
class Citation:
    """A passage that supports an answer.

    Attributes:
        n: The marker number used in the answer text (``[n]``).
        text: The whole passage.
        quote: The sentence(s) of ``text`` that support the answer.
        source: Path of the report file.
        title: Report title.
        year: The year the report plans for.
        region: Region of the report (``太原市``, ``全国`` …).
        section: Section path inside the report.
        paragraph: Paragraph number inside the report.
        score: Retrieval score, higher is better.
    """

    n: int
    text: str
    quote: str
    source: str
    title: str
    year: int | None
    region: str
    section: str
    paragraph: int
    score: float


@dataclass(frozen=True)
class FigureRow:
    """One key figure of one report, with the report it is from and where it says it.

    Attributes:
        report: The report's title.
        doc_id: The report's id (as ``reportqa index list`` shows it).
        region: The report's region.
        year: The year the figure is of: the report's plan year for a target, the year it
            reviews for a result.
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
        section: The section of the report that holds them.
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
    section: str = ""

    def to_json(self) -> dict:
        """The row as JSON-ready fields (the API's and ``reportqa figures --json``'s)."""
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """The assistant's reply.

    Attributes:
        question: The question as asked.
        text: Short Chinese answer with ``[n]`` markers, or a refusal.
        found: ``False`` when the indexed reports do not contain the answer.
        citations: At most five citations, best first.
        standalone_question: The question after follow-up rewriting.
        mode: ``extractive`` or ``llm``.
        note: Anything the user should know (e.g. an LLM answer that failed verification).
        kind: What was given (:data:`AnswerKind`); with ``near_miss`` the citations are
            related evidence about a neighbouring thing, not the answer.
        more_reports: Further reports that also answer, not shown (region and year).
        table: With ``table``, the rows compared: one key figure of each report that
            states it, in the answer's order (citation ``n`` of row ``n - 1``).
        suggestions: Up to three follow-up questions the index can answer (the same topic
            in another year or region it holds, a neighbouring key figure of the cited
            report); filled by the doors that offer them (the page, ``POST /api/ask``,
            Gradio's ``/ask``, ``reportqa ask --json``) with
            :func:`assistant.suggest.follow_ups`, else empty.
    """

    question: str
    text: str
    found: bool
    citations: tuple[Citation, ...] = field(default=())
    standalone_question: str = ""
    mode: str = "extractive"
    note: str = ""
    kind: AnswerKind = "refusal"
    more_reports: tuple[str, ...] = ()
    table: tuple[FigureRow, ...] = ()
    suggestions: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """The JSON form printed by ``reportqa ask --json`` and served at ``/ask``."""
        data = asdict(self)
        data["citations"] = [asdict(c) for c in self.citations]
        data["more_reports"] = list(self.more_reports)
        data["table"] = [row.to_json() for row in self.table]
        data["suggestions"] = list(self.suggestions)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Answer:
        """The answer back from :meth:`to_json` (as a page keeps it between requests)."""
        citations = tuple(Citation(**c) for c in data.get("citations", ()))
        more = tuple(data.get("more_reports", ()))
        table = tuple(FigureRow(**row) for row in data.get("table", ()))
        suggestions = tuple(data.get("suggestions", ()))
        return cls(
            **{
                **data,
                "citations": citations,
                "more_reports": more,
                "table": table,
                "suggestions": suggestions,
            }
        )


@dataclass(frozen=True)
class ReportFilter:
    """Which reports a question may be answered from, as chosen by the user.

    Attributes:
        region: Only reports of this region (aliases count: 太原市小店区 is 小店区); empty
            for any region.
        year: Only reports of this plan year; ``None`` for any year.
    """

    region: str = ""
    year: int | None = None
