"""Reading the question: normalisation and what kind of answer it wants (its scope:
:mod:`assistant.scope`)."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from index import vocab
from index.errors import QuestionError

MAX_CHARS = 300
# What a log line keeps of a user's or a model's text: a 1 MB paste made a 3 MB line.
LOGGED_CHARS = 80
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


def excerpt(text: str) -> str:
    """The start of a user's or a model's text, for a log line."""
    if len(text) <= LOGGED_CHARS:
        return text
    return f"{text[:LOGGED_CHARS]}…（共{len(text)}字）"


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
    for pattern, written in vocab.SPOKEN_WORDS:
        text = pattern.sub(written, text)
    return vocab.FILLER_PARTICLES.sub("", text).strip(" ，,")


def _kept(match: re.Match) -> str:
    """The region and year a report wrapper held; its year still names the report
    ("2016年政府工作报告里" -> "2016年报告里，"), which is not the year asked."""
    kept = (match.groupdict().get("keep") or "").replace("的", "")
    year = vocab.YEAR_RE.search(kept)
    if not year or len(vocab.YEAR_RE.findall(kept)) > 1:  # "2008年到2015年": the years asked
        return kept
    place = (kept[: year.start()] + kept[year.end() :]).strip(" ，,")
    return f"{place}{year.group(1)}年报告里，"


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
        if vocab.JOINED_THINGS.search(question):
            figures = max(figures, 2)  # "多少个精品示范村和提档升级村": one figure each
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


def everyday_to_report(question: str) -> str:
    """Replace everyday words (GDP, 物价, 老小区 …) with the wording reports use."""
    for pattern, wording in vocab.EVERYDAY_TERMS:
        question = pattern.sub(wording, question)
    return question
