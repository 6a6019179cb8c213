"""What every HTTP door shares: the login check and the one exception handler.

The JSON API (``/api/…``), the OpenAI-compatible endpoint (``/v1/…``) and the MCP server
(``/mcp``) raise; this module turns what they raise into a response, each in its door's
shape: ``{"error": "QuestionError", "message": "请输入问题。"}`` for the API, the OpenAI
error object for ``/v1/``. The status tells a client what to do about a refusal: fix the
question (400), build an index first (404), try again later (409, 503).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from collections.abc import Callable
from typing import Annotated

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexMissingError,
    QuestionError,
    ReportNotFoundError,
    ReportQAError,
    StoreUnavailableError,
)

log = logging.getLogger(__name__)

OPENAI_PREFIX = "/v1/"
NEED_LOGIN = "需要用户名和密码（HTTP Basic），或以“用户名:密码”作为 Bearer 密钥。"
# The largest request body of a JSON door: a question (300 characters) with a long
# conversation's history is tens of KB; a body of 200 MB was read whole before the limit.
MAX_BODY_BYTES = 1 << 20
TOO_LARGE = f"请求太大（上限 {MAX_BODY_BYTES >> 20} MB）：问题最多300字，对话历史请只附最近几轮。"
# Paths of the JSON doors; the page's own routes (uploads of up to REPORTQA_MAX_FILE_MB)
# have Gradio's limits.
JSON_DOORS = ("/api/", OPENAI_PREFIX, "/mcp")
INTERNAL_ERROR = "内部错误，请稍后再试；如果一直出现，请查看服务器日志。"

_STATUS = {
    QuestionError: 400,
    IndexMissingError: 404,
    ReportNotFoundError: 404,
    IndexBusyError: 409,
    StoreUnavailableError: 503,
    IndexCorruptError: 503,
}
# OpenAI's error ``type`` for each status, as its SDK raises them.
_OPENAI_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "invalid_request_error",
    503: "service_unavailable",
}


def _no_surrogates(text: str) -> str:
    # A lone surrogate ("\\ud800" in JSON) is valid JSON but no UTF-8: echoed in an
    # answer, it made the response unserialisable (a 500).
    return _SURROGATES.sub("", text)


_SURROGATES = re.compile("[\ud800-\udfff]")
# Text a client sends to a door: a str with what UTF-8 cannot carry removed.
Text = Annotated[str, AfterValidator(_no_surrogates)]


class ApiError(BaseModel):
    """What every refusal of the JSON API looks like: a kind and a Chinese message."""

    error: str = Field(description="错误类型，例如 QuestionError、invalid_request")
    message: str = Field(description="给用户看的中文说明")
    detail: list | str | None = Field(default=None, description="更多细节（英文，可省略）")


class RequestRefused(Exception):
    """A request the door itself refuses (bad shape, unknown model): a status, a kind and
    a Chinese message, formatted by the shared handler like any other refusal."""

    def __init__(self, status: int, kind: str, message: str, detail=None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.detail = status, kind, message, detail


def status_for(exc: ReportQAError) -> int:
    """The HTTP status of a refusal: the most specific class in ``_STATUS``, else 400."""
    for kind in type(exc).__mro__:
        if kind in _STATUS:
            return _STATUS[kind]
    return 400


def authorized(header: str | None, auth: tuple[str, str] | None) -> bool:
    """Whether an ``Authorization`` header carries ``auth``: HTTP Basic with its user and
    password, or ``Bearer USER:PASS`` (what OpenAI clients and MCP clients send)."""
    if auth is None:
        return True
    scheme, _, value = (header or "").partition(" ")
    given = ("", "")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        given = (user, password)
    elif scheme.lower() == "bearer":
        user, _, password = value.strip().partition(":")
        given = (user, password)
    # compare_digest: a wrong password takes as long to refuse as a nearly right one
    user_ok = hmac.compare_digest(given[0].encode(), auth[0].encode())
    password_ok = hmac.compare_digest(given[1].encode(), auth[1].encode())
    return user_ok and password_ok


def guard(auth: tuple[str, str] | None) -> Callable:
    """A FastAPI dependency that lets a request through only with ``auth``."""

    def check(request: Request) -> None:
        if not authorized(request.headers.get("authorization"), auth):
            raise HTTPException(401, NEED_LOGIN, headers=_CHALLENGE)

    return check


_CHALLENGE = {"WWW-Authenticate": "Basic"}


def refusal(request_path: str, status: int, kind: str, message: str, detail=None) -> JSONResponse:
    """A refusal in the shape of the door ``request_path`` belongs to."""
    if request_path.startswith(OPENAI_PREFIX):
        body = {
            "error": {
                "message": message,
                "type": _OPENAI_TYPE.get(status, "server_error" if status >= 500 else kind),
                "param": None,
                "code": kind,
            }
        }
        if detail is not None:
            body["error"]["detail"] = jsonable_encoder(detail)
        return JSONResponse(body, status_code=status)
    body = ApiError(error=kind, message=message, detail=detail)
    return JSONResponse(jsonable_encoder(body), status_code=status)


def install_error_handler(app: FastAPI, bad_request: Callable[[str], str]) -> None:
    """The one exception handler of every HTTP route of ``app``.

    Args:
        app: The FastAPI app the doors' routes are on.
        bad_request: The Chinese message for a request of the wrong shape, by path.
    """

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        path = request.url.path
        if isinstance(exc, RequestValidationError):
            # Where it went wrong, without the input itself (a client's whole body).
            detail = jsonable_encoder([_without_input(e) for e in exc.errors()])
            return refusal(path, 422, "invalid_request", bad_request(path), detail)
        if isinstance(exc, RequestRefused):
            return refusal(path, exc.status, exc.kind, exc.message, exc.detail)
        if isinstance(exc, StarletteHTTPException):
            response = refusal(path, exc.status_code, "http_error", str(exc.detail))
            response.headers.update(exc.headers or {})
            return response
        if isinstance(exc, ReportQAError):
            log.info("%s not answered: %s: %s", path, type(exc).__name__, exc)
            return refusal(path, status_for(exc), type(exc).__name__, exc.message_zh, str(exc))
        # Starlette re-raises it after this response: the server logs its traceback.
        return refusal(path, 500, "internal_error", INTERNAL_ERROR)

    for kind in (RequestValidationError, RequestRefused, StarletteHTTPException, ReportQAError):
        app.add_exception_handler(kind, handle)
    app.add_exception_handler(Exception, handle)


def _without_input(error: dict) -> dict:
    return {k: v for k, v in error.items() if k not in ("input", "ctx")}


class BodyLimit:
    """ASGI middleware: a request to a JSON door whose body is over ``MAX_BODY_BYTES`` is
    refused with 413 in its door's shape, by its ``Content-Length`` before any of it is
    read, or as soon as a body sent in chunks passes the limit (a JSON door reads its
    whole body anyway: it is read here first, and handed on)."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(JSON_DOORS):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(path, scope, receive, send)
            return
        body, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body.append(message.get("body", b""))
            more = message.get("more_body", False)
            if sum(map(len, body)) > self.limit:
                await self._refuse(path, scope, receive, send)
                return
        whole = {"type": "http.request", "body": b"".join(body), "more_body": False}

        async def replay():
            nonlocal whole
            if whole is None:
                return await receive()  # after the body: the disconnect, when it comes
            message, whole = whole, None
            return message

        await self.app(scope, replay, send)

    async def _refuse(self, path: str, scope, receive, send) -> None:
        response = refusal(path, 413, "request_too_large", TOO_LARGE)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
