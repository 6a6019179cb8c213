"""Reading the question: validation, what kind of answer it wants, and its region/year scope."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from index.errors import QuestionError
from index.model import Document

MAX_CHARS = 300
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUMBER_CUE = re.compile(r"多少|几|比例|比重|占比|百分之|多大|多高|多长|多久|涨幅|增速|增长率")
_PERCENT_CUE = re.compile(r"(增长|下降|提高|降低|上涨)了?多少|增速|涨幅|比重|比例|占比|百分|增长率")
_ENTITY_CUE = re.compile(r"哪些|哪个|哪几|哪一|什么|谁|叫什么|是何|何种|名称")
_YESNO_CUE = re.compile(r"是否|有没有|会不会|能不能|是不是")
_UNIT_AFTER = re.compile(
    r"(?:多少|几)(万|亿)?(公里|平方米|千瓦|亿元|万元|[个家场所亩张部项条座名人户吨元台辆套批期次倍天年方面])"
)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_REGION_SUFFIX = re.compile(r"(维吾尔自治区|壮族自治区|回族自治区|特别行政区|自治区|省|市|县|区)$")
_NATIONAL_ALIASES = ("全国", "国务院", "国家", "中央政府")
# Everyday abbreviations users type for the reports' own wording.
_ALIASES = (
    (re.compile(r"GDP|国民生产总值", re.IGNORECASE), "生产总值"),
    (re.compile(r"CPI", re.IGNORECASE), "居民消费价格"),
    (re.compile(r"R&D|研发投入", re.IGNORECASE), "研发经费投入"),
    (re.compile(r"社零"), "社会消费品零售总额"),
    (re.compile(r"(?<![A-Za-z])AI(?![A-Za-z])", re.IGNORECASE), "人工智能"),
)


@dataclass(frozen=True)
class Intent:
    """What kind of answer a question wants.

    Attributes:
        kind: ``number``, ``entity``, ``yesno`` or ``statement``.
        units: Measure words the number should carry (``张``, ``%`` …), if the question says.
    """

    kind: str
    units: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scope:
    """The reports a question is about: ``None`` fields mean "not said"."""

    region: str | None = None
    year: int | None = None


def clean_question(question: object) -> str:
    """Normalise a user question, or raise :class:`QuestionError` with a clear message."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text", "问题必须是文字。")
    text = "".join(ch for ch in question if _keep_char(ch))
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
    return text


def _keep_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Co", "Cs", "So", "Sk"):
        return ch in "\n\t"
    return True


def detect_intent(question: str) -> Intent:
    """Classify the question by the answer it wants."""
    units = tuple(u for pair in _UNIT_AFTER.findall(question) for u in pair if u)
    if _PERCENT_CUE.search(question):
        units += ("%",)
    if _NUMBER_CUE.search(question):
        return Intent("number", units)
    if _YESNO_CUE.search(question):
        return Intent("yesno")
    if _ENTITY_CUE.search(question):
        return Intent("entity")
    return Intent("statement")


def region_aliases(region: str) -> tuple[str, ...]:
    """Ways a question may name ``region``: ``山西省`` -> ``山西省``, ``山西``."""
    if region == "全国":
        return _NATIONAL_ALIASES
    short = _REGION_SUFFIX.sub("", region)
    return tuple(dict.fromkeys(a for a in (region, short) if len(a) >= 2))


def find_scope(question: str, documents: Iterable[Document]) -> Scope:
    """The region and year a question names, among those the index holds."""
    best = ""
    for region in {d.region for d in documents if d.region}:
        for alias in region_aliases(region):
            if alias in question and len(alias) > len(best):
                best, found = alias, region
    year = _YEAR.search(question)
    return Scope(region=found if best else None, year=int(year.group(1)) if year else None)


def expand_aliases(question: str) -> str:
    """Replace abbreviations (GDP, CPI …) with the wording reports use."""
    for pattern, wording in _ALIASES:
        question = pattern.sub(wording, question)
    return question


def strip_scope(question: str, scope: Scope, year_word: str = "今年") -> str:
    """The question without its region words and with its year as the report says it.

    Args:
        question: The standalone question.
        scope: What :func:`find_scope` found in it.
        year_word: How the report refers to that year (``今年``, ``去年``); empty drops it.
    """
    text = expand_aliases(question)
    if scope.region:
        for alias in sorted(region_aliases(scope.region), key=len, reverse=True):
            text = text.replace(alias, "")
    if scope.year:
        text = re.sub(rf"{scope.year}\s*年", year_word, text)
    return text
