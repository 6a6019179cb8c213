"""What a figure is said of (:mod:`assistant.subjects`): its subject, and a figure of
another subject, of a part of the whole asked or of the head with another modifier is no
answer."""

from __future__ import annotations

import pytest

from assistant.subjects import figure_subject
from tests.test_nearmiss import _reason


@pytest.mark.parametrize(
    ("clause", "subject"),
    [
        ("力争一般公共预算收入增长4%左右", "一般公共预算收入"),
        ("居民消费价格总水平上涨幅度控制在2%左右", "居民消费价格总水平"),
        ("推动开发区规上工业增加值增长6%", "开发区规上工业增加值"),
        ("2025年全省地区生产总值增长5.5%", "2025年全省地区生产总值"),  # a year is no figure
        ("新增城镇就业5万人以上", ""),  # no verb of change or level before the figure
        ("进出口稳量提质", ""),  # no figure
    ],
)
def test_figure_subject(clause, subject):
    assert figure_subject(clause) == subject


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # every figure said of a subject sharing nothing with the one asked
        ("今年外贸进出口要增长多少", "居民消费价格总水平上涨幅度控制在2%左右", "other"),
        ("今年外贸进出口打算增长多少", "进出口稳量提质，一般公共预算收入增长4%左右", "other"),
        ("今年外贸进出口要增长多少", "货物进出口总额增长5%", None),
        # a short subject refers back to the thing the clause before named
        ("今年外贸进出口要增长多少", "稳住外贸基本盘，总额增长5%", None),
        # a headline indicator in the reports' own words
        ("今年经济增长目标是多少", "主要预期目标是，地区生产总值增长5.5%左右", None),
        # a part of the region where the whole is asked
        ("今年全市规上工业增加值要增长多少", "推动开发区规上工业增加值增长6%", "object"),
        ("今年开发区规上工业增加值要增长多少", "推动开发区规上工业增加值增长6%", None),
        ("今年全市规上工业增加值要增长多少", "全市规上工业增加值增长6%", None),
        # another rank of the thing counted
        ("今年要培育几家国家级企业技术中心", "培育省级以上企业技术中心10户", "object"),
        ("今年要培育几家国家级企业技术中心", "新增国家级企业技术中心3家", None),
        ("今年要培育几家企业技术中心", "培育省级以上企业技术中心10户", None),  # none asked
    ],
)
def test_a_figure_said_of_another_subject_or_rank(question, answer, reason):
    assert _reason(question, answer) == reason


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # the subject's head with a modifier of its own and none of the question's
        ("今年高新技术产业增加值占比要到多少", "制造业增加值占工业增加值稳定在60%以上", "object"),
        ("今年规上工业增加值要增长多少", "规模以上工业增加值增长6%", None),  # 工业 named
        # two characters after a figure are its measure, no modifier
        ("家门口的健身圈说的是多少分钟", "进一步扩大城市社区15分钟健身圈", None),
    ],
)
def test_a_subject_with_another_modifier(question, answer, reason):
    assert _reason(question, answer, lambda word: word not in ("家门", "门口", "家门口")) == reason


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # the whole asked, every figure of a part of it
        (
            "整个太原的规上工业增加值今年打算涨多少",
            "力争战新兴产业规模以上工业增加值增长30%",
            "object",
        ),
        ("数字经济整体规模今年要做到多少亿", "数字经济核心产业营收突破2800亿元", "object"),
        ("整个太原的规上工业增加值今年打算涨多少", "规模以上工业增加值增长6%", None),  # 规上
        (
            "规上工业增加值今年打算涨多少",
            "力争战新兴产业规模以上工业增加值增长30%",
            None,
        ),  # no whole
    ],
)
def test_a_part_where_the_whole_is_asked(question, answer, reason):
    assert _reason(question, answer, lambda word: word != "整体") == reason
