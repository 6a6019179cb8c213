"""LangChain doors: a retriever over the index, the answer as a Runnable, a tool for agents.

Importable without a server, and nothing here answers: each piece calls the core
(:func:`assistant.search`, :func:`assistant.stream_answer`) and formats for LangChain.

```python
from assistant.langchain import ReportRetriever, ReportAnswerer

docs = ReportRetriever(region="太原市", k=3).invoke("养老床位")
msg = ReportAnswerer().invoke("今年新增多少养老床位")  # an AIMessage
msg.content, msg.response_metadata["citations"][0]["quote"]
```
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.config import ensure_config
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field

from assistant.core import search, stream_answer
from assistant.types import Answer, ReportFilter
from index.settings import Settings

TOOL_NAME = "ask_government_reports"
TOOL_DESCRIPTION = (
    "回答关于中国政府工作报告的问题（中文），返回简短答案和出处（报告、章节、段落、原文）。"
    "Answers a question about Chinese government work reports, with citations."
)


class _Scoped(BaseModel):
    """Which index, which model, which reports: shared by the retriever and the answerer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    region: str | None = Field(default=None, description="only the reports of this region")
    year: int | None = Field(default=None, description="only the reports of this plan year")
    settings: Settings | None = Field(default=None, description="default: REPORTQA_* variables")
    embeddings: Any = Field(default=None, description="default: the configured question model")

    def within(self, region: str | None = None, year: int | None = None) -> ReportFilter | None:
        region, year = region or self.region, year or self.year
        return ReportFilter(region or "", year) if region or year else None


class ReportRetriever(BaseRetriever, _Scoped):
    """The index's hybrid retrieval as a LangChain retriever.

    Each :class:`~langchain_core.documents.Document` is a passage; its metadata say where
    it is: ``report`` (title), ``doc_id``, ``region``, ``year``, ``section``,
    ``paragraph``, ``start``/``end`` (offsets in the cleaned report text), ``source``
    (the file) and ``score``.

    Attributes:
        k: How many passages.
        region, year: Only the reports of this region and/or plan year.
    """

    k: int = Field(default=5, ge=1)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = search(
            query,
            k=self.k,
            settings=self.settings,
            embeddings=self.embeddings,
            within=self.within(),
        )
        return [passage_document(hit) for hit in hits]


def passage_document(hit) -> Document:
    """A retrieval hit (:class:`assistant.retrieval.Hit`) as a LangChain Document."""
    p, d = hit.passage, hit.document
    metadata = {
        "report": d.title,
        "doc_id": d.doc_id,
        "region": d.region,
        "year": d.year,
        "section": p.section,
        "paragraph": p.paragraph,
        "start": p.start,
        "end": p.end,
        "source": d.source,
        "score": hit.score,
    }
    return Document(page_content=p.text, metadata=metadata, id=f"{d.doc_id}:{p.start}")


class ReportAnswerer(RunnableSerializable[Any, AIMessage], _Scoped):
    """The cited answer as a Runnable that composes like a chat model.

    Input: a question (``str``); a dict with ``question`` and optionally ``history``
    (``[(question, answer), …]``), ``region``, ``year``; or chat messages / a prompt value
    (the last human message is the question, earlier human/AI pairs its history).

    Output: an :class:`~langchain_core.messages.AIMessage` whose content is the answer
    with its ``[n]`` markers, and whose ``response_metadata`` holds ``found``,
    ``citations`` (as in ``reportqa ask --json``) and ``note``. ``stream`` yields
    :class:`~langchain_core.messages.AIMessageChunk` pieces that add up to it.
    """

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs) -> AIMessage:
        return self._call_with_config(self._answer, input, ensure_config(config))

    def _answer(self, input: Any) -> AIMessage:
        chunks = list(self._chunks(input))
        total = chunks[0]
        for chunk in chunks[1:]:
            total += chunk
        return AIMessage(content=total.content, response_metadata=total.response_metadata)

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs
    ) -> Iterator[AIMessageChunk]:
        yield from self._transform_stream_with_config(
            iter([input]), self._transform, ensure_config(config)
        )

    def _transform(self, inputs: Iterator[Any]) -> Iterator[AIMessageChunk]:
        for input in inputs:
            yield from self._chunks(input)

    def _chunks(self, input: Any) -> Iterator[AIMessageChunk]:
        question, history, within = self._parse(input)
        stream = stream_answer(
            question,
            history,
            settings=self.settings,
            embeddings=self.embeddings,
            within=within,
        )
        sent = ""
        for piece in stream:
            if piece:
                sent += piece
                yield AIMessageChunk(content=piece)
        text = stream.answer.text
        # An LLM's streamed answer that failed verification: the extractive one follows.
        rest = text[len(sent) :] if text.startswith(sent) else "\n\n" + text
        yield AIMessageChunk(content=rest, response_metadata=answer_metadata(stream.answer))

    def _parse(self, input: Any) -> tuple[str, list[tuple[str, str]], ReportFilter | None]:
        if isinstance(input, str):
            return input, [], self.within()
        if isinstance(input, dict):
            history = [tuple(turn) for turn in input.get("history") or ()]
            return input["question"], history, self.within(input.get("region"), input.get("year"))
        messages = input.to_messages() if isinstance(input, PromptValue) else input
        return (*_from_messages(messages), self.within())

    def as_tool(
        self,
        args_schema: type[BaseModel] | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        arg_types: dict[str, type] | None = None,
    ) -> BaseTool:
        """A tool for agents: arguments ``question`` (and ``region``, ``year``); the agent
        reads the answer with its sources, the caller gets the answer's JSON as the tool
        message's ``artifact``."""

        def ask(question: str, region: str | None = None, year: int | None = None):
            message = self.invoke({"question": question, "region": region, "year": year})
            meta = message.response_metadata
            sources = [
                f"[{c['n']}] {c['title']} · {c['section']} · 第{c['paragraph']}段：{c['quote']}"
                for c in meta["citations"]
            ]
            return "\n".join([str(message.content), *sources]), meta

        return StructuredTool.from_function(
            func=ask,
            name=name or TOOL_NAME,
            description=description or TOOL_DESCRIPTION,
            args_schema=args_schema or AskArgs,
            response_format="content_and_artifact",
        )


class AskArgs(BaseModel):
    """The tool's arguments."""

    question: str = Field(description="问题（中文），如 今年新增多少养老床位")
    region: str | None = Field(default=None, description="只查这个地区的报告（可省略）")
    year: int | None = Field(default=None, description="只查这一年的报告（可省略）")


def answer_metadata(answer: Answer) -> dict:
    """What an answer adds to its message besides the text."""
    data = answer.to_json()
    keys = ("found", "citations", "note", "standalone_question", "mode")
    return {k: data[k] for k in keys}


def _from_messages(messages: Sequence[BaseMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The last human message, and the (human, AI) pairs before it."""
    turns = [m for m in messages if m.type in ("human", "ai")]
    if not turns or turns[-1].type != "human":
        raise ValueError("no question: the last message must be a human message")
    history, asked = [], None
    for m in turns[:-1]:
        if m.type == "human":
            asked = m.text
        elif asked is not None:
            history.append((asked, m.text))
            asked = None
    return turns[-1].text, history
