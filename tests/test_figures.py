"""Key figures: the items of a report's targets as rows, and the doors that list them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from index import build_index
from index.figures import target_figures
from index.model import Passage
from ui.cli import main


def _passages(*lines: str) -> list[Passage]:
    """One passage per line, as consecutive paragraphs of a report."""
    passages, at = [], 0
    for n, line in enumerate(lines, 1):
        passages.append(Passage("doc", line, "", n, at, at + len(line)))
        at += len(line) + 1
    return passages


@pytest.mark.parametrize(
    ("item", "row"),
    [
        ("地区生产总值增长5%左右", ("地区生产总值增长", "GDP增长", 5.0, None, "%", "左右")),
        ("城镇调查失业率控制在5.5%以内", (
            "城镇调查失业率", "城镇调查失业率", 5.5, None, "%", "以内")),
        ("城镇新增就业1200万人以上", (
            "城镇新增就业", "城镇新增就业", 1200.0, None, "万人", "以上")),
        ("全省生产总值增长5%—5.5%", ("生产总值增长", "GDP增长", 5.0, 5.5, "%", "")),
        ("地区生产总值增长4.5-5%", ("地区生产总值增长", "GDP增长", 4.5, 5.0, "%", "")),
        ("地区生产总值按增长5%安排", ("地区生产总值增长", "GDP增长", 5.0, None, "%", "")),
        ("粮食产量继续保持500亿斤以上", ("粮食产量", "粮食产量", 500.0, None, "亿斤", "以上")),
        ("细颗粒物(PM2.5)年均浓度控制在29微克/立方米左右", (
            "细颗粒物(PM2.5)年均浓度", "PM2.5浓度", 29.0, None, "微克/立方米", "左右")),
        ("居民收入增长和经济增长基本同步", (
            "居民收入增长", "居民收入增长", None, None, None, "同步")),
        ("单位地区生产总值二氧化碳排放降低完成国家下达任务", (
            "单位地区生产总值二氧化碳排放降低", None, None, None, None, "完成国家下达任务")),
        ("完成国家下达的单位地区生产总值二氧化碳排放降低任务", (
            "单位地区生产总值二氧化碳排放降低", None, None, None, None, "完成国家下达任务")),
        ("固定资产投资增速保持在全国平均水平以上", (
            "固定资产投资增速", "固定资产投资增长", None, None, None, "以上")),
        ("国际收支保持基本平衡", ("国际收支", None, None, None, None, "")),
        # a qualifier before the figure said as the one after it means
        ("粮食产量超过840亿斤", ("粮食产量", "粮食产量", 840.0, None, "亿斤", "以上")),
        ("城镇登记失业率低于4.6%", ("城镇登记失业率", None, 4.6, None, "%", "以下")),
        ("城镇调查失业率全年控制在5.5%以内", (
            "城镇调查失业率", "城镇调查失业率", 5.5, None, "%", "以内")),
        ("农村贫困人口减少1000万以上", ("农村贫困人口减少", None, 1000.0, None, "万", "以上")),
        # in step with another thing; statements without a figure, named by their subject
        ("劳动报酬增长和劳动生产率提高同步", ("劳动报酬增长", None, None, None, None, "同步")),
        ("努力实现居民收入增长和经济发展同步", (
            "居民收入增长", "居民收入增长", None, None, None, "同步")),
        ("进出口回稳向好", ("进出口", "进出口", None, None, None, "")),
        ("宏观杠杆率基本稳定", ("宏观杠杆率", None, None, None, None, "")),
        ("生态环境质量稳定改善", ("生态环境质量", None, None, None, None, "")),
        ("固定资产投资实现正增长", ("固定资产投资", "固定资产投资增长", None, None, None, "")),
        ("长江、黄河干流水质稳定保持在Ⅱ类及以上", (
            "长江、黄河干流水质", None, None, None, None, "")),
        ("全面完成国家下达的节能减排目标", (
            "节能减排", None, None, None, None, "完成国家下达任务")),
        ("减排降碳控制在国家下达目标内", ("减排降碳", None, None, None, None, "完成国家下达任务")),
    ],
)  # fmt: skip
def test_an_item_of_the_targets_is_one_row(item, row):
    (figure,) = target_figures(_passages(f"今年主要预期目标是：{item}。"))
    got = (figure.indicator, figure.canonical, figure.value, figure.value_high, figure.unit)
    assert (*got, figure.qualifier) == row
    assert figure.text == item


@pytest.mark.parametrize(
    ("item", "rows"),
    [
        ("一产、二产、三产增加值分别增长5%左右、5%以上、5%左右", [
            ("一产增加值增长", 5.0, "左右"), ("二产增加值增长", 5.0, "以上"),
            ("三产增加值增长", 5.0, "左右")]),
        ("城镇和农村常住居民人均可支配收入分别增长4%左右和6%左右", [
            ("城镇常住居民人均可支配收入增长", 4.0, "左右"),
            ("农村常住居民人均可支配收入增长", 6.0, "左右")]),
        # subjects written as one word (城乡, 一二三产); the last figure's qualifier is all's
        ("城乡居民人均可支配收入分别增长5%、6.5%左右", [
            ("城镇居民人均可支配收入增长", 5.0, "左右"),
            ("农村居民人均可支配收入增长", 6.5, "左右")]),
        ("其中一二三产增加值分别增长3.5%左右、6%以上、5%左右", [
            ("一产增加值增长", 3.5, "左右"), ("二产增加值增长", 6.0, "以上"),
            ("三产增加值增长", 5.0, "左右")]),
        # subjects that do not pair with the figures: one row, the first figure
        ("城镇、农村和全体居民收入分别增长5%、6.5%左右", [
            ("城镇、农村和全体居民收入分别增长", 5.0, "")]),
        # indicators joined by "、", each with its figure; a list of what one target is of
        ("城镇新增就业47万人以上、城镇调查失业率控制在5.5%以内", [
            ("城镇新增就业", 47.0, "以上"), ("城镇调查失业率", 5.5, "以内")]),
        ("能源、水资源消耗强度下降3%左右", [("能源、水资源消耗强度下降", 3.0, "左右")]),
    ],
)  # fmt: skip
def test_an_item_of_several_indicators_is_a_row_each(item, rows):
    figures = target_figures(_passages(f"今年主要预期目标是：{item}。"))
    assert [(f.indicator, f.value, f.qualifier) for f in figures] == rows
    assert all(f.text in item for f in figures)  # a row's words: the item's, or its part


def test_the_targets_read_across_a_broken_line_and_skip_hedges():
    passages = _passages(
        "2026年是开局之年。今年经济社会发展的",
        "主要预期目标",
        "是：地区生产总值增长4.5%—5%，在实际工作中全力争取更好结果；居民消费价格涨幅2%左右、"
        "争取更优水平；居民收入增长与经济增长同步。这样的目标，是综合考虑的。",
    )
    figures = target_figures(passages)
    assert [f.text for f in figures] == [
        "地区生产总值增长4.5%—5%",
        "居民消费价格涨幅2%左右",
        "居民收入增长与经济增长同步",
    ]
    third = passages[2]
    first = figures[0]
    assert first.paragraph == 3
    assert third.text[first.start - third.start : first.end - third.start] == first.text


def test_a_target_stated_in_the_plan_is_found_and_the_plainest_wins():
    from index.figures import stated_figure

    passages = [
        Passage("d", "过去一年，城镇新增就业50万人。", "一、2025年工作回顾", 1, 0, 15),
        Passage(
            "d",
            "跨境电商进出口增长15%以上，进出口总额增长3.5%左右。城镇新增就业47万人以上、"
            "城镇调查失业率控制在5.5%以内。",
            "二、2026年工作安排",
            2,
            16,
            70,
        ),
    ]
    parts = ["review", "plan"]
    trade = stated_figure(passages, "进出口", parts)
    assert (trade.text, trade.value, trade.paragraph) == ("进出口总额增长3.5%左右", 3.5, 2)
    assert passages[1].text[trade.start - 16 : trade.end - 16] == trade.text
    jobs = stated_figure(passages, "城镇新增就业", parts)  # the plan's, not the review's
    assert (jobs.value, jobs.qualifier) == (47.0, "以上")
    assert stated_figure(passages, "城镇调查失业率", parts).text == "城镇调查失业率控制在5.5%以内"
    assert stated_figure(passages, "粮食产量", parts) is None


def test_items_on_the_line_after_the_lead_and_in_a_sentence_joined_by_a_connective():
    passages = _passages(
        "今年经济社会发展的主要预期目标是：",
        "国内生产总值增长7.5％；城镇新增就业900万人以上，国际收支状况继续改善。同时，要在产业结构"
        "调整、节能减排等方面取得新进展，城乡居民收入实际增长和经济增长保持同步。这里要着重说明的是，…",
    )
    rows = [(f.indicator, f.value, f.qualifier) for f in target_figures(passages)]
    assert rows == [
        ("国内生产总值增长", 7.5, ""),
        ("城镇新增就业", 900.0, "以上"),
        ("国际收支状况", None, ""),
        ("产业结构调整、节能减排等方面", None, ""),
        ("城乡居民收入实际增长", None, "同步"),
    ]
    assert {f.paragraph for f in target_figures(passages)} == {2}


def test_a_report_without_targets_has_no_rows():
    assert target_figures(_passages("今年新增养老床位2000张。", "城镇新增就业8万人。")) == []


def test_the_cli_lists_every_reports_figures_as_json_and_csv(
    tmp_path, settings, fake_embeddings, capsys, monkeypatch
):
    for name, region, growth in (("a", "大同市", "5%左右"), ("b", "朔州市", "6%以上")):
        (tmp_path / f"{name}.txt").write_text(
            f"2026年{region}政府工作报告\n\n今年主要预期目标是：地区生产总值增长{growth}，"
            "城镇新增就业8万人。\n\n一、工作安排\n\n新建口袋公园30个。\n",
            "utf-8",
        )
    build_index([tmp_path], settings=settings, embeddings=fake_embeddings)
    monkeypatch.setenv("REPORTQA_HOME", str(settings.home))
    assert main(["figures", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["region"], r["indicator"], r["value"], r["qualifier"]) for r in rows] == [
        ("大同市", "地区生产总值增长", 5.0, "左右"),
        ("大同市", "城镇新增就业", 8.0, ""),
        ("朔州市", "地区生产总值增长", 6.0, "以上"),
        ("朔州市", "城镇新增就业", 8.0, ""),
    ]
    assert main(["figures", "--kind", "result", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # these reports review no year
    assert main(["figures", "--region", "朔州", "--csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert {r["region"] for r in table} == {"朔州市"} and table[0][
        "text"
    ] == "地区生产总值增长6%以上"
