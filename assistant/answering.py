"""The extractive answer, step by step: scope, retrieve, choose span, decide, cite, verify."""

from __future__ import annotations

import re

import numpy as np

from assistant.decide import AnswerModel, Leads, load_model, threshold_group
from assistant.extract import (
    Candidate,
    Pick,
    candidates,
    finish,
    holds_asked,
    lead,
    question_terms,
)
from assistant.question import Intent
from assistant.regions import region_key
from assistant.retrieval import Hit, Retriever
from assistant.scope import search_plan
from assistant.types import Answer, Citation, ReportFilter
from assistant.verify import verify
from index.model import Document
from index.vocab import ASKED_COUNT, short_region

MAX_CITATIONS = 5
MAX_REPORTS = 3
_TOPIC_NOISE = re.compile(
    r"^(请问|今年|明年|全年|全市|全省|计划|要|将|的)+|(的?(目标|计划|安排|数量|规模))?(是|有|为)?"
    r"(怎样|如何|是否)?(呢|吗)?[？?。！!]*$"
)  # 多少, 几, 什么, 哪些 are gone already (_WH)
_WH = re.compile(rf"{ASKED_COUNT.pattern}|什么样?的?|哪些|哪个|多长|多大")


def extractive_answer(
    question: str,
    standalone: str,
    retriever: Retriever,
    model: AnswerModel | None = None,
    *,
    within: ReportFilter | None = None,
) -> Answer:
    """Answer from the passages alone, or refuse when none supports an answer.

    Args:
        question: The question as asked.
        standalone: The cleaned question, follow-ups already rewritten.
        retriever: The index to search.
        model: The answerability model; default the packaged one.
        within: Only the reports this filter admits are searched.
    """
    model = model or load_model()
    plan = search_plan(standalone, retriever.documents.values(), within)
    if plan.refusal is not None:
        return Answer(question, plan.refusal, False, (), standalone)
    scope, intent = plan.scope, plan.intent
    query = standalone
    for docs, query in plan.attempts:
        terms = question_terms(query, retriever.bm25.idf)
        picks, related, folded = choose(query, intent, terms, docs, retriever, model, scope.place)
        if picks:
            labelled = len({region_key(d.region) for d in plan.reports}) > 1
            return _found(question, standalone, picks, related, labelled, folded)
    return Answer(
        question=question,
        text=plan.nothing_found(_topic(query)),
        found=False,
        standalone_question=standalone,
    )


def passages_to_read(
    standalone: str, retriever: Retriever, *, within: ReportFilter | None = None
) -> tuple[Citation, ...]:
    """The passages an LLM may answer from when the extractive answer refused.

    They are searched as the extractive answer searches: in the reports of the asked
    region and year, the first of its attempts that finds any. A question about a region
    or year the index does not hold gets none, so that no LLM answers it from other reports.

    Args:
        standalone: The cleaned question, follow-ups already rewritten.
        retriever: The index to search.
        within: Only the reports this filter admits are searched.
    """
    plan = search_plan(standalone, retriever.documents.values(), within)
    for docs, query in plan.attempts:
        hits = retrieve(query, docs, retriever, plan.scope.place)[:MAX_CITATIONS]
        if hits:
            return tuple(_citation(n, hit, _likest_sentence(hit)) for n, hit in enumerate(hits, 1))
    return ()


def _likest_sentence(hit: Hit) -> str:
    """The sentence of the hit's passage most like the question (the passage if unknown)."""
    passage = hit.passage
    if not hit.sentence_sims or len(hit.sentence_sims) != len(passage.sentences):
        return passage.text
    sims = hit.sentence_sims
    start, end = passage.sentences[max(range(len(sims)), key=sims.__getitem__)]
    return passage.text[start:end]


def choose(
    query: str,
    intent: Intent,
    terms: dict[str, float],
    docs: list[Document],
    retriever: Retriever,
    model: AnswerModel,
    place: str = "",
) -> tuple[list[Pick], list[Pick], int]:
    """The answers (one per report; several only when reports tie), related passages, and
    how many more reports answer than are shown. With ``place`` (a part of the region),
    only passages that name it count."""
    hits = retrieve(query, docs, retriever, place)
    found = candidates(query, intent, hits, terms)
    best = best_spans(found, model, intent)
    fitted = retriever.manifest.model_id == model.model_id
    signals = leads(query, docs, hits, retriever) if fitted else None
    answers = sorted(
        (p for p in best if model.answers(p.probability, signals, p.hit.document)),
        key=lambda p: -p.probability,
    )
    by_doc: dict[str, Pick] = {}
    for pick in answers:
        by_doc.setdefault(pick.hit.document.doc_id, pick)
    # A report's closest sentence that holds no figure (no date) for a question asking one
    # names the topic, not the answer: in the report question sets 7 of 8 such answers were
    # wrong. An article's often says it in words ("数以千计"): in CMRC 21 of 69 were right.
    reports = [
        p
        for p in by_doc.values()
        if threshold_group(p.hit.document) != "report" or holds_asked(p.quote, intent)
    ]
    if not reports:
        return [], [], 0
    shown = [p for p in reports if p.probability >= reports[0].probability - model.tie]
    shown = [_finished(p, terms, intent) for p in shown[:MAX_REPORTS]]
    used = {p.hit.passage for p in shown}
    related = _one_per_passage([p for p in answers if p.hit.passage not in used])
    return shown, related, len(reports) - len(shown)


def retrieve(query: str, docs: list[Document], retriever: Retriever, place: str = "") -> list[Hit]:
    """The passages of ``docs`` to look for the answer in. With several regions each report
    also gets its own best passages; with ``place`` only passages that name it count."""
    ids = searched(docs, retriever)
    if len({region_key(d.region) or d.doc_id for d in docs}) == 1:
        hits = retriever.search(query, ids, k=12)
    else:
        hits = retriever.search(query, ids, k=16, per_doc=2)
    if place:
        names = (place, short_region(place))
        hits = [h for h in hits if any(n in h.passage.section + h.passage.text for n in names)]
    return hits


def searched(docs: list[Document], retriever: Retriever) -> set[str] | None:
    """The reports a search of ``docs`` is confined to (``None``: all of them)."""
    return None if len(docs) == len(retriever.documents) else {d.doc_id for d in docs}


def leads(query: str, docs: list[Document], hits: list[Hit], retriever: Retriever) -> Leads:
    """How far the closest retrieved sentence and the closest passage of ``docs`` stand
    out in meaning."""
    passages = retriever.passage_similarities(query, searched(docs, retriever))
    return Leads(lead(s for h in hits for s in h.sentence_sims), lead(passages.values()))


def best_spans(found: list[Candidate], model: AnswerModel, intent: Intent) -> list[Pick]:
    """One pick per retrieved sentence: its ``decide`` probability, and the span of it that
    ``rank`` prefers."""
    if not found:
        return []
    rows = np.array([c.features for c in found])
    groups = [threshold_group(c.hit.document) for c in found]
    decide, rank = (
        model.decide.probabilities(rows),
        model.span_scores(rows, groups, intent.kind == "number"),
    )
    best: dict[tuple[int, str], int] = {}
    sentence_p: dict[tuple[int, str], float] = {}
    for i, c in enumerate(found):
        key = (id(c.hit), c.quote)
        sentence_p[key] = max(sentence_p.get(key, 0.0), float(decide[i]))
        if key not in best or rank[i] > rank[best[key]]:
            best[key] = i
    return [
        Pick(found[i].hit, found[i].answer, found[i].quote, sentence_p[key])
        for key, i in best.items()
    ]


def _one_per_passage(picks: list[Pick]) -> list[Pick]:
    seen, out = set(), []
    for p in picks:
        if p.hit.passage not in seen:
            seen.add(p.hit.passage)
            out.append(p)
    return out


def _finished(pick: Pick, terms, intent) -> Pick:
    return Pick(pick.hit, finish(pick.answer, terms, intent), pick.quote, pick.probability)


def _found(question, standalone, picks, related, labelled: bool, folded: int) -> Answer:
    picks = _distinct_answers(picks)
    citations = [_citation(i + 1, p.hit, p.quote) for i, p in enumerate(picks)]
    for p in related[: MAX_CITATIONS - len(citations)]:
        citations.append(_citation(len(citations) + 1, p.hit, p.quote))
    # Only the answer's own words must be backed by the quotes: the label (region and
    # year of the report) names the citation, it states no figure of the report.
    claims = [f"{p.answer}[{n}]" for n, p in enumerate(picks, 1)]
    if verify("；".join(claims), {n: p.quote for n, p in enumerate(picks, 1)}):
        return Answer(question, "无法核实答案，请换个问法。", False, (), standalone)
    if labelled:
        claims = [f"{_label(p.hit.document)}：{c}" for p, c in zip(picks, claims, strict=True)]
    text = "；".join(claims)
    if folded:
        text += f"（另有{folded}份报告也有相关内容，请指明地区或年份。）"
    return Answer(question, text, True, tuple(citations), standalone)


def _label(doc: Document) -> str:
    region = doc.region or doc.title
    return f"{region}（{doc.year}年）" if doc.year else region


def _distinct_answers(picks: list[Pick]) -> list[Pick]:
    """One pick per (region, answer): two reports saying the same thing say it once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for pick in picks:
        key = (pick.hit.document.region, pick.answer)
        if key not in seen:
            seen.add(key)
            out.append(pick)
    return out


def _citation(n: int, hit: Hit, quote: str) -> Citation:
    doc = hit.document
    return Citation(
        n=n,
        text=hit.passage.text,
        quote=quote,
        source=doc.source,
        title=doc.title,
        year=doc.year,
        region=doc.region,
        section=hit.passage.section,
        paragraph=hit.passage.paragraph,
        score=round(hit.score, 6),
    )


def _topic(query: str) -> str:
    # Question words first: "生产总值有多大" keeps no "有" once 多大 is gone.
    topic = _TOPIC_NOISE.sub("", _WH.sub("", query)).strip()
    return topic or query
