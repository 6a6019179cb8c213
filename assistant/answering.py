"""The extractive answer: scope the question, retrieve, pick answer clauses, cite, verify."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.extract import Pick, is_supported, pick_answer, question_terms, related_quote
from assistant.question import Scope, detect_intent, find_scope, strip_scope
from assistant.retrieval import Hit, Retriever
from assistant.types import Answer, Citation
from assistant.verify import verify
from index.model import Document

MAX_CITATIONS = 5
MAX_REPORTS = 3
_CLOSE = 0.12
_TOPIC_NOISE = re.compile(
    r"^(请问|今年|明年|全年|全市|全省|计划|要|将|的)+|(的?(目标|计划|安排|数量|规模))?(是|有|为)?"
    r"(多少[个项所家张亿万元]*|几[个项所家]?|什么|哪些|怎样|如何|是否)?(呢|吗)?[？?。！!]*$"
)
_WH = re.compile(
    r"(多少|几)[个项所家张户条座部亩名台辆套批场次吨亿万元]*|什么样?的?|哪些|哪个|多长|多大"
)


def scoped_documents(scope: Scope, documents: Sequence[Document]) -> tuple[list[Document], str]:
    """Documents of the named region and year, and how that year reads inside them.

    A report plans for its year ("今年") and reviews the one before ("去年"): a question
    about 2023 goes to the 2024 report when there is no 2023 one. A year the index knows
    neither way restricts nothing.
    """
    docs = [d for d in documents if scope.region is None or d.region == scope.region]
    if scope.year is None:
        return docs, ""
    for year, word in ((scope.year, "今年"), (scope.year + 1, "去年")):
        if any(d.year == year for d in docs):
            return [d for d in docs if d.year == year], word
    return docs, ""


def latest_per_region(documents: Sequence[Document]) -> list[Document]:
    """For each region only its most recent report; a report of unknown region stands alone."""
    latest: dict[str, int] = {}
    for d in documents:
        key = d.region or d.doc_id
        latest[key] = max(latest.get(key, 0), d.year or 0)
    return [d for d in documents if (d.year or 0) == latest[d.region or d.doc_id]]


def extractive_answer(question: str, standalone: str, retriever: Retriever) -> Answer:
    """Answer from the passages alone, or refuse when none supports an answer."""
    documents = list(retriever.documents.values())
    scope = find_scope(standalone, documents)
    in_scope, year_word = scoped_documents(scope, documents)
    query = strip_scope(standalone, scope, year_word)
    terms = question_terms(query, retriever.bm25.idf)
    attempts = [in_scope]
    if not year_word and len(in_scope) > 1:
        attempts.insert(0, latest_per_region(in_scope))
    for docs in attempts:
        picks, hits = _picks(query, terms, docs, len(documents), retriever)
        if picks:
            label = len(documents) > 1
            return _found(question, standalone, terms, picks, hits, label)
    return Answer(
        question=question,
        text=f"报告中没有找到关于“{_topic(query)}”的相关内容。",
        found=False,
        standalone_question=standalone,
    )


def _picks(query, terms, docs, total, retriever) -> tuple[list[Pick], list[Hit]]:
    """Supported answers, best first: one per report, several only when reports tie."""
    intent = detect_intent(query)
    ids = None if len(docs) == total else {d.doc_id for d in docs}
    regions = {d.region or d.doc_id for d in docs}
    if len(regions) == 1:
        hits = retriever.search(query, ids, k=12)
    else:
        hits = retriever.search(query, ids, k=16, per_doc=2)
    by_doc: dict[str, list[Hit]] = {}
    for hit in hits:
        by_doc.setdefault(hit.document.doc_id, []).append(hit)
    picks = [pick_answer(query, intent, doc_hits, terms) for doc_hits in by_doc.values()]
    picks = sorted((p for p in picks if is_supported(p, intent)), key=lambda p: -p.score)
    if not picks:
        return [], hits
    close = [p for p in picks if p.score >= picks[0].score - _CLOSE]
    return close[:MAX_REPORTS], hits


def _found(question, standalone, terms, picks: list[Pick], hits, label) -> Answer:
    picks = _distinct_answers(picks)
    citations = [_citation(i + 1, p.hit, p.quote) for i, p in enumerate(picks)]
    used = {p.hit.passage for p in picks}
    for hit in hits:
        if len(citations) >= MAX_CITATIONS:
            break
        if hit.passage in used:
            continue
        quote = related_quote(hit, terms)
        if quote:
            citations.append(_citation(len(citations) + 1, hit, quote))
            used.add(hit.passage)
    # The label names the report by region only: the year is on the citation, and a
    # number in the text that no quote contains would break the rule verify() enforces.
    parts = [
        f"{p.hit.document.region}：{p.answer}[{n}]"
        if label and p.hit.document.region
        else f"{p.answer}[{n}]"
        for n, p in enumerate(picks, 1)
    ]
    text = "；".join(parts)
    if verify(text, {n: p.quote for n, p in enumerate(picks, 1)}):
        return Answer(question, "无法核实答案，请换个问法。", False, (), standalone)
    return Answer(question, text, True, tuple(citations), standalone)


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
    topic = _WH.sub("", _TOPIC_NOISE.sub("", query)).strip()
    return topic or query
