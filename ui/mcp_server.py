"""The MCP server (Model Context Protocol): tools ``ask``, ``search`` and ``list_reports``.

Desktop assistants and IDE agents call these over stdio (``reportqa mcp``), or over
streamable HTTP at ``/mcp`` on the port of ``reportqa serve``. Each tool parses its typed
arguments, calls the same core as the page (:func:`assistant.answer`,
:func:`assistant.search`, :func:`index.list_documents`) and returns typed results: the
client gets both the JSON (``structuredContent``, with its schema in the tool's
``outputSchema``) and the same as text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from assistant.types import Answer, ReportFilter
from index import ReportQAError, Settings, list_documents
from ui.http import Text

NAME = "reportqa"
INSTRUCTIONS = (
    "回答关于已索引的中国政府工作报告的问题，每个回答都带出处（报告、章节、段落、原文引文）。"
    "ask 给出简短答案；search 返回原文段落供你自己阅读；list_reports 列出有哪些报告。"
    "Answers questions about the indexed Chinese government work reports, with citations."
)

Region = Annotated[str | None, Field(description="只查这个地区的报告，如 太原市（可省略）")]
Year = Annotated[int | None, Field(description="只查这一年的报告，如 2025（可省略）")]


class Source(BaseModel):
    """A passage that supports an answer."""

    n: int = Field(description="回答中 [n] 标记的编号")
    quote: str = Field(description="支持回答的原文句子")
    text: str = Field(description="整个段落")
    title: str
    year: int | None
    region: str
    section: str
    paragraph: int


class AskResult(BaseModel):
    """An answer with its sources; ``found`` is false when the reports do not say."""

    question: str
    text: str = Field(description="简短回答，带 [n] 出处标记；或说明报告中没有")
    found: bool
    citations: list[Source]
    note: str = ""


class Passage(BaseModel):
    """A retrieved passage with its exact address in its report."""

    text: str
    title: str
    year: int | None
    region: str
    section: str
    paragraph: int
    start: int = Field(description="段落在清洗后全文中的起始位置")
    end: int
    doc_id: str
    score: float


class SearchResult(BaseModel):
    passages: list[Passage]


class Report(BaseModel):
    doc_id: str
    title: str
    year: int | None
    region: str
    source: str
    passages: int


class ReportList(BaseModel):
    reports: list[Report]


def ask_result(answer: Answer) -> AskResult:
    """The tool's form of an :class:`~assistant.types.Answer`."""
    data = answer.to_json()
    return AskResult(
        **{k: data[k] for k in ("question", "text", "found", "note")}, citations=data["citations"]
    )


def create_server(
    settings: Settings | None = None,
    *,
    embeddings=None,
    answer_fn: Callable | None = None,
    search_fn: Callable | None = None,
) -> MCPServer:
    """The MCP server over one index.

    Args:
        settings: Which index; default from ``REPORTQA_*`` variables (read per call).
        embeddings: The question model, when the caller has it loaded already.
        answer_fn, search_fn: The core's :func:`assistant.answer` and
            :func:`assistant.search` unless given (a server's own, or a test's).
    """
    if answer_fn is None or search_fn is None:
        from assistant import answer, search

        answer_fn, search_fn = answer_fn or answer, search_fn or search
    # MCPServer configures the root logger (basicConfig, a rich handler) when it has no
    # handler yet: the process's logging stays as the command or the caller set it.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    server = MCPServer(NAME, instructions=INSTRUCTIONS, version="1", log_level="WARNING")
    root.handlers[:], root.level = handlers, level

    def current() -> Settings:
        return settings or Settings.from_env()

    @server.tool(title="提问")
    def ask(
        question: Annotated[Text, Field(description="问题（中文），如 今年新增多少养老床位")],
        region: Region = None,
        year: Year = None,
    ) -> AskResult:
        """Answer a question from the indexed government work reports, with citations."""
        within = ReportFilter(region or "", year) if region or year else None
        with _refusals():
            answer = answer_fn(question, settings=current(), embeddings=embeddings, within=within)
        return ask_result(answer)

    @server.tool(title="查找段落")
    def search(
        query: Annotated[Text, Field(description="要查找的内容（中文）")],
        k: Annotated[int, Field(ge=1, le=50, description="返回多少段")] = 5,
        region: Region = None,
        year: Year = None,
    ) -> SearchResult:
        """The passages of the reports that best match a query, for you to read."""
        within = ReportFilter(region or "", year) if region or year else None
        with _refusals():
            hits = search_fn(query, k=k, settings=current(), embeddings=embeddings, within=within)
        return SearchResult(passages=[passage(hit) for hit in hits])

    @server.tool(title="报告列表")
    def list_reports() -> ReportList:
        """Every indexed report: title, year, region, source file and passage count."""
        with _refusals():
            docs = list_documents(current())
        return ReportList(reports=[Report(**d.__dict__) for d in docs])

    return server


def passage(hit) -> Passage:
    """A retrieval hit (:class:`assistant.retrieval.Hit`) as the tools return it."""
    p, d = hit.passage, hit.document
    return Passage(
        text=p.text,
        title=d.title,
        year=d.year,
        region=d.region,
        section=p.section,
        paragraph=p.paragraph,
        start=p.start,
        end=p.end,
        doc_id=d.doc_id,
        score=hit.score,
    )


class _refusals:
    """A refusal of the core becomes the tool's error, in Chinese, for the model to read."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        if isinstance(exc, ReportQAError):
            raise ToolError(exc.message_zh) from exc


def run_stdio(settings: Settings | None = None) -> None:
    """Serve the tools over stdin/stdout until the client closes them (``reportqa mcp``)."""
    create_server(settings).run("stdio")


def http_routes(core, *, auth: tuple[str, str] | None, host: str):
    """The streamable-HTTP endpoint at ``/mcp`` for the chat server's app, and the
    lifespan that runs its sessions.

    Args:
        core: The page's core (settings, embeddings, answer function).
        auth: ``(user, password)`` the endpoint requires (Basic, or ``Bearer USER:PASS``).
        host: The address served; on loopback, requests naming another host are refused
            (DNS rebinding).

    Returns:
        ``(routes, lifespan)``: routes to add to the FastAPI app before the page is
        mounted at ``/``, and an async context manager factory to run while it serves.
    """
    from contextlib import asynccontextmanager

    from starlette.routing import Route

    server = create_server(core.settings, embeddings=core.embeddings, answer_fn=core.answer_fn)
    app = server.streamable_http_app(streamable_http_path="/mcp", host=host)
    (endpoint,) = [r for r in app.routes if isinstance(r, Route) and r.path == "/mcp"]

    @asynccontextmanager
    async def lifespan(_app):
        async with server.session_manager.run():
            yield

    return [Route("/mcp", endpoint=_Guarded(endpoint.app, auth))], lifespan


class _Guarded:
    """An ASGI app that lets a request through to ``inner`` only with ``auth``."""

    def __init__(self, inner, auth: tuple[str, str] | None) -> None:
        self.inner, self.auth = inner, auth

    async def __call__(self, scope, receive, send) -> None:
        from ui.http import NEED_LOGIN, authorized, refusal

        header = dict(scope.get("headers") or ()).get(b"authorization", b"").decode("latin-1")
        if authorized(header, self.auth):
            await self.inner(scope, receive, send)
            return
        response = refusal("/mcp", 401, "http_error", NEED_LOGIN)
        response.headers["WWW-Authenticate"] = "Basic"
        await response(scope, receive, send)
