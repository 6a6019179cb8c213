"""A report's key figures: the items of its main expected targets (主要预期目标), as rows.

"地区生产总值增长5%左右，城镇调查失业率控制在5.5%以内，居民收入增长和经济增长同步" is three rows:
indicator, value, unit, qualifier, each with the exact words it was read from. They are read
when a report is indexed and kept beside its shard (:mod:`index.keyfigures`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from index import vocab
from index.model import Passage

FigureKind = Literal["target", "result"]
# Characters between the cue and the colon that opens the items ("主要预期目标是："); a
# report may break the line there ("…的\n主要预期目标\n是：…").
_TO_COLON = 8


@dataclass(frozen=True)
class Figure:
    """One item of a report's targets: "城镇新增就业1200万人以上".

    Attributes:
        indicator: As the report names it ("城镇新增就业", "地区生产总值增长").
        canonical: The indicator's common name across reports ("GDP增长" for 地区生产总值增长,
            国内生产总值增长 and 经济增长), or ``None`` where none is clear.
        value: The figure (5.5 of 5.5%), ``None`` for an item without one ("…同步").
        value_high: The upper end of a range (5.5 of 5%—5.5%), else ``None``.
        unit: The unit as written ("%", "万人", "亿斤"), ``None`` without a figure.
        qualifier: "左右", "以上", "以内", "以下", "不低于", "不超过", "同步",
            "完成国家下达任务", or "" (the figure as is).
        kind: "target" (of the year planned) or "result" (of the year under review).
        text: The item's exact words in the report.
        paragraph: The paragraph of the report that holds it.
        start: Offset of ``text`` in the cleaned report.
        end: End offset (exclusive) of ``text``.
        section: The section path of the passage that holds it.
        passage: That passage's text (the citation's).
    """

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
    passage: str = ""


def year_of(report_year: int | None, kind: FigureKind) -> int | None:
    """The year a report's figure is of: the report's own for a target, the year it reviews
    for a result."""
    if report_year is None or kind == "target":
        return report_year
    return report_year - 1


def target_figures(passages: Sequence[Passage]) -> list[Figure]:
    """The items of the targets paragraph among a report's ``passages`` (in report order);
    empty when the report states none."""
    text, spans = _joined(passages)
    # The first cue the items follow: "全面完成主要预期目标" in the review is none.
    colons = (
        text.find("：", c.end(), c.end() + _TO_COLON) for c in vocab.TARGETS_CUE.finditer(text)
    )
    colon = next((at for at in colons if at >= 0), -1)
    if colon < 0:
        return []
    # "…主要预期目标是：" may end its paragraph, the items the next one
    first = colon + 1
    while first < len(text) and text[first] in " \n\u3000":
        first += 1
    figures = []
    for start, end in _target_items(text, first):
        item = text[start:end]
        passage, offset = _address(spans, start)
        for fields in _respective(item) or [_figure(item)]:
            if fields is None:
                continue
            figures.append(
                Figure(
                    **fields,
                    kind="target",
                    text=item,
                    paragraph=passage.paragraph,
                    start=offset,
                    end=offset + end - start,
                    section=passage.section,
                    passage=passage.text,
                )
            )
    return figures


def _respective(item: str) -> list[dict]:
    """The rows of an item that gives several indicators their figures in order ("一产、二产、
    三产增加值分别增长5%左右、5%以上、5%左右": 一产增加值增长 5%左右 …), or [] when its subjects
    and figures do not pair up."""
    match = vocab.RESPECTIVE_ITEM.match(vocab.SCOPE_WORDS.sub("", item))
    if not match:
        return []
    subject = match.group("subject")
    joined = next(((p, n) for p, n in vocab.RESPECTIVE_JOINED if p.match(subject)), None)
    if joined:  # "城乡居民…": 城镇居民… and 农村居民…
        pattern, names = joined
        shared = pattern.sub("", subject)
    else:
        subjects = vocab.RESPECTIVE_SPLIT.split(subject)
        heads = {len(s) for s in subjects[:-1]}
        if len(subjects) < 2 or len(heads) != 1:
            return []
        # The last subject carries what all share after their heads: 增加值 of 三产增加值.
        size = heads.pop()
        shared = subjects[-1][size:]
        names = (*subjects[:-1], subjects[-1][:size])
    parts = vocab.RESPECTIVE_SPLIT.split(match.group("figures"))
    if len(names) != len(parts):
        return []
    verb = match.group("verb") or ""
    rows = [_figure(f"{name}{shared}{verb}{part}") for name, part in zip(names, parts, strict=True)]
    if not all(r and r["value"] is not None for r in rows):
        return []
    # "增长4.5%、5.5%左右": the last figure's qualifier is every figure's
    last = rows[-1]["qualifier"]
    return [{**r, "qualifier": r["qualifier"] or last} for r in rows]


def stated_figure(
    passages: Sequence[Passage], canonical: str, parts: Sequence[str]
) -> Figure | None:
    """The target for ``canonical`` stated in the plan of the year outside the targets
    paragraph ("城镇新增就业不少于28万人" in a section on jobs), or ``None``: of several, the
    one whose indicator begins with the canonical words (进出口总额增长 over 跨境电商进出口增长).
    ``parts``: each passage's part of the report (only the ``plan``'s are read)."""
    words = dict(vocab.INDICATORS)[canonical]
    found: list[tuple[int, int, Figure]] = []
    for passage, part in zip(passages, parts, strict=True):
        if part != "plan":
            continue
        for clause in vocab.ITEM_SPLIT.finditer(passage.text):
            # "城镇新增就业47万人以上、城镇调查失业率控制在5.5%以内": each part on its own too
            for part in re.finditer(f"[^{vocab.LIST_MARK}]+", clause.group()):
                item = part.group().strip()
                fields = _figure(item) if words.search(item) else None
                if fields is None or fields["value"] is None or fields["canonical"] != canonical:
                    continue
                at = passage.start + clause.start() + part.start() + part.group().index(item)
                figure = Figure(
                    **fields,
                    kind="target",
                    text=item,
                    paragraph=passage.paragraph,
                    start=at,
                    end=at + len(item),
                    section=passage.section,
                    passage=passage.text,
                )
                found.append((words.search(fields["indicator"]).start(), len(found), figure))
    return min(found)[2] if found else None


def _joined(passages: Iterable[Passage]) -> tuple[str, list[tuple[int, Passage]]]:
    """The passages' text as one string, a line break between paragraphs, with where each
    passage starts in it."""
    parts: list[str] = []
    spans: list[tuple[int, Passage]] = []
    at, last = 0, None
    for passage in passages:
        if last is not None and passage.start != last.end:
            parts.append("\n")
            at += 1
        spans.append((at, passage))
        parts.append(passage.text)
        at += len(passage.text)
        last = passage
    return "".join(parts), spans


def _address(spans: list[tuple[int, Passage]], at: int) -> tuple[Passage, int]:
    """The passage and the report offset of character ``at`` of the joined text."""
    begin, passage = next((b, p) for b, p in reversed(spans) if b <= at)
    return passage, passage.start + at - begin


def _target_items(text: str, start: int) -> Iterable[tuple[int, int]]:
    """The items of the targets from ``start``: its first sentence's, and the next
    sentences' of the paragraph while each begins with one ("…力争取得更好结果。规模以上工业
    增加值增长6%左右，…"); a sentence that does not ("这样的目标，是…") ends them."""
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    first = True
    while start < end:
        stop = text.find("。", start, end)
        stop = end if stop < 0 else stop
        items = list(_items(text, start, stop))
        if not first and (not items or _figure(text[slice(*items[0])]) is None):
            return
        yield from items
        first, start = False, stop + 1


def _items(text: str, start: int, stop: int) -> Iterable[tuple[int, int]]:
    """The items between ``start`` and ``stop``: clauses, each without a hedge joined to
    it ("…左右、争取更优水平")."""
    for clause in vocab.ITEM_SPLIT.finditer(text, start, stop):
        a, b = clause.span()
        hedge = vocab.TARGET_HEDGE.search(text, a, b)
        if hedge:
            b = hedge.start()
        while a < b and text[a] in " \n\u3000":
            a += 1
        if b > a and not vocab.TARGET_CONNECTIVE.fullmatch(text, a, b):
            yield from _joined_items(text, a, b)


def _joined_items(text: str, a: int, b: int) -> Iterable[tuple[int, int]]:
    """A clause as its items: one, or several joined by "、" when each names an indicator
    and gives it a figure ("城镇新增就业47万人以上、城镇调查失业率控制在5.5%以内"); a list of
    things one target is of ("能源、水资源…等指标") is one."""
    cuts = [a] + [a + m.start() for m in re.finditer("、", text[a:b])] + [b]
    spans = [(x + (x > a), y) for x, y in itertools.pairwise(cuts)]
    if len(spans) > 1 and all(
        (f := _figure(text[x:y])) is not None and f["value"] is not None for x, y in spans
    ):
        yield from spans
    else:
        yield a, b


def _figure(item: str) -> dict | None:
    """The fields of one item, or ``None`` for a clause that states no target."""
    number = vocab.TARGET_NUMBER.search(item)
    if number is None:
        return _statement(item)
    named_end = number.start()
    change = vocab.FROM_TO.search(item)
    if change and change.start() < number.start() < change.end():  # "从2.1%提高到2.3%"
        named_end = change.start()
        number = vocab.TARGET_NUMBER.search(item, change.end()) or number
    indicator = vocab.INDICATOR_VERBS.sub("", item[:named_end])
    indicator = vocab.SCOPE_WORDS.sub("", indicator).strip("，,、 ")
    if not indicator:
        return None
    after = item[number.end() :]
    qualifier = next((q for q in vocab.QUALIFIERS if after.startswith(q)), "")
    before = item[: number.start()]
    qualifier = qualifier or next((q for q in vocab.QUALIFIERS_BEFORE if q in before), "")
    qualifier = vocab.QUALIFIER_SAME.get(qualifier, qualifier)
    high = number.group("high")
    return {
        "indicator": indicator,
        "canonical": canonical(indicator),
        "value": float(number.group("value")),
        "value_high": float(high) if high else None,
        "unit": number.group("unit"),
        "qualifier": qualifier,
    }


def _statement(item: str) -> dict | None:
    """An item without a figure: "居民收入增长和经济增长同步", "…完成国家下达任务"."""
    step = vocab.IN_STEP.search(item)
    task = vocab.STATE_TASK.search(item)
    end = vocab.STATEMENT_VERB.search(item)
    if step:
        indicator, qualifier = item[: step.start()], "同步"
    elif task:
        indicator, qualifier = item[: task.start()], "完成国家下达任务"
        # the task after the state's words: "(全面)完成国家下达的X目标任务"
        if len(vocab.SCOPE_WORDS.sub("", indicator)) < 2:
            indicator = vocab.TASK_TAIL.sub("", vocab.TASK_LEAD.sub("", item[task.end() :]))
    elif end:
        # "…保持在全国平均水平以上": the qualifier of a figure that is not a number
        indicator = item[: end.start()]
        # "Ⅱ类及以上": a class and the ones above it, not a figure's qualifier
        qualifier = next(
            (q for q in vocab.QUALIFIERS if item.endswith(q) and not item.endswith("及" + q)), ""
        )
    else:
        return None
    indicator = vocab.INDICATOR_VERBS.sub("", vocab.SCOPE_WORDS.sub("", indicator))
    indicator = indicator.strip("，,、 ")
    if len(indicator) < 2:
        return None
    return {
        "indicator": indicator,
        "canonical": canonical(indicator),
        "value": None,
        "value_high": None,
        "unit": None,
        "qualifier": qualifier,
    }


def canonical(indicator: str) -> str | None:
    """The common name of ``indicator`` across reports, or ``None``."""
    return next((name for name, words in vocab.INDICATORS if words.search(indicator)), None)
