"""An OpenAI-compatible endpoint: ``GET /v1/models`` and ``POST /v1/chat/completions``.

Chat front-ends (Open WebUI, LobeChat, Chatbox, Cherry Studio) and every OpenAI SDK speak
it. The last user message is the question and the earlier turns its history; the reply is
the answer with its ``[n]`` markers and a sources block (as the page's 复制 copies it), and
the citations as data in an extra top-level field, ``citations``. ``stream: true`` sends
server-sent events in OpenAI's chunk format. A refusal is OpenAI's error object. Like the
other doors it parses, calls the core and formats: nothing here answers.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.types import Answer, ReportFilter
from ui.http import RequestRefused, Text, guard
from ui.render import answer_text

MODEL = "reportqa"
BAD_REQUEST = (
    '请求格式不对：请发送 OpenAI 格式的 JSON，如 {"model": "reportqa", "messages": '
    '[{"role": "user", "content": "今年新增多少养老床位"}]}。'
)
NO_QUESTION = "messages 中没有用户的问题（role 为 user 的最后一条消息）。"
_SOURCES = "\n\n[1] "  # where the sources block begins in a reply sent before


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = "text"
    text: Text = ""


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Text | list[TextPart] | None = None

    def plain(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat request; sampling options are accepted and ignored (answers are
    extracted, not sampled). ``region`` and ``year`` (``extra_body`` in the SDK) limit
    the reports searched, as the page's 查找范围 does."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    region: Text | None = None
    year: int | None = None

    def question(self) -> tuple[str, list[tuple[str, str]]]:
        """The last user message, and the (question, answer) turns before it."""
        turns = [m for m in self.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise RequestRefused(400, "invalid_request", NO_QUESTION)
        history, asked = [], None
        for m in turns[:-1]:
            if m.role == "user":
                asked = m.plain()
            elif asked is not None:
                history.append((asked, m.plain().split(_SOURCES, 1)[0]))
                asked = None
        return turns[-1].plain(), history

    def within(self) -> ReportFilter | None:
        return ReportFilter(self.region or "", self.year) if self.region or self.year else None


def create_router(core, *, auth: tuple[str, str] | None = None) -> APIRouter:
    """The ``/v1`` routes over ``core`` (the page's: settings, embeddings, the answer and
    stream functions); ``auth`` is required as HTTP Basic or as ``Bearer USER:PASS``."""
    router = APIRouter(prefix="/v1", dependencies=[Depends(guard(auth))], tags=["OpenAI 兼容"])

    @router.get("/models", summary="模型列表")
    def models() -> dict:
        """The one model: ``reportqa``."""
        return {"object": "list", "data": [_model()]}

    @router.get("/models/{name}", summary="模型")
    def model(name: str) -> dict:
        if name != MODEL:
            raise RequestRefused(404, "model_not_found", f"没有模型 {name}，只有 {MODEL}。")
        return _model()

    @router.post("/chat/completions", summary="对话补全（OpenAI 格式）")
    def chat(request: ChatRequest):
        """Answer the last user message, with the earlier turns as its history."""
        question, history = request.question()
        kwargs = {"settings": core.settings, "embeddings": core.embeddings}
        if not request.stream:
            answer = core.answer_fn(question, history, within=request.within(), **kwargs)
            return completion(answer)
        stream = core.stream_fn(question, history, within=request.within(), **kwargs)
        pieces = iter(stream)
        # The first piece now: a refusal (empty question, no index) is an HTTP error,
        # not a broken stream.
        first = next(pieces, None)
        events = _events(stream, pieces, first)
        return StreamingResponse(events, media_type="text/event-stream")

    return router


def _model() -> dict:
    return {"id": MODEL, "object": "model", "created": 0, "owned_by": "reportqa"}


def completion(answer: Answer) -> dict:
    """OpenAI's ``chat.completion`` object for an answer, with ``citations`` beside it."""
    return {
        "id": _id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer_text(answer)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **_extra(answer),
    }


def _extra(answer: Answer) -> dict:
    data = answer.to_json()
    return {
        "citations": data["citations"],
        "reportqa": {k: data[k] for k in ("found", "note", "standalone_question", "mode")},
    }


def _events(stream, pieces: Iterator[str], first: str | None) -> Iterator[str]:
    """Server-sent events: a role chunk, the text as it comes, then what the final answer
    adds (its sources block; the corrected answer when an LLM's streamed answer failed
    verification), and a last chunk with ``finish_reason`` and the citations."""
    ident, created = _id(), int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    sent = ""
    for delta in () if first is None else _chain(first, pieces):
        if delta:
            sent += delta
            yield chunk({"content": delta})
    full = answer_text(stream.answer)
    rest = full[len(sent) :] if full.startswith(sent) else "\n\n" + full
    if rest:
        yield chunk({"content": rest})
    yield chunk({}, "stop", **_extra(stream.answer))
    yield "data: [DONE]\n\n"


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex
