"""Results of the year reviewed as rows, and every report's figures kept beside its shard."""

from __future__ import annotations

import pytest

from assistant.figures import key_figures
from index import build_index
from index.keyfigures import FIGURES_VERSION, report_figures
from index.model import Passage
from index.results import result_figures
from index.store import IndexStore


def _review(*paragraphs: str, year: int = 2026) -> list:
    """Paragraphs of a report's review part, one passage each."""
    passages, at = [], 0
    for n, text in enumerate(paragraphs, 1):
        passages.append(Passage("doc", text, "一、工作回顾", n, at, at + len(text)))
        at += len(text) + 1
    return result_figures(passages, ["review"] * len(passages), year)


def _rows(figures) -> list[tuple]:
    return [(f.indicator, f.canonical, f.value, f.unit, f.qualifier) for f in figures]


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        # total and growth in one phrase: two rows, the growth row's indicator says 增长
        ("过去一年，国内生产总值达到134.9万亿元、增长5%。", [
            ("国内生产总值", "GDP总量", 134.9, "万亿元", ""),
            ("国内生产总值增长", "GDP增长", 5.0, "%", "")]),
        # the growth after a comma is still the indicator's; 超过 a figure is 以上
        ("过去一年，国内生产总值超过126万亿元，增长5.2%。", [
            ("国内生产总值", "GDP总量", 126.0, "万亿元", "以上"),
            ("国内生产总值增长", "GDP增长", 5.2, "%", "")]),
        # two indicators joined by 、; a rate that is a level needs no growth verb
        ("过去一年，城镇新增就业1256万人、城镇调查失业率平均为5.1%。", [
            ("城镇新增就业", "城镇新增就业", 1256.0, "万人", ""),
            ("城镇调查失业率", "城镇调查失业率", 5.1, "%", "")]),
        # a milestone passed, then the figure; another thing's figure after 、 is not its
        ("过去一年，地方一般公共预算收入突破4000亿元、达到4211亿元。", [
            ("地方一般公共预算收入", "一般公共预算收入", 4211.0, "亿元", "")]),
        ("过去一年，地方一般公共预算收入增长2.3%、支出首次超过7000亿元。", [
            ("地方一般公共预算收入增长", "一般公共预算收入增长", 2.3, "%", "")]),
        # an amount that is no headline figure (社零's), the growth that is
        ("过去一年，社会消费品零售总额实现4.6万亿元、增长2.8%。", [
            ("社会消费品零售总额增长", "社会消费品零售总额增长", 2.8, "%", "")]),
        ("过去一年，居民人均可支配收入实际增长5.1%。", [
            ("居民人均可支配收入实际增长", "居民收入增长", 5.1, "%", "")]),
        # several years' figures and sub-aggregates are not the year's headline figures
        ("过去一年，居民人均可支配收入年均增长6%，跨境电商进出口增长20%。", []),
        ("过去一年，地方一般公共预算收入从1.29万亿元提高到1.39万亿元。", []),
        ("过去一年，一般公共预算收入中税收占比80%。", []),
    ],
)  # fmt: skip
def test_a_result_is_read_from_its_phrase(text, rows):
    assert _rows(_review(text)) == rows


def test_only_the_review_of_the_one_year_is_read():
    figures = _review(
        "“十四五”时期是极不平凡的五年。地区生产总值年均增长5.5%，城镇新增就业603.7万人。",
        "这五年，我们进出口总额达到9356.7亿元。",
        "2025年是“十四五”收官之年。五年来，粮食产量稳定在1300亿斤以上。",
        "刚刚过去的2025年很不平凡。地区生产总值增长5.6%，城镇新增就业121.7万人。",
        "2021年，粮食产量达到1300亿斤。",  # a year of the term named inside the review
    )
    assert _rows(figures) == [
        ("地区生产总值增长", "GDP增长", 5.6, "%", ""),
        ("城镇新增就业", "城镇新增就业", 121.7, "万人", ""),
    ]


def test_the_first_statement_of_an_indicator_is_its_result():
    figures = _review("过去一年，地区生产总值增长5.4%。", "一是稳增长。地区生产总值增长6%。")
    assert [(f.value, f.paragraph) for f in figures] == [(5.4, 1)]
    assert figures[0].text == "地区生产总值增长5.4%" and figures[0].kind == "result"


REPORT = (
    "2026年大同市政府工作报告\n\n一、2025年工作回顾\n\n过去一年，地区生产总值增长5.1%，"
    "城镇新增就业4万人。\n\n二、2026年工作安排\n\n今年主要预期目标是：地区生产总值增长5.5%左右，"
    "城镇调查失业率控制在5.5%以内。\n\n稳就业。城镇新增就业4.5万人以上。\n"
)


def test_the_figures_are_kept_with_the_index_and_go_with_their_report(
    tmp_path, settings, fake_embeddings, monkeypatch
):
    source = tmp_path / "大同市.txt"
    source.write_text(REPORT, "utf-8")
    build_index([tmp_path], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    (doc,) = store.read_manifest().documents
    kept = store.figures_path(doc)
    assert kept.is_file()  # written when the report was indexed
    rows = key_figures(settings=settings)
    assert [(r.kind, r.year, r.indicator, r.value) for r in rows] == [
        ("result", 2025, "地区生产总值增长", 5.1),
        ("result", 2025, "城镇新增就业", 4.0),
        ("target", 2026, "地区生产总值增长", 5.5),
        ("target", 2026, "城镇调查失业率", 5.5),
    ]

    # Read from what was kept: the shard is not parsed again.
    import index.keyfigures as keyfigures

    def no_extraction(*args, **kwargs):
        raise AssertionError("the figures were read from the shard again")

    monkeypatch.setattr(keyfigures, "extract_figures", no_extraction)
    ((_, figures),) = report_figures(settings, asked=["城镇新增就业"])
    stated = [f for f in figures if f.kind == "target" and f.canonical == "城镇新增就业"]
    assert [f.text for f in stated] == ["城镇新增就业4.5万人以上"]  # asked: stated elsewhere
    monkeypatch.undo()

    # Kept by an earlier extractor: read again from the shard, and kept anew.
    kept.write_text(f'{{"version": {FIGURES_VERSION - 1}, "targets": []}}', "utf-8")
    assert len(key_figures(settings=settings)) == 4
    assert f'"version":{FIGURES_VERSION}' in kept.read_text("utf-8")

    # A changed report has new figures; an old version's go with its shard.
    import index.store

    monkeypatch.setattr(index.store, "RETIRED_GRACE_SECONDS", 0.0)
    for growth in ("5.3", "5.4"):  # the manifest before the live one keeps its files
        source.write_text(REPORT.replace("5.1", growth), "utf-8")
        build_index([tmp_path], settings=settings, embeddings=fake_embeddings)
        assert key_figures(settings=settings)[0].value == float(growth)
    assert not kept.exists() and not store.shard_path(doc).exists()
