"""The page's report filter (``within``) and the feedback file."""

from __future__ import annotations

import json

import pytest

from assistant import Answer, ReportFilter, answer, record_feedback
from assistant.scope import NONE_ADMITTED
from tests.conftest import lenient_answer_model
from tests.test_multi_report import multi  # noqa: F401 -- the shared multi-region index


def ask(multi, question, within=None):  # noqa: F811
    settings, embeddings = multi
    return answer(
        question,
        settings=settings,
        embeddings=embeddings,
        answer_model=lenient_answer_model(),
        within=within,
    )


def test_a_region_filter_answers_from_that_region_only(multi):  # noqa: F811
    everywhere = ask(multi, "城镇新增就业目标是多少")
    assert len({c.region for c in everywhere.citations}) > 1  # the filter has work to do
    beijing = ask(multi, "城镇新增就业目标是多少", ReportFilter(region="北京市"))
    assert beijing.found and "28万人" in beijing.text
    assert {c.region for c in beijing.citations} == {"北京市"}


def test_a_region_filter_takes_the_short_name(multi):  # noqa: F811
    beijing = ask(multi, "城镇新增就业目标是多少", ReportFilter(region="北京"))
    assert beijing.found and "28万人" in beijing.text
    assert {c.region for c in beijing.citations} == {"北京市"}


def test_a_filter_and_another_named_region_are_told_so(multi):  # noqa: F811
    a = ask(multi, "上海今年城镇新增就业目标是多少", ReportFilter(region="北京"))
    assert not a.found and "问题问的是上海市" in a.text and "北京市" in a.text
    assert "没有上海" not in a.text


def test_a_year_filter_answers_from_that_year_only(multi):  # noqa: F811
    a = ask(multi, "国内生产总值增长目标是多少", ReportFilter(year=2024))
    assert a.found and "5%" in a.text
    assert {c.year for c in a.citations} == {2024}


def test_a_filter_no_report_matches_says_so(multi):  # noqa: F811
    a = ask(multi, "城镇新增就业目标是多少", ReportFilter(region="湖南省", year=2026))
    assert not a.found and a.text == NONE_ADMITTED and not a.citations


def test_an_answer_survives_its_json(multi):  # noqa: F811
    a = ask(multi, "北京今年城镇新增就业目标是多少")
    assert a.citations and Answer.from_json(json.loads(json.dumps(a.to_json()))) == a


def test_feedback_is_one_json_line_per_vote(multi, settings):  # noqa: F811
    a = ask(multi, "北京今年城镇新增就业目标是多少")
    path = record_feedback(a, "down", settings=settings)
    record_feedback(a, "up", settings=settings)
    assert path == settings.home / "feedback.jsonl"
    first, second = (json.loads(line) for line in path.read_text("utf-8").splitlines())
    assert (first["verdict"], second["verdict"]) == ("down", "up")
    assert first["question"] == "北京今年城镇新增就业目标是多少" and first["answer"] == a.text
    assert first["citations"][0]["quote"] == a.citations[0].quote
    assert first["citations"][0]["region"] == "北京市" and first["time"].endswith("+00:00")
    with pytest.raises(ValueError):
        record_feedback(a, "maybe", settings=settings)
