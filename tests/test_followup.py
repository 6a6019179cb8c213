"""Rule rewriting of follow-up questions: no index and no model needed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.followup import is_followup, rewrite_followup

KNOWN = ("太原市", "山西省", "北京市", "全国", "内蒙古自治区", "太原市小店区")


def turns(*questions: str) -> list[tuple[str, str]]:
    return [(q, "（回答）") for q in questions]


CASES = [
    # region switch
    (turns("吉林今年要新建多少亩高标准农田？"), "那黑龙江呢？", "黑龙江今年要新建多少亩高标准农田"),
    (turns("北京今年新增多少养老床位"), "湖南呢", "湖南今年新增多少养老床位"),
    (turns("北京今年新增多少养老床位"), "换成湖南呢？", "湖南今年新增多少养老床位"),
    (turns("北京今年新增多少养老床位"), "那么湖南省的呢", "湖南省今年新增多少养老床位"),
    (turns("今年新增多少养老床位"), "那湖南呢？", "湖南今年新增多少养老床位"),
    (turns("内蒙古今年要新增多少个公办学位"), "那广西呢", "广西今年要新增多少个公办学位"),
    (turns("广西今年要新增多少个公办学位"), "那新疆呢", "新疆今年要新增多少个公办学位"),
    (turns("北京今年新增多少养老床位"), "那太原呢", "太原今年新增多少养老床位"),
    (turns("北京今年新增多少养老床位"), "那湖南的目标呢", "湖南今年新增多少养老床位"),
    (turns("北京今年新增多少养老床位"), "湖南？", "湖南今年新增多少养老床位"),
    (turns("湖北今年粮食产量的目标是多少？"), "那全国呢", "全国今年粮食产量的目标是多少"),
    # regions the index does not hold are still regions, for the scope step to refuse
    (turns("北京今年新增多少养老床位"), "那香港呢？", "香港今年新增多少养老床位"),
    (turns("北京今年新增多少养老床位"), "那苏州市呢", "苏州市今年新增多少养老床位"),
    (turns("北京今年新增多少养老床位"), "换成深圳呢", "深圳今年新增多少养老床位"),
    (turns("北京今年新增多少养老床位"), "那太原市小店区呢", "太原市小店区今年新增多少养老床位"),
    # year switch
    (
        turns("2023年全国技术合同成交额增长了多少？"),
        "那2024年呢？",
        "2024年全国技术合同成交额增长了多少",
    ),
    (
        turns("2023年我国常住人口城镇化率提高到了多少？"),
        "换成2024年呢？",
        "2024年我国常住人口城镇化率提高到了多少",
    ),
    (
        turns("2024年国家计划发行多少超长期特别国债"),
        "那2025年呢",
        "2025年国家计划发行多少超长期特别国债",
    ),
    (turns("2025年全国城镇新增就业实际有多少人"), "2024年呢", "2024年全国城镇新增就业实际有多少人"),
    (turns("今年新增多少养老床位"), "去年呢", "去年新增多少养老床位"),
    (turns("2023年全国技术合同成交额增长了多少"), "那今年呢", "今年全国技术合同成交额增长了多少"),
    (turns("北京新增多少养老床位"), "那2024年呢", "北京2024年新增多少养老床位"),
    (turns("新增多少养老床位"), "那去年呢", "去年新增多少养老床位"),
    # both
    (turns("北京今年新增多少养老床位"), "那2024年湖南呢", "湖南2024年新增多少养老床位"),
    (
        turns("2023年全国技术合同成交额增长了多少"),
        "那2024年山西呢",
        "2024年山西技术合同成交额增长了多少",
    ),
    # topic switch: the object after 多少 goes with its measure word, a 几 keeps its measure
    (turns("今年新增多少养老床位"), "那公办幼儿园呢？", "今年新增多少公办幼儿园"),
    (turns("陕西今年要新增多少家退税商店？"), "那商旅名街呢？", "陕西今年要新增多少商旅名街"),
    (
        turns("辽宁今年要改造多少个老旧小区？"),
        "那住宅老旧电梯呢？",
        "辽宁今年要改造多少住宅老旧电梯",
    ),
    (turns("甘肃今年要建几个工会驿站"), "那农村幸福院呢", "甘肃今年要建几个农村幸福院"),
    (turns("北京今年新增多少养老床位"), "那幼儿园有多少呢", "北京今年新增多少幼儿园"),
    # topic switch: the subject before the asking frame is replaced
    (turns("湖北今年粮食产量的目标是多少"), "那生产总值呢", "湖北今年生产总值的目标是多少"),
    (
        turns("河北今年规上工业增加值要增长多少"),
        "那研发投入占比呢",
        "河北今年研发投入占比要增长多少",
    ),
    (turns("陕西今年退税商店有什么安排"), "那商旅名街呢", "陕西今年商旅名街有什么安排"),
    # "又是" sets the new topic against the old one, however long it is
    (turns("重庆今年社零增长目标定在多少"), "进出口又是多少？", "重庆今年进出口增长目标定在多少"),
    (
        turns("湖北今年粮食产量的目标是多少"),
        "社会消费品零售总额又是多少",
        "湖北今年社会消费品零售总额的目标是多少",
    ),
    # a pointing word after the region is no topic
    (turns("甘肃每千人有几个婴幼儿托位？"), "内蒙古那边呢？", "内蒙古每千人有几个婴幼儿托位"),
    # topic and region together
    (turns("北京今年新增多少养老床位"), "那湖南的公办幼儿园呢", "湖南今年新增多少公办幼儿园"),
    # chains: each follow-up is resolved against the standalone form of the one before
    (turns("北京今年新增多少养老床位", "那湖南呢"), "那2024年呢", "湖南2024年新增多少养老床位"),
    (
        turns("陕西今年要新增多少家退税商店？", "那商旅名街呢？"),
        "那么甘肃省的呢",
        "甘肃省今年要新增多少商旅名街",
    ),
    (
        turns("北京今年新增多少养老床位", "那公办幼儿园呢", "那湖南呢"),
        "那2024年呢",
        "湖南2024年新增多少公办幼儿园",
    ),
    (
        turns("北京今年新增多少养老床位", "云南今年要新建多少所学校"),
        "那贵州呢",
        "贵州今年要新建多少所学校",
    ),
    # input already went through NFKC: ASCII punctuation
    (turns("北京今年新增多少养老床位?"), "那我国呢?", "我国今年新增多少养老床位"),
    # no history: nothing to lean on
    ([], "那公办幼儿园呢？", "那公办幼儿园呢？"),
    ([], "那湖南呢", "那湖南呢"),
]


@pytest.mark.parametrize(("history", "question", "expected"), CASES)
def test_rewrite_followup(history, question, expected):
    assert rewrite_followup(question, history, known_regions=KNOWN) == expected


# A question with its own topic and asking word is never merged with the previous one.
STANDALONE = [
    ("香港今年生产总值是多少", "老小区没电梯政府管不管"),
    ("辽宁今年要改造多少个老旧小区？", "云南今年要新建多少所学校？"),
    ("辽宁今年要改造多少个老旧小区？", "今年计划新认定多少家高新技术企业"),
    ("今年新增多少养老床位", "城镇新增就业目标是多少"),
    ("北京今年新增多少养老床位", "那云南今年要新建多少所学校？"),
    ("湖南今年要新建多少公里绿道？", "湖南今年要新建多少公里绿道？"),
    ("北京今年新增多少养老床位", "还有呢"),
    ("北京今年新增多少养老床位", "那些高新技术企业有多少"),
    # 又 as "again" in a question of its own
    ("北京今年新增多少养老床位", "云南今年又要新建多少所学校"),
]


@pytest.mark.parametrize(("previous", "question"), STANDALONE)
def test_standalone_questions_come_back_unchanged(previous, question):
    assert rewrite_followup(question, turns(previous), known_regions=KNOWN) == question


def test_short_names_of_known_regions_are_regions():
    history = turns("北京今年新增多少养老床位")
    rewritten = rewrite_followup("那大同呢", history, known_regions=("大同市", ""))
    assert rewritten == "大同今年新增多少养老床位"


def test_is_followup():
    history = turns("北京今年新增多少养老床位")
    assert is_followup("那湖南呢？", history)
    assert not is_followup("湖南今年要新建多少公里绿道？", history)
    assert not is_followup("那湖南呢？", [])


class FakeLLM:
    def __init__(self, reply: str):
        self.reply = reply
        self.calls = 0

    def invoke(self, prompt):
        self.calls += 1
        return SimpleNamespace(content=self.reply)


def test_llm_rewrite_is_used_when_given():
    llm = FakeLLM("今年新建多少所公办幼儿园")
    history = turns("今年新增多少养老床位")
    assert rewrite_followup("那公办幼儿园呢？", history, llm) == "今年新建多少所公办幼儿园"
    assert llm.calls == 1


def test_rules_take_over_when_the_llm_gives_nothing():
    llm = FakeLLM("")
    history = turns("今年新增多少养老床位")
    assert rewrite_followup("那公办幼儿园呢？", history, llm) == "今年新增多少公办幼儿园"


def test_llm_is_not_asked_about_standalone_questions():
    llm = FakeLLM("不该用到")
    history = turns("今年新增多少养老床位")
    question = "云南今年要新建多少所学校？"
    assert rewrite_followup(question, history, llm) == question
    assert llm.calls == 0
