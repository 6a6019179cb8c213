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
MIN_POINTS, MAX_POINTS = 3, 5
# How many passages of the report are read: a report treats a topic in a few paragraphs.
_PASSAGES = 16
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


def overview_points(
    query: str, intent: Intent, docs: list[Document], retriever: Retriever
) -> list[Point]:
    """The sentences of one report (the one the closest passage is in) that give an
    overview of the topic of ``query``; empty when fewer than :data:`MIN_POINTS` do."""
    terms = question_terms(query, retriever.bm25.idf)
    topic = [t for t in terms if t not in vocab.GENERIC_WORDS and len(t) >= 2]
    if not topic:
        return []
    key = max(topic, key=terms.__getitem__)  # the most specific word names the topic
    ids = {d.doc_id for d in docs} if len(docs) < len(retriever.documents) else None
    hits = retriever.search(query, ids, k=_PASSAGES)
    if not hits:
        return []
    if threshold_group(hits[0].document) != "report":
        return []  # an article is no report with plans by topic
    report = hits[0].document.doc_id
    wanted = {"target": "plan", "result": "review"}.get(intent.tense, "")
    points: list[tuple[float, Point]] = []
    for hit in hits:
        if hit.document.doc_id != report or (wanted and hit.part and hit.part != wanted):
            continue
        # A section titled with the topic ("（一）大力提振消费") is about it throughout.
        titled = presence(key, hit.passage.section) == 1.0
        for i, (a, b) in enumerate(hit.passage.sentences):
            sentence = hit.passage.text[a:b].strip()
            if (
                _heading(sentence)
                or _title(sentence, hit)
                or not (titled or presence(key, sentence) == 1.0)
            ):
                continue
            sim = hit.sentence_sims[i] if i < len(hit.sentence_sims) else 0.0
            points.append((sim, Point(hit, sentence, a)))
    best = [p for _, p in sorted(points, key=lambda sp: -sp[0])[:MAX_POINTS]]
    if len(best) < MIN_POINTS:
        return []
    return sorted(best, key=lambda p: (p.hit.passage.paragraph, p.start))


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
