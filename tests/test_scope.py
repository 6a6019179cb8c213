"""The scope of a question, rule by rule: region keys, the place that is the scope, the
words that name the report and its year, relative years, colloquial names, the page's
filter, places held near an unknown one; and an index of district reports."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import answer
from assistant.question import clean_question
from assistant.regions import held_regions, parts, region_key
from assistant.scope import find_scope, search_plan
from assistant.types import ReportFilter
from index import vocab
from index.model import Document
from tests.conftest import DATA, lenient_answer_model

ROOT = Path(__file__).resolve().parents[1]


def _doc(region: str, year: int | None) -> Document:
    return Document(f"{region}-{year}", f"{year}年{region}政府工作报告", year, region, "x", "h")


_NOT_HELD = ("台湾省", "香港特别行政区", "澳门特别行政区")
# The 34 reports of the public sets: Taiyuan, the national ones, every province's of 2026.
PROVINCIAL = [
    _doc("太原市", 2025),
    _doc("全国", 2024),
    _doc("全国", 2025),
    *(_doc(full, 2026) for full, _ in vocab.PROVINCES if full not in _NOT_HELD),
]
# Real district files name their district with or without its city, a city and its districts.
DISTRICTS = [
    _doc("海拉尔区", 2016),
    _doc("海拉尔区", 2017),
    _doc("呼伦贝尔市海拉尔区", 2019),
    _doc("深圳市南山区", 2018),
    _doc("深圳市福田区", 2018),
]


def plan(question, documents=PROVINCIAL, within=None):
    return search_plan(clean_question(question), documents, within)


# ---------------------------------------------------------------- region keys


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("深圳市南山区", "南山区"),
        ("南山区", "南山区"),
        ("呼伦贝尔市海拉尔区", "海拉尔区"),
        ("海拉尔区", "海拉尔区"),
        ("山西省太原市小店区", "小店区"),
        ("山西省太原市", "太原市"),
        ("太原", "太原市"),
        ("北京", "北京市"),
        ("京城", "北京市"),
        ("内蒙古", "内蒙古自治区"),
        ("济南市市中区", "市中区"),  # a district whose name starts with a suffix
        ("苏州市吴中区", "吴中区"),  # 苏州 | 市吴中区 is no cut
        ("沙市区", "沙市区"),  # 沙市 | 区 is no cut: 区 alone is no region
        ("阿拉善盟阿拉善左旗", "阿拉善左旗"),
        ("国务院", "全国"),
    ],
)
def test_a_region_has_one_key_however_it_is_named(name, key):
    assert region_key(name) == key


def test_a_name_is_cut_into_its_levels():
    assert parts("内蒙古自治区呼伦贝尔市海拉尔区") == ("内蒙古自治区", "呼伦贝尔市", "海拉尔区")


def test_held_regions_do_not_depend_on_the_order_of_the_reports():
    first = held_regions(DISTRICTS + PROVINCIAL)
    for seed in range(5):
        shuffled = DISTRICTS + PROVINCIAL
        random.Random(seed).shuffle(shuffled)
        assert held_regions(shuffled) == first
    hailar = next(r for r in first if r.key == "海拉尔区")
    assert hailar.name == "呼伦贝尔市海拉尔区"  # the fullest name the reports give
    assert hailar.parents == ("内蒙古自治区", "呼伦贝尔市")


_PROBE = """
import json, random, sys
from assistant.regions import held_regions
from assistant.scope import search_plan
from tests.test_scope import DISTRICTS, PROVINCIAL
docs = DISTRICTS + PROVINCIAL
random.Random(int(sys.argv[1])).shuffle(docs)
out = [repr(held_regions(docs))]
for q in ("海拉尔区2016年地区生产总值预期目标是多少", "呼伦贝尔市海拉尔区2017年新建多少公园",
          "南山2018年地区生产总值增长多少", "深圳市南山区2018年新建多少公园"):
    p = search_plan(q, docs)
    out.append([p.refusal, [sorted(d.doc_id for d in a.docs) for a in p.attempts]])
print(json.dumps(out, ensure_ascii=False))
"""


def test_scope_is_the_same_in_every_process():
    # PYTHONHASHSEED differs per process: sets of strings iterate in another order.
    outputs = set()
    for seed in ("0", "1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", _PROBE, seed],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    _, *plans = json.loads(outputs.pop())
    assert all(refusal is None and attempts for refusal, attempts in plans)


# ---------------------------------------------------------------- districts and cities


@pytest.mark.parametrize(
    ("question", "region", "refusal"),
    [
        ("海拉尔区2016年地区生产总值目标是多少", "呼伦贝尔市海拉尔区", None),
        ("呼伦贝尔市海拉尔区2016年地区生产总值目标是多少", "呼伦贝尔市海拉尔区", None),
        ("海拉尔2019年新建多少公园", "呼伦贝尔市海拉尔区", None),
        ("深圳市南山区2018年新建多少公园", "深圳市南山区", None),
        ("南山区2018年新建多少公园", "深圳市南山区", None),
        ("南山2018年新建多少公园", "深圳市南山区", None),
        # A city of which only districts are held: told which, not "没有深圳市的报告".
        ("深圳市2018年新建多少公园", None, "索引中没有深圳市本级的报告；收录了其下辖的"),
        ("2016年海拉尔区新建多少公园", "呼伦贝尔市海拉尔区", None),
        ("2015年海拉尔区新建多少公园", "呼伦贝尔市海拉尔区", None),  # the 2016 review
        ("2014年海拉尔区新建多少公园", "呼伦贝尔市海拉尔区", "没有2014年呼伦贝尔市海拉尔区的报告"),
    ],
)
def test_a_district_is_one_region_with_or_without_its_city(question, region, refusal):
    p = plan(question, DISTRICTS)
    assert p.scope.region == region
    assert (p.refusal or "").startswith(refusal or "") and bool(p.refusal) == bool(refusal)


@pytest.mark.parametrize(
    ("question", "docs", "which"),
    [
        ("深圳市2018年新建多少公园", DISTRICTS, "请指明问的是哪个区县"),
        ("山西今年新建多少公园", [_doc("太原市", 2025)], "请指明问的是哪个地区"),  # a city
    ],
)
def test_a_region_held_only_by_the_places_in_it_asks_which(question, docs, which):
    assert which in (plan(question, docs).refusal or "")


def test_a_city_question_does_not_take_a_districts_report():
    docs = [*DISTRICTS, _doc("深圳市", 2018)]
    p = plan("深圳2018年新建多少公园", docs)
    assert p.refusal is None
    assert {d.region for a in p.attempts for d in a.docs} == {"深圳市"}
    assert "南山区" in plan("深圳市南山区2018年新建多少公园", docs).scope.region


# ---------------------------------------------------------------- the scope and the topic


@pytest.mark.parametrize(
    ("question", "region", "kept"),
    [
        ("天津今年要重点对接北京的哪些资源？", "天津市", "北京"),
        ("从太原坐高铁去上海，规划里要路过哪儿", "太原市", "上海"),
        ("江苏今年打算推动哪个城市和上海同城化发展？", "江苏省", "上海"),
        ("广东今年要和香港一起开发建设什么？", "广东省", "香港"),
        ("福建今年要和台湾在哪些领域加强合作？", "福建省", "台湾"),
        ("重庆今年和四川要提质建设哪些合作平台？", "重庆市", "四川"),
        ("河北今年想在承接北京科技成果上打造成什么？", "河北省", "北京"),
        ("今年北京和天津合作建设哪些项目", "北京市", "天津"),
        ("广东深圳今年GDP目标", "广东省", "深圳"),  # adjacent places are one: 深圳 in 广东
    ],
)
def test_a_place_mentioned_in_the_topic_is_not_the_scope(question, region, kept):
    p = plan(question)
    assert p.refusal is None and p.scope.region == region
    assert all(kept in a.query for a in p.attempts)  # the mentioned place stays in the topic


# ---------------------------------------------------------------- colloquial names


@pytest.mark.parametrize(
    ("question", "region"),
    [
        ("沪上今年要新增多少个家门口养老服务站？", "上海市"),
        ("京城今年要新建多少个充电桩？", "北京市"),
        ("粤今年要新增多少个普通高中学位？", "广东省"),
        ("申城今年城镇新增就业目标是多少", "上海市"),
        ("津门今年要建多少公园", "天津市"),
        ("川今年粮食产量目标", "四川省"),
        ("鹏城今年GDP目标", "广东省"),  # 深圳, inside the province held
        ("宁夏今年普通高中升学率要提高到多少？", "宁夏回族自治区"),
        ("新疆今年外贸进出口要增长多少？", "新疆维吾尔自治区"),
        ("新建多少个充电桩", None),  # 新 starts a word: no province
        ("云计算今年有哪些项目", None),
    ],
)
def test_colloquial_and_short_names(question, region):
    p = plan(question)
    assert p.scope.region == region
    if region:
        assert not any(word in a.query for a in p.attempts for word in ("沪上", "京城", "粤"))


# ---------------------------------------------------------------- years


@pytest.mark.parametrize(
    ("question", "year", "report_years", "query_has", "query_lacks"),
    [
        # Words that name the report set it, and leave the topic.
        ("国务院2024年的政府工作报告里，去年全国粮食产量是多少？", 2023, [2024], "去年", "报告"),
        ("2025年报告中2024年全国粮食产量是多少", 2024, [2025], "去年", "报告"),
        ("全国去年（2024年）粮食产量是多少？2025年的报告里咋说的", 2024, [2025], "去年", "咋说"),
        ("国务院2025年政府工作报告回顾2024年时说，当年粮食产量是多少", 2024, [2025], "去年", "回"),
        # Y年…目标: the plan of Y.
        ("2024年全国赤字率目标是多少", 2024, [2024], "今年", "2024"),
        # Relative years count from the report's year.
        ("山东明年要建成哪条高铁？", 2027, [2026], "2027年", "明年"),
        ("山东后年要建成哪条高铁？", 2028, [2026], "2028年", "后年"),
        ("全国前年粮食产量是多少", 2023, [2024], "去年", "前年"),
        ("国务院2025年政府工作报告里，上一年粮食产量是多少", 2024, [2025], "去年", "上一年"),
        ("2025年政府工作报告里，前一年全国粮食产量是多少", 2024, [2025], "去年", "前一年"),
        ("2025年国家报告里赤字率定为多少", 2025, [2025], "赤字率", "报告"),
    ],
)
def test_report_and_year_words(question, year, report_years, query_has, query_lacks):
    p = plan(question)
    assert p.refusal is None, p.refusal
    assert p.scope.year == year
    first = p.attempts[0]
    assert sorted({d.year for d in first.docs}) == report_years
    assert query_has in first.query and query_lacks not in first.query


def test_a_named_report_the_index_lacks_is_refused():
    p = plan("国务院2023年的政府工作报告里，去年粮食产量是多少？")
    assert p.refusal and "2023" in p.refusal and not p.attempts


# ---------------------------------------------------------------- the page's filter


@pytest.mark.parametrize(
    ("question", "region", "told"),
    [
        ("上海今年城镇新增就业目标是多少", "北京", "问题问的是上海市，但查找范围限定为北京市"),
        ("上海今年城镇新增就业目标是多少", "北京市", "问题问的是上海市，但查找范围限定为北京市"),
        ("北京今年城镇新增就业目标是多少", "北京", ""),
        ("城镇新增就业目标是多少", "北京", ""),
        ("天津今年要对接北京的哪些资源", "天津", ""),
        ("深圳今年GDP目标", "广东省", ""),  # a place inside the filter's region
        ("苏州今年GDP目标", "北京", "问题问的是苏州市，但查找范围限定为北京市"),
    ],
)
def test_a_filter_and_a_named_place_that_disagree_are_told_so(question, region, told):
    p = plan(question, within=ReportFilter(region=region))
    if told:
        assert p.refusal.startswith(told) and "没有上海" not in p.refusal
    else:
        assert p.refusal is None
        assert {d.region for a in p.attempts for d in a.docs} <= {region_key(region), "广东省"}


def test_a_filter_takes_short_names():
    p = plan("城镇新增就业目标是多少", within=ReportFilter(region="北京"))
    assert [d.region for d in p.reports] == ["北京市"]


# ---------------------------------------------------------------- unknown places


@pytest.mark.parametrize(
    ("question", "documents", "said"),
    [
        # 拉萨 inside a held region: that region's passages about 拉萨, and if none, say so.
        ("拉萨今年要建多少学校", PROVINCIAL, None),
        ("拉萨今年要建多少学校", [_doc("全国", 2025), _doc("四川省", 2026)], "已收录"),
        ("福田区2018年新建多少公园", [_doc("深圳市南山区", 2018)], "同市已收录：深圳市南山区"),
        ("澳门今年要建多少套公共房屋", PROVINCIAL, "索引中没有澳门特别行政区的报告"),
    ],
)
def test_an_unknown_place_names_what_is_held_nearby(question, documents, said):
    p = plan(question, documents)
    if said is None:
        assert p.scope.region == "西藏自治区" and p.scope.place == "拉萨市"
        assert "拉萨市" in p.nothing_found("学校") and "西藏自治区" in p.nothing_found("学校")
    else:
        assert p.refusal and said in p.refusal


def test_find_scope_reads_the_scope_words_out_of_the_topic():
    scope = find_scope("山西去年（2025年）一共来了多少游客？2026年的报告里咋说的", PROVINCIAL)
    assert (scope.region, scope.year, scope.report_year) == ("山西省", 2025, 2026)
    assert "2026" not in scope.text and "报告" not in scope.text


# ---------------------------------------------------------------- an index of districts


@pytest.fixture(scope="module")
def districts(tmp_path_factory):
    from index import Settings, build_index
    from tests.conftest import CountingFakeEmbeddings

    folder = tmp_path_factory.mktemp("districts")
    files = sorted((DATA / "districts").iterdir())
    for path in files:
        shutil.copy(path, folder / path.name)
    home = tmp_path_factory.mktemp("districts-home")
    settings = Settings(
        home=home,
        cache_dir=Settings.from_env().cache_dir,
        embedding_cache=home / "embedding-cache",  # not the user's: a module's own
    )
    embeddings = CountingFakeEmbeddings(size=64, calls=[])
    report = build_index([folder], settings=settings, embeddings=embeddings)
    assert len(report.added) == len(files) and not report.failed
    return settings, embeddings


@pytest.mark.parametrize(
    ("question", "expect", "region", "year"),
    [
        ("海拉尔区2016年地区生产总值增长目标是多少", "7.5%", "海拉尔区", 2016),
        ("呼伦贝尔市海拉尔区2017年地区生产总值增长目标是多少", "7%", "海拉尔区", 2017),
        ("海拉尔区2019年地区生产总值增长目标是多少", "6.5%", "呼伦贝尔市海拉尔区", 2019),
        ("深圳市南山区2018年地区生产总值增长目标是多少", "9%", "深圳市南山区", 2018),
        ("南山区2018年新建多少个城市公园", "8个", "深圳市南山区", 2018),
        ("深圳2018年地区生产总值增长目标是多少", "8.5%", "深圳市", 2018),
        ("深圳市2018年新建多少个城市公园", "50个", "深圳市", 2018),
    ],
)
def test_district_reports_answer_however_the_district_is_named(
    districts, question, expect, region, year
):
    settings, embeddings = districts
    model = lenient_answer_model()
    a = answer(question, settings=settings, embeddings=embeddings, answer_model=model)
    assert a.found, a.text
    assert expect in a.text
    assert (a.citations[0].region, a.citations[0].year) == (region, year)


# ---------------------------------------------------------------- follow-ups


@pytest.mark.parametrize(
    ("history", "question", "standalone"),
    [
        # The region of the answer before is kept when neither question names one.
        (
            [("今年新增多少养老床位", "北京市（2026年）：新增家庭养老床位5000张[1]。")],
            "那医疗床位呢",
            "北京市今年新增多少医疗床位",
        ),
        # Several regions answered: none is picked for the follow-up.
        (
            [("今年新增多少养老床位", "北京市（2026年）：5000张[1]；上海市（2026年）：3000张[2]")],
            "那医疗床位呢",
            "今年新增多少医疗床位",
        ),
        # A colloquial name is switched like any other.
        ([("京城今年要新建多少个充电桩", "3万个[1]")], "那上海呢", "上海今年要新建多少个充电桩"),
        # Region and year carry over unless switched.
        ([("2024年全国赤字率是多少", "3%[1]")], "那专项债呢", "2024年全国专项债是多少"),
        ([("2025年全国赤字率是多少", "4%[1]")], "那2024年呢", "2024年全国赤字率是多少"),
    ],
)
def test_a_followup_keeps_the_scope_of_the_turn_before(history, question, standalone):
    from assistant.followup import rewrite_followup

    known = [d.region for d in PROVINCIAL]
    assert rewrite_followup(question, history, known_regions=known) == standalone


@pytest.mark.parametrize(
    ("question", "region"),
    [
        ("山西中部城市群今年加快推进哪些高速公路建设？", None),  # the group, not 山西's report
        ("太原都市圈今年有什么打算", None),
        ("山西今年在中部城市群上有什么打算", "山西省"),  # 山西 names the report
        ("太原今年城市群建设有什么打算", "太原市"),
    ],
)
def test_a_group_of_places_named_by_one_of_them_is_no_scope(question, region):
    p = plan(question)
    assert p.refusal is None and p.scope.region == region


@pytest.mark.parametrize(
    ("question", "query", "tense"),
    [
        # a year named with no word of plan or result: as the report searched reads it
        ("浙江2025年地区生产总值增长多少", "去年地区生产总值增长多少", "result"),
        ("浙江2026年地区生产总值增长多少", "今年地区生产总值增长多少", "target"),
        # the question's own word of plan or result stands
        ("浙江2025年地区生产总值增长目标是多少", "去年地区生产总值增长目标是多少", "target"),
    ],
)
def test_a_named_year_is_read_as_the_report_searched_reads_it(question, query, tense):
    from assistant.answering import _as_read
    from assistant.question import detect_intent

    assert _as_read(detect_intent(question), query).tense == tense
