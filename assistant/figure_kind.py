"""The kind of figure asked and the kind given: an amount or a rate, in the unit asked, per
head or all of them, new ones or how many there are, the action asked done to them.

:func:`assistant.nearmiss.mismatch` asks these after the thing itself is checked."""

from __future__ import annotations

import re
from typing import Literal

from assistant.asked import Asked
from assistant.extract import has_unit, numbers, split_clauses
from assistant.subjects import figure_clauses
from index import vocab

Reason = Literal["object", "unit", "share", "ratio", "stock", "new"]


def rate_not_amount(wanted: Asked, said: str) -> str:
    """The unit asked, when ``said`` gives only rates for an amount asked, or lengths for
    things counted one by one."""
    if wanted.units and (_only_rates(said, wanted.units) or _measured_not_counted(wanted, said)):
        return wanted.units[0]
    return ""


def count_not_amount(wanted: Asked, said: str) -> str:
    """The unit asked, when an amount in a unit of measure or money is asked and ``said``
    gives a count (新开工18个老旧小区改造 for 多少万平方米, 新建40个社会足球场 for 要花多少钱);
    money may be said in 亿 alone."""
    amount = set(wanted.units) & vocab.MEASURE_UNITS
    money = "元" in amount and vocab.MONEY_SAID.search(said)
    if amount and not money and not has_unit(said, wanted.units):
        return wanted.units[0]
    return ""


def other_kind(wanted: Asked, said: str) -> tuple[Reason, str] | None:
    """A figure of another kind than asked: a count where a figure per head is asked, an
    amount where a rate is, new ones where all of them are, or another action on the things
    (新建 for 改造, 新开工 for 完工)."""
    if wanted.ratio and not vocab.RATIO_WORDS.search(said):
        return ("ratio", "")
    percent = any("%" in n.group() for n in numbers(said))
    if (wanted.rate or wanted.share) and numbers(said) and not percent:
        return ("unit", "%")
    # A growth asked, a share or a level given (民间投资占比40%, 增加值稳定在30%以上).
    figured = figure_clauses(said)
    if wanted.rate and not wanted.share and figured and all(map(_level_not_growth, figured)):
        return ("share", "")
    # A total asked (经济总量, 生产总值), its figure per head given (人均生产总值).
    per_head = (re.search(rf"(?:{vocab.PER_HEAD}){re.escape(w)}", said) for w in wanted.named)
    if "总" in wanted.counted and not wanted.ratio and any(per_head):
        return ("object", "人均")
    done = {kind for kind, words in vocab.ACTIONS.items() if words.search(said)}
    # All of them asked, new ones, a count acted on (改造完善100个: some of them) or a
    # figure per head or per place given.
    per = not wanted.ratio and vocab.RATIO_WORDS.search(said)
    acted = "new" in done or (done and not vocab.LEVEL_SAID.search(said))
    if (wanted.stock and acted) or ((wanted.stock or wanted.whole) and per):
        return ("stock", "")
    # New ones asked (新增了多少), how many there are given (高技能人才达843万人).
    if "new" in wanted.actions and not done and vocab.LEVEL_SAID.search(said):
        return ("new", "")
    # A specific action asked (改扩建, 新开工, 完工) that is not done: new ones (新建, 建成)
    # are not renewed, started or finished ones.
    specific = wanted.actions - {"new"}
    if wanted.actions and done and (specific - done or not wanted.actions & done):
        return ("object", "")
    return None


def _level_not_growth(clause: str) -> bool:
    """Whether ``clause`` gives a share ("民间投资占比40%") or a level ("稳定在30%以上")
    and no growth."""
    return bool(vocab.SHARE_WORDS.search(clause)) or (
        bool(vocab.LEVEL_VERBS.search(clause)) and not vocab.GROWTH_WORDS.search(clause)
    )


def _only_rates(said: str, units: tuple[str, ...]) -> bool:
    """A rate where an amount is asked: the clause's figures are all percentages and none
    is in the asked unit (增长4% for 多少亿元). Measure words of counted things stand in for
    each other (电梯 in 台 or 部), so no other unit is held against a clause."""
    # a number in quotes is a name ("1233"重点产业链), no figure
    figures = [n for n in numbers(said) if said[n.end() : n.end() + 1] not in ("”", '"')]
    return (
        bool(figures)
        and all("%" in said[n.start() : n.end() + 1] for n in figures)
        and not (has_unit(said, units))
    )


def _measured_not_counted(wanted: Asked, said: str) -> bool:
    """Whether things counted one by one are asked (几条健身步道) and the figure of each clause
    naming the thing is in a unit of measure (100公里健身步道)."""
    units = set(wanted.units)
    # the thing as asked, or its last word the index holds when it ends it (not "小区" of
    # 小区里用…, a thing not read whole)
    last = wanted.words[-1] if wanted.words else ""
    head = wanted.thing if wanted.thing in said else last if wanted.thing.endswith(last) else ""
    if not units or not head or "个" in units or units & vocab.MEASURE_UNITS:
        return False
    measured = []
    for clause in (c for c in split_clauses(said) if head in c):
        # the figure of the thing is the last one before it ("40个社会足球场、100公里健身步道")
        nearest = [n for n in numbers(clause) if n.end() <= clause.find(head)][-1:]
        unit = "".join(clause[n.end() : n.end() + 4] for n in nearest).lstrip("万亿")
        if nearest:
            measured.append(unit.startswith(tuple(vocab.MEASURE_UNITS)))
    return bool(measured) and all(measured)
