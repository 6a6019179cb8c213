"""Regions: one canonical key per region, the regions an index holds, and the places a
question names.

A region is named in many ways: 深圳市南山区, 南山区, 南山; 呼伦贝尔市海拉尔区 and 海拉尔区; 北京市,
北京, 京城. Its key is the name of its own level with its suffix (南山区, 海拉尔区, 北京市), read
from the structure of the name (the suffixes 省/市/区/县/自治区/自治州/盟/旗 cut it into its
levels), so that it is the same whatever name a report or a question uses, in every build and
every process: nothing here depends on the order of a set or dict, or on ``hash()``. The
division table (:func:`index.vocab.places_by_name`) only says what a name alone cannot: the
city and province a bare district lies in, and the full name of a short one (太原 -> 太原市).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index import vocab
from index.model import Document
from index.tokens import tokenize

_NAMES = 8192  # region names kept worked out: well over the ~2,800 counties and cities
_SUFFIX_CHARS = frozenset("省市区县州盟旗")
_LEVELS = {"省": 1, "自治区": 1, "特别行政区": 1, "市": 2, "州": 2, "自治州": 2, "盟": 2, "地区": 2}


@functools.lru_cache(maxsize=_NAMES)
def parts(name: str) -> tuple[str, ...]:
    """A region name cut into its levels: ``山西省太原市小店区`` -> (山西省, 太原市, 小店区).

    A cut is made after a suffix when what follows is at least two characters and does not
    itself start with a suffix (苏州 | 市吴中区 is no cut), unless it is a known name (市中区).
    A name that cannot be cut is one part.
    """
    name = name.strip()
    for end in range(2, len(name) - 1):
        if not vocab.REGION_SUFFIX_RE.search(name[:end]):
            continue
        rest = name[end:]
        if rest[0] in _SUFFIX_CHARS and rest not in vocab.places_by_name():
            continue
        tail = parts(rest)
        if all(vocab.REGION_SUFFIX_RE.search(p) for p in tail):
            return (name[:end], *tail)
    return (name,) if name else ()


@functools.lru_cache(maxsize=_NAMES)
def region_key(name: str) -> str:
    """The canonical key of a region: its own level's full name.

    ``深圳市南山区`` and ``南山区`` -> ``南山区``; ``山西省太原市`` -> ``太原市``; ``北京`` ->
    ``北京市``; ``太原`` -> ``太原市``; ``全国``, ``国务院`` -> ``全国``. A name with no suffix
    that no table knows is its own key.
    """
    name = name.strip()
    if not name:
        return ""
    if name in vocab.NATIONAL_ALIASES:
        return vocab.NATIONAL
    name = vocab.NICKNAMES.get(name, name)
    for full, short in vocab.PROVINCES:
        if name in (full, short):
            return full
    leaf = parts(name)[-1]
    if vocab.REGION_SUFFIX_RE.search(leaf):
        return leaf
    known = [p for p in vocab.places_by_name().get(leaf, ()) if p.level < 3]
    return known[0].name if len({p.name for p in known}) == 1 else leaf


def level(key: str) -> int:
    """0 the nation, 1 a province, 2 a prefecture, 3 a county or district."""
    if key == vocab.NATIONAL:
        return 0
    for full, _ in vocab.PROVINCES:
        if key == full:
            return 1
    match = vocab.REGION_SUFFIX_RE.search(key)
    return _LEVELS.get(match.group(0), 3) if match else 3


@dataclass(frozen=True)
class Region:
    """A region the index holds reports of.

    Attributes:
        key: Its canonical key (:func:`region_key`).
        name: The fullest name a report gives it (呼伦贝尔市海拉尔区 over 海拉尔区).
        names: Every name its reports give it, sorted.
        parents: The keys of the regions it lies in, outermost first (山西省, 太原市).
        code: Its division code when known (the table's), else empty.
        aliases: Ways a question may name it, longest first: its names, its key, the key
            without suffix (南山), colloquial names (京城); for the nation 全国, 我国 ….
    """

    key: str
    name: str
    names: tuple[str, ...]
    parents: tuple[str, ...]
    code: str = ""
    aliases: tuple[str, ...] = ()

    def contains(self, other: Region | vocab.Place) -> bool:
        """Whether ``other`` (a held region or a division) lies inside this region."""
        other_key = other.key if isinstance(other, Region) else other.name
        if self.key == vocab.NATIONAL:
            return other_key != vocab.NATIONAL
        if isinstance(other, Region) and self.key in other.parents:
            return True
        mine = region_place(self)
        theirs = region_place(other) if isinstance(other, Region) else other
        return bool(mine and theirs and theirs.code and mine.contains(theirs))


def held_regions(documents: Iterable[Document]) -> tuple[Region, ...]:
    """The regions of ``documents``, one per key, in key order."""
    names: dict[str, set[str]] = {}
    for d in documents:
        if d.region:
            names.setdefault(region_key(d.region), set()).add(d.region)
    return _regions(tuple(sorted((k, tuple(sorted(v))) for k, v in names.items())))


@functools.lru_cache(maxsize=64)
def _regions(grouped: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[Region, ...]:
    keys = {k for k, _ in grouped}
    out = []
    for key, names in grouped:
        named_parents = {region_key(p) for n in names for p in parts(n)[:-1]}
        place = _place_of(key, named_parents | keys)
        parents = set(named_parents)
        if place is not None:
            parents |= {p.name for p in _ancestors(place)}
        parents.discard(key)
        ordered = tuple(sorted(parents, key=lambda p: (level(p), p)))
        name = max(names, key=lambda n: (len(n), n))
        code = place.code if place else ""
        out.append(Region(key, name, names, ordered, code, _aliases(key, names)))
    return tuple(out)


def _aliases(key: str, names: tuple[str, ...]) -> tuple[str, ...]:
    if key == vocab.NATIONAL:
        return vocab.NATIONAL_ALIASES
    found = {*names, key, vocab.short_region(key)}
    found |= {n for n, full in vocab.NICKNAMES.items() if full == key and len(n) > 1}
    return tuple(sorted((n for n in found if len(n) >= 2), key=lambda n: (-len(n), n)))


def _place_of(key: str, context: set[str]) -> vocab.Place | None:
    """The division ``key`` is; when several share its name (four 鼓楼区), the one in a
    region of ``context`` (a named or held parent), else none."""
    found = vocab.places_by_name().get(key, ())
    found = tuple(p for p in found if p.name == key) or found
    if len(found) == 1:
        return found[0]
    inside = [
        p
        for p in found
        if any(q.contains(p) for c in sorted(context) for q in vocab.places_by_name().get(c, ()))
    ]
    return inside[0] if len(inside) == 1 else None


def _ancestors(place: vocab.Place) -> list[vocab.Place]:
    out = []
    for digits, lvl in ((2, 1), (4, 2)):
        if place.level > lvl:
            code = place.code[:digits] + "0" * (12 - digits)
            out += [p for p in _by_code().get(code, ())]
    return out


@functools.cache
def _by_code() -> dict[str, tuple[vocab.Place, ...]]:
    codes: dict[str, list[vocab.Place]] = {}
    for places in vocab.places_by_name().values():
        for p in places:
            if p.name.endswith(tuple(vocab.REGION_SUFFIXES)) and p not in codes.get(p.code, []):
                codes.setdefault(p.code, []).append(p)
    return {c: tuple(sorted(v)) for c, v in codes.items()}


def find_region(name: str, regions: Sequence[Region]) -> Region | None:
    """The held region ``name`` names (``北京`` -> 北京市, ``呼伦贝尔市海拉尔区`` -> 海拉尔区)."""
    key = region_key(name)
    for region in regions:
        if key == region.key or name in region.aliases:
            return region
    return None


@dataclass(frozen=True)
class Mention:
    """A place a question names.

    Attributes:
        start, end: Where it is in the question.
        said: The words used (京城, 南山区).
        key: The region key it stands for (北京市, 南山区).
        region: The held region it names, if any.
        place: The division it is, when the table knows it.
        before: The few characters before it (和, 对接 … make it part of the topic).
        after: The few characters after it (中部城市群 makes it part of the topic's name).
    """

    start: int
    end: int
    said: str
    key: str
    region: Region | None = None
    place: vocab.Place | None = None
    before: str = ""
    after: str = ""


def locate(question: str, regions: Sequence[Region]) -> list[Mention]:
    """The places ``question`` names, in order: held regions by any of their names, the
    table's provinces, prefectures and counties, colloquial names (京城, 鹏城) and a
    province's one character where the question starts with it (粤今年…)."""
    candidates: list[tuple[int, int, str, str, Region | None]] = []
    for region in regions:
        if region.key == vocab.NATIONAL:
            for m in vocab.NATIONAL_ALIAS_RE.finditer(question):
                candidates.append((m.start(), m.end(), m.group(), region.key, region))
            continue
        for alias in region.aliases:
            if alias not in question:
                continue
            for m in re.finditer(re.escape(alias), question):
                candidates.append((m.start(), m.end(), alias, region.key, region))
    candidates += _table_places(question)
    for m in vocab.NICKNAME_RE.finditer(question):
        candidates.append((m.start(), m.end(), m.group(), region_key(m.group()), None))
    if m := vocab.PROVINCE_ABBREVIATION_RE.match(question):
        full = vocab.PROVINCE_ABBREVIATIONS[m.group(1)]
        candidates.append((0, 1, m.group(1), full, None))
    # Longest first, then held before the table's, then earliest: each character once.
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[4] is None, c[0], c[3]))
    taken = [False] * len(question)
    mentions = []
    for start, end, said, key, region in candidates:
        if any(taken[start:end]):
            continue
        taken[start:end] = [True] * (end - start)
        region = region or find_region(key, regions)
        places = vocab.places_by_name().get(key, ())
        place = region_place(region) if region else (places[0] if len(places) == 1 else None)
        if place is None and places and region is None:
            place = vocab.gazetteer().get(key)
        before, after = question[max(0, start - 4) : start], question[end : end + 8]
        mentions.append(Mention(start, end, said, key, region, place, before, after))
    return sorted(mentions, key=lambda m: m.start)


def region_place(region: Region) -> vocab.Place | None:
    """The division a held region is, when known."""
    if not region.code:
        return None
    return vocab.Place(region.key, level(region.key), region.code)


def _table_places(question: str) -> list[tuple[int, int, str, str, None]]:
    places = vocab.gazetteer()
    found = []
    words: list[str] | None = None
    for size in range(8, 1, -1):
        for start in range(len(question) - size + 1):
            word = question[start : start + size]
            if word not in places:
                continue
            if size == 2:  # a short name may be part of a longer word (东城 in 广东城乡)
                words = words if words is not None else tokenize(question)
                if word not in words:
                    continue
            found.append((start, start + size, word, places[word].name, None))
    return found
