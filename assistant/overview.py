"""An overview of a topic: "教育方面有什么打算", "怎么稳就业".

No one clause answers such a question; several sentences of the asked report do. The
overview lists the sentences of one report that hold the topic's most specific word and
are closest in meaning to the question, from the part of the report the question's tense
points to, in report order, each cited.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.decide import threshold_group
from assistant.extract import presence, question_terms
from assistant.question import Intent
from assistant.retrieval import Hit, Retriever
from index import vocab
from index.model import Document

# 3–6 sentences make an overview (issue 22): fewer is a single answer, more a page to read.
MIN_POINTS, MAX_POINTS = 3, 6
# A report tells its plan in 6-10 main tasks, one section each: all of them are listed.
MAX_TASKS = 10
# How many passages of the report are read: a report treats a topic in a few paragraphs.
_PASSAGES = 16
# How many of the topic's words are tried as its key: past two, the words are the
# question's frame, not its topic.
_KEYS = 2
# Characters a section title shares with the topic to be about it: two, a word's worth.
_SHARED = 2
# Passages close enough that their section's title sharing one character with the topic
# names it: the closest two (a report's next closest passages are its neighbouring topics).
_TITLE_RANKS = 2
# A point is cut at a clause boundary to this many characters: a line of the chat.
_POINT_CHARS = 90
# A sentence shorter than this is a heading or a fragment, not a measure.
_LEAST_CHARS = 12


@dataclass(frozen=True)
class Point:
    """One sentence of an overview with the passage that holds it."""

    hit: Hit
    sentence: str
    start: int  # offset of the sentence in its passage, for report order
    task: bool = False  # a main task of the report: the title of a section of it
    sim: float = 0.0  # its similarity to the question


def overview_points(
    query: str, intent: Intent, docs: list[Document], retriever: Retriever
) -> list[Point]:
    """The sentences of one report (the one the closest passage is in) that give an
    overview of the topic of ``query``; empty when fewer than :data:`MIN_POINTS` do."""
    idf = retriever.bm25.idf
    # The topic's words, most specific first, of those the index holds: a word no report
    # uses is the asker's own (看病 for 医疗), no sentence can hold it.
    # The topic alone is searched: the words that ask for plans ("有什么打算") draw the
    # passages that are plans of anything.
    topic = vocab.OVERVIEW_WORDS.sub("", query)
    terms = question_terms(topic, idf)
    named = [t for t in terms if t not in vocab.GENERIC_WORDS and len(t) >= 2]
    # A part of a longer word of the topic is not its key: 环境 of 生态环境 is in 营商环境 too.
    whole = [t for t in named if not any(t != u and t in u for u in named)]
    keys = sorted((t for t in whole if idf(t) < idf("")), key=lambda t: -terms[t])
    if not named:
        return _tasks(query, intent, docs, retriever)
    ids = {d.doc_id for d in docs} if len(docs) < len(retriever.documents) else None
    hits = retriever.search(topic, ids, k=_PASSAGES)
    if not hits or threshold_group(hits[0].document) != "report":
        return []  # an article is no report with plans by topic
    report = hits[0].document.doc_id
    wanted = {"target": "plan", "result": "review"}.get(intent.tense, "")
    hits = [h for h in hits if h.document.doc_id == report and not (wanted and h.part != wanted)]
    # The topic read by each of its two most specific words ("提振", "消费" of 提振消费) and
    # by both at once; of the readings with enough points, the closest in meaning wins.
    tried = [_points(hits, lambda h, s, k=key: _about(k, h, s)) for key in keys[:_KEYS]]
    tried = [points + _same_paragraph(points) for points in tried]
    # Both at once: "生态保护" is 生态 and 保护, which jieba cuts apart, and 保护 alone is
    # also 文化遗产保护 and 消费者权益保护.
    both: list[Point] = []
    if len(keys) > 1:
        both = _points(hits, lambda h, s: all(_about(k, h, s) for k in keys[:_KEYS]))
        both += _same_paragraph(both)
    enough = [points for points in (both, *tried) if len(points) >= MIN_POINTS]
    best = max(enough, key=_closeness, default=None)
    if best:
        return _in_order(best + _nearby(topic, best, retriever, wanted))
    mentions = [(k, p.sentence) for k, points in zip(keys, tried, strict=False) for p in points]
    if any(not _in_passing(k, sentence) for k, sentence in mentions):
        return []  # the report says it in a sentence or two: one of them answers
    # No sentence is about the topic by its words: the report may treat it in a section
    # titled in words of its own (看病就医 and "推进‘病有良医’"; 教育, named only as one of a
    # list of fields, and "推进‘学有优教’").
    section = _titled_section(hits, set("".join(named)))
    whole = retriever.report_hits(topic, report, section) if section else []
    best = _points([h for h in whole if not (wanted and h.part != wanted)], lambda h, s: True)
    if len(best) < MIN_POINTS:
        return []
    return _in_order(best + _nearby(topic, best, retriever, wanted))


def _nearby(query: str, points: list[Point], retriever: Retriever, part: str) -> list[Point]:
    """Up to :data:`MAX_POINTS`, the sentences of the section one level above the points'
    one that are as close in meaning to the question as the least close point: a report
    often gives a topic one paragraph (推进“病有良医”) and more measures in the paragraphs
    beside it, in words of their own (蓝天, 水质 and 无废城市 beside 生态治理)."""
    sections = {p.hit.passage.section for p in points}
    if len(points) >= MAX_POINTS or len(sections) != 1:
        return []
    path = next(iter(sections)).split(" > ")
    if len(path) < 3:  # a main task's section is the report's whole plan one level up
        return []
    parent = " > ".join(path[:-1]) + " > "
    least = min(p.sim for p in points)
    shown = {(p.hit.passage.paragraph, p.start) for p in points}
    hits = [
        h
        for h in retriever.report_hits(query, points[0].hit.document.doc_id)
        if h.passage.section.startswith(parent) and not (part and h.part != part)
    ]
    more = [
        p
        for p in _points(hits, lambda h, s: True)
        if p.sim >= least and (p.hit.passage.paragraph, p.start) not in shown
    ]
    return more[: MAX_POINTS - len(points)]


def _closeness(points: list[Point]) -> float:
    """How close in meaning the closest :data:`MIN_POINTS` points are to the question."""
    return sum(sorted((p.sim for p in points), reverse=True)[:MIN_POINTS]) / MIN_POINTS


def _same_paragraph(points: list[Point]) -> list[Point]:
    """Up to :data:`MAX_POINTS`, the other sentences of the paragraph that holds most of the
    points, when it holds two or more: a report treats a topic in a paragraph, whose other
    sentences name its measures in words of their own (推进“老有厚养”: 安宁疗护中心)."""
    if not points or len(points) >= MAX_POINTS:
        return []
    by_passage: dict[int, list[Point]] = {}
    for p in points:
        by_passage.setdefault(id(p.hit), []).append(p)
    most = max(by_passage.values(), key=len)
    if len(most) < 2:
        return []
    shown = {p.start for p in most}
    rest = [p for p in _points([most[0].hit], lambda h, s: True) if p.start not in shown]
    return sorted(rest, key=lambda p: p.start)[: MAX_POINTS - len(points)]


def _in_passing(key: str, sentence: str) -> bool:
    """Whether ``key`` is only an item of a list in ``sentence`` ("工业、科研、教育、医疗")."""
    at = sentence.find(key)
    while at >= 0:
        before, after = sentence[at - 1 : at], sentence[at + len(key) : at + len(key) + 1]
        if vocab.LIST_MARK not in (before, after):
            return False
        at = sentence.find(key, at + 1)
    return True


def _titled_section(hits: list[Hit], chars: set[str]) -> str:
    """The section of the closest passage whose title shares the most of the topic's
    characters: :data:`_SHARED` or more, else one among the closest :data:`_TITLE_RANKS`
    (one character is a word's worth only beside a close passage)."""
    best, shared = "", 0
    for rank, hit in enumerate(hits):
        n = len(chars & set(hit.passage.section.split(" > ")[-1]))
        if n > shared and (n >= _SHARED or rank < _TITLE_RANKS):
            best, shared = hit.passage.section, n
    return best


def _tasks(query: str, intent: Intent, docs: list[Document], retriever: Retriever) -> list[Point]:
    """A question naming no topic ("今年重点抓哪些工作", "有什么大动作"): the report's main
    tasks, the sections of its plan (its review, for a question about the past), in order."""
    ids = {d.doc_id for d in docs} if len(docs) < len(retriever.documents) else None
    hits = retriever.search(query, ids, k=1)
    if not hits or threshold_group(hits[0].document) != "report":
        return []
    part = "review" if intent.tense == "result" else "plan"
    points: list[Point] = []
    seen: set[str] = set()
    first = ""  # the tasks are the sections of one part ("二、2025年工作安排"), not the next
    for hit in retriever.report_hits(query, hits[0].document.doc_id):
        path = hit.passage.section.split(" > ")
        if hit.part != part or len(path) < 2 or path[1] in seen or first not in ("", path[0]):
            continue
        first = path[0]
        seen.add(path[1])
        points.append(Point(hit, vocab.ENUMERATOR.sub("", path[1]), 0, task=True))
    return points[:MAX_TASKS] if len(points) >= MIN_POINTS else []


def _about(key: str, hit: Hit, sentence: str) -> bool:
    """Whether ``sentence`` is about ``key``: in a section titled with it ("（一）大力提振消费"
    is about 提振消费 throughout), or holding it other than as an item of a list."""
    if presence(key, hit.passage.section) == 1.0:
        return True
    # one of a list ("产业、交通、能源等结构") names the topic in passing, it is not about it
    return presence(key, sentence) == 1.0 and not _in_passing(key, sentence)


def _in_order(points: list[Point]) -> list[Point]:
    return sorted(points, key=lambda p: (p.hit.passage.paragraph, p.start))


def _points(hits: list[Hit], belongs) -> list[Point]:
    """The sentences of ``hits`` that ``belongs(hit, sentence)`` admits, the closest in
    meaning first, at most :data:`MAX_POINTS`."""
    points: list[tuple[float, Point]] = []
    for hit in hits:
        for i, (a, b) in enumerate(hit.passage.sentences):
            sentence = hit.passage.text[a:b].strip()
            if _heading(sentence) or _title(sentence, hit) or not belongs(hit, sentence):
                continue
            sim = hit.sentence_sims[i] if i < len(hit.sentence_sims) else 0.0
            points.append((sim, Point(hit, sentence, a, sim=sim)))
    return [p for _, p in sorted(points, key=lambda sp: -sp[0])[:MAX_POINTS]]


def point_text(sentence: str) -> str:
    """The sentence as one line: whole, or its first clauses up to :data:`_POINT_CHARS`."""
    sentence = sentence.rstrip("。；;")
    if len(sentence) <= _POINT_CHARS:
        return sentence
    cut = max(sentence.rfind(mark, 0, _POINT_CHARS) for mark in "，；、")
    return sentence[: cut if cut > 0 else _POINT_CHARS] + "…"


def _heading(sentence: str) -> bool:
    """A heading inside a passage ("4.就业创业方面"): it names the topic, it says nothing."""
    return len(sentence) < _LEAST_CHARS or sentence.rstrip("。：:").endswith("方面")


def _title(sentence: str, hit: Hit) -> bool:
    """The passage's own section title repeated as its first sentence."""
    return sentence.rstrip("。") in hit.passage.section
