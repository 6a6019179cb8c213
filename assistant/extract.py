"""Answering without an LLM: pick the clause of a retrieved passage that answers the question.

Support is measured as the share of the question's content (weighted by IDF over the index)
that the supporting sentence, with its section path, actually contains. Too little support
means the reports do not say, and the assistant refuses rather than guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from assistant.question import Intent
from assistant.retrieval import Hit
from index.tokens import tokenize

SUPPORT_THRESHOLD = 0.5
_NUMBER = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|％|万|亿)?|[一二两三四五六七八九十百千]+(?=个|方面|项|条|大|类|件|批|张|所|家|座|场)"
)
_CLAUSE_END = re.compile(r"[，,；;：:]")
_GENERIC = frozenset(
    [
        "今年",
        "明年",
        "全年",
        "全市",
        "全省",
        "计划",
        "目标",
        "要",
        "将",
        "新",
        "实现",
        "完成",
        "达到",
        "安排",
        "方面",
        "重点",
        "主要",
        "工作",
        "情况",
        "多少",
        "几",
        "什么",
        "哪些",
        "哪个",
        "是否",
        "怎么",
        "如何",
        "有",
        "是",
        "呢",
        "吗",
        "为",
        "的",
    ]
)


@dataclass(frozen=True)
class Pick:
    """The chosen answer span inside one retrieved passage."""

    hit: Hit
    answer: str
    quote: str
    support: float
    score: float


def question_terms(question: str, idf) -> dict[str, float]:
    """Content terms of the question with their weights (generic words count less)."""
    terms: dict[str, float] = {}
    for term in tokenize(question):
        weight = idf(term) * (0.25 if term in _GENERIC else 1.0)
        terms[term] = max(terms.get(term, 0.0), weight)
    return terms


def coverage(terms: dict[str, float], text: str) -> float:
    """IDF-weighted share of ``terms`` that occur in ``text``."""
    total = sum(terms.values())
    if not total:
        return 0.0
    return sum(w for t, w in terms.items() if t in text) / total


def split_clauses(sentence: str) -> list[str]:
    """Clauses of a sentence, split at commas, semicolons and colons outside quotes."""
    clauses, depth, start = [], 0, 0
    for i, ch in enumerate(sentence):
        if ch in "“（(《「":
            depth += 1
        elif ch in "”）)》」":
            depth = max(0, depth - 1)
        elif depth == 0 and _CLAUSE_END.match(ch):
            clauses.append(sentence[start:i])
            start = i + 1
    clauses.append(sentence[start:])
    return [c.strip(" 。！？!?") for c in clauses if c.strip(" 。！？!?")]


def _fit(intent: Intent, text: str) -> float:
    if intent.kind == "number":
        numbers = list(_NUMBER.finditer(text))
        if not numbers:
            return -0.3
        bonus = 0.2
        if intent.units and any(
            u in text[n.end() : n.end() + 4] for n in numbers for u in intent.units
        ):
            bonus += 0.15
        return bonus
    if intent.kind == "entity" and re.search(r"“[^”]+”|、", text):
        return 0.1
    return 0.0


def _windows(clauses: list[str]) -> list[str]:
    spans = list(clauses)
    spans += [f"{a}，{b}" for a, b in pairwise(clauses)]
    return spans


def pick_answer(question: str, intent: Intent, hits: list[Hit], idf) -> Pick | None:
    """The best answer span over the retrieved passages, or ``None`` if nothing fits."""
    terms = question_terms(question, idf)
    best: Pick | None = None
    for rank, hit in enumerate(hits):
        context = hit.passage.section.replace(" > ", " ")
        for start, end in hit.passage.sentences:
            sentence = hit.passage.text[start:end]
            support = coverage(terms, f"{context} {sentence}")
            for span in _windows(split_clauses(sentence)):
                score = (
                    0.55 * coverage(terms, span)
                    + 0.35 * support
                    + _fit(intent, span)
                    + 0.1 / (1 + rank)
                    - 0.004 * max(0, len(span) - 30)
                )
                if best is None or score > best.score:
                    best = Pick(hit, span, sentence.strip(), support, score)
    return best


def is_supported(pick: Pick | None, intent: Intent) -> bool:
    """Whether the pick is good enough to answer with (else: refuse)."""
    if pick is None or pick.support < SUPPORT_THRESHOLD:
        return False
    return intent.kind != "number" or bool(_NUMBER.search(pick.answer))


def best_quote(question: str, hit: Hit, idf) -> tuple[str, float]:
    """The sentence of a passage that best matches the question, and its support."""
    terms = question_terms(question, idf)
    scored = [
        (coverage(terms, hit.passage.text[s:e]), hit.passage.text[s:e].strip())
        for s, e in hit.passage.sentences
    ] or [(coverage(terms, hit.passage.text), hit.passage.text)]
    support, quote = max(scored)
    return quote, support
