"""What a figure is said of: the subject before its verb ("一般公共预算收入增长4%"), and
the checks that it is the subject asked, not another thing, a part of it or the same head
with another modifier (used by :func:`assistant.nearmiss.mismatch`)."""

from __future__ import annotations

from assistant.asked import Asked, content, family, used_head
from assistant.extract import numbers, presence, split_clauses
from index import vocab


def subject_modifier(wanted: Asked, said: str) -> str:
    """A modifier of the subject asked, when the span names the subject's head with a
    modifier of its own and none of the question's (制造业增加值 for 高新技术产业增加值)."""
    head = used_head(wanted)
    if not wanted.subject or not head or head not in said:
        return ""
    used = [w for w in wanted.named if w not in wanted.absent]
    modifiers = [w for w in used if w not in head and head not in w]
    if not modifiers or any(presence(w, said) == 1.0 for w in modifiers):
        return ""
    own = own_modifier(said, head)
    return modifiers[0] if own and own not in wanted.counted else ""


def own_modifier(clause: str, head: str) -> str:
    """The modifier ``head`` has right before it in ``clause`` (照护 of 认知障碍照护床位): two
    characters of a word, not a verb (新增床位), a figure or its measure word (2000张床位);
    "" when it has none."""
    at = clause.find(head)
    before = clause[max(at - 2, 0) : at]
    # after a figure the two are its measure (15分钟健身圈, 3人制篮球场)
    measured = at >= 3 and clause[at - 3].isdigit()
    word = (
        len(before) == 2
        and not measured
        and all("\u4e00" <= ch <= "\u9fff" for ch in before)
        and not vocab.NUMBER_RE.search(before + "个")
        and before[-1] not in vocab.UNITS
        and not any(words.search(before) for words in vocab.ACTIONS.values())
    )
    return before if word else ""


def figure_clauses(said: str) -> list[str]:
    """The clauses of ``said`` that hold a figure."""
    return [c for c in split_clauses(said) if numbers(c)]


# The fewest characters of a figure's own subject that name a thing: shorter ones (总额,
# 增加值) refer back to what the clause before named.
SUBJECT_MIN = 4


def figure_subject(clause: str) -> str:
    """What the first figure of ``clause`` is said of: the words before the verb leading to
    it ("力争一般公共预算收入增长4%左右" -> 一般公共预算收入), or "" when no verb of change or
    level stands before it ("新增城镇就业5万人")."""
    figures = [n for n in numbers(clause) if not clause.startswith("年", n.end())]
    if not figures:
        return ""
    verb = vocab.FIGURE_VERB.search(clause, 0, figures[0].start())
    return vocab.SUBJECT_LEAD.sub("", clause[: verb.start()]) if verb else ""


def _subjects(wanted: Asked, said: str) -> list[str]:
    """The :func:`figure_subject` of each figure clause of ``said``, when the thing asked is
    the subject of its figure ("外贸进出口增长多少") and every one names a thing; else none."""
    if not wanted.subject:
        return []
    subjects = [figure_subject(c) for c in figure_clauses(said)]
    return subjects if subjects and all(len(s) >= SUBJECT_MIN for s in subjects) else []


def other_subject(wanted: Asked, said: str) -> str:
    """The thing asked, when every figure of the span is said of a subject sharing no
    character with it (一般公共预算收入增长4% for 外贸进出口)."""
    subjects = _subjects(wanted, said)
    # A headline indicator has its own words in the reports (经济增长 is 地区生产总值增长).
    if not subjects or wanted.indicator in _indicators(said):
        return ""
    own = set(wanted.counted)
    return used_head(wanted) or wanted.counted if all(not own & set(s) for s in subjects) else ""


def part_of_whole(wanted: Asked, said: str) -> str:
    """A word of each figure's subject that the question asking of a whole (整个, 全市)
    does not name, in its words or their long forms (规上 for 规模以上): the figure is of a
    part (战新兴产业 of 战新兴产业规模以上工业增加值)."""
    subjects = _subjects(wanted, said) if wanted.whole else []
    asked_as = wanted.counted + "".join(
        f for w in wanted.named for f in vocab.ABBREVIATIONS.get(w, ())
    )
    extra = [[w for w in content(s) if w not in asked_as] for s in subjects]
    return extra[0][0] if extra and all(extra) else ""


def part_of_region(wanted: Asked, said: str) -> str:
    """The part of the region every figure of the span is said of, when the question does
    not name it (开发区规上工业增加值 for 全市规上工业增加值)."""
    parts = [vocab.AREA_PARTS.search(s) for s in _subjects(wanted, said)]
    if parts and all(p and p.group() not in wanted.counted for p in parts):
        return parts[0].group()
    return ""


def _indicators(said: str) -> set[str]:
    """The headline indicators the figures of ``said`` are of (:data:`vocab.INDICATORS`)."""
    # every one a clause names ("城镇新增就业1256万人、城镇调查失业率平均为5.1%")
    figured = [vocab.SUBJECT_LEAD.sub("", c) for c in figure_clauses(said)]
    return {
        family(name) for name, words in vocab.INDICATORS if any(words.search(c) for c in figured)
    }


def other_indicator(wanted: Asked, said: str) -> str:
    """The headline indicator asked (单位GDP能耗降低), when the span's figures are of others
    only (地区生产总值增长5%)."""
    said_as = _indicators(said)
    return (
        wanted.indicator if wanted.indicator and said_as and wanted.indicator not in said_as else ""
    )
