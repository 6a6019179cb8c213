"""The scope of a question: which reports it is about, which year, and where to search.

:func:`search_plan` is the one entry: from the standalone question, the indexed reports and
the page's filter to a :class:`Plan` — the scope, the intent, the searches to try in turn
(each a set of reports and the query to search them with), or a refusal that says why the
question cannot be answered from what is held. The answer path and the fit script both call
it, so that they cannot drift apart.

Rules, in the order they apply:

- Words that name the report and its year ("2026年的报告里咋说的", "2023年政府工作报告里",
  "回顾2022年时说", a gloss "去年（2025年）") set the report and the year asked and leave the topic.
- The scope is the first place named that is not part of the topic: a place after 和/与/对接/
  去 … ("和上海同城化", "对接北京的资源", "去上海") is what the question is about, not whose
  report. Places named one after the other (广东深圳, 山西省太原市) are one place, the last
  the most precise.
- A place held is its own reports; one inside a held region is that region's passages that
  name it; a city of which only districts are held, and a place nothing held is near, are
  refused with what is held (its districts; what is held in its city or province).
- Relative years (明年, 后年, 前年, and 去年 after a named report) count from the report's year.
- A page filter that admits other reports than the question names is told so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from assistant.period import read_period, relative_word
from assistant.question import Intent, detect_intent, everyday_to_report
from assistant.regions import (
    Mention,
    Region,
    held_regions,
    level,
    locate,
    region_key,
    region_place,
)
from assistant.types import ReportFilter
from assistant.within import NONE_ADMITTED, admitted, filter_conflict
from index import vocab
from index.model import Document


@dataclass(frozen=True)
class Scope:
    """The reports a question is about.

    Attributes:
        region: The held region it names, by its fullest held name (``None``: not said).
        year: The year it asks about (``None``: not said).
        unknown_region: A place it names that no indexed report covers (``香港``).
        place: A place inside ``region`` that the question is about (万柏林区 in 太原市):
            only passages that name it can answer.
        report_year: The year of the report it names ("2024年的报告里"), if it names one.
        relative: ``year`` was counted from a report's year (明年, 前年).
        text: The question without the words that name the report and its year.
        said: The words that name the region (its aliases, and those the question used for
            it and the regions around it), to take out of the query.
        nearby: Why nothing held is the place named and what is held near it, when so.
    """

    region: str | None = None
    year: int | None = None
    unknown_region: str = ""
    place: str = ""
    report_year: int | None = None
    relative: bool = False
    text: str = ""
    said: tuple[str, ...] = ()
    nearby: str = ""

    @property
    def key(self) -> str:
        return region_key(self.region) if self.region else ""


@dataclass(frozen=True)
class Attempt:
    """One search: the reports to search and the query to search them with."""

    docs: tuple[Document, ...]
    query: str

    def __iter__(self):  # (docs, query) = attempt
        return iter((list(self.docs), self.query))


@dataclass(frozen=True)
class Plan:
    """What to do with a question.

    Attributes:
        scope: Its scope.
        intent: The answer it wants.
        attempts: The searches to try in turn, until one finds an answer.
        refusal: Why it cannot be answered from the reports held (then no attempts).
        reports: The reports the filter admits.
    """

    scope: Scope
    intent: Intent
    attempts: tuple[Attempt, ...] = ()
    refusal: str | None = None
    reports: tuple[Document, ...] = field(default=(), repr=False)

    def nothing_found(self, topic: str) -> str:
        """The Chinese answer when no attempt finds anything about ``topic``."""
        if self.scope.place and self.scope.region:
            return (
                f"索引中没有{self.scope.place}的报告；{self.scope.region}的报告中也没有找到"
                f"关于“{topic}”的相关内容。"
            )
        return f"报告中没有找到关于“{topic}”的相关内容。"


# ---------------------------------------------------------------- the plan


def search_plan(
    standalone: str, documents: Iterable[Document], within: ReportFilter | None = None
) -> Plan:
    """The question's scope and intent, and the searches to try in turn, or a refusal.

    Args:
        standalone: The cleaned question, follow-ups already rewritten.
        documents: Every indexed report.
        within: The page's filter: only the reports it admits are searched.
    """
    documents = list(documents)
    intent = detect_intent(standalone)
    reports = admitted(documents, within)
    if not reports:
        return Plan(Scope(text=standalone), intent, (), NONE_ADMITTED)
    if within is not None and len(reports) < len(documents):
        named = find_scope(standalone, documents)
        conflict = filter_conflict(named, within, documents)
        if conflict:
            return Plan(named, intent, (), conflict, tuple(reports))
    scope = find_scope(standalone, reports)
    problem = scope_message(scope, reports)
    if problem:
        return Plan(scope, intent, (), problem, tuple(reports))
    attempts = tuple(
        Attempt(tuple(docs), strip_scope(standalone, scope, year_word))
        for docs, year_word in scoped_attempts(scope, intent, reports)
    )
    return Plan(scope, intent, attempts, None, tuple(reports))


# ---------------------------------------------------------------- scope


def find_scope(question: str, documents: Iterable[Document]) -> Scope:
    """The region and year a question names, and a named place the index does not hold."""
    documents = list(documents)
    text, year, report_year, relative = read_period(question)
    regions = held_regions(documents)
    chain = _scope_chain(locate(text, regions))
    region, place, unknown, nearby = _resolve(chain, regions)
    # The words naming the region (and the regions around it) leave the query; a place
    # inside it stays: only passages that name it answer.
    said = (*region.aliases, *(m.said for m in chain if m.key != place)) if region else ()
    if relative is not None and year is None:
        anchor = report_year or _latest_year(documents, region)
        year = anchor + relative if anchor else None
    return Scope(
        region=region.name if region else None,
        year=year,
        unknown_region=unknown,
        place=place,
        report_year=report_year,
        relative=relative is not None,
        text=text,
        said=said,
        nearby=nearby,
    )


def _scope_chain(mentions: list[Mention]) -> list[Mention]:
    """The places that name the scope: the first run of adjacent places that is not part
    of the topic (after 和, 对接, 去 …); the first run if all are."""
    chains: list[list[Mention]] = []
    for m in mentions:
        if chains and chains[-1][-1].end == m.start:
            chains[-1].append(m)
        else:
            chains.append([m])
    # a group of places named by one of them is no scope at all, even alone
    chains = [c for c in chains if not vocab.TOPIC_PLACE_AFTER.match(c[-1].after)]
    if not chains:
        return []
    return next((c for c in chains if not _in_topic(c[0])), chains[0])


def _in_topic(mention: Mention) -> bool:
    return bool(vocab.TOPIC_PLACE_BEFORE.search(mention.before))


def _resolve(
    chain: list[Mention], regions: Sequence[Region]
) -> tuple[Region | None, str, str, str]:
    """The held region, the place inside it, an unknown place, and what is held near it."""
    if not chain:
        return None, "", "", ""
    held = [m for m in chain if m.region is not None]
    leaf = max(chain, key=lambda m: (level(m.key), m.start))
    if leaf.region is not None:
        return leaf.region, "", "", ""
    if held:  # 广东深圳: 深圳 in 广东省's report
        return max(held, key=lambda m: (level(m.key), m.start)).region, leaf.key, "", ""
    parents = [
        r for r in regions if r.key != vocab.NATIONAL and leaf.place and r.contains(leaf.place)
    ]
    if parents:  # 深圳 in 广东省, 万柏林区 in 太原市
        return max(parents, key=lambda r: (level(r.key), r.key)), leaf.key, "", ""
    children = [r for r in regions if _within(r, leaf)]
    if children:
        names = "、".join(r.name for r in children[:6]) + ("等" if len(children) > 6 else "")
        which = "区县" if all(level(r.key) == 3 for r in children) else "地区"  # 太原市: a city
        return (
            None,
            "",
            leaf.key,
            f"索引中没有{leaf.key}本级的报告；收录了其下辖的{names}的报告，请指明问的是哪个{which}。",
        )
    near = _near(leaf, regions)
    nearby = f"索引中没有{leaf.key}的报告。{near}" if near else ""
    return None, "", leaf.key, nearby


def _within(region: Region, mention: Mention) -> bool:
    if mention.key in region.parents:
        return True
    mine = region_place(region)
    return bool(mine and mention.place and mention.place.contains(mine))


def _near(mention: Mention, regions: Sequence[Region]) -> str:
    """What is held in the same city, else the same province, as ``mention``."""
    if mention.place is None or not mention.place.code:
        return ""
    code = mention.place.code
    for digits, word in ((4, "同市"), (2, "同省（区、市）")):
        if mention.place.level * 2 <= digits and digits == 4:
            continue  # a city has no city around it
        near = [r for r in regions if r.code[:digits] == code[:digits] and r.code]
        if near:
            return f"{word}已收录：{'、'.join(r.name for r in near)}。"
    return ""


def _latest_year(documents: Sequence[Document], region: Region | None) -> int | None:
    years = [
        d.year
        for d in documents
        if d.year and (region is None or region_key(d.region) == region.key)
    ]
    return max(years, default=None)


def scope_message(scope: Scope, documents: Sequence[Document]) -> str:
    """Why a scoped question cannot be answered, in Chinese, or empty when it can."""
    if scope.unknown_region and all(d.region for d in documents):
        if scope.nearby:
            return scope.nearby
        held = "、".join(sorted({d.region for d in documents if d.region}))
        return f"索引中没有{scope.unknown_region}的报告。已收录：{_short_list(held)}。"
    if not scope.year and not scope.report_year:
        return ""
    # Documents of unknown year (not dated reports) may speak of the asked year.
    key = scope.key
    of_region = [d for d in documents if not key or region_key(d.region) == key]
    if any(d.year is None for d in of_region):
        return ""
    years = sorted({d.year for d in of_region if d.year})
    if scope.report_year:
        if scope.report_year in years:
            return ""
        asked = scope.report_year
    else:
        asked = scope.year
        if asked in years or asked + 1 in years:
            return ""
        if scope.relative and years:
            return ""  # 明年, 后年: the latest report's plan for later years
    if scope.region:
        latest = f"，最近的是{years[-1]}年" if years else ""
        return f"没有{asked}年{scope.region}的报告{latest}。"
    if years:
        return f"索引中没有{asked}年的报告，已收录的年份：{'、'.join(map(str, years))}。"
    return ""


def _short_list(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit].rsplit("、", 1)[0] + "等"


# ---------------------------------------------------------------- searches


def strip_scope(question: str, scope: Scope, year_word: str = "今年") -> str:
    """The question without its region words and with its year as the report says it.

    Args:
        question: The standalone question.
        scope: What :func:`find_scope` found in it.
        year_word: How the report refers to that year (``今年``, ``去年``); empty drops it.
    """
    text = everyday_to_report(scope.text or question)
    if scope.region == vocab.NATIONAL:
        text = vocab.NATIONAL_ALIAS_RE.sub("", text)
    elif scope.region:
        for said in sorted(set(scope.said) or {scope.region}, key=len, reverse=True):
            text = text.replace(said, "")
    if scope.year:
        text = re.sub(rf"{scope.year}\s*年", year_word, text)
        if scope.relative or scope.report_year:
            relative = relative_word(text)
            if relative:
                text = text[: relative.start()] + year_word + text[relative.end() :]
    return text


def scoped_attempts(
    scope: Scope, intent: Intent, documents: Sequence[Document]
) -> list[tuple[list[Document], str]]:
    """The sets of reports to try in turn, each with how the asked year reads inside them.

    A report plans its own year ("今年") and reviews the one before ("去年"): a question
    about the result of 2023 goes to the 2024 report, one about its target to the 2023
    report (the other report's plan or review is of another year), one that says neither
    to both, the plan first; then to documents of no known year. A question naming the
    report reads that report only. A year after every held report (明年) is read in the
    latest report's plans. With no year, the latest report of each region is tried first.
    """
    key = scope.key or None
    docs = [d for d in documents if key is None or region_key(d.region) == key]
    if scope.unknown_region:  # a place no report is of: only documents of no region may say
        docs = [d for d in docs if not d.region]
    undated = [d for d in docs if d.year is None]
    if scope.report_year is not None:
        asked = scope.year if scope.year is not None else scope.report_year
        word = {0: "今年", -1: "去年", -2: "前年"}.get(asked - scope.report_year, f"{asked}年")
        attempts = [([d for d in docs if d.year == scope.report_year], word)]
        attempts.append((undated, f"{asked}年"))
        return [(found, w) for found, w in attempts if found]
    if scope.year is not None:
        plan, review = (scope.year, "今年"), (scope.year + 1, "去年")
        # A result is in the review only, a target in the plan only: the other report's
        # plan (review) states another year's figure.
        order = {"result": [review], "target": [plan]}.get(intent.tense, [plan, review])
        attempts = [([d for d in docs if d.year == y], word) for y, word in order]
        if scope.relative and not any(found for found, _ in attempts):
            latest = max((d.year for d in docs if d.year), default=None)
            earlier = [d for d in docs if d.year == latest]
            attempts.append((earlier, f"{scope.year}年"))
        # A document of unknown year (not a dated report) may speak of any year, in its
        # own words ("2007年"): it is tried last.
        attempts.append((undated, f"{scope.year}年"))
        return [(found, word) for found, word in attempts if found]
    if not docs:
        return []
    latest = latest_per_region(docs)
    return [(latest, "")] + ([(docs, "")] if len(latest) < len(docs) else [])


def latest_per_region(documents: Sequence[Document]) -> list[Document]:
    """For each region only its most recent report; a report of unknown region stands alone."""
    latest: dict[str, int] = {}
    for d in documents:
        key = region_key(d.region) or d.doc_id
        latest[key] = max(latest.get(key, 0), d.year or 0)
    return [d for d in documents if (d.year or 0) == latest[region_key(d.region) or d.doc_id]]


__all__ = [
    "NONE_ADMITTED",
    "Attempt",
    "Plan",
    "Scope",
    "admitted",
    "detect_intent",
    "filter_conflict",
    "find_scope",
    "latest_per_region",
    "read_period",
    "scope_message",
    "scoped_attempts",
    "search_plan",
    "strip_scope",
]
