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
MAX_GAP = 0.25
_NUMBER = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|％|万|亿)?|[一二两三四五六七八九十百千]+(?=个|方面|项|条|大|类|件|批|张|所|家|座|场)"
)
_CLAUSE_END = re.compile(r"[，,；;：:]")
_ENUMERATOR = re.compile(
    r"^(?:[一二三四五六七八九十]+是|\d+[.、．]|[（(][一二三四五六七八九十\d]+[)）]|第[一二三四五六七八九十]+[，,]?)"
)
_UNITS = frozenset(
    "个 家 场 所 亩 张 部 项 条 座 名 人次 户 吨 台 辆 套 次 倍 公里 平方米 亿元 万元".split()
)
_ASKING_TOKEN = re.compile(
    r"^(?:哪|几|多少|多长|多大|多高|多久|多远|什么|谁|那个|这个|那些|这些|叫|称为|是不是)"
)
_CN_DIGITS = str.maketrans("一二两三四五六七八九", "1223456789")
_WH_PHRASE = re.compile(r"(?:什么|哪些|哪个|哪所|哪家|哪项|哪几个|哪几项|哪)([\u4e00-\u9fff]{1,4})")
_REVIEW = re.compile(r"回顾|过去|去年")
_PLAN = re.compile(r"安排|任务|目标|今年")
_PAST = re.compile(r"去年|过去|上年|回顾|已经|完成了|取得")
_GENERIC = frozenset(
    "今年 明年 全年 全市 全省 计划 目标 要 将 新 实现 完成 达到 安排 "
    "方面 重点 主要 工作 情况 多少 几 什么 哪些 哪个 是否 怎么 如何 有 "
    "是 呢 吗 为 的 打造 建设 实施 开展 加强 提升 完善 支持 落实 "
    "做好 促进 深化 构建 培育 发展 有关 去年 上年 "
    "定义 特点 名叫 属于 作用 意义 原因 内容 方式 主要".split()
)


@dataclass(frozen=True)
class Pick:
    """The chosen answer span inside one retrieved passage.

    ``support`` is the share of the question the quote (with its section) covers;
    ``gap`` the share of the heaviest question term it lacks.
    """

    hit: Hit
    answer: str
    quote: str
    support: float
    score: float
    gap: float = 0.0


def _answer_type(question: str) -> str:
    """The noun naming what is asked for ("什么文旅企业" -> 企业): it need not occur verbatim."""
    match = _WH_PHRASE.search(question)
    if not match:
        return ""
    phrase = match.group(1)
    inside = [t for t in tokenize(phrase) if t in phrase and len(t) >= 2]
    return inside[-1] if inside else ""


def question_terms(question: str, idf) -> dict[str, float]:
    """Content terms of the question with their weights.

    Measure words are left to the answer-type check; generic words and the asked-for
    type noun count for less.
    """
    answer_type = _answer_type(question)
    terms: dict[str, float] = {}
    for term in tokenize(question):
        if term in _UNITS or _ASKING_TOKEN.match(term):
            continue
        light = term in _GENERIC or term == answer_type
        weight = idf(term) * (0.25 if light else 1.0)
        terms[term] = max(terms.get(term, 0.0), weight)
    return terms


def presence(term: str, text: str) -> float:
    """How much of ``term`` is in ``text``.

    1 for the term itself (六条 also as 6条); for a longer word, 0.75 for its last two
    characters (the head noun: 停车位 -> 车位) and 0.5 for its first two (养老院 -> 养老).
    """
    if term in text or term.translate(_CN_DIGITS) in text:
        return 1.0
    if len(term) >= 3 and term[-2:] in text:
        return 0.75
    if len(term) >= 3 and term[:2] in text:
        return 0.5
    return 0.0


def missing_share(terms: dict[str, float], text: str) -> float:
    """The weight share of the heaviest question term that ``text`` lacks."""
    total = sum(terms.values())
    missing = [w * (1 - presence(t, text)) for t, w in terms.items()]
    return max(missing, default=0.0) / total if total else 0.0


def coverage(terms: dict[str, float], text: str) -> float:
    """IDF-weighted share of ``terms`` that occur in ``text``."""
    total = sum(terms.values())
    if not total:
        return 0.0
    return sum(w * presence(t, text) for t, w in terms.items()) / total


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
        if not _NUMBER.search(text):
            return -0.3
        return 0.35 if intent.units and _has_unit(text, intent.units) else 0.2
    if intent.kind == "entity" and re.search(r"“[^”]+”|、", text):
        return 0.06
    return 0.0


def _timing(question: str, hit: Hit) -> float:
    """Plans answer "今年/目标" questions, reviews answer "去年/过去" ones: nudge by section."""
    section = hit.passage.section
    review = bool(_REVIEW.search(section))
    plan = bool(_PLAN.search(section)) or (
        hit.document.year is not None and f"{hit.document.year}年" in section
    )
    if _PAST.search(question):  # asked about the past: the review section is the answer
        return 0.15 * (review - plan)
    return 0.05 * (plan - review)


def _windows(clauses: list[str]) -> list[str]:
    spans = list(clauses)
    spans += [f"{a}，{b}" for a, b in pairwise(clauses)]
    return spans


def pick_answer(
    question: str, intent: Intent, hits: list[Hit], terms: dict[str, float]
) -> Pick | None:
    """The best answer span over the retrieved passages, or ``None`` if nothing fits.

    ``terms`` are the question's :func:`question_terms`, computed once per question.
    """
    asked = set(question)
    best: Pick | None = None
    for rank, hit in enumerate(hits):
        context = hit.passage.section.replace(" > ", " ")
        title = hit.passage.section.rsplit(" > ", 1)[-1]
        for start, end in hit.passage.sentences:
            sentence = hit.passage.text[start:end]
            support = coverage(terms, f"{context} {sentence}")
            for span in _windows(split_clauses(sentence)):
                score = (
                    0.55 * coverage(terms, span)
                    + 0.35 * support
                    + _fit(intent, span)
                    + 0.1 / (1 + rank)
                    + _timing(question, hit)
                    + _novelty(intent, span, asked)
                    - (0.2 if span == title else 0.0)  # a lead-phrase title is not an answer
                    - 0.005 * max(0, len(span) - 20)
                )
                if best is None or score > best.score:
                    best = Pick(hit, span, sentence.strip(), support, score)
    if best is None:
        return None
    answer = _trim_list(_ENUMERATOR.sub("", best.answer), terms, intent)
    context = best.hit.passage.section.replace(" > ", " ")
    gap = missing_share(terms, f"{context} {best.quote}")
    return Pick(best.hit, answer, best.quote, best.support, best.score, gap)


def _novelty(intent: Intent, span: str, asked: set[str]) -> float:
    """A clause that only repeats the question ("X" for "X还叫什么") answers nothing."""
    if intent.kind == "number":
        return 0.0  # the number itself is the news, and _fit checks for it
    chars = [c for c in span if c.isalnum()]
    new = sum(c not in asked for c in chars) / len(chars) if chars else 0.0
    return -0.2 if new < 0.2 else 0.0


def _trim_list(span: str, terms: dict[str, float], intent: Intent) -> str:
    """From a list of figures ("A680家、B120家") keep the item the question asks about."""
    items = span.split("、")
    if intent.kind != "number" or "分别" in span or len(items) < 2:
        return span
    if not all(_NUMBER.search(item) for item in items):
        return span
    scored = sorted(((coverage(terms, item), item) for item in items), reverse=True)
    if scored[0][0] > scored[1][0] and _has_unit(scored[0][1], intent.units):
        return scored[0][1]
    return span


def _has_unit(text: str, units: tuple[str, ...]) -> bool:
    """Whether a number in ``text`` carries one of ``units`` (any, when none is asked)."""
    return not units or any(
        u in text[n.end() : n.end() + 4] for n in _NUMBER.finditer(text) for u in units
    )


def is_supported(pick: Pick | None, intent: Intent) -> bool:
    """Whether the pick is good enough to answer with (else: refuse)."""
    if pick is None or pick.support < SUPPORT_THRESHOLD or pick.gap >= MAX_GAP:
        return False
    return intent.kind != "number" or bool(_NUMBER.search(pick.answer))


def related_quote(hit: Hit, terms: dict[str, float]) -> str | None:
    """The sentence of another passage that supports the question as well as an answer
    must, or ``None``: a related card that does not bear on the question is noise."""
    context = hit.passage.section.replace(" > ", " ")
    sentences = [hit.passage.text[s:e].strip() for s, e in hit.passage.sentences]
    support, quote = max((coverage(terms, f"{context} {s}"), s) for s in sentences or [""])
    if support < SUPPORT_THRESHOLD or missing_share(terms, f"{context} {quote}") >= MAX_GAP:
        return None
    return quote
