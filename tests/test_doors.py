"""The doors other tools use, each driven by its real client on loopback over the sample
index: the openai SDK against /v1, a LangChain LCEL chain, an MCP client session over
stdio and over streamable HTTP. Each asks the sample question and gets 2000张 with its
citation; with --auth, a client without the key is refused. The doors that give the answer's
JSON (``POST /api/ask``, Gradio's ``/ask``, ``reportqa ask --json``) give its follow-up
questions alike."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from tests.test_ui import ROOT, free_port

pytestmark = [pytest.mark.integration, pytest.mark.server]

QUESTION = "今年新增多少养老床位"
EXPECT = "2000张"
AUTH = ("user", "pass")
KEY = "user:pass"


def _cites_the_figure(citations: list[dict]) -> None:
    assert citations, "no citation"
    first = citations[0]
    assert EXPECT in first["quote"] and first["quote"] in first["text"]
    assert first["title"] == "2025年太原市政府工作报告" and first["paragraph"] > 0


@pytest.fixture(scope="module")
def served(sample_settings, real_embeddings):
    """`reportqa serve --auth user:pass` over the sample index, with the real core."""
    from ui import create_app, serve

    app = create_app(sample_settings, embeddings=real_embeddings)
    server = serve(app, port=free_port(), auth=AUTH, block=False)
    yield server
    server.close()


# --- the answer's JSON ------------------------------------------------------------------------


def test_every_json_door_gives_the_answers_follow_up_questions(
    served, sample_settings, monkeypatch, capsys
):
    import httpx
    from gradio_client import Client

    from ui.cli import main

    def cli(question: str) -> dict:
        monkeypatch.setenv("REPORTQA_HOME", str(sample_settings.home))
        assert main(["ask", question, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    gradio = Client(served.local_url, auth=AUTH, verbose=False)
    unknown = "澳门今年要建多少套公共房屋"  # no such report: a refusal that cites nothing
    doors = {}
    for question in (QUESTION, unknown):
        api = httpx.post(
            f"{served.local_url}api/ask", json={"question": question}, auth=AUTH, timeout=120
        )
        assert api.status_code == 200, api.text
        doors[question] = {
            "POST /api/ask": api.json(),
            "Gradio /ask": gradio.predict(question, api_name="/ask"),
            "reportqa ask --json": cli(question),
        }
    answered = doors[QUESTION]["POST /api/ask"]
    expected = answered["suggestions"]
    assert EXPECT in answered["text"] and 1 <= len(expected) <= 3
    # The sample's neighbouring key figures, asked as standalone questions.
    assert all(q.startswith("太原市2025年") and q.endswith("？") for q in expected), expected
    for door, data in doors[QUESTION].items():
        assert data["text"] == answered["text"], door
        assert data["suggestions"] == expected, door
    for door, data in doors[unknown].items():
        assert data["found"] is False and data["citations"] == [], door
        assert data["suggestions"] == [], door  # the same key, empty, in every door


# --- OpenAI-compatible -----------------------------------------------------------------------


def _openai(server, key: str = KEY):
    from openai import OpenAI

    return OpenAI(base_url=f"{server.local_url}v1", api_key=key, max_retries=0)


def test_openai_sdk_answers_with_citations(served):
    client = _openai(served)
    assert [m.id for m in client.models.list().data] == ["reportqa"]
    reply = client.chat.completions.create(
        model="reportqa",
        messages=[{"role": "system", "content": "ignored"}, {"role": "user", "content": QUESTION}],
    )
    content = reply.choices[0].message.content
    assert EXPECT in content and "[1]" in content
    assert "\n[1] 2025年太原市政府工作报告" in content  # the sources block
    assert reply.choices[0].finish_reason == "stop"
    _cites_the_figure(reply.model_extra["citations"])
    assert reply.model_extra["reportqa"]["found"] is True


def test_openai_sdk_streams_chunks_that_add_up(served):
    client = _openai(served)
    stream = client.chat.completions.create(
        model="reportqa", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert EXPECT in text and "\n[1] 2025年太原市政府工作报告" in text
    assert chunks[0].choices[0].delta.role == "assistant"
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    _cites_the_figure(last.model_extra["citations"])


def test_openai_follow_up_reads_the_earlier_turns(served):
    first = _openai(served).chat.completions.create(
        model="reportqa", messages=[{"role": "user", "content": QUESTION}]
    )
    follow = _openai(served).chat.completions.create(
        model="reportqa",
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": "那就业呢"},
        ],
    )
    assert "就业" in follow.model_extra["reportqa"]["standalone_question"]


def test_openai_errors_are_openai_errors(served):
    import openai

    with pytest.raises(openai.AuthenticationError) as refused:
        _openai(served, key="user:wrong").models.list()
    assert refused.value.status_code == 401
    with pytest.raises(openai.BadRequestError) as empty:
        _openai(served).chat.completions.create(
            model="reportqa", messages=[{"role": "user", "content": "   "}]
        )
    error = empty.value.body
    assert error["code"] == "QuestionError" and error["type"] == "invalid_request_error"
    assert error["message"] and "Traceback" not in error["message"]
    with pytest.raises(openai.BadRequestError) as no_question:
        _openai(served).chat.completions.create(
            model="reportqa", messages=[{"role": "system", "content": "只有系统消息"}]
        )
    assert "user" in no_question.value.body["message"]


# --- LangChain -------------------------------------------------------------------------------


def test_langchain_chain_retrieves_and_answers(sample_settings, real_embeddings):
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.runnables import RunnableParallel

    from assistant.langchain import ReportAnswerer, ReportRetriever

    scope = {"settings": sample_settings, "embeddings": real_embeddings}
    retriever = ReportRetriever(k=3, region="太原市", year=2025, **scope)
    answerer = ReportAnswerer(**scope)
    chain = RunnableParallel(
        passages=retriever,
        answer=answerer,
        text=answerer | StrOutputParser(),
    )
    out = chain.invoke(QUESTION)
    assert EXPECT in out["text"]
    _cites_the_figure(out["answer"].response_metadata["citations"])
    doc = next(d for d in out["passages"] if EXPECT in d.page_content)
    meta = doc.metadata
    report = ("2025年太原市政府工作报告", "太原市", 2025)
    assert (meta["report"], meta["region"], meta["year"]) == report
    assert meta["section"] and meta["paragraph"] > 0 and meta["end"] > meta["start"] >= 0
    assert ReportRetriever(k=3, region="北京市", **scope).invoke(QUESTION) == []

    chunks = list(answerer.stream({"question": QUESTION}))
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert EXPECT in total.content
    _cites_the_figure(total.response_metadata["citations"])
    assert all(EXPECT in m.content for m in answerer.batch([QUESTION, QUESTION]))


def test_langchain_tool_gives_the_agent_text_and_the_caller_the_answer(
    sample_settings, real_embeddings
):
    from assistant.langchain import ReportAnswerer

    tool = ReportAnswerer(settings=sample_settings, embeddings=real_embeddings).as_tool()
    assert set(tool.args) == {"question", "region", "year"}
    call = {"type": "tool_call", "id": "1", "name": tool.name, "args": {"question": QUESTION}}
    message = tool.invoke(call)
    assert EXPECT in message.content and "[1] 2025年太原市政府工作报告" in message.content
    _cites_the_figure(message.artifact["citations"])


# --- MCP -------------------------------------------------------------------------------------


async def _use_tools(read, write) -> dict:
    from mcp import ClientSession

    async with ClientSession(read, write) as session:
        await session.initialize()
        tools = {t.name: t for t in (await session.list_tools()).tools}
        asked = await session.call_tool("ask", {"question": QUESTION})
        searched = await session.call_tool("search", {"query": QUESTION, "k": 3})
        listed = await session.call_tool("list_reports", {})
        empty = await session.call_tool("ask", {"question": "   "})
    return {"tools": tools, "ask": asked, "search": searched, "list": listed, "empty": empty}


def _check_tools(got: dict) -> None:
    tools = got["tools"]
    assert {"ask", "search", "list_reports"} <= set(tools)
    assert tools["ask"].input_schema["required"] == ["question"]
    assert "citations" in tools["ask"].output_schema["properties"]
    asked = got["ask"]
    assert not asked.is_error
    assert EXPECT in asked.structured_content["text"]
    _cites_the_figure(asked.structured_content["citations"])
    passages = got["search"].structured_content["passages"]
    assert any(EXPECT in p["text"] for p in passages) and passages[0]["paragraph"] > 0
    (report,) = got["list"].structured_content["reports"]
    assert report["region"] == "太原市" and report["year"] == 2025
    assert got["empty"].is_error and "Traceback" not in got["empty"].content[0].text


def test_mcp_over_stdio(sample_settings):
    from mcp import StdioServerParameters, stdio_client

    env = {**os.environ, "REPORTQA_HOME": str(sample_settings.home), "PYTHONPATH": str(ROOT)}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "ui.cli", "mcp"], env=env, cwd=ROOT
    )

    async def run() -> dict:
        async with stdio_client(params) as (read, write):
            return await _use_tools(read, write)

    _check_tools(asyncio.run(run()))


def test_mcp_over_http_on_the_serve_port(served):
    import httpx
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    url = f"{served.local_url}mcp"

    async def run() -> dict:
        headers = {"Authorization": f"Bearer {KEY}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=None) as http,
            streamable_http_client(url, http_client=http) as (read, write),
        ):
            return await _use_tools(read, write)

    _check_tools(asyncio.run(run()))
    refused = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert refused.status_code == 401
