"""The one core behind every front door: question in, verified and cited Answer out."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence

from assistant.answering import extractive_answer, passages_to_read
from assistant.decide import AnswerModel
from assistant.followup import rewrite_followup
from assistant.question import clean_question
from assistant.retrieval import (
    Hit,
    Retriever,
    get_retriever,
    reopen_retriever,
    require_index,
    require_store,
    using_retriever,
)
from assistant.scope import admitted
from assistant.types import Answer, ReportFilter
from index.build import model_id_for
from index.errors import IndexChangedError, IndexMissingError, ModelError, QuestionError
from index.settings import Settings

History = Sequence[tuple[str, str]]
# A generation read while builds follow each other fast can vanish under a question (only
# the live and the previous one are kept); the next read finds the newest. Three reads
# fail only when builds finish faster than a question is answered.
_ATTEMPTS = 3
# Seconds before a question is asked again after its index changed under it, times the
# attempt: another process may be saving a collection, which takes tens of milliseconds.
_PAUSE = 0.1


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
    answer_model: AnswerModel | None = None,
    within: ReportFilter | None = None,
) -> AnswerStream:
    """Like :func:`answer`, but yields the answer text as it is produced.

    Returns:
        An :class:`AnswerStream`; after iterating it, ``.answer`` is the final :class:`Answer`
        (which may differ from the streamed text when an LLM answer failed verification).
    """
    return AnswerStream(_run(question, history, settings, embeddings, llm, answer_model, within))


def answer(
    question: str,
    history: History | None = None,
    *,
    settings: Settings | None = None,
    embeddings=None,
    llm=None,
    answer_model: AnswerModel | None = None,
    within: ReportFilter | None = None,
) -> Answer:
    """Answer a question from the indexed reports, with citations.

    Args:
        question: The question, in Chinese.
        history: Earlier ``(question, answer_text)`` turns, for follow-up questions.
        settings: Which index and models; default from ``REPORTQA_*`` variables.
        embeddings: Query embedding model; default the one named in ``settings``.
        llm: A langchain chat model; default the one named by ``REPORTQA_LLM``, else none.
            It answers from the extractive answer's passages, or from the retrieved ones
            when the extractive answer refused (but not a region or year the index lacks);
            its answer is used only when it checks out against them. A failing, slow
            (``settings.llm_timeout``) or unverifiable one leaves the extractive answer,
            with ``note`` saying why.
        answer_model: Decides whether and what to answer; default the fitted one shipped
            with the package (calibrated for the default embedding model).
        within: Only the reports of this region and/or year are searched (the page's
            filter); ``None`` searches them all.

    Returns:
        The :class:`Answer`; ``found`` is ``False`` when the reports do not say.

    Raises:
        QuestionError: The question is empty, too long or not in Chinese.
        IndexMissingError: Nothing has been indexed yet.
    """
    stream = stream_answer(
        question,
        history,
        settings=settings,
        embeddings=embeddings,
        llm=llm,
        answer_model=answer_model,
        within=within,
    )
    for _ in stream:
        pass
    return stream.answer


def _run(
    question, history, settings, embeddings, llm, answer_model, within=None
) -> Generator[str, None, Answer]:
    text = clean_question(question)
    settings = settings or Settings.from_env()
    manifest = require_index(settings)  # before loading a model: fail fast on no index
    model_id = model_id_for(settings, embeddings)
    embeddings = _question_embeddings(settings, embeddings)
    if llm is None and settings.llm:
        from assistant.llm import load_chat_model

        llm = load_chat_model(settings.llm, settings.llm_timeout)
    if llm is not None:  # one timeout for the whole answer, a follow-up's rewrite included
        from assistant.llm import Deadline

        llm = Deadline(llm, settings.llm_timeout)
    for attempt in range(_ATTEMPTS):
        try:
            with using_retriever(settings, embeddings, manifest) as retriever:
                _check_model(retriever, model_id)
                regions = {d.region for d in manifest.documents if d.region}
                standalone = rewrite_followup(text, _cleaned(history), llm, known_regions=regions)
                result = extractive_answer(
                    question, standalone, retriever, answer_model, within=within
                )
                # A comparison's table is each report's own words already: no model
                # rewrites it (a 31-row answer would fail the check and carry its note).
                passages = (
                    ()
                    if llm is None or result.kind == "table"
                    else result.citations or passages_to_read(standalone, retriever, within=within)
                )
            break
        except IndexChangedError as changed:
            manifest = _again(attempt, settings, embeddings, manifest, changed)
    if not passages:
        yield result.text
        return result
    from assistant.llm import llm_answer

    return (yield from llm_answer(llm, result, passages))


def _again(attempt: int, settings: Settings, embeddings, manifest, changed: IndexChangedError):
    """The live manifest to ask again on, after a moment (a build may be saving its files);
    after the last attempt, ``changed`` is raised. When no newer generation replaced
    ``manifest``, its retriever is reopened: its view of the vectors is out of date."""
    if attempt == _ATTEMPTS - 1:
        raise changed
    time.sleep(_PAUSE * (attempt + 1))
    live = require_index(settings)  # the newer generation that replaced it
    if live.generation == manifest.generation:
        reopen_retriever(settings, embeddings, manifest)
    return live


def search(
    query: str,
    *,
    k: int = 8,
    settings: Settings | None = None,
    embeddings=None,
    within: ReportFilter | None = None,
) -> list[Hit]:
    """The passages that best match ``query``, best first, without choosing an answer.

    The same hybrid retrieval the answer starts from (keywords, passage and sentence
    vectors), over the reports ``within`` admits; for retrievers (LangChain) and tools
    (MCP) that let another model read the passages.

    Args:
        query: What to look for, in Chinese; cleaned as a question is.
        k: How many passages.
        settings, embeddings: As for :func:`answer`.
        within: Only the reports of this region and/or year; ``None`` searches them all.

    Raises:
        QuestionError: The query is empty, too long or not in Chinese.
        IndexMissingError: Nothing has been indexed yet.
    """
    text = clean_question(query)
    settings = settings or Settings.from_env()
    manifest = require_index(settings)
    model_id = model_id_for(settings, embeddings)
    embeddings = _question_embeddings(settings, embeddings)
    for attempt in range(_ATTEMPTS):
        try:
            with using_retriever(settings, embeddings, manifest) as retriever:
                _check_model(retriever, model_id)
                docs = (
                    None
                    if within is None
                    else {d.doc_id for d in admitted(retriever.documents.values(), within)}
                )
                if docs == set():
                    return []
                return retriever.search(text, docs, k)
        except IndexChangedError as changed:
            manifest = _again(attempt, settings, embeddings, manifest, changed)
    raise AssertionError("unreachable")


def warm_up(settings: Settings | None = None, embeddings=None) -> bool:
    """Load the model and open the index now, so that the first question is fast.

    Returns:
        ``False`` when there is nothing to open yet (no index); the first question after a
        build then opens it.

    Raises:
        ReportQAError: The model or the index cannot be opened.
    """
    settings = settings or Settings.from_env()
    try:
        manifest = require_index(settings)
    except IndexMissingError:
        return False
    embeddings = _question_embeddings(settings, embeddings)
    retriever = get_retriever(settings, embeddings, manifest)
    # One search through every step (jieba, the query model, the answer model) loads
    # what loads lazily.
    extractive_answer("预热", "预热", retriever)
    return True


def _cleaned(history: History | None) -> list[tuple[str, str]]:
    """Earlier turns with their questions normalised as the new one is."""
    turns = []
    for question, reply in history or ():
        try:
            turns.append((clean_question(question), reply))
        except QuestionError:
            continue  # an earlier unusable question cannot be leaned on
    return turns


def _question_embeddings(settings: Settings, embeddings):
    """``embeddings``, or the configured question model, loaded once per process."""
    if embeddings is not None:
        return embeddings
    # Loading the model takes seconds: a Chroma server that is down says so first.
    require_store(settings)
    from index.embeddings import load_query_embeddings

    return load_query_embeddings(settings)


def _check_model(retriever: Retriever, asking_with: str) -> None:
    built_with = retriever.manifest.model_id
    if built_with != asking_with:
        raise ModelError(
            f"the index was built with {built_with!r} but questions use {asking_with!r}; "
            "rebuild it with `reportqa index build --rebuild`",
            "索引所用的向量模型与当前设置不一致，请重建索引。",
        )
