"""Suggested follow-up questions under an answer, drawn from the reports it cites.

Up to three short standalone questions, each of something the index holds:

- **year**: the same topic in another year of the cited report's region ("全国2024年…");
- **region**: the same topic in another region the index holds, the same level first (a
  province suggests provinces), the nearest by division code first (the code's first digit
  is the part of the country), of the same plan year first;
- **figure**: a neighbouring key figure of the cited report: the targets (results) next to
  the one answered, or else the key figures of the cited section.

Another year's or region's report is suggested only when it holds the topic: the same key
figure (by common name and kind) when the answer is one, else every word of the topic that
the cited report holds (:func:`follow_ups` reads them from the keyword index). Nothing is
suggested for a refusal that cites nothing. :func:`suggest` is pure (documents, figures and
the topic check are given); :func:`follow_ups` reads them from an index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from assistant.period import read_period, relative_word
from assistant.question import everyday_to_report
from assistant.regions import held_regions, level, locate, region_key
from assistant.types import Answer, Citation
from index import vocab
from index.chunking import SECTION_SEPARATOR
from index.figures import Figure, year_of
from index.model import Document
from index.settings import Settings

SuggestionKind = Literal["year", "region", "figure"]
MAX_SUGGESTIONS = 3
# The order suggestions are taken in, round after round, until there are enough: one of
# each kind first.
_ORDER: tuple[SuggestionKind, ...] = ("year", "region", "figure")
# An answer's claim shorter than this names no figure of its own ("是[1]").
_CLAIM_CHARS = 4
_MARKER = re.compile(r"\[\d{1,2}\]")
_LABEL = re.compile(r"^[^：]{1,24}（\d{4}年）：")  # "北京市（2026年）：" before a claim


@dataclass(frozen=True)
class Suggestion:
    """One follow-up question.

    Attributes:
        question: The question, standalone ("北京市2026年城镇新增就业的目标是多少？").
        kind: What it changes from the answered question: "year", "region" or "figure".
        region: The region of the report it is about.
        year: That report's year.
    """

    question: str
    kind: SuggestionKind
    region: str
    year: int | None


@dataclass(frozen=True)
class Asked:
    """What an answered question asked, without its place and time.

    Attributes:
        rest: The question without its region and year words, in the reports' wording
            ("居民消费价格涨幅目标定为多少？").
        offset: The year asked minus the cited report's year (今年 0, 去年 -1); ``None``
            when the question names no year.
    """

    rest: str
    offset: int | None


def asked_topic(question: str, documents: Sequence[Document], report_year: int | None) -> Asked:
    """The question without its region and year words, and the year it asks relative to
    the cited report's ``report_year`` (see :class:`Asked`)."""
    text, year, named_year, _ = read_period(question)
    offset = None
    relative = relative_word(text)
    if relative is not None:
        offset = vocab.RELATIVE_YEARS[relative.group()]
        if named_year is not None and report_year is not None:
            offset += named_year - report_year
        text = text[: relative.start()] + text[relative.end() :]
    elif year is not None and report_year is not None:
        offset = year - report_year
    text = vocab.YEAR_RE.sub("", text)
    regions = held_regions(documents)
    for mention in sorted(locate(text, regions), key=lambda m: -m.start):
        topical = vocab.TOPIC_PLACE_BEFORE.search(mention.before)  # "和天津协同发展"
        if (mention.region is not None or mention.place is not None) and not topical:
            text = text[: mention.start] + text[mention.end :]
    if any(r.key == vocab.NATIONAL for r in regions):
        text = vocab.NATIONAL_ALIAS_RE.sub("", text)
    rest = vocab.SUGGEST_LEAD.sub("", everyday_to_report(text)).strip()
    rest = re.sub(r"[？?]+(?=.)", "，", rest.rstrip("？?。！! "))  # "…不？装多少部"
    return Asked(rest + "？" if rest else "", offset)


def suggest(
    answer: Answer,
    documents: Sequence[Document],
    figures: Mapping[str, Sequence[Figure]],
    holds: Callable[[Document], bool],
    limit: int = MAX_SUGGESTIONS,
) -> tuple[Suggestion, ...]:
    """Up to ``limit`` follow-up questions to ``answer`` (see the module's docstring).

    Args:
        answer: The answer shown.
        documents: Every indexed report.
        figures: Key figures by report id (at least the cited report's and those of the
            reports that might be suggested); a report missing has none.
        holds: Whether a report speaks of the answered question's topic.
        limit: How many at most.
    """
    if not answer.citations:
        return ()
    cited = _cited_document(answer.citations[0], documents)
    if cited is None:
        return ()
    asked = asked_topic(answer.standalone_question or answer.question, documents, cited.year)
    answered = _answered_figure(answer, figures.get(cited.doc_id, ()))

    def has_topic(doc: Document) -> bool:
        if answered is not None and answered.canonical:
            return any(
                f.canonical == answered.canonical and f.kind == answered.kind
                for f in figures.get(doc.doc_id, ())
            )
        return holds(doc)

    shown = {region_key(c.region) for c in answer.citations if c.region}
    pools: dict[SuggestionKind, list[Suggestion]] = {
        "year": [
            _swapped(asked, doc, "year")
            for doc in _other_years(cited, documents)
            if asked.rest and has_topic(doc)
        ],
        "region": [
            _swapped(asked, doc, "region")
            for doc in _other_regions(cited, documents, shown)
            if asked.rest and has_topic(doc)
        ],
        "figure": [_figure_question(cited, f) for f in _neighbours(answer, cited, figures)],
    }
    own = _normal(answer.standalone_question or answer.question)
    chosen: list[Suggestion] = []
    seen = {own}
    while len(chosen) < limit and any(pools.values()):
        for kind in _ORDER:
            while pools[kind]:
                suggestion = pools[kind].pop(0)
                if _normal(suggestion.question) not in seen:
                    seen.add(_normal(suggestion.question))
                    chosen.append(suggestion)
                    break
            if len(chosen) == limit:
                break
    return tuple(chosen)


def _normal(question: str) -> str:
    return re.sub(r"[\s？?。！!]", "", question)


def _cited_document(citation: Citation, documents: Sequence[Document]) -> Document | None:
    """The report a citation is of (by its file, else its title, region and year)."""
    for doc in documents:
        if doc.source == citation.source:
            return doc
    for doc in documents:
        if (doc.title, doc.region, doc.year) == (citation.title, citation.region, citation.year):
            return doc
    return None


def _other_years(cited: Document, documents: Sequence[Document]) -> list[Document]:
    """The region's reports of other years, the nearest year first (the later of two)."""
    key = region_key(cited.region)
    others = [
        d
        for d in documents
        if key and region_key(d.region) == key and d.year and d.year != cited.year
    ]
    return sorted(others, key=lambda d: (abs(d.year - (cited.year or d.year)), -d.year))


def _other_regions(
    cited: Document, documents: Sequence[Document], shown: set[str]
) -> list[Document]:
    """One report of each other region (the one of the cited year, else its latest): the
    same level first, then the same year, then the nearest by division code."""
    mine = region_key(cited.region)
    codes = {r.key: r.code for r in held_regions(documents)}
    code = codes.get(mine, "")
    best: dict[str, Document] = {}
    for doc in documents:
        key = region_key(doc.region)
        if not key or key == mine or key in shown or not doc.year:
            continue
        kept = best.get(key)
        if (
            kept is None
            or (doc.year == cited.year) > (kept.year == cited.year)
            or ((doc.year == cited.year) == (kept.year == cited.year) and doc.year > kept.year)
        ):
            best[key] = doc

    def order(doc: Document) -> tuple:
        key = region_key(doc.region)
        theirs = codes.get(key, "")
        shared = len(_common_prefix(code, theirs)) if code and theirs else 0
        distance = abs(int(code[:6]) - int(theirs[:6])) if code and theirs else 10**6
        return (level(key) != level(mine), doc.year != cited.year, -shared, distance, key)

    return sorted(best.values(), key=order)


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _swapped(asked: Asked, doc: Document, kind: SuggestionKind) -> Suggestion:
    """The asked topic, of report ``doc``'s region and year."""
    year = None if asked.offset is None or doc.year is None else doc.year + asked.offset
    if year is None and kind == "year":
        year = doc.year
    when = vocab.SUGGEST_YEAR.format(year=year) if year else ""
    question = vocab.SUGGEST_SWAPPED.format(place=doc.region, when=when, rest=asked.rest)
    return Suggestion(question, kind, doc.region, doc.year)


def _claims(answer: Answer) -> list[str]:
    """The answer's claims: its pieces before each ``[n]``, without a report's label."""
    pieces = _MARKER.split(answer.text)[:-1]
    claims = [_LABEL.sub("", p.strip("；;。，, \n")) for p in pieces]
    return [c for c in claims if len(c) >= _CLAIM_CHARS]


def _answered_figure(answer: Answer, figures: Sequence[Figure]) -> Figure | None:
    """The key figure of the cited report the answer states, if it states one."""
    if not answer.found:
        return None
    paragraphs = {c.paragraph for c in answer.citations[:1]}
    for claim in _claims(answer):
        for figure in figures:
            if figure.paragraph in paragraphs and (claim in figure.text or figure.text in claim):
                return figure
    return None


def _neighbours(answer: Answer, cited: Document, figures: Mapping[str, Sequence[Figure]]):
    """The cited report's key figures next to the one answered (of its kind), nearest
    first; without one, those of the cited passage's section, nearest paragraph first."""
    own = [f for f in figures.get(cited.doc_id, ()) if f.value is not None]
    answered = _answered_figure(answer, own)
    if answered is not None:
        same = [f for f in own if f.kind == answered.kind]
        at = same.index(answered)
        picks = sorted(
            (f for f in same if f is not answered),
            key=lambda f: (abs(same.index(f) - at), same.index(f)),
        )
        taken = {answered.canonical or answered.indicator}
    else:
        first = answer.citations[0]
        picks = sorted(
            (f for f in own if _within(first.section, f.section) or f.paragraph == first.paragraph),
            key=lambda f: (abs(f.paragraph - first.paragraph), f.start),
        )
        taken = set()
    out = []
    asked = _normal(answer.standalone_question or answer.question)
    for f in picks:
        name = f.canonical or f.indicator
        if name in taken or f.indicator in asked or len(f.indicator) > vocab.SUGGEST_MAX_NAME:
            continue
        taken.add(name)
        out.append(f)
    return out


def _within(section: str, outer: str) -> bool:
    """Whether the section path ``section`` lies in ``outer`` (a figure keeps only its
    passage's top section: "三、2026年重点工作" holds "三、2026年重点工作 > （八）…")."""
    return bool(outer) and (section == outer or section.startswith(outer + SECTION_SEPARATOR))


def _figure_question(cited: Document, figure: Figure) -> Suggestion:
    """The question that asks a report's key figure, its year said."""
    year = year_of(cited.year, figure.kind)
    when = vocab.SUGGEST_YEAR.format(year=year) if year else ""
    if figure.kind == "target":
        template = vocab.SUGGEST_TARGET
    elif vocab.RESULT_GROWTH.search(figure.indicator):
        template = vocab.SUGGEST_RESULT_RATE
    else:
        template = vocab.SUGGEST_RESULT_AMOUNT
    question = template.format(place=cited.region, when=when, indicator=figure.indicator)
    return Suggestion(question, "figure", cited.region, cited.year)


def follow_ups(
    answer: Answer,
    *,
    settings: Settings | None = None,
    embeddings=None,
    limit: int = MAX_SUGGESTIONS,
) -> tuple[Suggestion, ...]:
    """The follow-up questions to ``answer`` over the index of ``settings`` (see
    :func:`suggest`): its reports, their key figures, and the keyword index for whether a
    report speaks of the topic.

    Args:
        answer: An answer of this index.
        settings: Which index; default from ``REPORTQA_*`` variables.
        embeddings: The question model the index is opened with (the page's); default the
            configured one.
        limit: How many at most.

    Raises:
        ReportQAError: The index cannot be read.
    """
    if not answer.citations:
        return ()
    from assistant.extract import question_terms
    from assistant.retrieval import require_index, using_retriever
    from index.embeddings import load_query_embeddings
    from index.keyfigures import report_figures

    settings = settings or Settings.from_env()
    manifest = require_index(settings)
    documents = list(manifest.documents)
    cited = _cited_document(answer.citations[0], documents)
    if cited is None:
        return ()
    figures = {doc.doc_id: found for doc, found in report_figures(settings, documents)}
    embeddings = embeddings if embeddings is not None else load_query_embeddings(settings)
    asked = asked_topic(answer.standalone_question or answer.question, documents, cited.year)
    with using_retriever(settings, embeddings, manifest) as retriever:
        terms = question_terms(asked.rest, retriever.bm25.idf)
        words = [t for t in terms if t not in vocab.GENERIC_WORDS and len(t) > 1]
        held = [t for t in words if retriever.holds(t, {cited.doc_id})]
        held = held or [t for t in words if retriever.holds(t)]
        # Several figures asked ("多少件…、多少部…") are said in several clauses.
        number = len(vocab.NUMBER_ASKED.findall(asked.rest)) == 1
        return suggest(
            answer, documents, figures, lambda doc: _says(retriever, doc, held, number), limit
        )


# Passages of a report that hold every word of a topic, read for a sentence that says it.
_PASSAGES_READ = 8


def _says(retriever, doc: Document, words: Sequence[str], number: bool) -> bool:
    """Whether one sentence of report ``doc`` holds all ``words`` (one clause, with a
    figure, when ``number``: one figure is asked): the report speaks of the topic, not only
    uses its words apart ("新增医疗卫生机构床位6639张，…养老服务…" states no 养老床位)."""
    if not words or doc.doc_id not in retriever.codes:
        return False
    rows = retriever.bm25.rows_with(words[0])
    for word in words[1:]:
        rows = np.intersect1d(rows, retriever.bm25.rows_with(word))
    code = retriever.codes[doc.doc_id]
    rows = [int(r) for r in rows if retriever.index.doc_code[r] == code]
    for row in rows[:_PASSAGES_READ]:
        pieces = vocab.RESULT_SENTENCE.findall(retriever.passage(row).text)
        if number:
            pieces = [c for p in pieces for c in vocab.SUGGEST_CLAUSE.findall(p)]
        for piece in pieces:
            lowered = piece.lower()
            if all(w in lowered for w in words) and (not number or vocab.NUMBER_RE.search(piece)):
                return True
    return False
