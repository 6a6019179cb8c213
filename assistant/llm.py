"""Optional LLM answering through langchain: a helper that is checked, never trusted.

The LLM sees numbered passages and answers with ``[n]`` markers. Its answer is used only
when every marker names a passage it was given and every number it states is in the
passage it cites; otherwise, and whenever the endpoint fails or is too slow, the
extractive answer stands and ``Answer.note`` says why.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import time
from collections.abc import Generator, Sequence

from assistant.question import excerpt
from assistant.types import Answer, Citation
from assistant.verify import verify
from index.errors import ModelError
from prompts import render

log = logging.getLogger(__name__)

_NOT_FOUND = "没有找到"
_MARKER = re.compile(r"\[(\d+)\]")
_CLAIM = re.compile(r"([^\[\]]*)((?:\[\d+\])+)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SENTENCE = re.compile(r"[^。！？；]*[。！？；]?")

# The note when the LLM's answer is not used: why, then what is shown instead (the note
# follows the answer, in the chat and on the terminal).
_UNAVAILABLE = "大模型暂不可用，"
_NOTHING_FOUND = "大模型认为段落中没有答案，"
_UNVERIFIED = "大模型的回答未通过核对（{}），"
_EXTRACTED = "本回答直接摘自报告原文。"
_STILL_REFUSED = "未能进一步查找。"


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
    llm, extractive: Answer, passages: Sequence[Citation], timeout: float
) -> Generator[str, None, Answer]:
    """Stream the LLM's answer from ``passages``, then verify it against them.

    Args:
        llm: A langchain chat model.
        extractive: The extractive answer (or refusal), which stands whenever the LLM's
            answer is not used.
        passages: What the LLM may answer from: the extractive answer's citations, or the
            retrieved passages of a question the extractive answer refused.
        timeout: Seconds the whole answer may take; a slower one is not waited for.

    Returns:
        The LLM's answer, cited with ``passages``, when it checks out; otherwise
        ``extractive`` with a ``note`` saying why (nothing to say when both refuse).
    """
    prompt = render(
        "answer", passages=_passages_block(passages), question=extractive.standalone_question
    )
    text = yield from _stream(llm, prompt, timeout)
    if text is None:
        return _fallback(extractive, _UNAVAILABLE)
    quotes = {c.n: c.text for c in passages}
    if _NOT_FOUND in text and not _MARKER.search(text):
        return _fallback(extractive, _NOTHING_FOUND) if extractive.found else extractive
    problem = _problem(text, quotes)
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


def _stream(llm, prompt: str, timeout: float) -> Generator[str, None, str | None]:
    """Yield the LLM's text as it comes; return all of it, or ``None`` if the model failed.

    The client's own timeout bounds each wait for the endpoint; the deadline here also
    bounds an endpoint that keeps trickling text for longer than the user should wait.
    """
    deadline = time.monotonic() + timeout
    pieces: list[str] = []
    try:
        for chunk in llm.stream(prompt):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            pieces.append(piece)
            yield piece
            if time.monotonic() > deadline:
                log.warning("the chat model took longer than %s s", timeout)
                return None
    except Exception as exc:  # any endpoint failure (HTTP, connection, garbled body) falls back
        log.warning("the chat model failed: %s", exc)
        return None
    return "".join(pieces).strip()


def _problem(text: str, quotes: dict[int, str]) -> str:
    """Why an LLM answer cannot be used, in Chinese for the note; empty when it checks out."""
    if not text:
        return "回答为空"
    markers = {int(n) for n in _MARKER.findall(text)}
    if not markers:
        return "没有标注出处"
    unknown = sorted(markers - quotes.keys())
    if unknown:
        return "引用了不存在的段落" + "".join(f"[{n}]" for n in unknown)
    problems = verify(text, quotes)
    if problems:
        log.info("LLM answer %r failed verification: %s", excerpt(text), problems)
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
            numbers.setdefault(int(n), set()).update(_NUMBER.findall(claim))
    return tuple(_quoting(c, numbers.get(c.n, set())) for c in passages)


def _quoting(citation: Citation, numbers: set[str]) -> Citation:
    """``citation`` quoting the sentence of its passage that holds most of ``numbers``.

    A claim citing [1][2] may take one number from each passage, so no sentence need
    hold them all.
    """

    def held(sentence: str) -> int:
        return sum(_holds(sentence, x) for x in numbers)

    sentences = [s for s in _SENTENCE.findall(citation.text) if s]
    best = max(sentences, key=held, default=citation.quote)
    return (
        dataclasses.replace(citation, quote=best) if held(best) > held(citation.quote) else citation
    )


def _holds(text: str, number: str) -> bool:
    """Whether ``text`` states ``number`` itself (2000 is not in 12000 or 2000.5)."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d]|\.\d)", text) is not None


def llm_rewrite(llm, question: str, history) -> str:
    """The LLM's standalone rewrite of a follow-up question ('' if it fails)."""
    turns = "\n".join(f"用户：{q}\n助手：{a}" for q, a in history[-3:])
    try:
        reply = llm.invoke(render("rewrite", history=turns, question=question))
    except Exception:
        return ""
    text = reply.content if isinstance(reply.content, str) else ""
    return text.strip().splitlines()[0].strip() if text.strip() else ""
