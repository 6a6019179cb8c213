"""Answering without an LLM: the clauses of retrieved sentences that could answer, and how well.

Every clause (and pair of neighbouring clauses) of every retrieved sentence is a candidate
answer. Each is described by a few signals: how close the sentence is in meaning to the
question (the embedding model, per sentence), how much of the question's wording it and its
section contain, whether it carries a number with the asked unit, whether it comes from the
part of the report the question's tense points to. A small fitted model
(:mod:`assistant.decide`) turns the signals into the probability that the candidate answers.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from assistant.question import Intent
from assistant.retrieval import Hit
from index import vocab
from index.chunking import clause_spans
from index.tokens import tokenize

_ENUMERATOR = re.compile(
    r"^(?:[一二三四五六七八九十]+是|\d+[.、．]|[（(][一二三四五六七八九十\d]+[)）]|第[一二三四五六七八九十]+[，,]?)"
)
_WH_PHRASE = re.compile(r"(?:什么|哪些|哪个|哪所|哪家|哪项|哪几个|哪几项|哪)([\u4e00-\u9fff]{1,4})")
# A sentence about several years (a five-year review, an average): not one year's figure.
_MULTI_YEAR = re.compile(
    r"年均|十[一二三四五六七八九]五|五年|从[^，,。]{1,16}(?:提高|增加|增长|提升|扩大)到"
)
# A running total qualifies the figure of its own clause only: "打通50条断头路，…新增1000处
# 信号灯联网、累计达8000处" plans this year's figures beside one total.
_CUMULATIVE = "累计"
# Words of a plan ("增长5%左右", "力争…以上"); a review states what was done.
# ("规模以上"/"限额以上" name a class of firms, not a floor.)
_TARGET_WORDS = re.compile(
    r"左右|(?<!规模)(?<!限额)以上|力争|目标|确保|预期|争取|以内|不低于|控制在"
)
# The lead of the closest sentence is measured against the tenth: about one passage's
# sentences below it, so a passage's own sentences do not all count as its rivals (and of
# the closest passage likewise: a report's few passages on one topic are not its rivals).
LEAD_RANK = 10
# Weight of a generic word or of the asked-for type noun, relative to a content word:
# they are part of the question but say little about which passage answers it.
_LIGHT = 0.25

FEATURES = (
    "sent_sim_z",
    "sent_sim_gap_z",
    "support",
    "span_cover",
    "distinct",
    "span_distinct",
    "gap",
    "num_missing",
    "unit_match",
    "unit_missing",
    "figures_short",
    "time_missing",
    "tense_match",
    "target_words",
    "rank",
    "stale",
    "title",
    "length",
    "entity_list",
    "period_match",
)


@dataclass(frozen=True)
class Candidate:
    """One possible answer span inside one retrieved sentence, with its signals."""

    hit: Hit
    answer: str
    quote: str
    features: tuple[float, ...]


@dataclass(frozen=True)
class Pick:
    """The chosen answer span of one report and the probability that it answers."""

    hit: Hit
    answer: str
    quote: str
    probability: float


def answer_type(question: str) -> str:
    """The noun naming what is asked for ("什么文旅企业" -> 企业): it need not occur verbatim."""
    match = _WH_PHRASE.search(question)
    if not match:
        return ""
    phrase = match.group(1)
    inside = [t for t in tokenize(phrase) if t in phrase and len(t) >= 2]
    return inside[-1] if inside else ""


def question_terms(question: str, idf) -> dict[str, float]:
    """Content terms of the question with their weights.

    Measure words are left to the unit check; generic words and the asked-for type noun
    count for less.
    """
    asked_type = answer_type(question)
    unseen = idf("")  # the weight of a word no passage holds
    terms: dict[str, float] = {}
    asked = vocab.ASKING_PHRASES.sub("，", vocab.HOW_MUCH.sub("，", question))
    for token in tokenize(asked):
        term = _without_modal(token, idf, unseen)
        if term in vocab.UNITS or vocab.ASKING_TOKEN.match(term):
            continue
        light = term in vocab.GENERIC_WORDS or term == asked_type
        weight = idf(term) * (_LIGHT if light else 1.0)
        terms[term] = max(terms.get(term, 0.0), weight)
    return terms


def _without_modal(token: str, idf, unseen: float) -> str:
    """jieba joins a spoken modal to a one-character verb ("要产", "想招", "再修"): a pair
    no passage holds is read as its verb, which the report's words contain (产量)."""
    modal, verb = token[0], token[1:]
    if (
        len(token) == 2
        and modal in vocab.MODALS
        and verb not in vocab.MODALS
        and idf(token) >= unseen
    ):
        return verb
    return token


def presence(term: str, text: str) -> float:
    """How much of ``term`` is in ``text``.

    1 for the term itself (六条 also as 6条); for a longer word, 0.75 for its last two
    characters (the head noun: 停车位 -> 车位). Its first two are no evidence: they are a
    modifier at best (养老院 -> 养老) and often no word of it at all (马拉松 -> 马拉).
    """
    return _term(term).presence(text)


@dataclass(frozen=True)
class _Term:
    """A question term as :func:`presence` looks for it, its forms worked out once: the
    candidates of one question read each term against a few thousand spans."""

    whole: tuple[str, ...]  # forms that count fully: the term, 6条 for 六条, abbreviations
    head: str  # the last two characters of a longer word ("" for a shorter one)

    def presence(self, text: str) -> float:
        if any(form in text for form in self.whole):
            return 1.0
        return 0.75 if self.head and self.head in text else 0.0


@functools.lru_cache(maxsize=4096)
def _term(term: str) -> _Term:
    forms = (term, arabic(term), *vocab.ABBREVIATIONS.get(term, ()))
    return _Term(forms, term[-2:] if len(term) >= 3 else "")


@functools.lru_cache(maxsize=4096)
def arabic(text: str) -> str:
    """Chinese numerals as digits (十二条 -> 12条), through cn2an."""
    if not any(ch in vocab.CN_NUMERAL for ch in text):
        return text
    import cn2an

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns about every 千 that is not a number
        try:
            return cn2an.transform(text, "cn2an")
        except (ValueError, KeyError):
            return text


def missing_share(terms: dict[str, float], text: str) -> float:
    """The weight share of the heaviest question term that ``text`` lacks."""
    return _missing(list(terms.values()), [presence(t, text) for t in terms])


def coverage(terms: dict[str, float], text: str) -> float:
    """IDF-weighted share of ``terms`` that occur in ``text``."""
    weights = list(terms.values())
    return _share(weights, [presence(t, text) for t in terms], sum(weights))


def _share(weights: list[float], found: list[float], total: float) -> float:
    """``weights`` summed by how much of each term was ``found`` (see :func:`presence`),
    as a share of ``total``."""
    if not total:
        return 0.0
    return sum(w * p for w, p in zip(weights, found, strict=True)) / total


def _missing(weights: list[float], found: list[float]) -> float:
    total = sum(weights)
    missing = [w * (1 - p) for w, p in zip(weights, found, strict=True)]
    return max(missing, default=0.0) / total if total else 0.0


def distinct_weights(terms: dict[str, float], sentences: list[str]) -> dict[str, float]:
    """``terms`` weighted by how few of ``sentences`` (one passage's) contain each.

    A term in every sentence of the passage (its subject, 陈荣捷 in an article about him)
    says nothing about which sentence answers; one in a single sentence (卒) says most. A
    term in ``df`` of ``n`` sentences keeps ``1 - (df - 1) / n`` of its weight.
    """
    readings = [[presence(t, s) for t in terms] for s in sentences]
    return dict(zip(terms, _local_weights(list(terms.values()), readings), strict=True))


def _local_weights(weights: list[float], readings: list[list[float]]) -> list[float]:
    """:func:`distinct_weights` from each sentence's reading of the terms (``presence``)."""
    n = len(readings)
    if not n:
        return list(weights)
    dfs = [sum(r[j] > 0 for r in readings) for j in range(len(weights))]
    return [w * (1 - max(df - 1, 0) / n) for w, df in zip(weights, dfs, strict=True)]


def distinct_coverage(terms: dict[str, float], local: dict[str, float], text: str) -> float:
    """Share of the question's weight (``terms``) that ``text`` covers with the passage-local
    weights of :func:`distinct_weights`."""
    return _share(list(local.values()), [presence(t, text) for t in local], sum(terms.values()))


def split_clauses(sentence: str) -> list[str]:
    """Clauses of a sentence, split at commas, semicolons and colons outside quotes."""
    clauses = (sentence[a:b].strip(" 。！？!?") for a, b in clause_spans(sentence))
    return [c for c in clauses if c]


def spans(clauses: list[str], figures: int = 1) -> list[str]:
    """Candidate answers: each clause, each pair of neighbours, and longer runs when the
    question asks for several figures."""
    out = list(clauses)
    out += [f"{a}，{b}" for a, b in pairwise(clauses)]
    if figures > 2:
        out += ["，".join(clauses[i : i + 3]) for i in range(len(clauses) - 2)]
    return out


def numbers(text: str) -> list[re.Match]:
    """The figures in ``text`` (2000, 5.5%, 十二 before a measure word)."""
    return list(vocab.NUMBER_RE.finditer(text))


def holds_asked(text: str, intent: Intent) -> bool:
    """Whether ``text`` holds the kind of thing ``intent`` asks for: a figure for a number
    question, a time for a question asking when (anything for other questions)."""
    if intent.when:
        return bool(vocab.TIME_RE.search(text))
    if intent.kind == "number":
        return bool(numbers(text))
    return True


def has_unit(text: str, units: tuple[str, ...]) -> bool:
    """Whether a number in ``text`` carries one of ``units`` (any, when none is asked)."""
    # The figure's own match may end in the unit (5.2%), the unit may follow it (2000张),
    # or name what is counted just before it ("医疗旅游人次86.5万").
    if not units:
        return True
    accepted = vocab.accepted_units(units)
    for n in numbers(text):
        after = text[n.start() : n.end() + 4]
        if any(u in after or text.endswith(u, 0, n.start()) for u in accepted):
            return True
    return False


def candidates(
    question: str, intent: Intent, hits: list[Hit], terms: dict[str, float]
) -> list[Candidate]:
    """Every candidate answer span in ``hits`` with its signals (see :data:`FEATURES`)."""
    asked = set(question)
    # Similarities count relative to the other retrieved sentences (in standard
    # deviations): each embedding model has its own scale, the ranking is what carries.
    sims = np.array([s for h in hits for s in h.sentence_sims] or [0.0])
    centre, spread = float(sims.mean()), max(float(sims.std()), 1e-3)
    best_sim = (float(sims.max()) - centre) / spread
    # Each text is read for every term once; its coverage signals all weigh that reading.
    weights, forms = list(terms.values()), [_term(t) for t in terms]
    total = sum(weights)

    def found(text: str) -> list[float]:
        return [form.presence(text) for form in forms]

    out: list[Candidate] = []
    for rank, hit in enumerate(hits):
        context = hit.passage.section.replace(" > ", " ")
        title = hit.passage.section.rsplit(" > ", 1)[-1]
        tense = _tense_match(intent, hit)
        texts = [hit.passage.text[a:b] for a, b in hit.passage.sentences]
        # Each sentence read once: for its terms' spread over the passage and for itself.
        readings = [found(text) for text in texts]
        local = _local_weights(weights, readings)
        for i, text in enumerate(texts):
            sentence = text.strip()
            if not sentence:
                continue
            raw = hit.sentence_sims[i] if i < len(hit.sentence_sims) else centre
            sim = (raw - centre) / spread
            whole = f"{context} {sentence}"
            in_whole = found(whole)
            support, gap = _share(weights, in_whole, total), _missing(weights, in_whole)
            distinct = _share(local, readings[i], total)
            for span in spans(split_clauses(sentence), intent.figures):
                if _other_period(intent, span):
                    continue
                in_span = found(span)
                features = (
                    sim,
                    best_sim - sim,
                    support,
                    _share(weights, in_span, total),
                    distinct,
                    _share(local, in_span, total),
                    gap,
                    *_number_fit(intent, span),
                    float(intent.when and not holds_asked(span, intent)),
                    tense,
                    _target_words(intent, span),
                    1.0 / (1 + rank),
                    _stale(intent, span, asked),
                    float(span == title),
                    min(len(span), 80) / 40,
                    float(intent.kind == "entity" and bool(re.search(r"“[^”]+”|、", span))),
                    _period_match(intent, sentence, span),
                )
                out.append(Candidate(hit, span, sentence, features))
    return out


def lead(similarities: Iterable[float]) -> float:
    """How far the closest of ``similarities`` (cosines to the question) stands out: it
    minus the :data:`LEAD_RANK`-th closest. The closest one's own cosine rises with
    the size of the index (more texts, a closer one by chance); its lead over the next
    ones less so."""
    sims = sorted(similarities, reverse=True)
    if not sims:
        return 0.0
    return sims[0] - sims[min(LEAD_RANK, len(sims)) - 1]


def _number_fit(intent: Intent, span: str) -> tuple[float, float, float, float]:
    """(no number, asked unit present, number without the asked unit, too few figures)."""
    if intent.kind != "number":
        return 0.0, 0.0, 0.0, 0.0
    found = numbers(span)
    if not found:
        return 1.0, 0.0, 0.0, float(intent.figures > 1)
    unit = bool(intent.units) and has_unit(span, intent.units)
    missing = bool(intent.units) and not unit
    return 0.0, float(unit), float(missing), float(len(found) < intent.figures)


def _period_match(intent: Intent, sentence: str, span: str) -> float:
    """For a figure asked, +1 when the span and the question both speak of several years,
    -1 when only the span does: a five-year total does not answer "去年…多少", as a sum
    over five years is another period's figure. A span speaks of several years when its
    sentence has a period word (五年, 十四五, 年均) or it has a running total (累计) itself.
    The sentence, not its section, is read: a 2026 report reviews 2025 and the five years
    before under one heading. Other questions are not about a period's figure ("哪个规划"
    is answered by "十四五")."""
    several = _MULTI_YEAR.search(sentence) or _CUMULATIVE in span
    if intent.kind != "number" or not several:
        return 0.0
    return 1.0 if intent.several_years else -1.0


def _other_period(intent: Intent, span: str) -> bool:
    """A yearly average answers no question about one year's figure: it is another period's
    figure, as another region's would be another region's."""
    return (
        intent.kind == "number"
        and not intent.several_years
        and bool(vocab.YEARLY_AVERAGE.search(span))
    )


def _tense_match(intent: Intent, hit: Hit) -> float:
    """+1 when the passage is in the part of its report the question's tense points to
    (review for results, plan for targets), -1 when in the other part."""
    if not intent.tense or not hit.part:
        return 0.0
    wanted = "review" if intent.tense == "result" else "plan"
    if hit.part == wanted:
        return 1.0
    return -0.5 if hit.part == "outlook" else -1.0


def _target_words(intent: Intent, span: str) -> float:
    if not intent.tense or not _TARGET_WORDS.search(span):
        return 0.0
    return 1.0 if intent.tense == "target" else -1.0


def _stale(intent: Intent, span: str, asked: set[str]) -> float:
    """1 when a clause only repeats the question ("X" for "X还叫什么"): it answers nothing."""
    if intent.kind == "number":
        return 0.0  # the number itself is the news
    chars = [c for c in span if c.isalnum()]
    new = sum(c not in asked for c in chars) / len(chars) if chars else 0.0
    # Fewer than one character in five new: the clause is the question's own words.
    return float(new < 0.2)


def finish(answer: str, terms: dict[str, float], intent: Intent) -> str:
    """The chosen span as said: without its enumerator ("一是"), cut to the asked list item."""
    return _trim_list(_ENUMERATOR.sub("", answer), terms, intent)


def _trim_list(span: str, terms: dict[str, float], intent: Intent) -> str:
    """From a list of figures ("A680家、B120家") keep the item the question asks about."""
    items = span.split("、")
    if intent.kind != "number" or intent.figures > 1 or "分别" in span or len(items) < 2:
        return span
    if not all(numbers(item) for item in items):
        return span
    scored = sorted(((coverage(terms, item), item) for item in items), reverse=True)
    if scored[0][0] > scored[1][0] and has_unit(scored[0][1], intent.units):
        return scored[0][1]
    return span
