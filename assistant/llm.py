"""Optional LLM answering through langchain, always checked against the cited passages."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Generator

from assistant.types import Answer
from assistant.verify import verify
from index.errors import ModelError
from prompts import render

_NOT_FOUND = "没有找到"


@functools.lru_cache(maxsize=4)
def load_chat_model(spec: str):
    """A langchain chat model from ``provider:model`` (``openai:qwen-plus``, ``ollama:qwen2.5``).

    The OpenAI provider reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``, so any
    OpenAI-compatible endpoint (DeepSeek, Qwen, vLLM) works.
    """
    from langchain.chat_models import init_chat_model

    provider, _, model = spec.partition(":")
    if not model:
        raise ModelError(
            f"REPORTQA_LLM must look like provider:model, got {spec!r}",
            "REPORTQA_LLM 的格式应为 provider:model。",
        )
    try:
        return init_chat_model(model, model_provider=provider, temperature=0)
    except Exception as exc:
        raise ModelError(f"cannot load chat model {spec!r}: {exc}", "无法加载大模型。") from exc


def _passages_block(result: Answer) -> str:
    return "\n".join(f"[{c.n}] （{c.title}，{c.section}）{c.text}" for c in result.citations)


def llm_answer(llm, extractive: Answer) -> Generator[str, None, Answer]:
    """Stream the LLM's answer over the extractive answer's citations, then verify it.

    Falls back to the extractive answer (saying so in ``note``) when the LLM cites a
    passage that does not exist or states a number no cited passage contains.
    """
    prompt = render(
        "answer", passages=_passages_block(extractive), question=extractive.standalone_question
    )
    pieces: list[str] = []
    try:
        for chunk in llm.stream(prompt):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            pieces.append(piece)
            yield piece
    except Exception as exc:
        raise ModelError(f"the chat model failed: {exc}", "大模型调用失败。") from exc
    text = "".join(pieces).strip()
    quotes = {c.n: c.text for c in extractive.citations}
    if _NOT_FOUND in text and not re.search(r"\[\d+\]", text):
        return dataclasses.replace(
            extractive, mode="llm", note="大模型认为段落中没有答案；以下为抽取式答案。"
        )
    problems = verify(text, quotes) if re.search(r"\[\d+\]", text) else ["no [n] markers"]
    if problems:
        note = "大模型的回答未通过核对（" + "；".join(problems) + "），已改用抽取式答案。"
        return dataclasses.replace(extractive, note=note)
    return dataclasses.replace(extractive, text=text, mode="llm")


def llm_rewrite(llm, question: str, history) -> str:
    """The LLM's standalone rewrite of a follow-up question ('' if it fails)."""
    turns = "\n".join(f"用户：{q}\n助手：{a}" for q, a in history[-3:])
    try:
        reply = llm.invoke(render("rewrite", history=turns, question=question))
    except Exception:
        return ""
    text = reply.content if isinstance(reply.content, str) else ""
    return text.strip().splitlines()[0].strip() if text.strip() else ""
