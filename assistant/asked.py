"""What a figure answer must hold, read from the question once: the thing counted, its
words the reports use and those they never do, the unit, the action and the kind of figure
asked (:class:`Asked`). The checks that a clause holds it are :mod:`assistant.nearmiss`'s."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.extract import arabic
from index import vocab
from index.tokens import tokenize


def asked_object(question: str) -> str:
    """The thing counted after the asked count ("新增多少张医院床位？" -> 医院床位), or ""."""
    match = vocab.COUNTED_THING.search(vocab.QUOTE_MARKS.sub("", question))
    return match.group("thing") if match else ""


@dataclass(frozen=True)
class Asked:
    """What a figure answer must hold, read from the question once.

    Attributes:
        words: The words of :func:`asked_object` that some passage of the index holds (a
            word none holds is the asker's own, which no clause could show).
        thing: :func:`asked_object` itself, lowercase.
        verb: The word right before the asked count when it names a specific action
            (加装 of 加装多少部电梯), as rare in the index as :data:`SPECIFIC_VERB` says.
        units: The measure word the question names after its count ("多少亿元" -> 元); a
            unit only guessed from its verb (提高多少 -> %) is no requirement.
        counted: :func:`counted_thing`, lowercase: after the count, or the subject before.
        subject: Whether it is the subject before the count.
        named: Its words that name it (:func:`content`).
        absent: Those the searched reports never use (:func:`_absent`).
        ratio: A figure per head of population is asked (每千名老年人…, 人均).
        rate: A rate is asked in so many words (百分之几, 增长率).
        stock: How many there are is asked (一共有, 现有), not how many new ones.
        actions: What is done to the things counted, by kind (:data:`vocab.ACTIONS`), as
            the words right before the count or the thing counted say (改造多少个,
            能完工多少, 多少个老旧小区改造完工).
        placed: The words the reports use of the subject that places a thing counted
            after the count (:func:`subject_before`: 小学 of 小学能新增多少个学位).
        whole: The whole of a thing is asked (整个, 全市), no part of it.
        term: The five-year plan the question names ("十五五"), or "".
        share: A share is asked (占比, 比重), which a growth rate does not answer.
        indicator: :func:`indicator` of the question.
        given: The figures the question itself states ("那18个老旧小区…投多少钱": 18).
        designations: The ordinals that tell the thing asked from its siblings, in digits
            (3号线二期 -> 3号线2期).
    """

    words: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    thing: str = ""
    verb: str = ""
    counted: str = ""
    subject: bool = False
    named: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    ratio: bool = False
    rate: bool = False
    stock: bool = False
    actions: frozenset[str] = frozenset()
    indicator: str = ""
    share: bool = False
    placed: tuple[str, ...] = ()
    term: str = ""
    whole: bool = False
    given: frozenset[str] = frozenset()
    designations: tuple[str, ...] = ()


def asked(query: str, idf, held=None) -> Asked:
    """:class:`Asked` of ``query``, with ``idf`` the index's weight of a word and ``held``
    whether the searched reports use a word (``None``: not known)."""
    unseen = idf("")
    words: list[str] = []
    thing = asked_object(query).lower()
    for token in tokenize(thing):
        if token in vocab.UNITS or token in vocab.GENERIC_WORDS or len(token) < 2:
            continue
        if idf(token) < unseen and token not in words:
            words.append(token)
    unit = vocab.UNIT_AFTER_ASK.search(query)
    # "多少亿" alone asks an amount of money as surely as 多少亿元
    units = (unit.group(2),) if unit else ("亿",) if vocab.YI_ASKED.search(query) else ()
    if not units and vocab.MONEY_ASKED.search(query):
        units = ("元",)
    counted = counted_thing(query).lower()
    named = content(counted)
    absent = _absent(named, held) if held is not None else ()
    subject = bool(counted) and counted != thing
    # What places a thing counted after the count ("小学" of 小学能新增多少个学位), the words
    # of it the reports use.
    placed = [w for w in content(subject_before(query).lower()) if held is None or held(w)]
    count = vocab.ASKED_COUNT.search(query)
    before = query[: count.start()][-_ACTION_CHARS:] if count else ""
    # ... or the thing counted itself ("新开工建设的中小学项目", "老旧小区改造完工")
    done = before + counted
    actions = frozenset(kind for kind, words in vocab.ACTIONS.items() if words.search(done))
    return Asked(
        words=tuple(words),
        units=units,
        thing=thing,
        verb=_verb(query, idf),
        counted=counted,
        subject=subject,
        named=tuple(named),
        absent=absent,
        ratio=bool(vocab.RATIO_WORDS.search(query)),
        rate=bool(vocab.RATE_ASKED.search(query)),
        stock=bool(vocab.STOCK_ASKED.search(query)) and "new" not in actions,
        actions=actions,
        placed=() if subject else tuple(placed),
        whole=bool(vocab.WHOLE_ASKED.search(query)),
        term=term.group() if (term := vocab.TERM_NAMED.search(query)) else "",
        share=bool(vocab.SHARE_ASKED.search(query)),
        indicator=indicator(query),
        given=stated_figures(query),
        designations=tuple(arabic(m.group()) for m in vocab.DESIGNATION.finditer(query)),
    )


def stated_figures(text: str) -> frozenset[str]:
    """The figures ``text`` states, as written ("18个" -> 18, "5.5 %" -> 5.5%); an ordinal
    (8号线, 二期) names a thing, it states no figure."""
    text = vocab.DESIGNATION.sub("", text)
    return frozenset(re.sub(r"\s", "", n.group()) for n in vocab.NUMBER_RE.finditer(text))


# The words right before the count that say what is done to the things counted: a verb of
# two characters after a modal or two ("计划新建", "要改造提升" keeps 改造).
_ACTION_CHARS = 6


def counted_thing(query: str) -> str:
    """The thing a figure is asked of: after the count ("多少张医院床位" -> 医院床位) or,
    when nothing of it follows, the subject before ("城镇失业率要控制在多少以内" -> 城镇失业率)."""
    after = asked_object(query)
    # After a span of time what follows is what happens in it ("几小时通达"), no thing.
    if content(after) and not vocab.DURATION.match(after):
        return after
    return subject_before(query)


def subject_before(query: str) -> str:
    """The subject before the asked count, without words of time, modals and verbs
    ("城镇失业率要控制在多少以内" -> 城镇失业率, "小学能新增多少个学位" -> 小学)."""
    count = vocab.ASKED_COUNT.search(query)
    if not count:
        return ""
    before = vocab.TIME_WORDS.sub("", query[: count.start()])
    # "among X, Y" asks of Y ("新增的中小学学位里，初中学位有多少个")
    before = vocab.AMONG.split(before)[-1]
    return vocab.SUBJECT_FRAME.sub("", vocab.COUNT_VERBS.sub("", before)).strip("，,、 的")


def _absent(words: list[str], held) -> tuple[str, ...]:
    """The ``words`` the searched reports never use; a compound ending with a word they
    use ("工作岗位" of 岗位) is only the asker's way of saying that word."""
    unused = [w for w in words if not held(w)]
    used = [w for w in words if w not in unused]
    return tuple(w for w in unused if not any(w.endswith(u) for u in used))


def content(thing: str) -> list[str]:
    """The words of ``thing`` that name it: not generic, not a measure word, two characters
    or more ("以内" of 多少以内 names nothing)."""
    return [
        t
        for t in dict.fromkeys(tokenize(thing.lower()))
        if len(t) >= 2
        and t not in vocab.UNITS
        and t not in vocab.GENERIC_WORDS
        and not vocab.COUNT_NOISE.fullmatch(t)
    ]


# A verb counts as a specific action when its weight is at least this share of an unseen
# word's: about one passage in fifty holds it (加装, 招引), not one in ten (新增, 建设).
SPECIFIC_VERB = 0.6


def _verb(query: str, idf) -> str:
    count = vocab.COUNTED_THING.search(query)
    if not count:
        return ""
    tokens = tokenize(vocab.MODAL_TAIL.sub("", query[: count.start()]))
    verb = tokens[-1] if tokens else ""
    unseen = idf("")
    if len(verb) < 2 or verb in vocab.GENERIC_WORDS or idf(verb) >= unseen:
        return ""
    return verb if idf(verb) >= SPECIFIC_VERB * unseen else ""


def used_head(wanted: Asked) -> str:
    """The head of the thing asked among the words of it the searched reports use ("高粱"
    of 高粱种), or ""."""
    return head_of([w for w in wanted.named if w not in wanted.absent], wanted.counted)


def head_of(words: list[str] | tuple[str, ...], counted: str) -> str:
    """The head of ``counted`` among ``words``: the shortest that ends it (企业 of 外资企业,
    城镇化率 of 常住人口城镇化率; the tokenizer gives compounds and their parts), else the
    last, or "" when there are none."""
    ends = [w for w in words if counted.endswith(w)]
    return min(ends, key=len) if ends else words[-1] if words else ""


def indicator(question: str) -> str:
    """The headline indicator ``question`` asks, by its :func:`family` ("一般公共预算收入增长
    多少" -> 一般公共预算收入, "经济增长目标" -> GDP), or "": in the reports' words first
    (:data:`vocab.INDICATORS`), whose most specific come first, then in everyday ones."""
    for table in (vocab.INDICATORS, vocab.ASKED_INDICATORS):
        name = next((n for n, words in table if words.search(question)), "")
        if name:
            return family(name)
    return ""


def family(name: str) -> str:
    """An indicator's family: its growth, amount and rise are one ("GDP增长" -> GDP)."""
    return re.sub(r"(?:增长|总量|涨幅)$", "", name)
