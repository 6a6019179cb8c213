"""Reading the question, step by step: normalisation, intent, tense and scope (no index)."""

from __future__ import annotations

import pytest

from assistant.question import clean_question, detect_intent, everyday_to_report
from assistant.regions import region_key
from assistant.scope import find_scope, scope_message, scoped_attempts, strip_scope
from index import vocab
from index.model import Document

DOCS = [
    Document(str(i), f"{year}年{region}政府工作报告", year, region, f"{i}.txt", "h")
    for i, (region, year) in enumerate(
        [
            ("全国", 2024),
            ("全国", 2025),
            ("广东省", 2026),
            ("太原市", 2025),
            ("内蒙古自治区", 2026),
            ("广西壮族自治区", 2026),
            ("太原市小店区", 2024),
        ]
    )
]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("廣東去年經濟增長了多少？", "广东去年经济增长了多少?"),
        ("请问一下，四川今年城镇新增就业的目标是多少呀？", "四川今年城镇新增就业的目标是多少?"),
        (
            "根据报告，江西今年力争有效期内高新技术企业达到多少家？",
            "江西今年力争有效期内高新技术企业达到多少家?",
        ),
        (
            "在2026年的浙江省政府工作报告中，研发投入强度力争达到多少？",
            "浙江省2026年报告里，研发投入强度力争达到多少?",
        ),
        ("麻烦帮我查一下，2025年全国拟安排的专项债券是多少？", "2025年全国拟安排的专项债券是多少?"),
        ("听说贵州要给农村学校装暖气，真的吗？有多少所啊？", "贵州要给农村学校装暖气?有多少所?"),
        ("河南今年高标准农田要弄多少亩啊？", "河南今年高标准农田要弄多少亩?"),
        ("那湖南呢？", "那湖南呢?"),  # 呢 marks a follow-up: it stays
        ("今年新增多少养老床位🙂\x07", "今年新增多少养老床位"),
        ("\x1b[31m今年新增多少养老床位\x1b[0m", "今年新增多少养老床位"),  # terminal colours
        # a year in a report wrapper still names the report: the period reads it so
        ("国务院2025年政府工作报告把赤字率定为多少？", "国务院2025年报告里，把赤字率定为多少?"),
        ("根据2025年全国政府工作报告，赤字率是多少", "全国2025年报告里，赤字率是多少"),
        # an interjection that opens speech
        ("嗯，2025年全国赤字率是多少", "2025年全国赤字率是多少"),
        ("呃那个养老床位新增多少", "那个养老床位新增多少"),
        ("额外的养老补贴有多少", "额外的养老补贴有多少"),
    ],
)
def test_clean_question(raw, clean):
    assert clean_question(raw) == clean


@pytest.mark.parametrize(
    ("question", "kind", "units", "tense", "figures"),
    [
        ("今年新增多少养老床位", "number", (), "target", 1),
        ("养老床位增加几张", "number", ("张",), "", 1),
        ("去年地区生产总值增长了多少", "number", ("%",), "result", 1),
        ("2024年居民消费价格实际上涨了多少", "number", ("%",), "result", 1),
        ("2024年常住人口城镇化率提高到了多少", "number", ("%",), "result", 1),
        ("一般公共预算收入的增长目标是多少", "number", (), "target", 1),
        ("要改造多少户城镇老旧小区、多少公里市政管网", "number", ("户", "公里"), "target", 2),
        ("主要抓好哪些工作", "overview", (), "", 1),  # several sentences answer it
        # 规模, 比例 … are a topic here: the question asks which, and no word asks a number
        ("太原要推动哪些企业冲刺百亿规模", "entity", (), "target", 1),
        ("哪几个城市的经济规模超过万亿元", "entity", (), "", 1),
        ("哪个行业的投资规模有多大", "number", (), "", 1),
        ("增速目标是什么", "number", ("%",), "target", 1),
        # "respectively" asks one figure for each thing named
        ("新增规上工业企业和四上企业的目标分别是多少户", "number", ("户",), "target", 2),
        ("去年城镇和农村居民收入各增长了多少", "number", ("%",), "result", 2),
        ("各地新增多少个口袋公园", "number", ("个",), "", 1),
        # "…了多少" asks what was done, unless a plan word says otherwise
        ("我国2024年城镇新增就业了多少人", "number", ("人",), "result", 1),
        ("今年的目标定了多少", "number", (), "target", 1),
        ("老小区没电梯政府管不管", "yesno", (), "", 1),
        ("太原的城市定位", "statement", (), "", 1),
    ],
)
def test_detect_intent(question, kind, units, tense, figures):
    intent = detect_intent(question)
    assert (intent.kind, intent.units, intent.tense, intent.figures) == (
        kind,
        units,
        tense,
        figures,
    )


@pytest.mark.parametrize(
    ("question", "kind", "when"),
    [
        ("地铁新线今年哪天开通", "entity", True),
        ("高铁几月份能通车", "entity", True),
        ("他卒于哪一年", "entity", True),
        ("什么时候开工", "entity", True),
        ("几年能建成", "number", False),  # how long, not when
        ("今年新增多少养老床位", "number", False),
    ],
)
def test_detect_intent_when(question, kind, when):
    intent = detect_intent(question)
    assert (intent.kind, intent.when) == (kind, when)


@pytest.mark.parametrize(
    ("question", "region", "year", "unknown"),
    [
        ("太原今年新增多少养老床位", "太原市", None, ""),
        ("广西去年粮食产量是多少", "广西壮族自治区", None, ""),
        ("内蒙古今年粮食产量要超过多少", "内蒙古自治区", None, ""),
        ("我国2024年新能源汽车年产量突破了多少", "全国", 2024, ""),
        ("国务院2025年报告把赤字率定为多少", "全国", 2025, ""),
        ("国家级高新区有多少", None, None, ""),  # 国家级 is no region
        ("这部电影是哪个国家拍的", None, None, ""),  # any country, not ours
        ("其他国家怎么做", None, None, ""),
        ("发展中国家有多少", None, None, ""),
        ("我们国家今年GDP目标", "全国", None, ""),
        ("小店区今年新建多少公园", "太原市小店区", None, ""),
        ("太原市小店区今年新建多少公园", "太原市小店区", None, ""),  # one region either way
        ("山西省太原市今年新增多少养老床位", "太原市", None, ""),
        ("澳门今年要建多少套公共房屋", None, None, "澳门特别行政区"),
        ("苏州市2026年工业增加值要增长多少", None, 2026, "苏州市"),
        ("深圳今年GDP目标", "广东省", None, ""),  # only 广东省's passages that name 深圳
        ("广东深圳今年GDP目标", "广东省", None, ""),  # the province's report, about 深圳
        ("万柏林区3月1日召开了什么会议", "太原市", None, ""),  # a district of a held city
        ("老城区今年改造多少个", None, None, ""),  # a county name that is an everyday word
        ("今年新增多少养老床位", None, None, ""),
    ],
)
def test_find_scope(question, region, year, unknown):
    scope = find_scope(question, DOCS)
    assert (scope.region, scope.year, scope.unknown_region) == (region, year, unknown)


@pytest.mark.parametrize(
    ("question", "place"),
    [("广东深圳今年GDP目标", "深圳市"), ("万柏林区召开了什么会议", "万柏林区"), ("太原今年", "")],
)
def test_a_place_inside_a_held_region_must_be_named_by_the_answer(question, place):
    assert find_scope(question, DOCS).place == place


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("澳门今年要建多少套公共房屋", "索引中没有澳门特别行政区的报告。已收录："),
        ("2026年我国新增政府债务总规模是多少", "没有2026年全国的报告，最近的是2025年。"),
        ("2023年广东省社零增长目标是多少", "没有2023年广东省的报告，最近的是2026年。"),
        ("2024年全国赤字率是多少", ""),
        ("2023年全国国内生产总值增长了多少", ""),  # the 2024 report reviews 2023
        ("广东今年GDP目标", ""),
    ],
)
def test_scope_message(question, message):
    said = scope_message(find_scope(question, DOCS), DOCS)
    assert said.startswith(message) and bool(said) == bool(message)


def test_an_index_with_documents_of_no_year_does_not_refuse_unknown_years():
    docs = [*DOCS, Document("x", "某文章", None, "", "x.txt", "h")]
    assert scope_message(find_scope("1994年他加盟了什么队", docs), docs) == ""
    assert scope_message(find_scope("1994年他加盟了什么队", DOCS), DOCS).startswith("索引中没有")


def test_an_index_with_documents_of_no_region_does_not_refuse_unknown_places():
    docs = [*DOCS, Document("x", "广州塔", None, "", "x.txt", "h")]
    assert scope_message(find_scope("香港今年GDP目标", docs), docs) == ""


@pytest.mark.parametrize(
    ("region", "key"),
    [
        ("太原市小店区", "小店区"),
        ("山西省太原市", "太原市"),
        ("内蒙古自治区", "内蒙古自治区"),
        ("全国", "全国"),
    ],
)
def test_region_key(region, key):
    assert region_key(region) == key


def test_strip_scope_reads_the_year_as_the_report_says_it():
    scope = find_scope("2023年全国GDP增长了多少", DOCS)
    assert strip_scope("2023年全国GDP增长了多少", scope, "去年") == "去年生产总值增长了多少"


@pytest.mark.parametrize(
    ("question", "expect"),
    [
        ("GDP增长目标是多少", "生产总值增长目标是多少"),
        ("老小区加装电梯", "老旧小区加装电梯"),
        ("旧小区改造几个", "老旧小区改造几个"),
        ("物价涨幅控制在多少", "居民消费价格控制在多少"),
        ("科研投入增长多少", "研发经费投入增长多少"),
        ("老年痴呆的人有地方住吗", "认知障碍的人有地方住吗"),
        ("没了工作的职工有补贴吗", "失业人员有补贴吗"),
        ("下岗人员重新就业有多少", "失业人员再就业有多少"),
        ("退伍军人安置", "退役军人安置"),
        ("生孩子有补贴吗", "生育有补贴吗"),
        ("楼市怎么稳", "房地产市场怎么稳"),
        ("老城区堵车怎么办", "老城区交通拥堵怎么办"),
        ("暖气费", "供暖费"),
        ("看病报销", "就医报销"),
        ("看病难怎么解决", "看病难怎么解决"),  # the reports' own phrase
        ("看病就医", "看病就医"),
        ("退休金涨多少", "基本养老金涨多少"),
        ("规模以上的工厂新增多少家", "规模以上的工业企业新增多少家"),
        ("娃上学的事怎么安排", "教育的事怎么安排"),
        ("老年大学要多出多少个上学名额", "老年大学要新增多少个上学名额"),  # no child
        ("翻新多少公园", "改造多少公园"),
        ("老年大学要多出多少个学位", "老年大学要新增多少个学位"),
        ("多出来的钱怎么花", "多出来的钱怎么花"),  # no count after it
        ("怎么帮大家找工作", "怎么帮大家就业"),
        ("在太原做生意有啥支持", "在太原营商有啥支持"),
        ("怎么让老百姓愿意掏钱买东西", "怎么让老百姓愿意消费"),
        ("打算怎么吸引大家来玩", "打算怎么吸引大家旅游"),
        ("买了个玩具", "买了个玩具"),  # no outing
        ("对带娃的家庭有啥支持", "对托育的家庭有啥支持"),
        ("种地打粮这块有啥安排", "粮食生产这块有啥安排"),
        ("对困难户有啥帮扶", "对困难群众有啥帮扶"),
        ("政府欠债怎么防", "政府债务怎么防"),
    ],
)
def test_everyday_words_become_report_words(question: str, expect: str) -> None:
    assert everyday_to_report(question) == expect


@pytest.mark.parametrize("wording", sorted({w for _, w in vocab.EVERYDAY_TERMS}))
def test_report_words_stay_as_they_are(wording: str) -> None:
    # A question already in the report's words must not be rewritten ("老老旧小区").
    assert everyday_to_report(f"今年{wording}是多少") == f"今年{wording}是多少"


@pytest.mark.parametrize("question", ["研发投入强度达到多少", "全社会研发投入增长多少"])
def test_wordings_the_reports_use_are_kept(question: str) -> None:
    # Reports say 研发投入 as often as 研发经费投入: it is no everyday word to replace.
    assert everyday_to_report(question) == question


@pytest.mark.parametrize(
    ("question", "attempts"),
    [
        # The year's own report, the next one (it reviews the year), then undated documents.
        ("2024年全国赤字率是多少", [([2024], "今年"), ([2025], "去年"), ([None], "2024年")]),
        # A result is in the next report's review only, a target in the year's plan only.
        ("2024年全国赤字率实际是多少", [([2025], "去年"), ([None], "2024年")]),
        ("2024年全国赤字率目标是多少", [([2024], "今年"), ([None], "2024年")]),
        ("全国赤字率是多少", [([2025], ""), ([2024, 2025], "")]),
    ],
)
def test_scoped_attempts_try_undated_documents_last(question, attempts):
    undated = Document("u", "某文章", None, "全国", "u.txt", "h")
    docs = [*DOCS, undated]
    scope, intent = find_scope(question, docs), detect_intent(question)
    tried = scoped_attempts(scope, intent, docs)
    assert [([d.year for d in found if d is not undated] or [None], w) for found, w in tried] == [
        (years, w) for years, w in attempts
    ]


@pytest.mark.parametrize(
    ("question", "figures"),
    [
        ("今年要打造多少个精品示范村和提档升级村", 2),  # two things counted: a figure each
        ("新增多少家企业与个体工商户", 2),
        ("今年新增多少养老床位", 1),
        ("中小学和幼儿园要建多少所", 1),  # the things before the count: one figure of both
        ("免费给多少妇女查乳腺癌和宫颈癌", 1),  # whom it is done for, then what is done
    ],
)
def test_two_things_counted_at_once_ask_two_figures(question: str, figures: int) -> None:
    assert detect_intent(question).figures == figures
