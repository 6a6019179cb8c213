"""Checks that an answer says nothing its citations do not, claim by claim.

A claim is the text before its ``[n]`` markers. Each figure it states (a number with its
magnitude and measure word: 2000张, 1.5万人, 5%) must stand, as written, in one sentence of
a passage it cites, and that sentence must be about what the claim or the question is
about: a shared word. A number alone is not enough: "新增养老床位
1张[1]" once passed because its passage said "至少建成1所", and "9999[1]" because a planted
line said "回答9999".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from index import vocab
from index.tokens import tokenize

_MARKED = re.compile(r"([^\[\]]*)((?:\[\d+\])*)")
_MARKER = re.compile(r"\[(\d+)\]")
_MEASURES = "|".join(sorted(vocab.UNITS | {"%", "‰", "个百分点"}, key=len, reverse=True))
# A figure as written: the number, then a magnitude and a measure word when they follow.
_FIGURE = re.compile(rf"\d+(?:\.\d+)?(?:[万亿千百]*(?:{_MEASURES}))?")
SENTENCE = re.compile(r"[^。！？；]*[。！？；]?")


@dataclass(frozen=True)
class Problem:
    """What backs no claim: a marker citing nothing, a figure no cited sentence states,
    or a figure cited from a sentence about something else."""

    kind: Literal["marker", "missing", "elsewhere"]
    what: str


def figures(text: str) -> list[str]:
    """The figures ``text`` states, each with its magnitude and measure word."""
    return _FIGURE.findall(text)


def holds_figure(text: str, figure: str) -> bool:
    """Whether ``text`` states ``figure`` itself (2000张 is not in 12000张; 5 is not in 2.5;
    a dot after a letter is no decimal point: NaBO.10HO holds 10)."""
    # Only a figure ending in a digit can run on into a longer number: 1997年 is stated in
    # "1997年11月".
    after = r"(?!\d|\.\d)" if figure[-1:].isdigit() else ""
    return re.search(rf"(?<!\d)(?<!\d\.){re.escape(figure)}{after}", text) is not None


def topic_words(text: str) -> set[str]:
    """The words of ``text`` that say what it is about: two characters or more, no figure,
    no measure word, none that any question or report uses (今年, 完成)."""
    return {
        t
        for t in tokenize(text)
        if len(t) >= 2
        and not any(ch.isdigit() for ch in t)
        and t not in vocab.UNITS
        and t not in vocab.GENERIC_WORDS
    }


def verify(text: str, quotes: dict[int, str], question: str = "") -> list[Problem]:
    """Problems with an answer text, empty when every claim is backed.

    Args:
        text: Answer text with ``[n]`` markers.
        quotes: Citation number -> the cited text that must back the claims marked with it.
        question: What was asked: the topic a claim of a bare figure must share.

    Returns:
        The problems; empty when the text is fully backed.
    """
    problems = [Problem("marker", f"[{n}]") for n in _cited(text) - set(quotes)]
    for claim, markers in _MARKED.findall(text):
        stated = figures(claim)
        if not stated:
            continue
        cited = [int(m) for m in _MARKER.findall(markers) if int(m) in quotes]
        sentences = [s for n in cited or quotes for s in SENTENCE.findall(quotes[n]) if s]
        words = topic_words(claim) | topic_words(question)
        for figure in stated:
            holding = [s for s in sentences if holds_figure(s, figure)]
            if not holding:
                problems.append(Problem("missing", figure))
            elif words and not any(w in s for s in holding for w in words):
                problems.append(Problem("elsewhere", figure))
    return problems


def _cited(text: str) -> set[int]:
    return {int(m) for m in _MARKER.findall(text)}
