"""The doors' own parsing and formatting, without a server or a model: OpenAI messages
into a question and its history, the SSE chunks, the login check, the CLI's parsing."""

from __future__ import annotations

import base64
import json

import pytest

from tests.test_ui import FakeStream, found
from ui.http import RequestRefused, authorized
from ui.openai_api import ChatRequest, _events


def _request(*messages) -> ChatRequest:
    return ChatRequest(messages=[{"role": r, "content": c} for r, c in messages])


def test_last_user_message_is_the_question_and_earlier_pairs_its_history():
    request = _request(
        ("system", "你是助手"),
        ("user", "今年新增多少养老床位"),
        ("assistant", "新增养老床位2000张[1]。\n\n[1] 2025年太原市政府工作报告 · …"),
        ("user", "那就业呢"),
    )
    question, history = request.question()
    assert question == "那就业呢"
    assert history == [("今年新增多少养老床位", "新增养老床位2000张[1]。")]  # no sources block


def test_content_parts_are_joined_and_a_missing_question_is_refused():
    parts = [{"type": "text", "text": "今年新增"}, {"type": "text", "text": "多少养老床位"}]
    request = ChatRequest(messages=[{"role": "user", "content": parts}])
    assert request.question() == ("今年新增多少养老床位", [])
    with pytest.raises(RequestRefused) as refused:
        _request(("user", "问题"), ("assistant", "回答")).question()
    assert refused.value.status == 400


def _chunks(stream) -> list[dict]:
    pieces = iter(stream)
    events = list(_events(stream, pieces, next(pieces, None)))
    assert events[-1] == "data: [DONE]\n\n"
    return [json.loads(e.removeprefix("data: ")) for e in events[:-1]]


def test_stream_chunks_add_up_to_the_answer_with_its_sources():
    chunks = _chunks(FakeStream(found()))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.startswith("新增养老床位2000张[1]。\n\n[1] 2025年太原市政府工作报告")
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["citations"][0]["quote"] == "新增养老床位2000张。"


class _Corrected(FakeStream):
    """An LLM streamed one answer; verification replaced it by another."""

    def __iter__(self):
        yield "大约三千张"
        self.answer = self._answer


def test_a_streamed_answer_replaced_after_verification_is_followed_by_the_final_one():
    chunks = _chunks(_Corrected(found()))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.startswith("大约三千张\n\n新增养老床位2000张[1]。")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (_basic("user", "pass"), True),
        ("Bearer user:pass", True),
        ("bearer user:pass", True),
        (_basic("user", "wrong"), False),
        ("Bearer pass", False),
        ("Bearer user:pass:x", False),
        ("Basic !!!", False),
        ("", False),
        (None, False),
    ],
)
def test_the_login_is_basic_or_a_bearer_key(header, ok):
    assert authorized(header, ("user", "pass")) is ok
    assert authorized(header, None) is True


def test_cli_usage_errors_exit_2_and_help_exits_0(capsys):
    from ui.cli import main

    assert main(["--help"]) == 0
    assert "index" in capsys.readouterr().out
    assert main(["serve", "--auth", "no-colon"]) == 2
    assert "USER:PASS" in capsys.readouterr().err
    assert main(["nonsense"]) == 2
    assert main(["completion", "bash"]) == 0
    assert "_REPORTQA_COMPLETE" in capsys.readouterr().out


def test_the_cli_bar_says_the_builds_time_left(capsys):
    from index import BuildStep
    from ui.cli_index import _progress_bar

    with _progress_bar(enabled=True) as step:
        step(BuildStep("embedding", 0, 640))
        step(BuildStep("embedding", 64, 640, None))
        step(BuildStep("embedding", 128, 640, 125.0))
        step(BuildStep("storing", 0, 10))  # under a bar's worth: none shown
    err = capsys.readouterr().err
    assert "128/640" in err and "about 2 min 05 s left" in err
    assert "storing" not in err


@pytest.mark.parametrize(
    ("seconds", "said"), [(0.4, "0秒"), (45, "45秒"), (59.6, "1分00秒"), (185, "3分05秒")]
)
def test_the_page_says_a_time_left_in_minutes_and_seconds(seconds, said):
    from ui.panel import time_left_zh

    assert time_left_zh(seconds) == said
