"""Follow-up questions ("那公办幼儿园呢？") rewritten into standalone ones."""

from __future__ import annotations

import re
from collections.abc import Sequence

_LEAD = re.compile(r"^(那么|那|还有|另外|再问一下|那请问)[，,\s]*")
_TAIL = re.compile(r"(呢|吗|啊|的话)?[？?。！!\s]*$")
_ASKING = re.compile(r"多少|几|哪些|什么|哪个|是否|怎么|如何|有没有|目标|安排|谁")
_OBJECT_AFTER_ASK = re.compile(r"^(.*?(?:多少|几)[个项所家张条座名人户亿万元]*)(.+?)$")
_SUBJECT_BEFORE_ASK = re.compile(
    r"^(今年|明年|全年|全市)?(.+?)((?:的)?(?:目标|计划|安排)?(?:是|有|为)?(?:多少|什么|哪些).*)$"
)


def is_followup(question: str, history: Sequence[tuple[str, str]]) -> bool:
    """Whether ``question`` leans on the previous turn."""
    if not history:
        return False
    short = len(question) <= 14
    leaning = bool(_LEAD.match(question)) or question.rstrip("？?").endswith("呢")
    return short and (leaning or not _ASKING.search(question))


def rewrite_followup(question: str, history: Sequence[tuple[str, str]], llm=None) -> str:
    """A standalone form of ``question`` given the conversation so far.

    Args:
        question: The new (cleaned) question.
        history: Earlier ``(question, answer)`` turns, oldest first.
        llm: Optional chat model; without one, rules do the rewriting.
    """
    if not is_followup(question, history):
        return question
    if llm is not None:
        from assistant.llm import llm_rewrite

        rewritten = llm_rewrite(llm, question, history)
        if rewritten:
            return rewritten
    return _rule_rewrite(question, history[-1][0])


def _rule_rewrite(question: str, previous: str) -> str:
    topic = _TAIL.sub("", _LEAD.sub("", question)).strip()
    previous = _TAIL.sub("", previous).strip()
    if not topic:
        return previous
    if _ASKING.search(topic):
        return topic
    m = _OBJECT_AFTER_ASK.match(previous)
    if m and m.group(2):
        return m.group(1) + topic
    m = _SUBJECT_BEFORE_ASK.match(previous)
    if m:
        return (m.group(1) or "") + topic + m.group(3)
    return f"{topic} {previous}"
