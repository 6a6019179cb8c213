"""A report's headline results of the year it reviews, as rows: "国内生产总值达到134.9万亿元、
增长5%" is two (GDP总量 134.9万亿元, GDP增长 5%).

Only the review of the one year is read: many reports review a five-year term first
("“十四五”时期是…", "五年来，…") and the year after it ("刚刚过去的2025年，…"), and a
term's figures are not the year's. Of each headline indicator the first figure the year's
review states is its result; an indicator it states no figure for has no row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from index import vocab
from index.figures import Figure
from index.model import Passage


def result_figures(
    passages: Sequence[Passage], parts: Sequence[str], year: int | None = None
) -> list[Figure]:
    """The headline results among a report's ``passages`` (in report order), each the first
    the review of its one year states.

    Args:
        passages: The report's passages, in order.
        parts: Each passage's part of the report ("review", "plan", …, as the shard keeps).
        year: The report's year (its review is of the year before), ``None`` when unknown.
    """
    found: dict[str, Figure] = {}
    for passage in _year_reviewed(passages, parts, year):
        for sentence in vocab.RESULT_SENTENCE.finditer(passage.text):
            for figure in _sentence_results(passage, sentence.start(), sentence.group()):
                key = f"{figure.canonical}:{figure.unit in vocab.RESULT_AMOUNT_UNIT}"
                found.setdefault(key, figure)
    return sorted(found.values(), key=lambda f: (f.start, f.end))


def _year_reviewed(
    passages: Sequence[Passage], parts: Sequence[str], year: int | None
) -> Iterable[Passage]:
    """The passages of the review of one year: from a paragraph that opens on it to one that
    opens on several years; a review that opens on neither is of its one year. A paragraph's
    second sentence may say it better than its first ("2025年是“十四五”收官之年。五年来，…")."""
    one_year, paragraph = True, None
    for passage, part in zip(passages, parts, strict=True):
        if part != "review":
            continue
        if passage.paragraph != paragraph:
            paragraph = passage.paragraph
            first, _, rest = passage.text.lstrip().partition("。")
            for opening in (first, rest.lstrip()):
                if vocab.REVIEW_SEVERAL_YEARS.match(opening):
                    one_year = False
                elif said := vocab.REVIEW_ONE_YEAR.match(opening):
                    # "2021年，…" inside a term's review is not the year reviewed
                    stated = said.group("year")
                    one_year = year is None or stated is None or int(stated) == year - 1
        if one_year:
            yield passage


@dataclass
class _Run:
    """An indicator that opens a piece of a sentence, and the figures said of it with the
    words before each ("国内生产总值" with 134.9万亿元 after "达到", 5% after "增长")."""

    row: tuple
    name: str
    begin: int
    numbers: list[tuple[re.Match, str]] = field(default_factory=list)


def _sentence_results(passage: Passage, at: int, sentence: str) -> Iterable[Figure]:
    """The results one sentence states. An indicator opens a piece ("、" and "，" end one);
    the figures of the pieces after it that open on their figure are its too ("国内生产总值
    超过126万亿元，增长5.2%"), past a remark without one ("…、稳居全国前十强、增长4.8%")."""
    runs: list[_Run] = []
    current: _Run | None = None
    for piece in vocab.RESULT_PIECE.finditer(sentence):
        lead = vocab.RESULT_LEAD.match(piece.group())
        begin = piece.start() + (lead.end() if lead else 0)
        named = next(
            ((row, m) for row in vocab.RESULT_INDICATORS if (m := row[0].match(sentence, begin))),
            None,
        )
        if named is not None:
            row, name = named
            current = _Run(row, name.group(), begin)
            runs.append(current)
            after = name.end()
        elif current is None or not vocab.RESULT_NUMBER.search(
            sentence, piece.start(), piece.end()
        ):
            continue  # no indicator yet, or a remark without a figure ("、稳居全国前十强")
        elif not vocab.RESULT_GOES_ON.match(sentence, piece.start()):
            current = None  # another thing's figure ("、支出首次超过7000亿元"): the run ends
            continue
        else:
            after = piece.start()
        for number in vocab.RESULT_NUMBER.finditer(sentence, after, piece.end()):
            current.numbers.append((number, sentence[after : number.start()].strip("、， ")))
            after = number.end()
    for run in runs:
        yield from _run_results(passage, at, sentence, run)


def _run_results(passage: Passage, at: int, sentence: str, run: _Run) -> Iterable[Figure]:
    """An indicator's results from its figures in one sentence: of several amounts the last
    ("突破4000亿元、达到4211亿元": a milestone passed, then the figure), the first rate that
    is its growth (or its level, for a rate such as 失业率)."""
    _, growth, amount = run.row
    amounts: list | None = []
    rates = []
    for number, verb in run.numbers:
        if vocab.SEVERAL_YEARS_VERB.search(verb):  # "年均增长6%", "累计完成3.7万亿元"
            continue
        grew = vocab.RESULT_GROWTH.search(verb)
        if number.group("unit") in vocab.RESULT_AMOUNT_UNIT:
            if vocab.RESULT_SPAN.search(verb):  # "从A提高到B": neither end is the year's
                amounts = None
            elif amounts is not None and len(verb) <= vocab.RESULT_VERB_MOST:
                amounts.append((number, "以上" if vocab.RESULT_AT_LEAST.search(verb) else ""))
        elif grew or (growth in vocab.RESULT_LEVELS and len(verb) <= vocab.RESULT_VERB_MOST):
            rates.append((number, grew.group() if grew else ""))
    picked = []
    if amount and amounts:
        number, qualifier = amounts[-1]
        picked.append((amount, run.name, number, qualifier))
    if growth and rates:
        number, grew = rates[0]
        picked.append((growth, run.name + grew, number, ""))
    for canonical, name_said, number, qualifier in picked:
        value = float(number.group("value"))
        fell = canonical == growth and vocab.RESULT_FALL.search(name_said)
        yield Figure(
            indicator=name_said,
            canonical=canonical,
            value=-value if fell else value,
            value_high=None,
            unit=number.group("unit"),
            qualifier=qualifier,
            kind="result",
            text=sentence[run.begin : number.end()],
            paragraph=passage.paragraph,
            start=passage.start + at + run.begin,
            end=passage.start + at + number.end(),
            section=passage.section,
            passage=passage.text,
        )
