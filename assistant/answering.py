"""The extractive answer, step by step: scope, retrieve, choose span, decide, cite, verify."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from assistant.asked import asked, counted_thing, used_head
from assistant.compare import comparison, comparison_answer
from assistant.compose import (
    MAX_CITATIONS,
    MAX_REPORTS,
    Choice,
    citation,
    found_answer,
    label,
    near_miss_answer,
    one_per_passage,
    overview_answer,
    overview_topic,
    topic,
)
from assistant.decide import AnswerModel, Leads, load_model, threshold_group
from assistant.extract import (
    Candidate,
    Pick,
    answer_type,
    candidates,
    coverage,
    finish,
    holds_asked,
    lead,
    question_terms,
)
from assistant.nearmiss import Mismatch, mismatch
from assistant.overview import overview_points, point_text
from assistant.question import Intent, detect_tense
from assistant.regions import region_key
from assistant.related import closest
from assistant.retrieval import Hit, Retriever
from assistant.scope import Plan, search_plan
from assistant.types import Answer, Citation, ReportFilter
from assistant.verify import topic_words
from assistant.within import admitted
from index import vocab
from index.chunking import clause_spans
from index.model import Document
from index.vocab import short_region

# A question asking for words (a name, whether; not a time) is answered from this decide
# probability on: its right clause scores far below a figure's. Below it, its closest clause
# still answers when it holds HELD_COVER of the weight of the question's words the searched
# reports use (at least HELD_WORDS of them): a spoken question's own words ("管不管", "咋整")
# weigh against it in the model, though no report could hold them. Both from
# benchmarks/fit_words_floor.py over the public and fitted sets: unanswerable questions'
# best clauses reach 0.040, right ones above that start at 0.055; below the floor, questions
# whose answer was removed reach a share of 0.60, right ones above that start at 0.65.
WORDS_FLOOR = 0.047
HELD_COVER, HELD_WORDS = 0.623, 2


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
    compared = comparison(standalone, admitted(retriever.documents.values(), within))
    if compared is not None:  # several reports' figure at once: a table of them
        return comparison_answer(question, standalone, compared, retriever.settings)
    plan = search_plan(standalone, retriever.documents.values(), within)
    if plan.refusal is not None:
        return Answer(question, plan.refusal, False, (), standalone)
    scope, intent = plan.scope, plan.intent
    query = standalone
    labelled = len({region_key(d.region) for d in plan.reports}) > 1
    near: tuple[str, list[tuple[Pick, Mismatch]]] | None = None
    if intent.kind == "overview":
        for docs, query in plan.attempts:
            points = overview_points(query, _as_read(intent, query), docs, retriever)
            if points:
                return overview_answer(question, standalone, query, points, labelled)
        intent = dataclasses.replace(intent, kind="statement")  # one sentence may still say
    for docs, query in plan.attempts:
        terms = question_terms(query, retriever.bm25.idf)
        read = _as_read(intent, query)
        choice = choose(query, read, terms, docs, retriever, model, scope.place)
        if choice.picks:
            return found_answer(question, standalone, choice, labelled, read)
        if choice.near and near is None:  # the first attempt's: its reports come first
            near = (query, choice.near)
    if near is None and scope.place:
        near = _region_instead(plan, intent, retriever, model)
    if near:
        return near_miss_answer(question, standalone, *near, labelled, intent)
    kind = plan.intent.kind
    thing = counted_thing(query) if kind == "number" else ""  # "火星基地", not "…今年建设"
    about = overview_topic(query) if kind == "overview" else thing or topic(query)
    return Answer(
        question=question,
        text=plan.nothing_found(about),
        found=False,
        standalone_question=standalone,
    )


def _as_read(intent: Intent, query: str) -> Intent:
    """The intent as a report reads the question: a year named with no word of plan or
    result ("2025年…增长多少") is its review's 去年 in the 2026 report, its plan's 今年 in the
    2025 one; the search query says which."""
    if intent.tense:
        return intent
    return dataclasses.replace(intent, tense=detect_tense(query))


def _region_instead(
    plan: Plan, intent: Intent, retriever: Retriever, model: AnswerModel
) -> tuple[str, list[tuple[Pick, Mismatch]]] | None:
    """A part of the region no passage names (万柏林区 in 太原市's report): what the region's
    report says of the topic, as related evidence, never as the part's answer."""
    place = Mismatch("place", plan.scope.place)
    for docs, query in plan.attempts:
        terms = question_terms(query, retriever.bm25.idf)
        choice = choose(query, intent, terms, docs, retriever, model)
        said = list(choice.picks) or [p for p, _ in choice.near]
        if said:
            return query, [(p, place) for p in said]
    return None


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
            return tuple(citation(n, hit, _likest_sentence(hit)) for n, hit in enumerate(hits, 1))
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
) -> Choice:
    """The answers of ``docs`` to ``query``. With ``place`` (a part of the region), only
    passages that name it count."""
    hits = retrieve(query, docs, retriever, place)
    found = candidates(query, intent, hits, terms)
    ids = searched(docs, retriever)
    wanted = asked(query, retriever.bm25.idf, held=lambda word: retriever.holds(word, ids))
    # The span should name what is asked: the counted thing's last word the index holds,
    # or the kind of thing a name is asked of ("什么攻坚战" -> 攻坚战).
    counted = wanted.words[-1] if wanted.words and intent.kind == "number" else ""
    if intent.kind == "entity":
        counted = answer_type(query)
    best = best_spans(found, model, intent, counted)
    fitted = retriever.manifest.model_id == model.model_id
    signals = leads(query, docs, hits, retriever) if fitted else None
    words = intent.kind in ("entity", "yesno", "statement") and not intent.when
    # A question in words about a topic the searched reports never name ("出租车起步价会涨吗")
    # is not answered by a clause holding no word of it, only its verb (涨幅).
    about = topic(query)
    named = topic_words(about) if words else set()
    unnamed = bool(named) and not any(retriever.holds(w, ids) for w in named)
    likeliest = max(best, key=lambda p: p.probability, default=None)
    passing = sorted(
        (
            p
            for p in best
            if model.answers(p.probability, signals, p.hit.document)
            or (
                words
                and p.probability >= WORDS_FLOOR
                and _report(p)
                and on_topic(p, unnamed, about)
            )
            or (words and p is likeliest and _report(p) and _covers(p, terms, retriever, ids))
        ),
        key=lambda p: -p.probability,
    )
    # A figure of a neighbouring thing is no answer, however close its words.
    checked = [(p, mismatch(p, intent, wanted) if _report(p) else None) for p in passing]
    answers = [p for p, why in checked if why is None]
    # The thing named in a clause that does not answer: a clause not naming it is about
    # another thing (新建40个社会足球场 once 改造完善100个…微型消防站 is out).
    head = used_head(wanted) if intent.kind == "number" else ""
    if head and any(head in p.answer.lower() for p, why in checked if why is not None):
        answers = [p for p in answers if not _report(p) or head in p.answer.lower()]
    several = len({region_key(d.region) or d.doc_id for d in docs}) > 1
    exact = _exact(best, intent, wanted, topic(query)) if several else []
    by_doc: dict[str, Pick] = {}
    for pick in answers:
        by_doc.setdefault(pick.hit.document.doc_id, pick)
    # A report's clause that holds no figure (no date) for a question asking one names the
    # topic, not the answer, though its sentence holds another figure: in the report question
    # sets 7 of 8 such sentences were wrong. An article's often says it in words ("数以千计"):
    # in CMRC 21 of 69 were right.
    reports = [
        p
        for p in by_doc.values()
        if threshold_group(p.hit.document) != "report" or holds_asked(p.answer, intent)
    ]
    if not reports and not exact:
        # a figure of another thing altogether is no neighbour: what is closest instead
        near = [
            (p, why)
            for p, why in checked
            if why is not None and why.reason != "other" and holds_asked(p.quote, intent)
        ]
        return Choice([], [], near or closest(best, intent, terms, wanted))
    if exact:
        rest = [
            p
            for p in reports
            if p.hit.document.doc_id not in {e.hit.document.doc_id for e in exact}
        ]
        reports, shown = exact + rest, exact
    else:
        shown = [p for p in reports if p.probability >= reports[0].probability - model.tie]
    how = intent.kind != "number" and bool(vocab.HOW_ASKED.search(query))
    listed = intent.kind == "entity" and bool(vocab.LIST_ASKED.search(query))
    shown = [_finished(p, terms, intent, how, listed) for p in shown[:MAX_REPORTS]]
    used = {p.hit.passage for p in shown}
    related = one_per_passage([p for p in answers if p.hit.passage not in used])
    shown_docs = {p.hit.document.doc_id for p in shown}
    more = [label(p.hit.document) for p in reports if p.hit.document.doc_id not in shown_docs]
    return Choice(shown, related, more=more)


def held_coverage(
    terms: dict[str, float], text: str, retriever: Retriever, ids: set[str] | None
) -> tuple[float, int]:
    """The weighted share of the question's words the searched reports use that ``text``
    holds, and how many such words there are."""
    held = {t: w for t, w in terms.items() if retriever.holds(t, ids)}
    return coverage(held, text), len(held)


def on_topic(pick: Pick, unnamed: bool, about: str) -> bool:
    """Whether ``pick`` may answer a question on topic ``about``: any clause, when the
    reports use a word of it (``unnamed`` false), else one sharing two characters in a row
    with it ("发展核" of 太原榆次太谷发展核建设; none of 出租车起步价 in 居民消费价格涨幅)."""
    return not unnamed or any(about[i : i + 2] in pick.quote for i in range(len(about) - 1))


def _covers(pick: Pick, terms, retriever: Retriever, ids: set[str] | None) -> bool:
    share, count = held_coverage(terms, pick.quote, retriever, ids)
    return count >= HELD_WORDS and share >= HELD_COVER


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


def best_spans(
    found: list[Candidate], model: AnswerModel, intent: Intent, head: str = ""
) -> list[Pick]:
    """One pick per retrieved sentence: its ``decide`` probability, and the span of it that
    ``rank`` prefers; with ``head`` (the counted thing's head word, 学位 of 多少学位; the kind
    of thing a name is asked of), a span that names it before any that does not (the clause
    of 18个项目 in a sentence that goes on "新增学位2.4万个")."""
    if not found:
        return []
    rows = np.array([c.features for c in found])
    groups = [threshold_group(c.hit.document) for c in found]
    decide, rank = (
        model.decide.probabilities(rows),
        model.span_scores(rows, groups, intent.kind == "number"),
    )

    def preferred(i: int) -> tuple[bool, float]:
        # reports only, as the near-miss checks: an article's spans stay the model's
        named = bool(head) and groups[i] == "report" and _names(head, found[i].answer.lower())
        return named, float(rank[i])

    best: dict[tuple[int, str], int] = {}
    sentence_p: dict[tuple[int, str], float] = {}
    for i, c in enumerate(found):
        key = (id(c.hit), c.quote)
        sentence_p[key] = max(sentence_p.get(key, 0.0), float(decide[i]))
        if key not in best or preferred(i) > preferred(best[key]):
            best[key] = i
    return [
        Pick(found[i].hit, found[i].answer, found[i].quote, sentence_p[key])
        for key, i in best.items()
    ]


def _names(head: str, span: str) -> bool:
    """Whether ``span`` names a ``head``: says which one ("提质增效攻坚战"), not any of them
    ("所有行业")."""
    return any(
        not vocab.QUANTIFIER_BEFORE.search(span[: m.start()])
        for m in re.finditer(re.escape(head), span)
    )


# The least length of a question's wording (without its asking words) that, found whole in a
# clause, says the clause is about exactly what was asked: two words ("养老床位").
_EXACT_CHARS = 4


def _exact(best: list[Pick], intent: Intent, wanted, wording: str) -> list[Pick]:
    """Across several regions, the clauses (one per report) that hold the question's own
    wording ("新增养老床位") with the asked figure: they answer before looser ones
    ("新增5000张家庭养老床位") whatever their probabilities: among many reports one report's
    sentence scores lower than alone, and its very words are what was asked."""
    if intent.kind != "number" or len(wording) < _EXACT_CHARS:
        return []
    exact = (
        p
        for p in sorted(best, key=lambda p: -p.probability)
        if wording in p.answer
        and _report(p)
        and holds_asked(p.answer, intent)
        and mismatch(p, intent, wanted) is None
    )
    return list({p.hit.document.doc_id: p for p in reversed(list(exact))}.values())[::-1]


def _report(pick: Pick) -> bool:
    """A pick of a report: the near-miss checks, the words floor and the whole-sentence how
    answer were made and measured on reports; an article's (CMRC) are left to the model."""
    return threshold_group(pick.hit.document) == "report"


def _finished(pick: Pick, terms, intent, how: bool = False, listed: bool = False) -> Pick:
    # "怎么解决X" is answered by the whole sentence: it names X in one clause and what will
    # be done about it in the others. "能不能X" likewise, when the sentence is a line: it
    # says whether and on what terms ("…设立中小型银行…，成熟一家、批准一家，不设限额").
    said = finish(pick.answer, terms, intent)
    if _report(pick) and (how or intent.kind == "yesno"):
        whole = point_text(pick.quote)
        said = whole if how or not whole.endswith("…") else said
    if _report(pick) and listed:
        said = _with_list(said, pick.quote)
    return Pick(pick.hit, said, pick.quote, pick.probability)


# Items a clause lists to be the list a "哪些" question asks: three ("工业、科研、教育").
_LIST_ITEMS = 3


def _with_list(said: str, sentence: str) -> str:
    """A "哪些" answer with the list its sentence gives, when the span lists nothing and
    another clause lists three or more ("实施“人工智能+”行动" and "扩大在工业、科研、教育、
    医疗、文旅等领域融合应用"): the span and the clauses up to the list, or the list alone
    when that runs past a line."""
    if vocab.LIST_MARK in said or said not in sentence:  # a list already, or cut short
        return said
    start = sentence.find(said)
    # the clauses' spans (without a closing 。), those that list enough items
    clauses = [(a, a + len(sentence[a:b].rstrip("。！？!?"))) for a, b in clause_spans(sentence)]
    lists = [(a, b) for a, b in clauses if sentence[a:b].count(vocab.LIST_MARK) >= _LIST_ITEMS - 1]
    if not lists:
        return said
    first, last = min(lists, key=lambda span: abs(span[0] - start))
    whole = sentence[min(start, first) : max(start + len(said), last)]
    return sentence[first:last] if point_text(whole).endswith("…") else whole
