"""Reading the question: normalisation, what kind of answer it wants, and its scope."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from index import vocab
from index.errors import QuestionError
from index.model import Document
from index.tokens import tokenize

MAX_CHARS = 300
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Terminal escape sequences (colours pasted from a shell): their printable tail ("[31m")
# would survive the removal of control characters.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")

Tense = Literal["result", "target", ""]


@dataclass(frozen=True)
class Intent:
    """What kind of answer a question wants.

    Attributes:
        kind: ``number``, ``entity``, ``yesno``, ``statement`` or ``overview`` (an open
            question about a topic, which several sentences answer).
        units: Measure words the number should carry (``张``, ``%`` …), if the question says.
        tense: ``result`` for what already happened (the review part answers),
            ``target`` for what is planned (the plan part answers), else empty.
        figures: How many figures the question asks for (``多少户、多少平方米`` asks two).
        several_years: The question asks about several years (an average, five years), so
            a yearly average may answer it.
        when: The question asks for a time (哪天, 几月, 什么时候): the answer names one.
    """

    kind: Literal["number", "entity", "yesno", "statement", "overview"]
    units: tuple[str, ...] = ()
    tense: Tense = ""
    figures: int = 1
    several_years: bool = False
    when: bool = False


@dataclass(frozen=True)
class Scope:
    """The reports a question is about.

    Attributes:
        region: The held region it names (``None``: not said).
        year: The year it names (``None``: not said).
        unknown_region: A place it names that no indexed report covers (``香港``).
        place: A place inside ``region`` that the question is about (万柏林区 in 太原市):
            only passages that name it can answer.
    """

    region: str | None = None
    year: int | None = None
    unknown_region: str = ""
    place: str = ""


# ---------------------------------------------------------------- normalisation


def clean_question(question: object) -> str:
    """Normalise a user question, or raise :class:`QuestionError` with a clear message.

    Terminal escapes, control and symbol characters go, full-width forms become half-width (NFKC),
    traditional characters become simplified (OpenCC), and spoken wrappers and fillers
    that no report contains ("请问一下，", "根据报告，", "…啊") are dropped.
    """
    if not isinstance(question, str):
        raise QuestionError("the question must be text", "问题必须是文字。")
    text = "".join(ch for ch in _ANSI.sub("", question) if _keep_char(ch))
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    if not text:
        raise QuestionError("the question is empty", "请输入一个问题。")
    if len(text) > MAX_CHARS:
        raise QuestionError(
            f"the question is too long ({len(text)} characters; at most {MAX_CHARS})",
            f"问题太长了（{len(text)}字），请精简到{MAX_CHARS}字以内。",
        )
    if not _CJK.search(text):
        raise QuestionError(
            "please ask in Chinese: the reports are in Chinese",
            "请用中文提问（报告是中文的），例如：今年新增多少养老床位？",
        )
    return strip_noise(to_simplified(text)) or text


def _keep_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Co", "Cs", "So", "Sk"):
        return ch in "\n\t"
    return True


@functools.cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters as simplified ones (廣東 -> 广东)."""
    return _converter().convert(text)


def strip_noise(text: str) -> str:
    """The question without wrappers ("在…政府工作报告中，") and spoken fillers (啊, 呀)."""
    for pattern in vocab.WRAPPER_RES:
        text = pattern.sub(_kept, text)
    return vocab.FILLER_PARTICLES.sub("", text).strip(" ，,")


def _kept(match: re.Match) -> str:
    kept = match.groupdict().get("keep") or ""
    return kept.replace("的", "")


# ---------------------------------------------------------------- intent


def detect_intent(question: str) -> Intent:
    """Classify the question by the answer it wants, and whether it asks a result or a plan."""
    units = tuple(u for pair in vocab.UNIT_AFTER_ASK.findall(question) for u in pair if u)
    if vocab.PERCENT_CUE.search(question):
        units += ("%",)
    tense = detect_tense(question)
    when = bool(vocab.TIME_ASKED.search(question))
    names_only = vocab.WHICH_CUE.search(question) and not vocab.NUMBER_ASKED.search(question)
    if vocab.NUMBER_CUE.search(question) and not when and not names_only:
        figures = max(1, len(re.findall(r"多少|几(?=[\u4e00-\u9fff])", question)))
        if vocab.RESPECTIVELY.search(question):
            figures = max(figures, 2)
        several = bool(vocab.SEVERAL_YEARS_ASKED.search(question))
        return Intent("number", units, tense, figures, several)
    if vocab.OVERVIEW_CUE.search(question) and not when:
        return Intent("overview", (), tense)
    if vocab.YESNO_CUE.search(question):
        return Intent("yesno", (), tense, when=when)
    if vocab.ENTITY_CUE.search(question) or when:
        return Intent("entity", (), tense, when=when)
    return Intent("statement", (), tense)


def detect_tense(question: str) -> Tense:
    """``result`` for a question about what happened, ``target`` for one about the plan."""
    if vocab.PAST_CUE.search(question):
        return "result"
    if vocab.PLAN_CUE.search(question):
        return "target"
    if vocab.DONE_ASKED.search(question):
        return "result"
    return ""


# ---------------------------------------------------------------- scope


# Region names seen lately, well over the ~2,800 counties and cities: a question walks the
# regions of every indexed report (a thousand at 10^5 passages), and working their keys and
# aliases out again each time was a tenth of an answer.
_REGION_NAMES = 8192


@functools.lru_cache(maxsize=_REGION_NAMES)
def region_key(region: str) -> str:
    """One name per region: a district named with its city (太原市小店区) is 小店区."""
    match = re.match(r"^.{2,8}?(?:省|自治区|市)(?=.{2,}(?:区|县|旗|市)$)", region)
    return region[match.end() :] if match else region


@functools.lru_cache(maxsize=_REGION_NAMES)
def region_aliases(region: str) -> tuple[str, ...]:
    """Ways a question may name ``region``: ``山西省`` -> ``山西省``, ``山西``."""
    if region == vocab.NATIONAL:
        return vocab.NATIONAL_ALIASES
    key = region_key(region)
    names = (region, key, vocab.short_region(key))
    return tuple(dict.fromkeys(a for a in names if len(a) >= 2))


def find_scope(question: str, documents: Iterable[Document]) -> Scope:
    """The region and year a question names, and a named place the index does not hold."""
    documents = list(documents)
    year_match = vocab.YEAR_RE.search(question)
    year = int(year_match.group(1)) if year_match else None
    held = _held_region(question, documents)
    for place in _named_places(question):
        if held and _is_alias(place.name, held):
            continue
        if held == vocab.NATIONAL:
            continue  # the national report speaks of every place
        if held and _place_of(held) and place.contains(_place_of(held)):
            continue  # 山西省 in 山西省太原市 only says where 太原市 is
        # A place inside a held region (万柏林区 in 太原市, 深圳 in 广东省) is answered
        # from that region's reports, by passages that name it; any other is not held.
        parent = held or _held_parent(place, documents)
        if parent and _place_of(parent) and _place_of(parent).contains(place):
            return Scope(parent, year, place=place.name)
        return Scope(None, year, place.name)
    return Scope(held, year)


def _place_of(region: str) -> vocab.Place | None:
    return vocab.gazetteer().get(region_key(region))


def _held_parent(place: vocab.Place, documents: list[Document]) -> str | None:
    regions = {d.region for d in documents if d.region}
    parents = [r for r in regions if _place_of(r) and _place_of(r).contains(place)]
    return max(parents, key=lambda r: _place_of(r).level, default=None)


def _held_region(question: str, documents: list[Document]) -> str | None:
    best, found = "", None
    for region in {d.region for d in documents if d.region}:
        if region == vocab.NATIONAL:
            continue
        for alias in region_aliases(region):
            if alias in question and len(alias) > len(best):
                best, found = alias, region
    national = any(d.region == vocab.NATIONAL for d in documents)
    if found is None and national and vocab.NATIONAL_ALIAS_RE.search(question):
        return vocab.NATIONAL
    return found


def _named_places(question: str) -> list[vocab.Place]:
    """The gazetteer's places named in ``question``, longest match first."""
    places = vocab.gazetteer()
    found, taken = [], [False] * len(question)
    words: list[str] | None = None
    for size in range(8, 1, -1):
        for start in range(len(question) - size + 1):
            word = question[start : start + size]
            if word not in places or any(taken[start : start + size]):
                continue
            if size == 2:  # a short name may be part of a longer word (东城 in 广东城乡)
                words = words if words is not None else tokenize(question)
                if word not in words:
                    continue
            taken[start : start + size] = [True] * size
            found.append(places[word])
    return found


def _is_alias(place: str, region: str) -> bool:
    return place in region_aliases(region) or region_key(region) in place


def scope_message(scope: Scope, documents: Sequence[Document]) -> str:
    """Why a scoped question cannot be answered, in Chinese, or empty when it can."""
    if scope.unknown_region and all(d.region for d in documents):
        held = "、".join(sorted({d.region for d in documents if d.region}))
        return f"索引中没有{scope.unknown_region}的报告。已收录：{_short_list(held)}。"
    if not scope.year:
        return ""
    # Documents of unknown year (not dated reports) may speak of the asked year.
    of_region = [d for d in documents if not scope.region or d.region == scope.region]
    if any(d.year is None for d in of_region):
        return ""
    years = sorted({d.year for d in of_region if d.year})
    if scope.year in years or scope.year + 1 in years:
        return ""
    if scope.region:
        latest = f"，最近的是{years[-1]}年" if years else ""
        return f"没有{scope.year}年{scope.region}的报告{latest}。"
    if years:
        return f"索引中没有{scope.year}年的报告，已收录的年份：{'、'.join(map(str, years))}。"
    return ""


def _short_list(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit].rsplit("、", 1)[0] + "等"


def everyday_to_report(question: str) -> str:
    """Replace everyday words (GDP, 物价, 老小区 …) with the wording reports use."""
    for pattern, wording in vocab.EVERYDAY_TERMS:
        question = pattern.sub(wording, question)
    return question


def strip_scope(question: str, scope: Scope, year_word: str = "今年") -> str:
    """The question without its region words and with its year as the report says it.

    Args:
        question: The standalone question.
        scope: What :func:`find_scope` found in it.
        year_word: How the report refers to that year (``今年``, ``去年``); empty drops it.
    """
    text = everyday_to_report(question)
    if scope.region == vocab.NATIONAL:
        text = vocab.NATIONAL_ALIAS_RE.sub("", text)
    elif scope.region:
        for alias in sorted(region_aliases(scope.region), key=len, reverse=True):
            text = text.replace(alias, "")
    if scope.year:
        text = re.sub(rf"{scope.year}\s*年", year_word, text)
    return text
