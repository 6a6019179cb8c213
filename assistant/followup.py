"""Follow-up questions ("那公办幼儿园呢？") rewritten into standalone ones.

A follow-up leans on the previous turn and changes one or two things in it: the region
("那湖南呢"), the year ("那2024年呢") or the topic ("那公办幼儿园呢"). The rules take the previous
*standalone* question as the frame and swap just those things, so the asking words (多少,
目标是多少 …) and whatever the follow-up does not name again carry over.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from index.vocab import (
    ENTITY_CUE,
    MEASURE_WORDS,
    NATIONAL_ALIAS_RE,
    NICKNAMES,
    NOT_PLACE_START,
    NOT_PLACES,
    PLACE_RE,
    PROVINCES,
    REGION_SUFFIX_RE,
    RELATIVE_YEARS,
    SUBJECT_FRAME,
    YEAR_RE,
    YESNO_CUE,
    gazetteer,
)

# Openers that make a question lean on the previous turn; "那些/那个" start ordinary questions.
_LEAD = re.compile(
    r"^(?:(?:那么|那请问|那(?![些个里样])|还有|另外|再问一下|换成|改成|如果是)[，,\s]*)+"
)
_ENDS_WITH_NE = re.compile(r"呢[？?。！!.\s]*$")
# "又是" after the new topic sets it against the previous one ("社会消费品零售总额又是多少？"),
# however long the topic; "又有"/"又要" may mean "again" in a question of its own.
_AGAIN = re.compile(r"^[^，,。？?]{1,16}?又(?:是|如何|怎么样|怎样)")
# Particles, punctuation and pointing words after a follow-up's content ("湖南省的呢？" →
# "湖南省"; "内蒙古那边呢" → "内蒙古").
_TAIL = re.compile(r"(?:呢|吗|啊|呀|吧|的话|的|那边|这边|那里|这里|[？?。！!.，,\s])+$")
# The previous question only loses its final punctuation: its 吗 or 的 may be meaningful.
_BASE_TAIL = re.compile(r"呢?[？?。！!.\s]*$")
_YEARS = re.compile(YEAR_RE.pattern + "|" + "|".join(RELATIVE_YEARS))
# Words that ask. Topic words such as 比例/增速/目标 are left out: "那研发投入占比呢" still leans.
_ASKING = re.compile(
    rf"{ENTITY_CUE.pattern}|{YESNO_CUE.pattern}|多少|几|多[大高长久远]|怎么|怎样|如何"
)
_MEASURE = "|".join(sorted(set(MEASURE_WORDS), key=len, reverse=True))
# An asking word that an object can follow, with its measure word ("多少个老旧小区").
_ASK_UNIT = re.compile(rf"(多少|几|哪几|哪些|什么)((?:万|亿|千|百)?(?:{_MEASURE}))?")
# Words after the number that are no object ("多少以上").
_OBJECT_NOISE = re.compile(r"(?:以上|以内|以下|左右)+$")
# Objects of 什么/哪些 that ask about the subject rather than name a topic ("有什么安排").
_FRAME_NOUN = re.compile(r"^(?:安排|措施|举措|政策|目标|任务|要求|计划|方面|重点|工作|变化|进展)")
# Characters that border a follow-up's topic without being part of it ("幼儿园有" → "幼儿园").
_TOPIC_EDGE = "的了也有是还和又"
# A follow-up's own topic of at least this many characters (about two words), together with
# an asking word of its own, makes it a standalone question.
_OWN_TOPIC_CHARS = 4

Span = tuple[int, int]


def is_followup(
    question: str, history: Sequence[tuple[str, str]], known_regions: Iterable[str] = ()
) -> bool:
    """Whether ``question`` leans on the previous turn."""
    return bool(history) and _leans(question, _region_names(known_regions))


def rewrite_followup(
    question: str,
    history: Sequence[tuple[str, str]],
    llm=None,
    known_regions: Iterable[str] = (),
) -> str:
    """A standalone form of ``question`` given the conversation so far.

    Args:
        question: The new (cleaned) question.
        history: Earlier ``(question, answer)`` turns, oldest first.
        llm: Optional chat model; without one, or when it gives nothing, rules rewrite.
        known_regions: Region names the index holds, so short forms (太原) are recognised.
    """
    if not history:
        return question  # before the region names: their pattern is built only when needed
    names = _region_names(known_regions)
    if not _leans(question, names):
        return question
    if llm is not None:
        from assistant.llm import llm_rewrite

        rewritten = llm_rewrite(llm, question, history)
        if rewritten:
            return rewritten
    standalone = _rule_rewrite(question, _previous_standalone(history, names), names)
    return _keep_answered_region(standalone, history[-1][1], names)


# "北京市（2026年）：…": the label of an answer from one of several regions' reports.
_LABEL = re.compile(r"(?:^|[；;])\s*([\u4e00-\u9fff]{2,16}?)[（(]\d{4}年[）)][：:]")


def _keep_answered_region(standalone: str, answer: str, names: re.Pattern) -> str:
    """A follow-up to an answer from one region's report keeps that region when neither
    question named one ("今年新增多少养老床位" answered from 北京市's report; "那医疗床位呢"
    asks 北京市's report too)."""
    if names.search(standalone):
        return standalone
    regions = set(_LABEL.findall(answer))
    if len(regions) != 1:
        return standalone
    return regions.pop() + standalone


def _previous_standalone(history: Sequence[tuple[str, str]], names: re.Pattern) -> str:
    """The last earlier question made standalone: each follow-up resolved against the one before."""
    previous = history[0][0]
    for question, _ in history[1:]:
        leans = _leans(question, names)
        previous = _rule_rewrite(question, previous, names) if leans else question
    return previous


def _leans(question: str, names: re.Pattern) -> bool:
    region, year, rest = _parse_followup(question, names)
    topic = _topic(rest)
    if (region or year) and not rest.strip(_TOPIC_EDGE):
        return True  # a bare region or year ("湖南？", "2024年") can only mean a switch
    if not (topic or region or year):
        return False  # "还有呢" names nothing to put into the previous question
    if _AGAIN.match(question):
        return True
    leaning = bool(_LEAD.match(question)) or bool(_ENDS_WITH_NE.search(question))
    return leaning and (not _ASKING.search(rest) or len(topic) < _OWN_TOPIC_CHARS)


def _rule_rewrite(question: str, previous: str, names: re.Pattern) -> str:
    region, year, rest = _parse_followup(question, names)
    topic = _topic(rest)
    standalone = _BASE_TAIL.sub("", previous)
    if topic and topic not in standalone:
        standalone = _switch_topic(standalone, topic, names)
    if region:
        span, _, _ = _find(standalone, names)
        start, end = span or (0, 0)  # no region yet: the new one goes in front
        standalone = standalone[:start] + region + standalone[end:]
    if year:
        region_span, span, _ = _find(standalone, names)
        if span is None:  # no year yet: it goes right after the region
            at = region_span[1] if region_span else 0
            span = (at, at)
        standalone = standalone[: span[0]] + year + standalone[span[1] :]
    return standalone


def _switch_topic(previous: str, topic: str, names: re.Pattern) -> str:
    # The object after the asking word is the topic: "改造多少个老旧小区" → "改造多少" + topic.
    # The old measure word belongs to the old topic and goes, except after 几, which needs one.
    ask = _ASK_UNIT.search(previous)
    if ask:
        obj = _OBJECT_NOISE.sub("", previous[ask.end() :])
        if len(obj) >= 2 and not _FRAME_NOUN.match(obj):
            unit = (ask.group(2) or "") if ask.group(1) in ("几", "哪几") else ""
            return previous[: ask.end(1)] + unit + topic
    # Otherwise the topic is the subject before the asking frame: region and year, then
    # "粮食产量" + "的目标是多少".
    _, _, head = _find(previous, names)
    body = previous[head:]
    asking = _ASKING.search(body)
    if not asking:
        return previous[:head] + topic
    frame = SUBJECT_FRAME.search(body, 0, asking.start())
    return previous[:head] + topic + body[frame.start() :]


def _parse_followup(question: str, names: re.Pattern) -> tuple[str, str, str]:
    """The region, the year and the rest a follow-up names, cleaned of 那/换成/呢/？."""
    content = _TAIL.sub("", _LEAD.sub("", question))
    region, year, _ = _find(content, names)
    rest = content
    for start, end in sorted(s for s in (region, year) if s)[::-1]:
        rest = rest[:start] + rest[end:]
    return (
        content[slice(*region)] if region else "",
        content[slice(*year)] if year else "",
        rest.strip(),
    )


def _topic(rest: str) -> str:
    """What a follow-up asks about once the asking words are gone ("幼儿园有多少" → "幼儿园")."""
    topic = _ASKING.sub("", _ASK_UNIT.sub("", rest)).strip(_TOPIC_EDGE + " ")
    # "那湖南的目标呢" asks the same thing of another region: 目标 alone is no new topic.
    return "" if _FRAME_NOUN.fullmatch(topic) else topic


def _find(text: str, names: re.Pattern) -> tuple[Span | None, Span | None, int]:
    """The region and year spans in ``text``, and where its leading region/year part ends."""
    region, year, head = _head(text, names)
    if region is None and (m := names.search(text)):
        region = m.span()
    if year is None and (m := _YEARS.search(text)):
        year = m.span()
    return region, year, head


def _head(text: str, names: re.Pattern) -> tuple[Span | None, Span | None, int]:
    # Questions name the place and the year first ("2023年全国…", "太原市小店区今年…"); only
    # there is an unknown place spotted by its suffix, so words like 老旧小区 are not taken.
    region = year = None
    pos = 0
    while True:
        if year is None and (m := _YEARS.match(text, pos)):
            year, pos = m.span(), m.end()
        elif (region is None or region[1] == pos) and (end := _region_end(text, pos, names)):
            region, pos = (region[0] if region else pos, end), end  # 太原市 + 小店区 is one
        else:
            return region, year, pos


def _region_end(text: str, pos: int, names: re.Pattern) -> int:
    if m := names.match(text, pos):
        return m.end()
    m = PLACE_RE.match(text, pos)
    if m is None:
        return 0
    place = m.group(1)
    if place[0] in NOT_PLACE_START or any(place.endswith(word) for word in NOT_PLACES):
        return 0
    return m.end()


def _region_names(known_regions: Iterable[str]) -> re.Pattern:
    return _names_pattern(frozenset(filter(None, known_regions)))


@functools.lru_cache(maxsize=8)
def _names_pattern(known_regions: frozenset[str]) -> re.Pattern:
    """Every name a region goes by: the index's, their short forms, every Chinese province,
    prefecture and county (the gazetteer)."""
    names = {name for pair in PROVINCES for name in pair}
    names.update(gazetteer())
    names.update(n for n in NICKNAMES if len(n) > 1)  # 京城, 沪上: one character is a word
    for name in known_regions:  # an empty name would match everywhere
        names.add(name)
        short = REGION_SUFFIX_RE.sub("", name)
        if len(short) >= 2:
            names.add(short)  # 太原 for 太原市
    alternatives = sorted(names, key=len, reverse=True)  # 湖南省 before 湖南
    return re.compile("|".join(map(re.escape, alternatives)) + "|" + NATIONAL_ALIAS_RE.pattern)
