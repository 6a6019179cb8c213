"""Choosing the answer span, step by step: clauses, spans, number fit, list trimming, tense."""

from __future__ import annotations

import pytest

from assistant.answering import _with_list
from assistant.extract import (
    _number_fit,
    _other_period,
    _period_match,
    _target_words,
    _tense_match,
    arabic,
    coverage,
    distinct_coverage,
    distinct_weights,
    finish,
    has_unit,
    holds_asked,
    lead,
    missing_share,
    numbers,
    presence,
    question_terms,
    spans,
    split_clauses,
)
from assistant.question import detect_intent
from assistant.retrieval import Hit, report_parts
from index.model import Document, Passage


@pytest.mark.parametrize(
    ("sentence", "clauses"),
    [
        ("新增养老床位2000张，建成社区食堂50个。", ["新增养老床位2000张", "建成社区食堂50个"]),
        ("实施“强省会、优环境”战略；加快发展", ["实施“强省会、优环境”战略", "加快发展"]),
        ("主要目标是：增长5%左右", ["主要目标是", "增长5%左右"]),
    ],
)
def test_split_clauses(sentence, clauses):
    assert split_clauses(sentence) == clauses


def test_spans_grow_with_the_figures_asked():
    clauses = ["a", "b", "c"]
    assert spans(clauses) == ["a", "b", "c", "a，b", "b，c"]
    assert "a，b，c" in spans(clauses, figures=3)


@pytest.mark.parametrize(
    ("text", "arabic_text"),
    [("十二条", "12条"), ("两千张", "2000张"), ("新增养老床位", "新增养老床位"), ("第三", "第3")],
)
def test_arabic(text, arabic_text):
    assert arabic(text) == arabic_text


@pytest.mark.parametrize(
    ("term", "text", "share"),
    [
        ("养老床位", "新增养老床位2000张", 1.0),
        ("十二条", "出台12条措施", 1.0),
        ("停车位", "新增车位500个", 0.75),
        ("养老院", "养老服务", 0.0),  # a modifier, not the thing asked about
        ("马拉松", "小马拉大车", 0.0),
        ("电梯", "老旧小区改造", 0.0),
    ],
)
def test_presence(term, text, share):
    assert presence(term, text) == share


@pytest.mark.parametrize(
    ("sentence", "share"),
    [
        # The passage's subject is in every sentence: it hardly tells them apart.
        ("陈荣捷卒于1994年", (4 / 3 + 4) / 8),
        ("陈荣捷是学者", (4 / 3) / 8),
        ("他著书多部", 0.0),
    ],
)
def test_distinct_coverage(sentence, share):
    terms = {"陈荣捷": 4.0, "卒": 4.0}
    passage = ["陈荣捷是学者", "陈荣捷卒于1994年", "陈荣捷著书多部"]
    local = distinct_weights(terms, passage)
    assert local == pytest.approx({"陈荣捷": 4 / 3, "卒": 4.0})
    assert distinct_coverage(terms, local, sentence) == pytest.approx(share)


@pytest.mark.parametrize(
    ("question", "topic", "asking"),
    [
        ("去年的生产总值有多大", {"生产总值"}, {"多", "大", "多大"}),
        ("这栋楼有多高", {"楼"}, {"多", "高", "多高"}),
        ("离市区有多远", {"市区"}, {"有多远", "多远", "远"}),
        ("工期有多久", {"工期"}, {"多久", "久"}),
        ("新增多少养老床位", {"养老", "床位"}, {"多少", "多"}),
        ("今年进出口增长目标定的多少", {"进出口", "增长"}, {"定", "定的"}),
        ("今年生产总值增速定在多少", {"生产总值", "增速"}, {"定", "定在"}),
    ],
)
def test_question_terms_leave_out_the_words_that_ask(question, topic, asking):
    """jieba cuts "有多大" into 多 and 大: neither half is part of the topic."""
    terms = question_terms(question, lambda term: 1.0)
    assert topic <= set(terms)
    assert not asking & set(terms)


def test_a_modal_joined_to_its_verb_is_read_as_the_verb():
    """ "要产" is no word of any report; 要求 and 能源 are words and stay whole."""
    seen = {"粮食", "要求", "能源"}

    def idf(term):
        return 1.0 if term in seen else 9.0

    assert set(question_terms("今年粮食要产多少斤", idf)) == {"粮食", "产"}
    assert {"要求", "能源"} <= set(question_terms("能源有什么要求", idf))
    assert "要" not in question_terms("还要再修多少座桥", idf)


def test_coverage_and_missing_share():
    terms = {"养老": 2.0, "床位": 2.0, "电梯": 4.0}
    assert coverage(terms, "养老床位") == pytest.approx(0.5)
    assert missing_share(terms, "养老床位") == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("question", "span", "fit"),
    [
        ("新增多少养老床位", "新增养老床位", (1.0, 0.0, 0.0, 0.0)),
        ("新增多少张养老床位", "新增养老床位2000张", (0.0, 1.0, 0.0, 0.0)),
        ("新增多少张养老床位", "增长5%", (0.0, 0.0, 1.0, 0.0)),
        ("改造多少户老旧小区、多少公里管网", "改造老旧小区10万户", (0.0, 1.0, 0.0, 1.0)),
        ("改造多少户老旧小区、多少公里管网", "老旧小区10万户、管网1000公里", (0.0, 1.0, 0.0, 0.0)),
        ("有哪些措施", "出台措施", (0.0, 0.0, 0.0, 0.0)),
        # 个 is the general measure word: people count jobs in 个, reports in 人.
        ("增加多少个就业岗位", "城镇新增就业50万人", (0.0, 1.0, 0.0, 0.0)),
        ("增加多少个就业岗位", "就业率提高2%", (0.0, 0.0, 1.0, 0.0)),
        ("建多少张床位", "新建床位300个", (0.0, 0.0, 1.0, 0.0)),
        # The unit may name what is counted just before the figure, not after a word (亩产).
        ("接待了多少人次", "医疗旅游人次86.5万", (0.0, 1.0, 0.0, 0.0)),
        ("种了多少亩", "亩产500公斤", (0.0, 0.0, 1.0, 0.0)),
    ],
)
def test_number_fit(question, span, fit):
    assert _number_fit(detect_intent(question), span) == fit


@pytest.mark.parametrize(
    ("question", "span", "said"),
    [
        (
            "新认定多少家高新技术企业",
            "新认定高新技术企业680家、专精特新企业120家",
            "新认定高新技术企业680家",
        ),
        (
            "改造多少户老旧小区、多少公里管网",
            "改造老旧小区10万户、管网1000公里",
            "改造老旧小区10万户、管网1000公里",
        ),
        ("新增多少养老床位", "一是新增养老床位2000张", "新增养老床位2000张"),
    ],
)
def test_finish_keeps_the_asked_list_item_whole(question, span, said):
    terms = {"高新技术": 3.0, "企业": 1.0, "老旧小区": 3.0, "管网": 3.0, "养老床位": 3.0}
    asked = {t: w for t, w in terms.items() if t in question}
    assert finish(span, asked, detect_intent(question)) == said


def _passages(sections: list[str]) -> list[Passage]:
    return [Passage("d", "正文。", s, i, 0, 3, ((0, 3),)) for i, s in enumerate(sections)]


@pytest.mark.parametrize(
    ("sections", "parts"),
    [
        (
            [
                "一、2025年工作回顾",
                "二、“十五五”时期主要目标任务",
                "三、2026年重点工作",
                "四、加强政府自身建设",
            ],
            ["review", "outlook", "plan", "plan"],
        ),
        (["", "二、2026年工作安排", "三、全面加强政府自身建设"], ["review", "plan", "plan"]),
        (["一、工作回顾", "二、2026年工作安排"], ["review", "plan"]),
        (["一、2025年和“十四五”时期工作回顾", "二、关于2026年工作"], ["review", "plan"]),
        # A plan period's first year "开好局、起好步": this year's work, though it names the plan.
        (
            [
                "一、一年接着一年干，建设取得新成效",
                "二、全力推动“十五五”开好局、起好步",
                "三、一以贯之转作风",
            ],
            ["review", "plan", "plan"],
        ),
    ],
)
def test_report_parts(sections, parts):
    docs = {"d": Document("d", "t", 2026, "某省", "d.txt", "h")}
    assert report_parts(_passages(sections), docs) == parts


@pytest.mark.parametrize(
    ("question", "part", "match"),
    [
        ("去年地区生产总值增长了多少", "review", 1.0),
        ("去年地区生产总值增长了多少", "plan", -1.0),
        ("今年地区生产总值预期增长多少", "plan", 1.0),
        ("今年地区生产总值预期增长多少", "outlook", -0.5),
        ("地区生产总值", "plan", 0.0),
    ],
)
def test_tense_match(question, part, match):
    passage = _passages(["x"])[0]
    hit = Hit(passage, Document("d", "t", 2026, "某省", "d.txt", "h"), 0, 0, 0, (), part)
    assert _tense_match(detect_intent(question), hit) == match


@pytest.mark.parametrize(
    ("question", "span", "other"),
    [
        # One year's figure asked: a yearly average over five years is another period's.
        ("去年固定资产投资增长了多少", "固定资产投资年均增长6.3%", True),
        ("2025年地区生产总值增长多少", "地区生产总值增长5.4%", False),
        # Asked about several years, the average answers.
        ("“十四五”期间地区生产总值年均增长多少", "地区生产总值年均增长5.7%", False),
        ("过去五年平均每年增长多少", "年均增长5.7%", False),
        # Not a figure question: the sentence may still describe the period.
        ("过去五年有哪些成就", "年均增长5.7%", False),
    ],
)
def test_other_period(question, span, other):
    assert _other_period(detect_intent(question), span) is other


_TOTAL = "打通50条断头路，新增信号灯联网1000处、累计达8000处"


@pytest.mark.parametrize(
    ("question", "sentence", "span", "match"),
    [
        # One year asked, a five-year review sentence: another period.
        (
            "去年的经济总量有多大",
            "地区生产总值连跨两个万亿元台阶，年均增长5.7%",
            "年均增长5.7%",
            -1.0,
        ),
        ("2025年粮食产量多少", "粮食产量累计达到1.2亿吨", "粮食产量累计达到1.2亿吨", -1.0),
        # A running total is of its own clause: the sentence's other clauses are this year's.
        ("今年要打通多少条断头路", _TOTAL, "打通50条断头路", 0.0),
        ("今年信号灯联网要达到多少处", _TOTAL, "新增信号灯联网1000处、累计达8000处", -1.0),
        # Several years asked: the review sentence is the right period.
        ("过去五年地区生产总值年均增长多少", "地区生产总值年均增长5.7%", "年均增长5.7%", 1.0),
        # A sentence about one year says nothing either way.
        ("去年的经济总量有多大", "全省地区生产总值5.3万亿元、增长5.5%", "5.3万亿元", 0.0),
        # No figure asked: 十四五 names the plan, it is no period's figure.
        ("2025年是哪个规划的收官之年", "2025年是“十四五”规划收官之年", "2025年", 0.0),
    ],
)
def test_period_match(question, sentence, span, match):
    assert _period_match(detect_intent(question), sentence, span) == match


@pytest.mark.parametrize(
    ("term", "text", "share"),
    [
        ("规上", "规模以上工业增加值增长9.5%", 1.0),  # a short form stands for the long one
        ("规模以上", "规上工业企业新增100户", 1.0),
        ("规上", "工业增加值增长9.5%", 0.0),
    ],
)
def test_short_forms_count_as_present(term, text, share):
    assert presence(term, text) == share


@pytest.mark.parametrize(
    ("question", "span", "value"),
    [
        ("今年规上工业增加值增长多少", "规模以上工业增加值增长6%左右", 1.0),
        ("去年规上工业增加值实际增长了多少", "规模以上工业增加值增长9.5%", 0.0),
        ("去年规上工业增加值实际增长了多少", "力争增长6%以上", -1.0),
    ],
)
def test_target_words_are_not_firm_classes(question, span, value):
    assert _target_words(detect_intent(question), span) == value


@pytest.mark.parametrize(
    ("similarities", "expected"),
    [
        ([], 0.0),  # nothing retrieved: nothing stands out
        ([0.8], 0.0),  # alone, it leads nothing
        ([0.5, 0.9], 0.4),  # fewer than ten: measured against the last, in any order
        ([0.9, *[0.8] * 8, 0.7, 0.1], 0.2),  # against the tenth closest, not the last
        ([0.9, 0.9, 0.9, *[0.5] * 9], 0.4),  # a passage's own close sentences are no rivals
    ],
)
def test_lead_is_the_closest_minus_the_tenth_closest(similarities, expected):
    assert lead(similarities) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("新增养老床位2000张、增长5.5%", ["2000", "5.5%"]),
        ("构建西北部远郊百万亩生态屏障", ["百万"]),  # Chinese numerals before a unit
        ("投资三千亿元", ["三千亿"]),
        ("出台十二条措施", ["十二"]),
        ("一年来，一期工程顺利推进", []),  # 一年, 一期: words, not figures
        ("万众一心推进一体化", []),
        ("新建一批学校，迈出一大步", []),  # 一批, 一大: no count
        ("培育十大产业", ["十"]),
    ],
)
def test_numbers(text, figures):
    assert [m.group() for m in numbers(text)] == figures


@pytest.mark.parametrize(
    ("question", "text", "holds"),
    [
        ("今年要新建多少个充电桩", "加密布局大功率充电设施", False),
        ("今年要新建多少个充电桩", "新建充电桩2000个", True),
        ("生态屏障有多大", "构建百万亩生态屏障", True),
        ("雄忻高铁几月份通车", "推动雄忻高铁等项目建设", False),
        ("雄忻高铁几月份通车", "雄忻高铁年底建成通车", True),
        ("消费节哪天开幕", "9月20日开幕", True),
        ("今年有哪些重点工作", "扎实推进乡村全面振兴", True),  # asks no figure
    ],
)
def test_holds_asked(question, text, holds):
    assert holds_asked(text, detect_intent(question)) is holds


@pytest.mark.parametrize(
    ("head", "span", "names"),
    [
        ("攻坚战", "坚决打好国有企业提质增效攻坚战", True),
        ("行业", "确保所有行业税负只减不增", False),
        ("企业", "支持各类企业创新", False),
        ("企业", "培育专精特新企业，支持各类企业创新", True),
        ("园区", "建设一批产业园区", True),
    ],
)
def test_a_span_names_the_kind_asked_when_it_says_which_one(head, span, names):
    from assistant.answering import _names

    assert _names(head, span) is names


@pytest.mark.parametrize(
    ("said", "sentence", "listed"),
    [
        # the span names the thing, another clause lists them: both
        (
            "实施“人工智能+”行动",
            "实施“人工智能+”行动，扩大在工业、科研、教育、医疗等领域融合应用。",
            "实施“人工智能+”行动，扩大在工业、科研、教育、医疗等领域融合应用",
        ),
        # a list already, even of two
        (
            "规划布局空天信息、零碳煤基能源等未来产业",
            "推动低空设施、保障设施与场景一体布局，规划布局空天信息、零碳煤基能源等未来产业。",
            "规划布局空天信息、零碳煤基能源等未来产业",
        ),
        # no clause of three items or more
        ("建设国家中心城市", "建设国家中心城市，打造科技、产业高地。", "建设国家中心城市"),
        # past a line: the list alone
        (
            "甲" * 60,
            "甲" * 60 + "，" + "乙" * 30 + "，覆盖工业、科研、教育。",
            "覆盖工业、科研、教育",
        ),
    ],
)
def test_a_which_answer_keeps_the_list_of_its_sentence(said, sentence, listed):
    assert _with_list(said, sentence) == listed


@pytest.mark.parametrize(
    ("text", "units", "held"),
    [
        ("力争新增规上工业企业100户", ("家",), True),  # firms in 家 or 户
        ("新认定高新技术企业680家", ("户",), True),
        ("新建公办幼儿园10所", ("家",), False),
        ("新建公办幼儿园10所", ("个",), True),  # 个 takes any count
    ],
)
def test_measure_words_of_the_same_things(text, units, held):
    assert has_unit(text, units) is held
