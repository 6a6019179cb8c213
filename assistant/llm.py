"""Optional LLM answering through langchain: a helper that is checked, never trusted.

The LLM sees numbered passages, as quoted data under a system prompt that says so, and
answers with ``[n]`` markers. Its answer is used only when every marker names a passage
it was given, every figure it states stands with its unit in a sentence of the passage
it cites, about the same thing (:mod:`assistant.verify`), and it is short; otherwise,
and whenever the endpoint fails or the whole answer (a follow-up's rewrite included)
takes longer than ``REPORTQA_LLM_TIMEOUT``, the extractive answer stands and
``Answer.note`` says why.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import queue
import re
import threading
import time
from collections.abc import Generator, Sequence

from assistant.question import excerpt
from assistant.types import Answer, Citation
from assistant.verify import SENTENCE, figures, holds_figure, verify
from index.errors import ModelError
from prompts import render

log = logging.getLogger(__name__)

_NOT_FOUND = "没有找到"
_MARKER = re.compile(r"\[(\d+)\]")
_CLAIM = re.compile(r"([^\[\]]*)((?:\[\d+\])+)")

# The note when the LLM's answer is not used: why, then what is shown instead (the note
# follows the answer, in the chat and on the terminal).
_UNAVAILABLE = "大模型暂不可用，"
_NOTHING_FOUND = "大模型认为段落中没有答案，"
_UNVERIFIED = "大模型的回答未通过核对（{}），"
_EXTRACTED = "本回答直接摘自报告原文。"
_TOO_LONG = "回答过长"
# The prompt asks for one sentence of about 40 characters; an answer past this is a model
# that loops (one sent 5 MB), and reading on would only cost memory.
MAX_ANSWER_CHARS = 600
_STILL_REFUSED = "未能进一步查找。"


class Deadline:
    """A chat model whose calls all end by one deadline, ``seconds`` from now: a follow-up's
    rewrite and its answer share it. Each call runs in a worker thread that is left to the
    client's own timeout once the deadline passes; the caller has stopped waiting.

    Raises (from ``invoke`` and while streaming): ``TimeoutError`` at the deadline.
    """

    def __init__(self, llm, seconds: float) -> None:
        self.llm = llm
        self.deadline = time.monotonic() + seconds

    def invoke(self, messages):
        for reply in self._run(lambda put: put(self.llm.invoke(messages))):
            return reply
        raise TimeoutError("the chat model's reply came too late")

    def stream(self, messages):
        return self._run(lambda put: [put(chunk) for chunk in self.llm.stream(messages)])

    def _run(self, produce):
        """What ``produce`` puts, item by item, until it is done or the deadline passes."""
        if time.monotonic() >= self.deadline:  # spent (by a rewrite): not even asked
            raise TimeoutError("no time left for the chat model")
        items: queue.Queue = queue.Queue()
        done, stop = object(), threading.Event()

        def put(item) -> None:
            if stop.is_set():
                raise _Abandoned
            items.put(item)

        def work() -> None:
            try:
                produce(put)
                items.put(done)
            except _Abandoned:
                pass
            except Exception as exc:  # handed to the caller, who reports it
                items.put(exc)

        threading.Thread(target=work, daemon=True, name="chat-model").start()
        try:
            while True:
                try:
                    item = items.get(timeout=max(0.0, self.deadline - time.monotonic()))
                except queue.Empty:
                    log.warning("the chat model's answer was not done in time")
                    raise TimeoutError("the chat model took too long") from None
                if item is done:
                    return
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            stop.set()  # a caller that stops reading stops the worker at its next chunk


class _Abandoned(Exception):
    """The caller of a :class:`Deadline` call stopped waiting."""


@functools.lru_cache(maxsize=4)
def load_chat_model(spec: str, timeout: float):
    """A langchain chat model from ``provider:model`` (``openai:qwen-plus``, ``ollama:qwen2.5``).

    The OpenAI provider reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``, so any
    OpenAI-compatible endpoint (DeepSeek, Qwen, vLLM) works.

    Args:
        spec: ``provider:model``.
        timeout: Seconds a request may wait for the endpoint. There are no retries: a
            failed request falls back to the extractive answer at once instead of making
            the user wait through backoffs.
    """
    from langchain.chat_models import init_chat_model

    provider, _, model = spec.partition(":")
    if not model:
        raise ModelError(
            f"REPORTQA_LLM must look like provider:model, got {spec!r}",
            "REPORTQA_LLM 的格式应为 provider:model。",
        )
    # ChatOllama has neither ``timeout`` nor ``max_retries``: its ollama client takes the
    # timeout and never retries.
    limits = (
        {"client_kwargs": {"timeout": timeout}}
        if provider == "ollama"
        else {"timeout": timeout, "max_retries": 0}
    )
    try:
        return init_chat_model(model, model_provider=provider, temperature=0, **limits)
    except Exception as exc:
        raise ModelError(f"cannot load chat model {spec!r}: {exc}", "无法加载大模型。") from exc


def _passages_block(passages: Sequence[Citation]) -> str:
    return "\n".join(f"[{c.n}] （{c.title}，{c.section}）{c.text}" for c in passages)


def llm_answer(
    llm, extractive: Answer, passages: Sequence[Citation]
) -> Generator[str, None, Answer]:
    """Stream the LLM's answer from ``passages``, then verify it against them.

    Args:
        llm: A langchain chat model, best a :class:`Deadline` (an answer that is not done
            by it is not waited for).
        extractive: The extractive answer (or refusal), which stands whenever the LLM's
            answer is not used.
        passages: What the LLM may answer from: the extractive answer's citations, or the
            retrieved passages of a question the extractive answer refused.

    Returns:
        The LLM's answer, cited with ``passages``, when it checks out; otherwise
        ``extractive`` with a ``note`` saying why (nothing to say when both refuse).
    """
    question = extractive.standalone_question
    prompt = render("answer", passages=_passages_block(passages), question=question)
    text = yield from _stream(llm, [("system", render("system")), ("human", prompt)])
    if text is None:
        return _fallback(extractive, _UNAVAILABLE)
    if text is _TOO_LONG:
        return _fallback(extractive, _UNVERIFIED.format(_TOO_LONG))
    quotes = {c.n: c.text for c in passages}
    if _NOT_FOUND in text and not _MARKER.search(text):
        return _fallback(extractive, _NOTHING_FOUND) if extractive.found else extractive
    problem = _problem(text, quotes, question)
    if problem:
        return _fallback(extractive, _UNVERIFIED.format(problem))
    return dataclasses.replace(
        extractive,
        text=text,
        found=True,
        citations=_requoted(text, passages),
        mode="llm",
        kind=extractive.kind if extractive.found else "statement",
    )


def _stream(llm, messages) -> Generator[str, None, str | None]:
    """Yield the LLM's text as it comes; return all of it, ``_TOO_LONG`` when it runs past
    ``MAX_ANSWER_CHARS`` (read no further), or ``None`` if the model failed or ran out of
    time."""
    pieces: list[str] = []
    size = 0
    stream = llm.stream(messages)
    try:
        for chunk in stream:
            piece = chunk.content if isinstance(chunk.content, str) else ""
            size += len(piece)
            if size > MAX_ANSWER_CHARS:
                return _TOO_LONG
            pieces.append(piece)
            yield piece
    except Exception as exc:  # any endpoint failure (HTTP, connection, garbled body) falls back
        log.warning("the chat model failed: %s", exc)
        return None
    finally:
        stream.close()
    return "".join(pieces).strip()


def _problem(text: str, quotes: dict[int, str], question: str) -> str:
    """Why an LLM answer cannot be used, in Chinese for the note; empty when it checks out."""
    if not text:
        return "回答为空"
    markers = {int(n) for n in _MARKER.findall(text)}
    if not markers:
        return "没有标注出处"
    unknown = sorted(markers - quotes.keys())
    if unknown:
        return "引用了不存在的段落" + "".join(f"[{n}]" for n in unknown)
    problems = verify(text, quotes, question)
    if problems:
        log.info("LLM answer %r failed verification: %s", excerpt(text), problems)
        if any(p.kind == "elsewhere" for p in problems):
            return "数字所在的句子说的是别的事"
        return "数字与所引段落不符"
    return ""


def _fallback(extractive: Answer, why: str) -> Answer:
    """The extractive answer, with ``why`` the LLM's was not used and what is shown instead."""
    shown = _EXTRACTED if extractive.found else _STILL_REFUSED
    return dataclasses.replace(extractive, note=why + shown)


def _requoted(text: str, passages: Sequence[Citation]) -> tuple[Citation, ...]:
    """``passages`` with each cited quote moved to the sentence that holds the cited numbers.

    A retrieved passage's quote is the sentence most like the question, which need not be
    the one the LLM took its number from; the highlighted quote must show that number.
    """
    numbers: dict[int, set[str]] = {}
    for claim, markers in _CLAIM.findall(text):
        for n in _MARKER.findall(markers):
            numbers.setdefault(int(n), set()).update(figures(claim))
    return tuple(_quoting(c, numbers.get(c.n, set())) for c in passages)


def _quoting(citation: Citation, numbers: set[str]) -> Citation:
    """``citation`` quoting the sentence of its passage that holds most of ``numbers``.

    A claim citing [1][2] may take one number from each passage, so no sentence need
    hold them all.
    """

    def held(sentence: str) -> int:
        return sum(holds_figure(sentence, x) for x in numbers)

    sentences = [s for s in SENTENCE.findall(citation.text) if s]
    best = max(sentences, key=held, default=citation.quote)
    return (
        dataclasses.replace(citation, quote=best) if held(best) > held(citation.quote) else citation
    )


def llm_rewrite(llm, question: str, history) -> str:
    """The LLM's standalone rewrite of a follow-up question ('' if it fails)."""
    turns = "\n".join(f"用户：{q}\n助手：{a}" for q, a in history[-3:])
    try:
        reply = llm.invoke(render("rewrite", history=turns, question=question))
    except Exception:
        return ""
    text = reply.content if isinstance(reply.content, str) else ""
    return text.strip().splitlines()[0].strip() if text.strip() else ""
