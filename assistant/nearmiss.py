"""Honest near misses: a figure about a neighbouring thing is not the answer.

The fitted model says how likely a clause answers; it weighs the question's words
together, so a clause holding most of them ("新增5000张家庭养老床位" for "新增多少张医院床位")
can pass though the one word that names the counted thing is missing. A wrong figure with
a real citation is the worst answer there is, so a figure answer must also pass these
checks, each about the kind of question, not its words:

- ``object``: every word of the thing counted after the asked count ("多少张医院床位" ->
  医院, 床位) that the index knows is in the clause, with no other modifier, rank, grade
  or part of the region;
- ``other``: the figure is of another thing altogether (another headline indicator,
  another subject): no neighbour to offer;
- ``known``: the clause's figures are those the question states itself;
- ``unit``, ``share``, ``ratio``, ``stock``, ``new``: a figure of the kind asked (an amount
  in the unit asked, a growth, per head, all of them, new ones: :mod:`assistant.figure_kind`);
- ``tense``, ``period``: a target asked is not answered from the review of last year, nor a
  result from the plan, nor one year's from several years'.

(``place``: a part of the region no passage names, its region's figure shown instead, is
told by the answer path.) A pick that fails is shown as what the report says instead, never
as the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.asked import Asked, content, head_of, stated_figures, used_head
from assistant.extract import (
    Pick,
    arabic,
    has_unit,
    numbers,
    presence,
    split_clauses,
)
from assistant.figure_kind import count_not_amount, other_kind, rate_not_amount
from assistant.question import Intent
from assistant.subjects import (
    figure_clauses,
    other_indicator,
    other_subject,
    own_modifier,
    part_of_region,
    part_of_whole,
    subject_modifier,
)
from index import vocab

Reason = Literal[
    "object",
    "other",
    "known",
    "unit",
    "share",
    "tense",
    "period",
    "ratio",
    "stock",
    "new",
    "place",
    "weak",
]


@dataclass(frozen=True)
class Mismatch:
    """Why a figure is not the one asked for.

    Attributes:
        reason: Which check failed.
        missing: What the clause lacks: the counted thing's words, the unit, or the year's part.
    """

    reason: Reason
    missing: str


def _unused(wanted: Asked, said: str) -> str:
    """A word of the thing asked that the searched reports never use, when the clause
    names another thing: no clause of them names the thing asked, whatever figure is close
    in meaning.

    - The head word (游泳馆, 失业率, 城镇化率): unless the clause shares a character with the
      unused words (beyond the used words in them), as the reports' word for the thing
      may (食堂 for 饭堂, 危桥 for 老桥), which the fitted model weighs.
    - A modifier (外资 of 外资企业): when the clause holds the head with another modifier
      right before it (高新技术企业); one before it as asked (基础教育学位 for
      基础教育公办学位) counts the asked ones among others.
    """
    if not wanted.absent:
        return ""
    named, counted = wanted.named, wanted.counted
    head = head_of(named, counted)
    if head in wanted.absent:
        used = set("".join(w for w in named if w not in wanted.absent))
        own = set("".join(wanted.absent)) - used
        # A subject before the count is the asker's whole phrase ("地铁今年还能再多开"):
        # any character of it in the clause may be the thing in the reports' words.
        shared = set(counted) if wanted.subject else own
        return "" if shared & set(said) else head
    # A modifier is read from a counted thing, or a subject that ends with it and its head
    # (规上服务业企业): a subject ending otherwise is a phrase (地铁今年还能再多开), no
    # modifier and head.
    at = said.find(head)
    phrase = wanted.subject and not any(_before_head(counted, head, w) for w in wanted.absent)
    if phrase or at < 2 or said[at - 2 : at] in counted:
        return ""
    # a word the index cuts otherwise may still be the clause's (医养 of 医养结合服务机构)
    return next((w for w in wanted.absent if w not in said), "")


def _before_head(counted: str, head: str, word: str) -> bool:
    """Whether ``word`` modifies ``head`` at the end of ``counted``: right before it
    (规上服务业企业), or sharing its first character (篮球 of 社会篮球场, head 球场)."""
    end = counted.rfind(word) + len(word)
    return word in counted and counted.endswith(head) and end >= len(counted) - len(head)


def mismatch(pick: Pick, intent: Intent, wanted: Asked) -> Mismatch | None:
    """Why ``pick`` answers another figure than the one asked, or ``None`` when it may answer."""
    # Of any question: a sibling (3号线一期 for 3号线二期) is another thing. The clause's
    # numerals are read as digits only when an ordinal is asked (cn2an on every pick is not).
    if wanted.designations:
        digits = arabic(pick.answer)
        other = next((d for d in wanted.designations if d not in digits), "")
        if other:
            return Mismatch("object", other)
    if intent.kind != "number":
        return None
    said = pick.answer.lower()  # words are lowercase tokens (5g)
    unused = _unused(wanted, said)
    if unused:
        return Mismatch("object", unused)
    # A clause whose figures the question states itself ("新开工的那18个老旧小区改造，要投多少
    # 钱" and 新开工18个老旧小区改造) tells the asker what they know, not what they ask.
    figures = stated_figures(said)
    if figures and figures <= wanted.given:
        return Mismatch("known", "、".join(sorted(figures)))
    lacking = (
        _other_modifier(wanted.words, wanted.thing, said)
        or _figure_elsewhere(wanted, said)
        or _group_of_another(wanted, said)
        or part_of_region(wanted, said)
        or _wider_thing(wanted.thing, said)
        or _placed_elsewhere(wanted, said, pick.quote.lower())
        or _other_rank(wanted, said)
        or _other_side(wanted, said)
        or subject_modifier(wanted, said)
        or part_of_whole(wanted, said)
    )
    if lacking:
        return Mismatch("object", lacking)
    # Not a neighbour at all: figures of another thing altogether (CPI for 外贸).
    other = other_subject(wanted, said) or other_indicator(wanted, said)
    if other:
        return Mismatch("other", other)
    # Another action on the thing named in the question's own words (更新 for 加装…电梯) is
    # another figure; a thing in other words is the asker's wording, their verb likewise.
    named = bool(wanted.words) and all(presence(w, said) == 1.0 for w in wanted.words)
    if named and wanted.verb and wanted.verb not in pick.quote:
        return Mismatch("object", wanted.verb)
    unit = rate_not_amount(wanted, said)
    if unit:
        return Mismatch("unit", unit)
    kind = other_kind(wanted, said)
    if kind:
        return Mismatch(*kind)
    unit = count_not_amount(wanted, said)
    if unit:
        return Mismatch("unit", unit)
    part = {"result": "review", "target": "plan"}.get(intent.tense)
    if part and pick.hit.part in ("review", "plan") and pick.hit.part != part:
        return Mismatch("tense", intent.tense)
    # A result of one year is not told by a paragraph of several ("五年来，…6600万人以上" for
    # 2017's new jobs; a report of a term's last year reviews the whole term first), nor
    # several years' by a paragraph of one ("刚刚过去的2017年，…").
    text = pick.hit.passage.text
    # A plan's term asked ("十五五"期间打算) is not told by a passage that never names it;
    # a term reviewed is ("五年来").
    if wanted.term and intent.tense == "target" and wanted.term not in text:
        return Mismatch("period", "")
    if intent.several_years and vocab.ONE_YEAR_SAID.match(text):
        return Mismatch("period", "")
    one_asked = intent.tense == "result" and not intent.several_years
    if one_asked and vocab.SEVERAL_YEARS_SAID.match(text):
        return Mismatch("period", "")
    return None


def _other_modifier(words: tuple[str, ...], thing: str, said: str) -> str:
    """The counted thing's words ``said`` lacks, when it names the same kind of thing with
    another modifier: its head word (the last, 床位 of 医院床位) is there and a modifier is
    not (家庭养老床位), or only the head's last two characters are (篮球场 for 足球场).
    With the head missing the clause may name the thing in other words (基站 for 信号塔),
    which the fitted model weighs."""
    if not words:
        return ""
    head = presence(words[-1], said)
    if head == 0.0:
        return ""
    if head < 1.0:
        return words[-1]
    lacking = _lacking(words, thing, said)
    # A modifier in another clause than the head's, where the head has its own modifier,
    # is another thing's ("改建2000张认知障碍照护床位，新增200个家门口养老服务站").
    own = [c for c in split_clauses(said) if words[-1] in c]
    if not lacking and own and all(own_modifier(c, words[-1]) for c in own):
        return _lacking(words, thing, "，".join(own))
    return lacking


def _placed_elsewhere(wanted: Asked, said: str, sentence: str) -> str:
    """The subject placing the thing asked ("小学" of 小学能新增多少个学位), when the
    span's sentence names none of it and the span gives the thing a modifier of its own
    (新增中学学位1万个)."""
    head = wanted.words[-1] if wanted.words else ""
    if not wanted.placed or not head or any(w in sentence for w in wanted.placed):
        return ""
    own = [own_modifier(c, head) for c in split_clauses(said) if head in c]
    # a modifier the question gives the thing too (补贴性技能培训) is no other placing
    return wanted.placed[0] if own and all(m and m not in wanted.thing for m in own) else ""


def _lacking(words: tuple[str, ...], thing: str, said: str) -> str:
    lacking = [w for w in words[:-1] if w not in words[-1] and presence(w, said) < 1.0]
    # Only another modifier makes another thing: "基础教育学位" (教育 before the head, as
    # asked) counts 公办 ones among others; "家庭养老床位" (养老) are other beds than 医院's.
    at = said.find(words[-1])
    if lacking and at >= 2 and said[at - 2 : at] in thing:
        return ""
    return "".join(lacking)


def _figure_elsewhere(wanted: Asked, said: str) -> str:
    """A word of the thing asked that a clause of the span names and its figures' clauses
    do not, when those figures are said of something else: a figure is said of what its
    own clause names. Something else is

    - what follows the clause naming the thing ("新投产里程8000公里以上，在全国基本实现高速公路…"
      for 高速公路): a clause before a figure may introduce it ("推进北方地区冬季清洁取暖，
      完成以电代煤…300万户"), one after it goes on to another topic;
    - the head asked with another modifier than the one the first clause names ("适度调减玉米
      种植面积，粮改饲试点面积扩大到1000万亩");
    - a thing counted right after the figure that the question does not name ("建设一批光网城市，
      推进5万个行政村通光纤").
    """
    clauses = split_clauses(said)
    # An amount asked in a unit of measure (多少亩) is of a figure in that unit: 6类 in the
    # clause naming 高粱 is none, 蔬菜5000亩 before it another thing's.
    strict = bool(wanted.units) and set(wanted.units) <= vocab.MEASURE_UNITS
    figured = [
        i for i, c in enumerate(clauses) if (has_unit(c, wanted.units) if strict else numbers(c))
    ]
    if len(clauses) < 2 or not figured:
        return ""
    for word in wanted.named:
        naming = [i for i, c in enumerate(clauses) if i not in figured and word in c]
        if word in wanted.absent or not naming or any(word in clauses[i] for i in figured):
            continue
        named = " ".join(clauses[i] for i in naming)
        if min(naming) > max(figured) or any(
            _said_of_another(clauses[i], named, wanted) for i in figured
        ):
            return word
    return ""


def _group_of_another(wanted: Asked, said: str) -> str:
    """The thing asked, when the span's only figures name groups of another thing ("城中村
    改造“三大工程”" for 城中村改造多少个: three 工程, no count of 城中村改造; "高粱、谷子等6类
    农业全产业链" for 高粱全产业链产值: six kinds, no 产值)."""
    groups = [m.group("thing") or m.group("kinds") for m in vocab.GROUP_NAMED.finditer(said)]
    if not groups or len(numbers(said)) != len(groups) or not wanted.named:
        return ""
    if any(g in wanted.counted or g in wanted.thing or wanted.counted in g for g in groups):
        return ""
    return used_head(wanted) or wanted.named[-1]


def _said_of_another(clause: str, named: str, wanted: Asked) -> bool:
    """Whether the figures of ``clause`` are said of another thing than the one ``named``
    (the span's clauses that name the thing asked) names."""
    # The thing as the naming clauses say it: its last word there is its head (面积 of
    # 玉米种植面积, whatever verb the question adds), the one before a modifier.
    words = [w for w in wanted.named if w in named]
    head, modifier = (words[-1], words[-2]) if len(words) > 1 else ("", "")
    if head and head in clause and modifier not in clause:
        return True
    counted = vocab.COUNTED_AFTER_FIGURE.search(clause)
    if not counted and (before := vocab.COUNTED_BEFORE_FIGURE.search(clause)):
        # its words, as a verb may come with it (新增床位 -> 床位)
        words = content(before.group("thing"))
        return bool(words) and not any(w in wanted.counted or w in named for w in words)
    thing = counted.group("thing") if counted else ""
    return bool(content(thing)) and thing not in wanted.counted and thing not in named


def _wider_thing(thing: str, said: str) -> str:
    """The grade the thing asked opens with, when the span names the thing without it
    ("新增技能人才1.5万人" for 高技能人才): the ungraded thing is a wider one. A noun before
    it is the asker's way of placing it (村集体经济 for 集体经济), no grade."""
    if len(thing) < 3 or thing in said or thing[1:] not in said:
        return ""
    return thing[0] if thing[0] in vocab.GRADES else ""


def _other_rank(wanted: Asked, said: str) -> str:
    """The rank asked (国家级), when the span names no thing of it (省级以上, or no rank): a
    figure of one rank, or of all, is not another's."""
    asked_ranks = {m.group() for m in vocab.RANKS.finditer(wanted.thing or wanted.counted)}
    said_ranks = {m.group() for m in vocab.RANKS.finditer(said)}
    if asked_ranks and not asked_ranks & said_ranks:
        return min(asked_ranks)
    return ""


def _other_side(wanted: Asked, said: str) -> str:
    """The side of town asked (农村 of 农村新增就业), when the span's figures are said of the
    other side only (城镇新增就业8万人)."""
    asked_sides = _sides(wanted.thing + wanted.counted)
    said_sides = _sides("，".join(figure_clauses(said)))
    if len(asked_sides) == 1 and said_sides and not asked_sides & said_sides:
        return next(iter(asked_sides))
    return ""


def _sides(text: str) -> set[str]:
    return {side for side, words in vocab.SIDES.items() if words.search(text)}
