"""The plain JSON API (``/api/ask``, ``/api/reports``, deleting a report) over real HTTP."""

from __future__ import annotations

import dataclasses
import os
import re

import httpx
import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from index import QuestionError, Settings, build_index, list_documents
from tests.test_ui import REPORT, FakeCore, free_port
from ui.http import NEED_LOGIN

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """An index of one small report, built with the fake embedding model."""
    from tests.conftest import CountingFakeEmbeddings

    root = tmp_path_factory.mktemp("api")
    report = root / "src" / "2025年示例市政府工作报告.txt"
    report.parent.mkdir()
    report.write_text(REPORT, encoding="utf-8")
    settings = dataclasses.replace(Settings.from_env(), home=root / "home", llm=None)
    build_index([report], settings=settings, embeddings=CountingFakeEmbeddings())
    return settings


@pytest.fixture(scope="module")
def served(home):
    """One server with a fake core, for the tests that only read."""
    from ui import create_app, serve

    fake = FakeCore()
    server = serve(
        create_app(home, answer_fn=fake.answer, stream_fn=fake.stream, embeddings="EMB"),
        port=free_port(),
        block=False,
    )
    with httpx.Client(base_url=server.local_url, timeout=60) as http:
        yield server, fake, http
    server.close()


def test_ask_returns_the_answer_json_and_passes_the_history(served):
    _, fake, http = served
    history = [["今年新增多少养老床位", "新增养老床位2000张[1]。"]]
    response = http.post("/api/ask", json={"question": "那就业呢", "history": history})
    assert response.status_code == 200, response.text
    assert response.json() == fake.answer("那就业呢").to_json()
    question, passed, _, embeddings = fake.calls[-2]
    assert (question, passed, embeddings) == ("那就业呢", [tuple(history[0])], "EMB")
    assert fake.within is None
    refused = http.post("/api/ask", json={"question": "火星基地建几座"}).json()
    assert refused["found"] is False and refused["citations"] == []
    scoped = {"question": "城镇新增就业目标是多少", "region": "示例市", "year": 2025}
    assert http.post("/api/ask", json=scoped).status_code == 200
    assert (fake.within.region, fake.within.year) == ("示例市", 2025)


def test_reports_lists_the_indexed_documents(served, home):
    _, _, http = served
    response = http.get("/api/reports")
    assert response.status_code == 200
    (doc,) = response.json()
    (expected,) = list_documents(home)
    assert doc == dataclasses.asdict(expected)
    assert doc["region"] == "示例市" and doc["year"] == 2025 and doc["passages"] > 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"history": []}',
        b'"just a string"',
        '{"question": "问题", "history": [["only one"]]}'.encode(),
        b'{"question": 5}',
    ],
)
def test_bad_requests_get_422_with_a_chinese_message(served, body):
    _, _, http = served
    response = http.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    data = response.json()
    assert data["error"] == "invalid_request"
    assert "请求格式不对" in data["message"] and '"question"' in data["message"]
    assert data["detail"]  # where the request went wrong, for the developer


def test_plain_api_keeps_no_gradio_session(served):
    from gradio_client import Client

    from ui.server import SESSIONS_KEPT

    server, _, http = served
    # Mounted, not launched: the page still keeps only the last SESSIONS_KEPT sessions.
    assert server.blocks.state_holder.capacity == SESSIONS_KEPT
    sessions = server.blocks.state_holder.session_data
    before = len(sessions)
    for i in range(5):
        assert http.post("/api/ask", json={"question": f"问题{i}"}).status_code == 200
    assert len(sessions) == before
    # Gradio's own /ask keeps one per caller: what the plain API is for.
    Client(server.local_url, verbose=False).predict("问题", api_name="/ask")
    assert len(sessions) == before + 1


def test_the_api_is_documented(served):
    _, _, http = served
    schema = http.get("/openapi.json").json()
    assert {"/api/ask", "/api/reports"} <= set(schema["paths"])
    ask = schema["paths"]["/api/ask"]["post"]
    assert {"200", "400", "422"} <= set(ask["responses"])
    docs = http.get("/docs").text
    assert "swagger" in docs.lower()
    # Offline: every script and style the docs page loads is served by this server.
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', docs)
    assert assets and all(a.startswith("/") for a in assets), assets
    assert all(http.get(a).status_code == 200 for a in assets)
    assert "政府工作报告问答" in http.get("/").text  # the page still at the root


def test_a_refusal_is_json_with_its_chinese_message(home):
    from ui import create_app, serve

    fake = FakeCore(error=QuestionError("question too long", "问题太长了，请精简到500字以内。"))
    server = serve(
        create_app(home, answer_fn=fake.answer, stream_fn=fake.stream),
        port=free_port(),
        block=False,
    )
    try:
        response = httpx.post(f"{server.local_url}api/ask", json={"question": "长"}, timeout=60)
    finally:
        server.close()
    assert response.status_code == 400
    assert response.json()["error"] == "QuestionError"
    assert response.json()["message"] == "问题太长了，请精简到500字以内。"


def test_no_index_is_a_404_from_the_real_core(settings):
    from ui import create_app, serve

    server = serve(create_app(settings), port=free_port(), block=False)
    try:
        with httpx.Client(base_url=server.local_url, timeout=60) as http:
            asked = http.post("/api/ask", json={"question": "今年新增多少养老床位"})
            empty = http.post("/api/ask", json={"question": "   "})
            listed = http.get("/api/reports")
    finally:
        server.close()
    assert asked.status_code == 404 and asked.json()["error"] == "IndexMissingError"
    assert "索引" in asked.json()["message"]
    assert empty.status_code == 400 and empty.json()["error"] == "QuestionError"
    assert listed.status_code == 200 and listed.json() == []


def test_auth_protects_the_api_and_the_page(home):
    from ui import create_app, serve

    fake = FakeCore()
    server = serve(
        create_app(home, answer_fn=fake.answer, stream_fn=fake.stream),
        port=free_port(),
        auth=("user", "pass"),
        block=False,
    )
    try:
        with httpx.Client(base_url=server.local_url, timeout=60) as http:
            refused = http.post("/api/ask", json={"question": "问题"})
            wrong = http.get("/api/reports", auth=("user", "wrong"))
            asked = http.post("/api/ask", json={"question": "问题"}, auth=("user", "pass"))
            listed = http.get("/api/reports", auth=("user", "pass"))
            page_config = http.get("/config")
            login = http.post("/login", data={"username": "user", "password": "pass"})
            after_login = http.get("/config")
    finally:
        server.close()
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Basic"
    assert refused.json()["message"] == NEED_LOGIN
    assert wrong.status_code == 401
    assert asked.status_code == 200 and asked.json()["question"] == "问题"
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert page_config.status_code == 401  # the page keeps its own login
    assert login.status_code == 200 and after_login.status_code == 200


def test_a_body_over_the_limit_is_refused_unread(served):
    from ui.http import MAX_BODY_BYTES

    _, fake, http = served
    asked = len(fake.calls)
    big = b'{"question": "' + b"a" * (10 * MAX_BODY_BYTES) + b'"}'
    declared = http.post("/api/ask", content=big, headers={"Content-Type": "application/json"})

    def chunks():  # no Content-Length: refused once what came passes the limit
        yield b'{"question": "'
        for _ in range(12):
            yield b"a" * MAX_BODY_BYTES
        yield b'"}'

    streamed = http.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"] == "request_too_large"
        assert "请求太大" in response.json()["message"]
    openai = http.post(
        "/v1/chat/completions", content=big, headers={"Content-Type": "application/json"}
    )
    assert openai.status_code == 413 and openai.json()["error"]["code"] == "request_too_large"
    assert len(fake.calls) == asked  # nothing was answered
    assert http.post("/api/ask", json={"question": "问题"}).status_code == 200  # still serving


def test_a_lone_surrogate_in_a_question_is_no_server_error(served):
    _, _, http = served
    body = '{"question": "\\ud800今年新增多少养老床位"}'.encode()
    response = http.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 400, 422), response.text
    assert response.json().get("message") or response.json().get("text")


def test_delete_drops_a_report_and_an_unknown_one_is_a_404(tmp_path, fake_embeddings):
    from ui import create_app, serve

    report = tmp_path / "src" / "2025年示例市政府工作报告.txt"
    report.parent.mkdir()
    report.write_text(REPORT, encoding="utf-8")
    settings = dataclasses.replace(Settings.from_env(), home=tmp_path / "home", llm=None)
    build_index([report], settings=settings, embeddings=fake_embeddings)
    (doc,) = list_documents(settings)
    server = serve(
        create_app(settings, embeddings=fake_embeddings),
        port=free_port(),
        auth=("user", "pass"),
        block=False,
    )
    try:
        with httpx.Client(base_url=server.local_url, timeout=60) as http:
            anonymous = http.delete(f"/api/reports/{doc.doc_id}")
            http.auth = ("user", "pass")
            deleted = http.delete(f"/api/reports/{doc.doc_id}")
            again = http.delete(f"/api/reports/{doc.doc_id}")
    finally:
        server.close()
    assert anonymous.status_code == 401
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"doc_id": doc.doc_id, "title": doc.title}
    assert list_documents(settings) == [] and report.exists()  # not an upload: file kept
    assert again.status_code == 404 and again.json()["error"] == "ReportNotFoundError"
    assert "没有找到报告" in again.json()["message"]


def test_figures_lists_each_reports_targets_and_takes_a_region(tmp_path, fake_embeddings):
    from ui import create_app, serve

    for name, region, growth in (("a", "大同市", "5%左右"), ("b", "朔州市", "6%以上")):
        (tmp_path / f"{name}.txt").write_text(
            f"2026年{region}政府工作报告\n\n一、2025年工作回顾\n\n过去一年，城镇新增就业4万人。\n\n"
            f"二、2026年工作安排\n\n今年主要预期目标是：地区生产总值增长{growth}，"
            "居民收入增长和经济增长同步。\n",
            "utf-8",
        )
    settings = dataclasses.replace(Settings.from_env(), home=tmp_path / "home", llm=None)
    empty = dataclasses.replace(settings, home=tmp_path / "empty")
    build_index([tmp_path], settings=settings, embeddings=fake_embeddings)
    servers = [serve(create_app(s), port=free_port(), block=False) for s in (settings, empty)]
    try:
        every = httpx.get(f"{servers[0].local_url}api/figures", timeout=60)
        params = {"region": "朔州", "kind": "target"}
        one = httpx.get(f"{servers[0].local_url}api/figures", params=params, timeout=60)
        done = httpx.get(
            f"{servers[0].local_url}api/figures", params={"kind": "result"}, timeout=60
        )
        none = httpx.get(f"{servers[1].local_url}api/figures", timeout=60)
    finally:
        for server in servers:
            server.close()
    assert every.status_code == 200 and len(every.json()) == 6
    results = [(r["region"], r["year"], r["indicator"], r["value"]) for r in done.json()]
    assert results == [("大同市", 2025, "城镇新增就业", 4.0), ("朔州市", 2025, "城镇新增就业", 4.0)]
    rows = one.json()
    assert [(r["region"], r["indicator"], r["value"], r["unit"], r["qualifier"]) for r in rows] == [
        ("朔州市", "地区生产总值增长", 6.0, "%", "以上"),
        ("朔州市", "居民收入增长", None, None, "同步"),
    ]
    assert rows[0]["canonical"] == "GDP增长" and rows[0]["kind"] == "target"
    assert none.status_code == 404 and none.json()["error"] == "IndexMissingError"
