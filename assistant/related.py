"""What a refused figure question is offered instead: the clause closest to what was asked,
and the words for what the report does not state ("报告没有给出“医院床位”的数字；相关的是…")."""

from __future__ import annotations

from assistant.asked import Asked, counted_thing
from assistant.decide import threshold_group
from assistant.extract import Pick, coverage, holds_asked, presence
from assistant.nearmiss import Mismatch, mismatch
from assistant.question import Intent

# The least share of the question's weighted words a refused question's closest clause
# must hold to be shown as what the report says instead: a quarter is one content word of
# a typical question of three or four, so a clause on another topic is not offered.
RELATED_COVERAGE = 0.25


def closest(
    picks: list[Pick], intent: Intent, terms: dict[str, float], wanted: Asked
) -> list[tuple[Pick, Mismatch]]:
    """When nothing answers: the most probable clause that holds what is asked (a figure
    for a number question) and enough of its words, as what the report says instead; else,
    for a figure asked of a report, its most probable sentence that names the thing in all
    the words of it the reports use, though with no figure ("新建改造一批…农村老年食堂")."""
    ranked = sorted(picks, key=lambda p: -p.probability)
    for pick in ranked:
        if (
            holds_asked(pick.quote, intent)
            and coverage(terms, pick.quote) >= RELATED_COVERAGE
            # The counted thing's head word (学位 of 幼儿园学位): a neighbour is the same
            # kind of thing, another modifier; another thing altogether is no neighbour.
            and (not wanted.words or wanted.words[-1] in pick.quote.lower())
        ):
            return [(pick, mismatch(pick, intent, wanted) or Mismatch("weak", ""))]
    # all of the thing's words: a sentence on 基地 is nothing said of 火星基地
    used = list(wanted.named) if not wanted.absent else []
    for pick in ranked if intent.kind == "number" and used else ():
        said = pick.quote.lower()
        if (
            threshold_group(pick.hit.document) == "report"
            and all(presence(w, said) == 1.0 for w in used)
            # one word may be named in passing; two or more name the thing
            and (len(used) > 1 or coverage(terms, pick.quote) >= RELATED_COVERAGE)
        ):
            return [(pick, Mismatch("weak", ""))]
    return []


def unstated(topic: str, query: str, why: Mismatch, intent_number: bool = True) -> str:
    """What the report does not state, said plainly ("“医院床位”的数字")."""
    thing = counted_thing(query) if intent_number else ""
    if why.reason in ("object", "other"):
        return f"“{thing or topic}”的{'数字' if intent_number else '明确说法'}"
    if why.reason == "place":  # the region's figure, not the part's asked
        part = (thing or topic).replace(why.missing, "") or topic
        if intent_number:
            return f"{why.missing}单独的“{part}”数字"
        return f"{why.missing}的“{part}”说法"
    if why.reason == "known":
        return f"所问的数字，只有问题里已说的{why.missing}"
    if why.reason == "unit":
        return f"“{topic}”以{why.missing}计的数字"
    if why.reason == "share":
        return f"“{thing or topic}”的增长幅度"
    if why.reason == "ratio":
        return f"“{thing or topic}”的人均（每千人）数字"
    if why.reason == "stock":
        return f"“{thing or topic}”的总数"
    if why.reason == "new":
        return f"新增“{thing or topic}”的数字"
    if why.reason == "period":
        return f"“{thing or topic}”在所问年份的数字"
    if why.reason == "tense":
        return f"“{topic}”的{'目标' if why.missing == 'target' else '实际完成'}数字"
    return f"关于“{thing or topic}”的明确{'数字' if intent_number else '说法'}"
