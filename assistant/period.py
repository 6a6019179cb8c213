"""The period a question asks about: the words that name the report and its year, the
year asked, and relative years (明年, 去年 …) still to be counted from the report's year."""

from __future__ import annotations

import re

from index import vocab

# A relative year after these is compared against ("比去年增长"), not asked about.
_COMPARED = re.compile(r"(?:比|较|同比|相比|比上|与|和)$")


def read_period(question: str) -> tuple[str, int | None, int | None, int | None]:
    """The question without the words that name the report and its year, the year asked,
    the report's year, and the offset of a relative year (明年: 1) still to be counted from
    the report's year.

    "去年（2025年）" asks 2025; "2026年的报告里" names the 2026 report; "回顾2022年时说" asks
    2022 as the review part tells it; "当年" is the year already named.
    """
    text = question
    year = report_year = None
    glossed = vocab.GLOSSED_YEAR.search(text)
    if glossed:
        year = int(glossed.group("year"))
        text = text[: glossed.end("word")] + text[glossed.end() :]
    named = vocab.REPORT_NAMED.search(text)
    if named:
        report_year = int(named.group("year"))
        place = named.group("place") or ""
        text = f"{text[: named.start()]}{place}{_comma(named)}{text[named.end() :]}"
    text = vocab.REPORT_WORDS.sub(_comma, text)
    reviewed = vocab.REVIEWED_YEAR.search(text)
    if reviewed:
        year = year or int(reviewed.group("year"))
        text = _cut(text, reviewed)
    relative = relative_word(text)
    absolute = vocab.YEAR_RE.search(text)
    if absolute and relative and report_year is None and absolute.end() <= relative.start():
        # "国务院2024年…去年": a year before a relative one is the report's (a wrapper
        # "2024年的政府工作报告里" left only the year).
        between = text[absolute.end() : relative.start()]
        if len(between) <= 4:
            report_year = int(absolute.group(1))
            text = text[: absolute.start()] + text[absolute.end() :]
            absolute = vocab.YEAR_RE.search(text)
            relative = relative_word(text)
    if year is not None and absolute and report_year is None and int(absolute.group(1)) > year:
        # "2026年…回顾2025年时说": the later year is the report's (its wrapper gone).
        report_year = int(absolute.group(1))
        text = text[: absolute.start()] + text[absolute.end() :]
        absolute = None
    if year is None and absolute:
        year = int(absolute.group(1))
    if year is not None:
        text = vocab.THAT_YEAR.sub(f"{year}年", text)
    offset = None
    if relative and year is None:
        offset = vocab.RELATIVE_YEARS[relative.group()]
        if report_year is not None:
            year, offset = report_year + offset, None
        elif offset in (0, -1):
            offset = None  # 今年, 去年 of the latest report: as the report itself says them
    if year is None and report_year is not None:
        year = report_year
    return text.strip(" ，,"), year, report_year, offset


def relative_word(text: str) -> re.Match | None:
    """The first relative year word (明年, 去年 …) that is not compared against ("比去年")."""
    for m in vocab.RELATIVE_YEAR_RE.finditer(text):
        if not _COMPARED.search(text[: m.start()]):
            return m
    return None


def _cut(text: str, match: re.Match) -> str:
    return _comma(match).join((text[: match.start()], text[match.end() :]))


def _comma(match: re.Match) -> str:
    return "，" if match.group().startswith(("，", ",")) else ""
