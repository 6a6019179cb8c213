"""The plain JSON API beside the page: ``POST /api/ask``, ``GET /api/reports``,
``GET /api/figures`` and ``DELETE /api/reports/{doc_id}``.

A thin front door like the page: it parses the request, calls the same core and formats
the result. It keeps no Gradio session, so a client that asks a thousand questions leaves
nothing behind in the server (Gradio's ``/ask`` keeps each caller's state). FastAPI
documents it at ``/docs``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from assistant.figures import key_figures
from assistant.types import Answer, ReportFilter
from index import list_documents
from index.model import IndexedDocument
from index.readers import format_mb, max_file_bytes
from ui.http import ApiError, BodyLimit, Text, guard, install_error_handler
from ui.upload_folder import UploadGuard, UploadJanitor
from ui.uploads import MAX_FILES, recover_staged, remove_report

log = logging.getLogger(__name__)

BAD_REQUEST = (
    '请求格式不对：请发送 JSON 对象 {"question": "问题", "history": [["上一个问题", "上一个回答"]]}'
    "（history 可省略）。"
)


class AskRequest(BaseModel):
    """A question, with the earlier turns of the conversation for follow-ups."""

    question: Text = Field(description="问题（中文）", examples=["今年新增多少养老床位"])
    history: list[tuple[Text, Text]] = Field(
        default_factory=list,
        description="此前的对话，[[问题, 回答], …]，用于追问（如“那就业呢”）",
    )
    region: Text | None = Field(default=None, description="只在这个地区的报告中查找（可省略）")
    year: int | None = Field(default=None, description="只在这一年的报告中查找（可省略）")

    def within(self) -> ReportFilter | None:
        """The report filter the request asks for, if any."""
        return ReportFilter(self.region or "", self.year) if self.region or self.year else None


class RemovedReport(BaseModel):
    """The report a ``DELETE /api/reports/{doc_id}`` dropped from the index."""

    doc_id: str = Field(description="报告编号")
    title: str = Field(description="报告标题")


def create_api(core, *, auth: tuple[str, str] | None = None, host: str = "127.0.0.1") -> FastAPI:
    """The FastAPI app of every HTTP door; the page is mounted on it at ``/``.

    It holds the JSON routes (here), the OpenAI-compatible ``/v1`` (:mod:`ui.openai_api`)
    and the MCP endpoint ``/mcp`` (:mod:`ui.mcp_server`), all behind one login check and
    one exception handler (:mod:`ui.http`).

    Args:
        core: The page's core (``ui.core.Core``): settings, embeddings and the answer
            functions (the assistant's, or a test's fake).
        auth: ``(user, password)`` every route requires, as the page does: HTTP Basic, or
            ``Authorization: Bearer USER:PASS`` (an OpenAI or MCP client's API key).
        host: The address served (the MCP endpoint refuses other hosts on loopback).
    """
    from ui import mcp_server, openai_api

    mcp_routes, mcp_lifespan = mcp_server.http_routes(core, auth=auth, host=host)

    janitor = UploadJanitor()

    @asynccontextmanager
    async def lifespan(app):
        janitor.start()
        recover_staged(core.settings)  # what a server killed mid-upload copied
        try:
            async with mcp_lifespan(app):
                yield
        finally:
            janitor.stop()

    from fastapi_offline import FastAPIOffline

    # The docs page's scripts are served from here: from a CDN it was blank offline.
    app = FastAPIOffline(
        title="政府工作报告问答 API",
        description="与网页相同的问答核心：提问得到带出处的回答；列出已索引的报告。"
        "另有 OpenAI 兼容接口（/v1）和 MCP 服务（/mcp）。",
        version="1",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handler(
        app, lambda path: openai_api.BAD_REQUEST if path.startswith("/v1/") else BAD_REQUEST
    )
    app.add_middleware(BodyLimit)
    limit = max_file_bytes(core.settings)
    too_large = f"文件太大，单个文件不能超过 {format_mb(limit)} MB（REPORTQA_MAX_FILE_MB）。"
    app.add_middleware(UploadGuard, quota=MAX_FILES * limit, too_large=too_large)
    guarded = [Depends(guard(auth))]
    errors = {s: {"model": ApiError} for s in (400, 401, 404, 409, 413, 422, 503)}

    @app.post(
        "/api/ask",
        response_model=Answer,
        responses=errors,
        dependencies=guarded,
        summary="提问",
        tags=["问答"],
    )
    def ask(request: AskRequest):
        """Answer one question from the indexed reports, with citations.

        The JSON is that of `reportqa ask --json`: `text` with `[n]` markers, `found`
        (false when the reports do not say), `citations` (passage, quote, report title,
        year, region, section, paragraph), and `suggestions`: up to three follow-up
        questions the index can answer (the same topic in another year or region it holds,
        a neighbouring key figure of the cited report), empty for a refusal without evidence.
        """
        return core.ask(request.question, request.history, request.within()).to_json()

    @app.get(
        "/api/reports",
        response_model=list[IndexedDocument],
        responses=errors,
        dependencies=guarded,
        summary="已索引的报告",
        tags=["报告"],
    )
    def reports():
        """Every indexed report: id, title, year, region, source file and passage count."""
        return list_documents(core.settings)

    @app.get(
        "/api/figures",
        responses=errors,
        dependencies=guarded,
        summary="各报告的主要指标",
        tags=["报告"],
    )
    def figures(
        region: Text | None = None,
        year: int | None = None,
        kind: Literal["target", "result"] | None = None,
    ) -> list[dict]:
        """Every indexed report's key figures (the items of its main targets and the
        headline results of the year it reviews), as `reportqa figures --json`: region,
        year (a result's is the year reviewed), indicator, canonical, value, unit,
        qualifier, kind (`target`|`result`), text (the report's words), report, doc_id,
        paragraph, offsets. `region` and `year` choose reports as in `/api/ask`; `kind`
        keeps one kind."""
        within = ReportFilter(region or "", year) if region or year else None
        return [row.to_json() for row in key_figures(within, kind=kind, settings=core.settings)]

    @app.delete(
        "/api/reports/{doc_id}",
        response_model=RemovedReport,
        responses=errors,
        dependencies=guarded,
        summary="删除报告",
        tags=["报告"],
    )
    def delete_report(doc_id: str):
        """Drop one report from the index, as `reportqa index remove` does; a file that was
        uploaded through the page is deleted with it. Waits its turn behind the page's
        uploads. Another process cannot write a served local index: this is its way."""
        title = remove_report(doc_id, settings=core.settings, embeddings=core.embeddings)
        return RemovedReport(doc_id=doc_id, title=title)

    app.include_router(openai_api.create_router(core, auth=auth))
    app.router.routes.extend(mcp_routes)
    return app
