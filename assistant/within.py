"""The page's filter of reports (a region, a year): which reports it admits, and whether a
question names another region or year than it admits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from assistant.regions import Region, find_region, held_regions, region_key
from assistant.types import ReportFilter
from index import vocab
from index.model import Document

if TYPE_CHECKING:
    from assistant.scope import Scope

NONE_ADMITTED = "已索引的报告中没有符合所选地区和年份的报告，请修改或清除筛选条件。"


def admitted(documents: Iterable[Document], within: ReportFilter | None) -> list[Document]:
    """The reports ``within`` admits (all of them without a filter). Its region may be
    named in any way a question may (北京, 北京市, 呼伦贝尔市海拉尔区)."""
    documents = list(documents)
    if within is None:
        return documents
    key = None
    if within.region:
        region = find_region(within.region, held_regions(documents))
        key = region.key if region else region_key(within.region)
    return [
        d
        for d in documents
        if (key is None or region_key(d.region) == key)
        and (within.year is None or d.year == within.year)
    ]


def filter_conflict(named: Scope, within: ReportFilter, documents: Sequence[Document]) -> str:
    """Why the question names another region or year than the filter admits, or empty."""
    asked = named.region or named.unknown_region
    if within.region and asked:
        regions = held_regions(documents)
        chosen = find_region(within.region, regions)
        key = chosen.key if chosen else region_key(within.region)
        inside = chosen is not None and (
            (named.region and chosen.contains(find_region(named.region, regions)))
            or (named.place and _place_inside(chosen, named.place))
        )
        if key != region_key(asked) and not inside:
            name = chosen.name if chosen else within.region
            return (
                f"问题问的是{named.place or asked}，但查找范围限定为{name}的报告；"
                "请修改或清除查找范围后再问。"
            )
    year = named.report_year or named.year
    if within.year and year and year not in (within.year, within.year - 1):
        return (
            f"问题问的是{year}年，但查找范围限定为{within.year}年的报告；"
            "请修改或清除查找范围后再问。"
        )
    return ""


def _place_inside(region: Region, place: str) -> bool:
    found = vocab.places_by_name().get(place, ())
    return any(region.contains(p) for p in found)
