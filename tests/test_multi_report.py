"""Several reports at once: questions naming a region or year are answered from that report."""

from __future__ import annotations

import shutil

import pytest

from assistant import answer
from index import build_index, sample_report
from tests.conftest import DATA, lenient_answer_model


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    from index import Settings
    from tests.conftest import CountingFakeEmbeddings

    folder = tmp_path_factory.mktemp("multi")
    for path in (DATA / "multi").iterdir():
        shutil.copy(path, folder / path.name)
    shutil.copy(sample_report(), folder / "taiyuan-2025.txt")
    home = tmp_path_factory.mktemp("multi-home")
    settings = Settings(
        home=home,
        cache_dir=Settings.from_env().cache_dir,
        embedding_cache=home / "embedding-cache",  # not the user's: a module's own
    )
    embeddings = CountingFakeEmbeddings(size=64, calls=[])
    report = build_index([folder], settings=settings, embeddings=embeddings)
    assert len(report.added) == 6 and not report.failed
    return settings, embeddings


def ask(multi, question, history=()):
    settings, embeddings = multi
    return answer(
        question,
        history,
        settings=settings,
        embeddings=embeddings,
        answer_model=lenient_answer_model(),
    )


@pytest.mark.parametrize(
    ("question", "expect", "region", "year"),
    [
        ("2024年赤字率是多少", "3%", "全国", 2024),
        ("2025年全国赤字率是多少", "4%", "全国", 2025),
        ("全国赤字率是多少", "4%", "全国", 2025),
        ("山西省城镇新增就业目标是多少", "45万人", "山西省", 2026),
        ("北京今年城镇新增就业目标是多少", "28万人", "北京市", 2026),
        ("上海今年城镇新增就业目标是多少", "60万人", "上海市", 2026),
        ("2024年国内生产总值增长目标是多少", "5%", "全国", 2024),
        ("2023年全国国内生产总值增长了多少", "5.2%", "全国", 2024),
        ("去年全国国内生产总值增长了多少", "增长5%", "全国", 2025),
        ("2025年北京地区生产总值增长了多少", "5.4%", "北京市", 2026),
    ],
)
def test_region_and_year_pick_the_report(multi, question, expect, region, year):
    a = ask(multi, question)
    assert a.found, a.text
    assert expect in a.text
    first = a.citations[0]
    assert (first.region, first.year) == (region, year)
    assert a.text.startswith(f"{region}（{year}年）：")


def test_unnamed_report_answers_say_which_report(multi):
    a = ask(multi, "城镇新增就业目标是多少")
    assert a.found
    for c in a.citations:
        if f"[{c.n}]" in a.text:
            assert f"{c.region}（{c.year}年）：" in a.text


def test_the_same_answer_from_two_reports_is_said_once(multi):
    a = ask(multi, "2025年是哪个规划的收官之年")
    assert a.found and "十四五" in a.text
    assert len({c.region for c in a.citations if f"[{c.n}]" in a.text}) == a.text.count("[")


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("香港今年城镇新增就业目标是多少", "索引中没有香港特别行政区的报告"),
        ("苏州市今年城镇新增就业目标是多少", "索引中没有苏州市的报告"),
        ("2026年我国城镇新增就业目标是多少", "没有2026年全国的报告，最近的是2025年"),
        ("2022年山西省城镇新增就业目标是多少", "没有2022年山西省的报告"),
    ],
)
def test_a_region_or_year_the_index_lacks_is_refused_not_answered_from_another(
    multi, question, said
):
    a = ask(multi, question)
    assert not a.found and not a.citations
    assert said in a.text


@pytest.mark.parametrize(
    ("first", "then", "expect", "region", "year"),
    [
        ("北京今年城镇新增就业目标是多少", "那上海呢？", "60万人", "上海市", 2026),
        ("上海去年城镇新增就业多少人", "那山西呢？", "47.3万人", "山西省", 2026),
        ("2023年全国城镇新增就业达到了多少人", "那2024年呢？", "1256万人", "全国", 2025),
    ],
)
def test_follow_ups_switch_region_or_year_and_keep_the_topic(
    multi, first, then, expect, region, year
):
    a1 = ask(multi, first)
    a2 = ask(multi, then, [(first, a1.text)])
    assert a2.found and expect in a2.text, a2.standalone_question
    assert (a2.citations[0].region, a2.citations[0].year) == (region, year)


def test_the_questions_own_wording_answers_first_and_the_rest_are_named(multi):
    """No region named, several reports: the report that says "新增养老床位" itself answers
    before Beijing's looser 家庭养老床位, and the reports not shown are named."""
    a = ask(multi, "今年新增多少养老床位")
    assert a.found and a.kind == "figure"
    first = a.text.split("[1]")[0]
    assert "新增养老床位" in first and "家庭" not in first, a.text
    assert all(label not in first for label in a.more_reports)
    if a.more_reports:
        assert f"另有{len(a.more_reports)}份报告" in a.text
