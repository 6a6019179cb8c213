"""Comparison questions: which ask for a table, a ranking or a series, and their answers."""

from __future__ import annotations

import pytest

from assistant import answer
from assistant.compare import comparison
from index import build_index
from index.model import Document


def _doc(region: str, year: int) -> Document:
    return Document(f"{region}-{year}", f"{year}年{region}政府工作报告", year, region, "", "")


DOCS = [
    _doc("北京市", 2026),
    _doc("天津市", 2026),
    _doc("河北省", 2026),
    _doc("上海市", 2026),
    _doc("广东省", 2026),
    _doc("太原市", 2025),
    _doc("全国", 2024),
    _doc("全国", 2025),
]


PROVINCES = ["北京市", "天津市", "上海市", "河北省", "广东省"]  # in their customary order


@pytest.mark.parametrize(
    ("question", "canonical", "mode", "regions"),
    [
        ("各省今年GDP增长目标是多少", "GDP增长", "table", PROVINCES),
        ("北京、广东今年城镇新增就业目标分别是多少", "城镇新增就业", "table", ["北京市", "广东省"]),
        ("今年哪个省GDP目标最高", "GDP增长", "ranking", PROVINCES),
        ("各地今年CPI目标", "居民消费价格涨幅", "table", [
            "全国", "北京市", "天津市", "上海市", "河北省", "广东省", "太原市"]),
        ("全国GDP增长目标这几年怎么变", "GDP增长", "trend", ["全国", "全国"]),
        # provinces by one-character names in a row, by a group's name; a trend of the one
        # region with several reports; last year's target asked with this year's
        ("京津冀三地今年GDP增速目标分别定的多少", "GDP增长", "table", [*PROVINCES[:2], "河北省"]),
        ("粤、沪今年CPI目标", "居民消费价格涨幅", "table", ["上海市", "广东省"]),
        ("这两年报告里城镇新增就业的预期目标定的多少", "城镇新增就业", "trend", ["全国", "全国"]),
        ("全国去年和今年的城镇调查失业率目标对比一下", "城镇调查失业率", "trend", ["全国", "全国"]),
        ("新增就业目标京城定了多少", None, None, None),  # one region: 新 alone is no province
        ("辽宁今年跨境电商进出口的增长目标是多少", None, None, None),  # 辽宁 is not 辽 and 宁
        ("推进京津冀协同，北京今年GDP目标多少", None, None, None),  # a group in the topic
        # one report, or no indicator: not a comparison
        ("北京今年GDP增长目标是多少", None, None, None),
        ("各省今年新增多少养老床位", None, None, None),
        # results of the years reviewed, not targets
        ("各省去年GDP实际增长了多少", "GDP增长", "table", PROVINCES),
        ("全国这几年GDP实际增长了多少", "GDP增长", "trend", ["全国", "全国"]),
    ],
)  # fmt: skip
def test_what_a_comparison_asks(question, canonical, mode, regions):
    plan = comparison(question, DOCS)
    if canonical is None:
        assert plan is None
    else:
        assert (plan.canonical, plan.mode) == (canonical, mode)
        assert [d.region for d in plan.documents] == regions
        assert plan.kind == ("result" if "实际" in question else "target")


def test_a_comparison_is_a_cited_table_and_names_the_silent(tmp_path, settings, fake_embeddings):
    for region, targets in (
        ("大同市", "地区生产总值增长5%左右，城镇新增就业5万人"),
        ("朔州市", "地区生产总值增长6%以上"),
        ("长治市", "城镇新增就业3万人"),
    ):
        (tmp_path / f"{region}.txt").write_text(
            f"2026年{region}政府工作报告\n\n今年主要预期目标是：{targets}。\n", "utf-8"
        )
    build_index([tmp_path], settings=settings, embeddings=fake_embeddings)
    got = answer("各地今年GDP增长目标是多少", settings=settings, embeddings=fake_embeddings)
    assert got.kind == "table" and got.found
    assert [(r.region, r.value, r.qualifier) for r in got.table] == [
        ("大同市", 5.0, "左右"),
        ("朔州市", 6.0, "以上"),
    ]
    assert [c.quote for c in got.citations] == ["地区生产总值增长5%左右", "地区生产总值增长6%以上"]
    assert all(c.quote in c.text for c in got.citations)
    assert "地区生产总值增长6%以上[2]" in got.text and "没有给出这一目标数字：长治市" in got.text

    class NoModel:  # a comparison is not given to the model: any call fails the test
        def __getattr__(self, name):
            raise AssertionError(f"the model was asked ({name})")

    with_model = answer(
        "各地今年GDP增长目标是多少", settings=settings, embeddings=fake_embeddings, llm=NoModel()
    )
    assert with_model.text == got.text and with_model.mode == "extractive" and not with_model.note
    ranked = answer("哪个市GDP增长目标最高", settings=settings, embeddings=fake_embeddings)
    assert ranked.text.splitlines()[1].startswith("1. 朔州市")
    assert got.to_json()["table"][0]["canonical"] == "GDP增长"


def test_results_are_compared_apart_from_targets(tmp_path, settings, fake_embeddings):
    for region, growth, target in (("大同市", "5.1", "5.5"), ("朔州市", "4.2", "6")):
        (tmp_path / f"{region}.txt").write_text(
            f"2026年{region}政府工作报告\n\n一、2025年工作回顾\n\n过去一年，地区生产总值增长"
            f"{growth}%，城镇新增就业4万人。\n\n二、2026年工作安排\n\n今年主要预期目标是："
            f"地区生产总值增长{target}%左右。\n",
            "utf-8",
        )
    build_index([tmp_path], settings=settings, embeddings=fake_embeddings)
    done = answer("各地去年GDP实际增长多少", settings=settings, embeddings=fake_embeddings)
    assert [(r.region, r.year, r.value, r.kind) for r in done.table] == [
        ("大同市", 2025, 5.1, "result"),
        ("朔州市", 2025, 4.2, "result"),
    ]
    assert "上年实际" in done.text.splitlines()[0]
    planned = answer("各地今年GDP增长目标", settings=settings, embeddings=fake_embeddings)
    assert [(r.value, r.kind) for r in planned.table] == [(5.5, "target"), (6.0, "target")]


NATIONAL = [_doc("全国", year) for year in range(2012, 2026) if year != 2020]


@pytest.mark.parametrize(
    ("question", "years", "kind"),
    [
        ("2015年到2018年的经济增长目标", [2015, 2016, 2017, 2018], "target"),
        # results of 2015–2018 are in the reports of 2016–2019
        ("2015年至2018年GDP实际增长了多少", [2016, 2017, 2018, 2019], "result"),
        ("这两年的CPI目标", [2024, 2025], "target"),
        ("近几年GDP实际增长了多少", [2021, 2022, 2023, 2024, 2025], "result"),
        ("这些年城镇新增就业目标是多少", [y for y in range(2012, 2026) if y != 2020], "target"),
        # a five-year plan's years, the years since one
        ("十三五期间GDP增长目标都是多少", [2016, 2017, 2018, 2019], "target"),
        ("十四五时期全国粮食产量实际是多少", [2022, 2023, 2024, 2025], "result"),
        ("2018年以来的赤字率目标", [2018, 2019, 2021, 2022, 2023, 2024, 2025], "target"),
    ],
)
def test_a_trend_covers_the_years_asked(question, years, kind):
    plan = comparison(question, NATIONAL)
    assert plan.mode == "trend" and plan.kind == kind
    assert [d.year for d in plan.documents] == years


def test_a_change_from_one_figure_to_another_is_the_second():
    from index.figures import target_figures
    from index.model import Passage

    text = "今年主要预期目标是：赤字率从去年的2.1%提高到2.3%，城镇新增就业1000万人以上。"
    rows = [(f.indicator, f.value) for f in target_figures([Passage("d", text, "", 1, 0, 40)])]
    assert rows == [("赤字率", 2.3), ("城镇新增就业", 1000.0)]
