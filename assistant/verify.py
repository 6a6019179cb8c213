"""Checks that an answer says nothing its citations do not: every number, every marker."""

from __future__ import annotations

import re

_MARKED = re.compile(r"([^\[\]]*)((?:\[\d+\])*)")
_MARKER = re.compile(r"\[(\d+)\]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _has_number(number: str, text: str) -> bool:
    # Not part of a longer number (5 in 2.5 or 25); a dot after a letter is no decimal
    # point ("NaBO.10HO" holds 10).
    return re.search(rf"(?<!\d)(?<!\d\.){re.escape(number)}(?!\d|\.\d)", text) is not None


def verify(text: str, quotes: dict[int, str]) -> list[str]:
    """Problems with an answer text, empty when it is fully backed.

    Args:
        text: Answer text with ``[n]`` markers.
        quotes: Citation number -> the cited text that must back the claims marked with it.

    Returns:
        Human-readable problems: unknown markers, numbers no cited text contains.
    """
    problems = []
    for n in {int(m) for m in _MARKER.findall(text)} - set(quotes):
        problems.append(f"marker [{n}] cites nothing")
    for segment, markers in _MARKED.findall(text):
        cited = [int(m) for m in _MARKER.findall(markers) if int(m) in quotes]
        sources = [quotes[n] for n in cited] or list(quotes.values())
        for number in _NUMBER.findall(segment):
            if not any(_has_number(number, s) for s in sources):
                problems.append(f"number {number} is not in the cited text")
    return problems
