"""The plain JSON API beside the page: ``POST /api/ask`` and ``GET /api/reports``.

A thin front door like the page: it parses the request, calls the same core and formats
the result. It keeps no Gradio session, so a client that asks a thousand questions leaves
nothing behind in the server (Gradio's ``/ask`` keeps each caller's state). FastAPI
documents it at ``/docs``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from assistant.types import Answer, ReportFilter
from index import ReportQAError, list_documents
from index.errors import IndexBusyError, IndexMissingError, QuestionError, StoreUnavailableError
from index.model import IndexedDocument

log = logging.getLogger(__name__)

BAD_REQUEST = (
    '请求格式不对：请发送 JSON 对象 {"question": "问题", "history": [["上一个问题", "上一个回答"]]}'
    "（history 可省略）。"
)
NEED_LOGIN = "需要用户名和密码（HTTP Basic）。"
INTERNAL_ERROR = "内部错误，请稍后再试；如果一直出现，请查看服务器日志。"

# The status that tells a client what to do about each refusal: fix the question (400),
# build an index first (404), try again later (409, 503).
_STATUS = {
    QuestionError: 400,
    IndexMissingError: 404,
    IndexBusyError: 409,
    StoreUnavailableError: 503,
}


class AskRequest(BaseModel):
    """A question, with the earlier turns of the conversation for follow-ups."""

    question: str = Field(description="问题（中文）", examples=["今年新增多少养老床位"])
    history: list[tuple[str, str]] = Field(
        default_factory=list,
        description="此前的对话，[[问题, 回答], …]，用于追问（如“那就业呢”）",
    )
    region: str | None = Field(default=None, description="只在这个地区的报告中查找（可省略）")
    year: int | None = Field(default=None, description="只在这一年的报告中查找（可省略）")

    def within(self) -> ReportFilter | None:
        """The report filter the request asks for, if any."""
        return ReportFilter(self.region or "", self.year) if self.region or self.year else None


class ApiError(BaseModel):
    """What every refusal looks like: a machine-readable kind and a Chinese message."""

    error: str = Field(description="错误类型，例如 QuestionError、invalid_request")
    message: str = Field(description="给用户看的中文说明")
    detail: list | str | None = Field(default=None, description="更多细节（英文，可省略）")


def _error(status: int, kind: str, message: str, detail=None) -> JSONResponse:
    body = ApiError(error=kind, message=message, detail=detail)
    return JSONResponse(jsonable_encoder(body), status_code=status)


def status_for(exc: ReportQAError) -> int:
    """The HTTP status of a refusal: the most specific class in ``_STATUS``, else 400."""
    for kind in type(exc).__mro__:
        if kind in _STATUS:
            return _STATUS[kind]
    return 400


# Module level: the route signatures are resolved by name (``from __future__ import annotations``).
_BASIC = HTTPBasic(auto_error=False, description="与 reportqa serve --auth 相同的用户名和密码")


def _guard(auth: tuple[str, str] | None) -> Callable:
    """A dependency that lets a request through only with ``auth``'s user and password."""

    def check(credentials: Annotated[HTTPBasicCredentials | None, Depends(_BASIC)]) -> None:
        if auth is None:
            return
        # compare_digest: a wrong password takes as long to refuse as a nearly right one
        given = (credentials.username, credentials.password) if credentials else ("", "")
        user_ok = hmac.compare_digest(given[0].encode(), auth[0].encode())
        password_ok = hmac.compare_digest(given[1].encode(), auth[1].encode())
        if not (user_ok and password_ok):
            raise HTTPException(401, NEED_LOGIN, headers={"WWW-Authenticate": "Basic"})

    return check


def create_api(core, *, auth: tuple[str, str] | None = None) -> FastAPI:
    """The FastAPI app holding the JSON routes; the page is mounted on it at ``/``.

    Args:
        core: The page's core (``ui.app._Core``): settings, embeddings and the answer
            function (the assistant's, or a test's fake).
        auth: ``(user, password)`` every API route requires (HTTP Basic), as the page does.
    """
    app = FastAPI(
        title="政府工作报告问答 API",
        description="与网页相同的问答核心：提问得到带出处的回答；列出已索引的报告。",
        version="1",
        docs_url="/docs",
        redoc_url=None,
    )
    guard = [Depends(_guard(auth))]
    errors = {s: {"model": ApiError} for s in (400, 401, 404, 409, 422, 503)}

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid_request", BAD_REQUEST, jsonable_encoder(exc.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        body = _error(exc.status_code, "http_error", str(exc.detail))
        body.headers.update(exc.headers or {})
        return body

    @app.post(
        "/api/ask",
        response_model=Answer,
        responses=errors,
        dependencies=guard,
        summary="提问",
        tags=["问答"],
    )
    def ask(request: AskRequest):
        """Answer one question from the indexed reports, with citations.

        The JSON is that of `reportqa ask --json`: `text` with `[n]` markers, `found`
        (false when the reports do not say), and `citations` (passage, quote, report title,
        year, region, section, paragraph).
        """
        try:
            answer = core.answer_fn(
                request.question,
                request.history,
                settings=core.settings,
                embeddings=core.embeddings,
                within=request.within(),
            )
        except ReportQAError as exc:
            log.info("API not answered %r: %s: %s", request.question, type(exc).__name__, exc)
            return _error(status_for(exc), type(exc).__name__, exc.message_zh, str(exc))
        except Exception:
            log.exception("API answering %r failed", request.question)
            return _error(500, "internal_error", INTERNAL_ERROR)
        return answer.to_json()

    @app.get(
        "/api/reports",
        response_model=list[IndexedDocument],
        responses=errors,
        dependencies=guard,
        summary="已索引的报告",
        tags=["报告"],
    )
    def reports():
        """Every indexed report: id, title, year, region, source file and passage count."""
        try:
            return list_documents(core.settings)
        except ReportQAError as exc:
            return _error(status_for(exc), type(exc).__name__, exc.message_zh, str(exc))

    return app
