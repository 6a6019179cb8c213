"""The reply, once the answer is chosen: cited, verified, labelled, in the form asked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.extract import Pick
from assistant.nearmiss import Mismatch
from assistant.overview import Point, point_text
from assistant.question import Intent
from assistant.related import unstated
from assistant.retrieval import Hit
from assistant.types import Answer, AnswerKind, Citation
from assistant.verify import verify
from index import vocab
from index.model import Document
from index.vocab import ASKED_COUNT

MAX_CITATIONS = 5
MAX_REPORTS = 3
UNVERIFIED = "无法核实答案，请换个问法。"
_TOPIC_NOISE = re.compile(
    r"^(请问|今年|明年|全年|全市|全省|计划|要|将|的)+|(的?(目标|计划|安排|数量|规模))?(是|有|为)?"
    r"(怎样|如何|是否)?(呢|吗|啊|呀|吧)?[？?。！!]*$"
)  # 多少, 几, 什么, 哪些 are gone already (_WH)
_WH = re.compile(
    rf"{ASKED_COUNT.pattern}|{vocab.TIME_ASKED.pattern}|什么样?的?|哪些|哪个|多长|多大"
)


@dataclass(frozen=True)
class Choice:
    """What the retrieved passages of one attempt say.

    Attributes:
        picks: The answers, one per report (several only when reports tie).
        related: Passages that also answer, cited after the answers.
        more: The further reports that answer, not shown, labelled with region and year.
        near: When nothing answers, the figures of a neighbouring thing that would have
            (see :mod:`assistant.nearmiss`), best first, with why each is not the answer.
    """

    picks: list[Pick]
    related: list[Pick]
    near: list[tuple[Pick, Mismatch]] = field(default_factory=list)
    more: list[str] = field(default_factory=list)


def one_per_passage(picks: list[Pick]) -> list[Pick]:
    """The first pick of each passage, in order."""
    seen, out = set(), []
    for p in picks:
        if p.hit.passage not in seen:
            seen.add(p.hit.passage)
            out.append(p)
    return out


_KINDS: dict[str, AnswerKind] = {
    "number": "figure",
    "entity": "name",
    "yesno": "whether",
    "statement": "statement",
}


def found_answer(
    question: str, standalone: str, choice: Choice, labelled: bool, intent: Intent
) -> Answer:
    """The chosen answers, one per report (labelled with region and year when several
    regions are indexed), cited and verified; the reports not shown are named."""
    picks = _distinct_answers(choice.picks)
    citations = [citation(i + 1, p.hit, p.quote) for i, p in enumerate(picks)]
    for p in choice.related[: MAX_CITATIONS - len(citations)]:
        citations.append(citation(len(citations) + 1, p.hit, p.quote))
    # Only the answer's own words must be backed by the quotes: the label (region and
    # year of the report) names the citation, it states no figure of the report.
    claims = [f"{p.answer}[{n}]" for n, p in enumerate(picks, 1)]
    if verify("；".join(claims), {n: p.quote for n, p in enumerate(picks, 1)}):
        return Answer(question, UNVERIFIED, False, (), standalone)
    if labelled:
        claims = [f"{label(p.hit.document)}：{c}" for p, c in zip(picks, claims, strict=True)]
    text = "；".join(claims)
    if choice.more:
        folded = len(choice.more)
        named = "、".join(choice.more[:MAX_REPORTS]) + ("等" if folded > MAX_REPORTS else "")
        text += f"（另有{folded}份报告也有相关内容：{named}，请指明地区或年份。）"
    return Answer(
        question,
        text,
        True,
        tuple(citations),
        standalone,
        kind=_KINDS[intent.kind],
        more_reports=tuple(choice.more),
    )


def near_miss_answer(
    question: str,
    standalone: str,
    query: str,
    near: list[tuple[Pick, Mismatch]],
    labelled: bool,
    intent: Intent,
) -> Answer:
    """The report does not state the asked figure: say so, and cite what it says instead
    as related evidence (``kind`` "near_miss"), never as the answer."""
    picks = one_per_passage([p for p, _ in near])[:MAX_REPORTS]
    citations = tuple(citation(n, p.hit, p.quote) for n, p in enumerate(picks, 1))
    said = [
        f"{label(p.hit.document) + '：' if labelled else ''}{p.answer}[{n}]"
        for n, p in enumerate(picks, 1)
    ]
    missing = unstated(topic(query), query, near[0][1], intent.kind == "number")
    text = f"报告没有给出{missing}；相关的是：{'；'.join(said)}。"
    return Answer(question, text, False, citations, standalone, kind="near_miss")


def overview_answer(
    question: str, standalone: str, query: str, points: list[Point], labelled: bool
) -> Answer:
    """The points in report order, each with the citation of its passage."""
    numbers: dict[int, int] = {}  # passage -> citation number, in order of first use
    citations: list[Citation] = []
    claims = []
    for point in points:
        key = id(point.hit)
        if key not in numbers:
            numbers[key] = len(citations) + 1
            citations.append(citation(numbers[key], point.hit, point.sentence))
        claims.append(f"{point_text(point.sentence)}[{numbers[key]}]")
    quotes = {c.n: c.text for c in citations}
    if verify("；".join(claims), quotes):
        return Answer(question, UNVERIFIED, False, (), standalone)
    where = f"{label(points[0].hit.document)}" if labelled else "报告"
    lines = [f"{i}. {claim}" for i, claim in enumerate(claims, 1)]
    about = overview_topic(query)
    tasks = points[0].task or not about
    heading = f"{where}的主要任务：" if tasks else f"{where}关于“{about}”的主要内容："
    text = heading + "\n" + "\n".join(lines)
    return Answer(question, text, True, tuple(citations), standalone, kind="overview")


def label(doc: Document) -> str:
    """A report as an answer names it: "北京市（2026年）"."""
    region = doc.region or doc.title
    return f"{region}（{doc.year}年）" if doc.year else region


def _distinct_answers(picks: list[Pick]) -> list[Pick]:
    """One pick per (region, answer): two reports saying the same thing say it once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for pick in picks:
        key = (pick.hit.document.region, pick.answer)
        if key not in seen:
            seen.add(key)
            out.append(pick)
    return out


def citation(n: int, hit: Hit, quote: str) -> Citation:
    """Citation ``n`` of a retrieved passage, ``quote`` the sentence(s) that back it."""
    doc = hit.document
    return Citation(
        n=n,
        text=hit.passage.text,
        quote=quote,
        source=doc.source,
        title=doc.title,
        year=doc.year,
        region=doc.region,
        section=hit.passage.section,
        paragraph=hit.passage.paragraph,
        score=round(hit.score, 6),
    )


def overview_topic(query: str) -> str:
    """What an open question is about ("在教育上有哪些打算" -> 教育)."""
    return vocab.OVERVIEW_FRAME.sub("", topic(vocab.OVERVIEW_WORDS.sub("", query)))


def topic(query: str) -> str:
    """What the question is about, without its asking words ("新增养老床位")."""
    # Question words first: "生产总值有多大" keeps no "有" once 多大 is gone.
    topic = _TOPIC_NOISE.sub("", _WH.sub("", query)).strip()
    return topic or query
