"""The reports panel's view of the index: search, filter and sort the list, label reports.

Pure functions over ``IndexedDocument`` records, so that the panel's behaviour is tested
without a browser; the handlers in :mod:`ui.panel` call them and :mod:`ui.render` draws.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

ALL_REGIONS = "全部地区"
ALL_YEARS = "全部年份"
UNKNOWN = "未识别"
SORTS = ("年份（新→旧）", "年份（旧→新）", "地区", "标题")


@dataclass(frozen=True)
class View:
    """What the list shows: a search text, a region, a year (or all), and an order."""

    query: str = ""
    region: str = ALL_REGIONS
    year: str = ALL_YEARS
    sort: str = SORTS[0]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def region_label(doc) -> str:
    return doc.region or UNKNOWN


def year_label(doc) -> str:
    return str(doc.year) if doc.year else UNKNOWN


def select(documents: Sequence, view: View) -> list:
    """The documents ``view`` shows, in its order.

    The search matches any part of the title, region, year or file name; "未识别" finds
    the reports whose region or year is unknown.
    """
    words = _fold(view.query).split()
    shown = []
    for doc in documents:
        haystack = _fold(" ".join((doc.title, region_label(doc), year_label(doc), doc.source)))
        if not all(w in haystack for w in words):
            continue
        if view.region != ALL_REGIONS and region_label(doc) != view.region:
            continue
        if view.year != ALL_YEARS and year_label(doc) != view.year:
            continue
        shown.append(doc)
    newest = view.sort != SORTS[1]
    if view.sort in SORTS[:2]:
        # Unknown years sort last either way: they are the ones to look at and fix.
        shown.sort(key=lambda d: (d.year is None, -(d.year or 0) if newest else d.year or 0))
    elif view.sort == SORTS[2]:
        shown.sort(key=lambda d: (not d.region, d.region, -(d.year or 0)))
    else:
        shown.sort(key=lambda d: d.title)
    return shown


def region_choices(documents: Sequence) -> list[str]:
    """The region filter's choices: all, each region held, then "未识别" if any."""
    regions = sorted({d.region for d in documents if d.region})
    return [ALL_REGIONS, *regions, *([UNKNOWN] if any(not d.region for d in documents) else [])]


def year_choices(documents: Sequence) -> list[str]:
    """The year filter's choices: all, each year held (newest first), then "未识别"."""
    years = sorted({d.year for d in documents if d.year}, reverse=True)
    unknown = [UNKNOWN] if any(not d.year for d in documents) else []
    return [ALL_YEARS, *map(str, years), *unknown]


def pick_label(doc) -> str:
    """How a report is named in the "choose a report" list."""
    return f"{doc.title} · {year_label(doc)} · {region_label(doc)}"


def pick_labels(documents: Sequence) -> list[str]:
    """The "choose a report" list's label of each of ``documents``, in order: reports of
    the same title, year and region are told apart by their file's name (or, of the same
    name, its path)."""
    labels = [pick_label(d) for d in documents]
    shared = Counter(labels)
    named = [
        f"{label} · {PurePath(d.source).name}" if shared[label] > 1 else label
        for label, d in zip(labels, documents, strict=True)
    ]
    shared = Counter(named)
    return [
        f"{label} · {d.source}" if shared[label] > 1 else label
        for label, d in zip(named, documents, strict=True)
    ]
