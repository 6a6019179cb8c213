"""The one core behind every front door: question in, verified and cited Answer out."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Sequence

from assistant.extract import Pick, best_quote, is_supported, pick_answer
from assistant.followup import rewrite_followup
from assistant.question import Scope, clean_question, detect_intent, find_scope, strip_scope
from assistant.retrieval import Hit, Retriever, get_retriever
from assistant.types import Answer, Citation
from assistant.verify import verify
from index.build import model_id_for
from index.errors import ModelError
from index.model import Document
from index.settings import Settings

MAX_CITATIONS = 5
_RELATED_SUPPORT = 0.3
_TOPIC_NOISE = re.compile(
    r"^(请问|今年|明年|全年|全市|全省|计划|要|将)+|(的?(目标|计划|安排|数量|规模))?(是|有|为)?"
    r"(多少|几[个项所家]?|什么|哪些|怎样|如何|是否)?(呢|吗)?[？?。！!]*$"
)

History = Sequence[tuple[str, str]]


class AnswerStream:
    """Iterate for text pieces as they are produced; ``answer`` holds the result afterwards."""

    def __init__(self, run: Generator[str, None, Answer]) -> None:
        self._run = run
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        self.answer = yield from self._run


def stream_answer(
    question: str,
    history: History | None = None,
    *,
    settings: Settings | None = None,
    embeddings=None,
    llm=None,
) -> AnswerStream:
    """Like :func:`answer`, but yields the answer text as it is produced.

    Returns:
        An :class:`AnswerStream`; after iterating it, ``.answer`` is the final :class:`Answer`
        (which may differ from the streamed text when an LLM answer failed verification).
    """
    return AnswerStream(_run(question, history, settings, embeddings, llm))


def answer(
    question: str,
    history: History | None = None,
    *,
    settings: Settings | None = None,
    embeddings=None,
    llm=None,
) -> Answer:
    """Answer a question from the indexed reports, with citations.

    Args:
        question: The question, in Chinese.
        history: Earlier ``(question, answer_text)`` turns, for follow-up questions.
        settings: Which index and models; default from ``REPORTQA_*`` variables.
        embeddings: Query embedding model; default the one named in ``settings``.
        llm: A langchain chat model; default the one named by ``REPORTQA_LLM``, else none.

    Returns:
        The :class:`Answer`; ``found`` is ``False`` when the reports do not say.

    Raises:
        QuestionError: The question is empty, too long or not in Chinese.
        IndexMissingError: Nothing has been indexed yet.
    """
    stream = stream_answer(question, history, settings=settings, embeddings=embeddings, llm=llm)
    for _ in stream:
        pass
    return stream.answer


def _run(question, history, settings, embeddings, llm) -> Generator[str, None, Answer]:
    text = clean_question(question)
    settings = settings or Settings.from_env()
    embeddings = embeddings if embeddings is not None else _default_embeddings(settings)
    if llm is None and settings.llm:
        from assistant.llm import load_chat_model

        llm = load_chat_model(settings.llm)
    retriever = get_retriever(settings, embeddings)
    _check_model(retriever, settings, embeddings)
    standalone = rewrite_followup(text, history or (), llm)
    result = _extractive(question, standalone, retriever)
    if llm is not None and result.citations:
        from assistant.llm import llm_answer

        result = yield from llm_answer(llm, result, retriever)
    else:
        yield result.text
    return result


def _default_embeddings(settings: Settings):
    from index.embeddings import load_embeddings

    return load_embeddings(settings)


def _check_model(retriever: Retriever, settings: Settings, embeddings) -> None:
    built_with, asking_with = retriever.manifest.model_id, model_id_for(settings, embeddings)
    if built_with != asking_with:
        raise ModelError(
            f"the index was built with {built_with!r} but questions use {asking_with!r}; "
            "rebuild it with `reportqa index build --rebuild`",
            "索引所用的向量模型与当前设置不一致，请重建索引。",
        )


def _scoped_documents(scope: Scope, documents: Sequence[Document]) -> list[Document]:
    docs = [d for d in documents if scope.region is None or d.region == scope.region]
    if scope.year is not None and any(d.year == scope.year for d in docs):
        docs = [d for d in docs if d.year == scope.year]
    return docs


def _latest_per_region(documents: list[Document]) -> list[Document]:
    latest: dict[str, int] = {}
    for d in documents:
        latest[d.region] = max(latest.get(d.region, 0), d.year or 0)
    return [d for d in documents if (d.year or 0) == latest[d.region]]


def _extractive(question: str, standalone: str, retriever: Retriever) -> Answer:
    documents = list(retriever.documents.values())
    scope = find_scope(standalone, documents)
    query = strip_scope(standalone, scope)
    intent = detect_intent(query)
    in_scope = _scoped_documents(scope, documents)
    attempts = [in_scope]
    if scope.year is None and len(in_scope) > 1:
        attempts.insert(0, _latest_per_region(in_scope))
    for docs in attempts:
        ids = None if len(docs) == len(documents) else {d.doc_id for d in docs}
        hits = retriever.search(query, ids)
        pick = pick_answer(query, intent, hits, retriever.bm25.idf)
        if is_supported(pick, intent):
            return _found(question, standalone, query, pick, hits, retriever, len(docs) > 1)
    return Answer(
        question=question,
        text=f"报告中没有找到关于“{_topic(query)}”的相关内容。",
        found=False,
        standalone_question=standalone,
    )


def _found(question, standalone, query, pick: Pick, hits: list[Hit], retriever, label) -> Answer:
    citations = [_citation(1, pick.hit, pick.quote)]
    for hit in hits:
        if len(citations) >= MAX_CITATIONS:
            break
        if hit.passage == pick.hit.passage:
            continue
        quote, support = best_quote(query, hit, retriever.bm25.idf)
        if support >= _RELATED_SUPPORT:
            citations.append(_citation(len(citations) + 1, hit, quote))
    body = f"{pick.answer}[1]"
    problems = verify(body, {1: pick.quote})
    if problems:  # cannot happen for a clause cut from its own quote; refuse rather than risk it
        return Answer(question, f"无法核实答案：{'；'.join(problems)}", False, (), standalone)
    doc = pick.hit.document
    prefix = f"据{doc.region}{doc.year or ''}年报告，" if label and doc.region else ""
    return Answer(question, prefix + body, True, tuple(citations), standalone)


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
    topic = _TOPIC_NOISE.sub("", query).strip()
    return topic or query
