"""Comparisons across reports: one indicator of several reports as a table, a ranking or a
series over one region's years, each row cited to the report's own words.

"北京、上海、广东今年城镇新增就业目标分别是多少", "各省今年GDP增长目标", "今年哪个省GDP目标最高",
"全国GDP增长目标这几年怎么变", and the same of results ("去年各省GDP实际增长多少"). Targets and
results are never mixed in one answer. A report that states no such figure is listed as
such, never guessed; a ranking ranks only figures in one unit and says what it left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.compose import label
from assistant.figures import figure_row
from assistant.question import detect_intent
from assistant.regions import held_regions, level, locate, region_key
from assistant.scope import latest_per_region
from assistant.types import Answer, Citation
from index import vocab
from index.figures import Figure, FigureKind, year_of
from index.keyfigures import report_figures
from index.model import Document
from index.settings import Settings

CompareMode = Literal["table", "ranking", "trend"]


@dataclass(frozen=True)
class Comparison:
    """What a comparison question asks.

    Attributes:
        canonical: The indicator, by its common name ("GDP增长").
        mode: A table of the reports, a ranking of them, or one region's years in order.
        documents: The reports compared, in the answer's order.
        lowest_first: A ranking asked from the lowest ("哪个省最低").
        kind: The reports' targets, or the results of the years they review.
        rate: Of an indicator with a growth and an amount (进出口), the growth is asked
            (``True``), the amount (``False``), or either (``None``: the first stated).
    """

    canonical: str
    mode: CompareMode
    documents: tuple[Document, ...]
    lowest_first: bool = False
    kind: FigureKind = "target"
    rate: bool | None = None


def comparison(question: str, documents: Sequence[Document]) -> Comparison | None:
    """The comparison ``question`` asks for over ``documents``, or ``None`` when it asks
    about one report."""
    canonical = next((n for n, words in vocab.ASKED_INDICATORS if words.search(question)), None)
    if canonical is None:
        return None
    named = _named(question, documents)
    said = vocab.YEAR_RE.search(question)
    year = int(said.group(1)) if said else None
    ranking = bool(vocab.RANKING.search(question))
    # With no region named, only years named as a span ("这两年") make a trend: "每年" or
    # "变化" alone is said of one report's figure too.
    spanned = vocab.TREND if named else vocab.YEARS_SPANNED
    if len(named) < 2 and spanned.search(question):
        trend = _trend(named, documents)
        kind = _kind(question, canonical, year, trend)
        trend = _span(question, trend, kind)
        return (
            Comparison(canonical, "trend", trend, kind=kind, rate=_rate(question))
            if trend
            else None
        )
    if len(named) > 1:
        pool = [d for d in documents if region_key(d.region) in named]
    elif not named and (vocab.EVERY_REGION.search(question) or ranking):
        provinces = vocab.PROVINCES_ASKED.search(question)
        pool = [d for d in documents if not provinces or level(region_key(d.region)) == 1]
    else:
        return None
    kind = _kind(question, canonical, year, pool)
    chosen = [d for d in pool if year is None or year_of(d.year, kind) == year]
    latest = sorted(latest_per_region(chosen), key=_place_order)
    if len(latest) < 2:
        return None
    lowest = bool(vocab.LOWEST_FIRST.search(question))
    mode = "ranking" if ranking else "table"
    return Comparison(canonical, mode, tuple(latest), lowest, kind, _rate(question))


def _span(question: str, docs: tuple[Document, ...], kind: FigureKind) -> tuple[Document, ...]:
    """The reports of a trend whose figures are of the years asked: a range ("2015年到2020年"),
    the last few ("这两年"), or all ("历年")."""
    low, high = None, None
    if asked := vocab.YEAR_RANGE.search(question):
        low, high = sorted(int(y) for y in asked.groups())
    elif period := vocab.PLAN_PERIOD.search(question):
        low = 2001 + 5 * vocab.PLAN_PERIOD_DIGIT[period.group(1)]
        high = low + 4 if "以来" not in period.group() else 9999
    elif since := vocab.SINCE_YEAR.search(question):
        low, high = int(since.group(1)), 9999
    if low is not None:
        return tuple(d for d in docs if d.year and low <= year_of(d.year, kind) <= high)
    if recent := vocab.RECENT_YEARS.search(question):
        return docs[-vocab.RECENT_COUNT[recent.group(1)] :]
    return docs


def _kind(question: str, canonical: str, year: int | None, pool: Sequence[Document]) -> FigureKind:
    """Whether ``question`` asks the reports' targets or their results: a result when it
    says what happened ("实际", "去年…了多少") and not a plan word, when the indicator is
    never a target (GDP总量), or when it names a year none of ``pool`` plans but the next
    year's reports review."""
    if vocab.TARGET_ASKED.search(question):
        return "target"
    if detect_intent(question).tense == "result" or canonical not in dict(vocab.INDICATORS):
        return "result"
    years = {d.year for d in pool}
    return "result" if year is not None and year not in years and year + 1 in years else "target"


def _rate(question: str) -> bool | None:
    """Whether ``question`` asks an indicator's growth, its amount, or does not say."""
    rate, amount = vocab.RATE_ASKED.search(question), vocab.AMOUNT_ASKED.search(question)
    return None if bool(rate) == bool(amount) else bool(rate)


def _named(question: str, documents: Sequence[Document]) -> list[str]:
    """The keys of the held regions ``question`` names, in order: by name, by a group's
    name (京津冀), or by a run of one-character names (川渝黔滇藏)."""
    regions = held_regions(documents)
    mentions = locate(question, regions)
    found = [(m.start, m.region.key) for m in mentions if m.region]
    held = {r.key for r in regions}
    named_at = {i for m in mentions for i in range(m.start, m.end)}  # 辽宁 is not 辽 and 宁
    # A group or a run is the reports asked when it leads the question (spoken openings are
    # cleaned away before) or the question sets them side by side; elsewhere it is the
    # topic ("推进京津冀协同发展…").
    side_by_side = bool(vocab.SIDE_BY_SIDE.search(question))
    for group, members in vocab.REGION_GROUPS.items():
        at = question.find(group)
        if at == 0 or (at > 0 and side_by_side):
            found += [(at, key) for key in members]
    for run in vocab.ABBREVIATION_RUN.finditer(question):
        names = run.group().replace("、", "")
        if len(set(names)) < len(names):
            continue  # "新新" is a word's characters, no list of provinces
        # Two characters are also a route or a pair's word (京沪高铁, 青藏铁路): they must lead.
        if run.start() == 0 or (side_by_side and len(names) > 2):
            found += [
                (run.start() + i, vocab.PROVINCE_ABBREVIATIONS[c])
                for i, c in enumerate(run.group())
                if c in vocab.PROVINCE_ABBREVIATIONS and run.start() + i not in named_at
            ]
    return list(dict.fromkeys(key for _, key in sorted(found) if key in held))


def _trend(named: list[str], documents: Sequence[Document]) -> tuple[Document, ...]:
    """One region's reports by year (the named one, else the one region with several), or
    nothing when it has fewer than two."""
    by_region: dict[str, list[Document]] = {}
    for doc in documents:
        by_region.setdefault(region_key(doc.region), []).append(doc)
    several = [key for key, docs in by_region.items() if len(docs) > 1]
    key = named[0] if named else (several[0] if len(several) == 1 else "")
    own = sorted(by_region.get(key, []), key=_year)
    return tuple(own) if len(own) > 1 else ()


def comparison_answer(
    question: str, standalone: str, plan: Comparison, settings: Settings
) -> Answer:
    """The answer to ``plan``: a line per report that states the figure, cited, in the
    order asked; the reports that do not, named; a ranking's left-out figures, named."""
    stated: list[tuple[Document, Figure]] = []
    silent: list[Document] = []
    read = dict(
        (doc.doc_id, figures)
        for doc, figures in report_figures(settings, plan.documents, [plan.canonical])
    )
    for doc in plan.documents:
        figures = read.get(doc.doc_id, [])
        like = [
            f
            for f in figures
            if f.canonical == plan.canonical and f.kind == plan.kind and _checked(f)
        ]
        # "进出口增速": its growth before its amount, whichever the report states first
        like.sort(key=lambda f: plan.rate is not None and _is_rate(f) != plan.rate)
        figure = like[0] if like else None
        if figure is None:
            silent.append(doc)
        else:
            stated.append((doc, figure))
    left_out: list[Document] = []
    if plan.mode == "ranking":
        stated, left_out = _ranked(stated, plan.lowest_first)
    what = "目标" if plan.kind == "target" else "上年实际"
    if not stated:
        names = "、".join(label(d) for d in silent)
        text = f"这些报告都没有给出{plan.canonical}的{what}数字：{names}。"
        return Answer(question, text, False, (), standalone)
    lines, citations, rows = [], [], []
    for n, (doc, figure) in enumerate(stated, 1):
        mark = f"{n}. " if plan.mode == "ranking" else "- "
        lines.append(f"{mark}{_named_as(doc, plan.kind)}：{figure.text}[{n}]")
        citations.append(_citation(n, doc, figure))
        rows.append(figure_row(doc, figure))
    region = plan.documents[0].region or plan.documents[0].title  # a trend's one region
    heading = {
        "table": f"各报告的{plan.canonical}{what}：",
        "ranking": f"{plan.canonical}{what}，从{'低到高' if plan.lowest_first else '高到低'}：",
        "trend": f"{region}历年报告的{plan.canonical}{what}：",
    }[plan.mode]
    tail = []
    if left_out:
        tail.append(
            "没有参与排序（没有可比的数字）：" + "、".join(label(d) for d in left_out) + "。"
        )
    if plan.mode == "trend" and stated:  # the years around the series: a count, not a list
        years = [d.year or 0 for d, _ in stated]
        inside = [d for d in silent if min(years) <= (d.year or 0) <= max(years)]
        if len(inside) < len(silent):
            tail.append(
                f"另有{len(silent) - len(inside)}份更早或更晚的报告没有给出这一{what}数字。"
            )
        silent = inside
    if silent:
        tail.append(f"没有给出这一{what}数字：" + "、".join(label(d) for d in silent) + "。")
    text = "\n".join([heading, *lines, *tail])
    return Answer(
        question, text, True, tuple(citations), standalone, kind="table", table=tuple(rows)
    )


def _ranked(
    stated: list[tuple[Document, Figure]], lowest_first: bool
) -> tuple[list[tuple[Document, Figure]], list[Document]]:
    """The figures in the most common unit, by value; the reports whose figure is not one
    of them (no number, another unit)."""
    units = Counter(_unit(f) for _, f in stated if f.value is not None)
    if not units:
        return [], [d for d, _ in stated]
    unit = units.most_common(1)[0][0]
    like = [(d, f) for d, f in stated if f.value is not None and _unit(f) == unit]
    like.sort(key=lambda df: df[1].value if lowest_first else -(df[1].value or 0.0))
    return like, [d for d, f in stated if (d, f) not in like]


def _unit(figure: Figure) -> str:
    return (figure.unit or "").replace("％", "%")  # the full-width sign is the same unit


def _named_as(doc: Document, kind: FigureKind) -> str:
    """A row's report as the answer names it; a result by the year it is of: "全国2024年
    （2025年报告）"."""
    if kind == "result" and doc.year:
        return f"{doc.region or doc.title}{year_of(doc.year, kind)}年（{doc.year}年报告）"
    return label(doc)


def _is_rate(figure: Figure) -> bool:
    return _unit(figure) in ("%", "个百分点")


def _checked(figure: Figure) -> bool:
    """Whether the figure's words stand in its passage, its number in its words (a fall's
    without its sign: "下降3.3%" is -3.3)."""
    number = "" if figure.value is None else f"{abs(figure.value):g}"
    return figure.text in figure.passage and number in figure.text


def _place_order(doc: Document) -> tuple[int, int, str]:
    """The nation, then provinces in their customary order (北京, 天津, 河北 …), then the
    rest by name."""
    key = region_key(doc.region)
    return (level(key), _PROVINCE_ORDER.get(key, len(_PROVINCE_ORDER)), key)


_PROVINCE_ORDER = {full: n for n, (full, _) in enumerate(vocab.PROVINCES)}


def _year(doc: Document) -> int:
    return doc.year or 0


def _citation(n: int, doc: Document, figure: Figure) -> Citation:
    return Citation(
        n=n,
        text=figure.passage,
        quote=figure.text,
        source=doc.source,
        title=doc.title,
        year=doc.year,
        region=doc.region,
        section=figure.section,
        paragraph=figure.paragraph,
        score=1.0,
    )
