"""A neighbour's figure is no answer: the checks of :mod:`assistant.nearmiss`, by kind."""

from __future__ import annotations

import pytest

from assistant.asked import Asked, asked, asked_object
from assistant.extract import Pick
from assistant.nearmiss import Mismatch, mismatch
from assistant.question import detect_intent
from assistant.related import closest, unstated
from assistant.retrieval import Hit
from index.model import Document, Passage

_KNOWN = {"医院", "床位", "养老", "学位", "幼儿园", "幼儿", "普通高中", "普通", "高中", "通高",
          "基础", "教育", "基础教育", "公办", "5g", "基站", "足球场", "电梯", "书房", "高速公路",
          "高速", "公路", "玉米", "种植", "面积", "光网", "城市", "北方", "取暖", "小微", "企业",
          "所得税", "上限", "减半"}  # fmt: skip


_RARE = {"加装", "多出"}  # verbs one passage in fifty holds: specific actions


def _idf(term: str) -> float:
    """An index that holds the words of _KNOWN (weight 3), rarely those of _RARE (6), and
    no other (9)."""
    return 3.0 if term in _KNOWN else 6.0 if term in _RARE else 9.0


def _pick(answer: str, part: str = "plan") -> Pick:
    doc = Document("d", "示例市2026年政府工作报告", 2026, "示例市", "d.txt", "0")
    passage = Passage("d", answer, "", 1, 0, len(answer), ((0, len(answer)),))
    return Pick(Hit(passage, doc, 1.0, 1.0, 1.0, (), part), answer, answer, 0.9)


def _reason(question: str, answer: str, held=None, part: str = "plan") -> str | None:
    """Why ``answer`` is no answer to ``question`` over reports that use the words ``held``
    admits (all, by default), or ``None``."""
    wanted = asked(question, _idf, held=held or (lambda word: True))
    why = mismatch(_pick(answer, part), detect_intent(question), wanted)
    return why and why.reason


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("北京今年要新增多少张医院床位？", "医院床位"),
        ("河南新增了多少个普通高中学位呢", "普通高中学位"),
        ("今年新增多少养老床位", "养老床位"),
        ("新增多少亿元的投资", "投资"),
        ("社会消费品零售总额达到了多少亿元？", ""),  # the thing is before the count
        ("今年要培训多少人次", ""),
        ("GDP增长目标是多少", ""),
    ],
)
def test_asked_object(question, thing):
    assert asked_object(question) == thing


@pytest.mark.parametrize(
    ("question", "answer", "part", "reason"),
    [
        # another modifier of the same head word
        ("今年要新增多少张医院床位", "新增5000张家庭养老床位", "plan", "object"),
        ("今年要增加多少个幼儿园学位", "扩充初高中学位1.4万个以上", "plan", "object"),
        ("新增了多少个普通高中学位", "新增公办幼儿园学位49万个", "review", "object"),
        ("今年要新建多少个5G基站", "新建基站1万个", "plan", "object"),
        # the head word's last two characters only: another thing of the kind
        ("今年要建多少个足球场", "建成250个3人制篮球场", "plan", "object"),
        # the thing itself, in other words or with fewer modifiers: the model weighs it
        ("今年要新增多少个基础教育公办学位", "新增基础教育学位9000个左右", "plan", None),
        ("今年要新建多少个5G信号塔", "新建5G基站1万个", "plan", None),
        ("今年要新增多少张医院床位", "新增医院床位300张", "plan", None),
        # a rate where an amount is asked; counted things' measure words stand in for each other
        ("去年社会消费品零售总额达到了多少亿元", "社会消费品零售总额增长4%", "review", "unit"),
        ("去年社会消费品零售总额达到了多少亿元", "社会消费品零售总额1.2万亿元", "review", None),
        ("去年老楼加装了多少部电梯", "老楼加装电梯869台", "review", None),
        # a target asked, last year's result given (and the other way round)
        ("今年社会消费品零售总额的增长目标是多少", "社零增长4.6%", "review", "tense"),
        ("去年新增了多少张养老床位", "新增养老床位2000张", "plan", "tense"),
        ("今年新增多少养老床位", "新增养老床位2000张", "plan", None),
        # a modifier in another clause than the head with a modifier of its own
        (
            "今年新增多少张养老床位",
            "改建2000张认知障碍照护床位，新增200个养老服务站",
            "plan",
            "object",
        ),
        ("今年新增多少张养老床位", "完善养老服务体系，新增床位2000张", "plan", None),
        ("今年新增多少张养老床位", "完善养老服务体系，新增2000张床位", "plan", None),
        # another specific action on the thing named in the question's words
        ("今年要给老楼加装多少部电梯", "更新住宅老旧电梯5000部", "plan", "object"),
        ("今年要给老楼加装多少部电梯", "老楼加装电梯800台以上", "plan", None),
        ("今年新增多少张医院床位", "建设医院床位300张", "plan", None),  # 新增: any new ones
        ("老年大学要多出多少个上学名额", "新增老年大学学位3万个", "plan", None),  # own words
        # not a figure question: nothing to check
        ("今年要建哪些足球场", "建成3人制篮球场", "plan", None),
        # a figure is said of what its own clause names: the thing named after it, with
        # another modifier, or another thing counted right after it is another figure
        (
            "今年新修多少公里高速公路",
            "新投产里程8000公里以上，基本实现高速公路收费联网",
            "plan",
            "object",
        ),
        (
            "玉米种植面积今年要减掉多少亩",
            "适度调减玉米种植面积，粮改饲试点面积扩大到1000万亩",
            "plan",
            "object",
        ),
        ("要建光网城市，具体要建几个", "建设一批光网城市，推进5万个行政村通光纤", "plan", "object"),
        # ... but a clause before the figure may introduce what it counts
        (
            "北方冬天清洁取暖要弄多少户",
            "推进北方地区冬季清洁取暖，完成以电代煤300万户以上",
            "plan",
            None,
        ),
        # an amount asked in a unit of measure is of a figure in that unit: the clause
        # naming the thing with a count of kinds (6类) gives none of its 亩
        (
            "高粱今年种多少亩",
            "新改扩建设施蔬菜5000亩，持续推进高粱、谷子等6类农业全产业链发展",
            "plan",
            "object",
        ),
        ("设施蔬菜新改扩建多少亩", "新改扩建设施蔬菜5000亩，持续推进高粱、谷子等6类", "plan", None),
        # a group named by its number counts the groups (三大工程), not the thing asked
        (
            "城中村改造今年实施多少个",
            "稳步推进保障性住房建设和城中村改造“三大工程”",
            "plan",
            "object",
        ),
        ("今年要打好几大攻坚战", "打好三大攻坚战", "plan", None),
        # one year's result is not a paragraph of several years' (nor the other way round)
        ("去年城镇新增就业多少人", "五年来，城镇新增就业6600万人以上", "review", "period"),
        ("去年城镇新增就业多少人", "刚刚过去的2017年，城镇新增就业1351万人", "review", None),
        (
            "过去五年城镇新增就业多少人",
            "刚刚过去的2017年，城镇新增就业1351万人",
            "review",
            "period",
        ),
        ("过去五年城镇新增就业多少人", "五年来，城镇新增就业6600万人以上", "review", None),
        (
            "小微企业减半交所得税的收入上限提到多少",
            "扩大小微企业减半征收所得税优惠的范围，年应纳税所得额上限由30万元提高到50万元",
            "plan",
            None,
        ),
    ],
)
def test_mismatch(question, answer, part, reason):
    why = mismatch(_pick(answer, part), detect_intent(question), asked(question, _idf))
    assert (why and why.reason) == reason


def test_only_words_the_index_holds_are_required():
    assert asked("今年新建多少所公办书房", _idf).words == ("公办", "书房")
    assert asked("今年新建多少所公办高楼", _idf).words == ("公办",)  # 高楼: the asker's own


def test_closest_is_the_same_kind_of_thing_or_nothing():
    intent = detect_intent("今年要新建多少个电动汽车充电设施")
    wanted = Asked(("充电", "设施"), (), "电动汽车充电设施")
    terms = {"新建": 1.0, "充电": 3.0, "设施": 2.0}
    other, near = _pick("今年新建城市书房25座"), _pick("新建充电设施的配套电网")
    assert closest([other], intent, terms, wanted) == []
    assert closest([_pick("建设充电设施1000个"), other], intent, terms, wanted)
    assert closest([near], intent, terms, wanted) == []  # no figure: no related figure


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # the head word is one the reports never use: another thing, unless the clause
        # shares a character with the thing's words (the reports' word for it)
        ("今年要新建几个游泳馆", "新建40个社会足球场", "object"),
        ("今年城镇调查失业率要控制在多少以内", "居民消费价格涨幅2%左右", "object"),
        ("今年要翻新多少所中小学的饭堂", "提质升级1000所中小学校食堂", None),
        ("今年要翻新多少所中小学的操场", "完成500所中小学体育场地升级改造", None),
        # the characters shared must be the unused words' own: 公办 is used, 高中 is not
        ("今年新建多少所公办高中", "新建公办幼儿园10所", "object"),
        ("常住人口城镇化率要达到多少", "居民消费价格涨幅2%左右", "object"),
        # a subject before the count is the asker's phrase: any character of it will do
        ("常住人口城镇化率要达到多少", "城镇新增就业8万人", None),
        ("制造业增加值占工业增加值的比重目标是多少", "力争制造业增加值占工业增加值稳定在60%", None),
        # the cost: a thing in wholly other words is taken for another thing (信号塔, 基站)
        ("今年要新建多少个5G信号塔", "新建5G基站1万个", "object"),
        # a modifier the reports never use, before a head word they do
        ("今年引进多少家外资企业", "新认定高新技术企业680家", "object"),
        ("今年新增多少个基础教育公办学位", "新增基础教育学位9000个左右", None),  # as asked
        # a subject ending with such a modifier and its head is a thing too
        ("今年规上服务业企业要新增多少户", "力争新增规上工业企业100户", "object"),
        ("今年服务业发展期间新增多少户", "力争新增规上工业企业100户", None),  # a phrase
        # after a span of time what follows is what happens in it, no thing
        ("快速路是几小时通达", "打造连接四市1小时城市快速路", None),
        # every word of the thing is used: the other checks decide
        ("今年新增多少养老床位", "新增养老床位2000张", None),
    ],
)
def test_a_thing_the_reports_never_name(question, answer, reason):
    # the searched "reports" are the answer's clause and a passage on 人口
    assert (
        _reason(question, answer, lambda word: word in answer.lower() or word == "人口") == reason
    )


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # a figure per head of population asked, a count given (and given as asked)
        ("每千名老年人拥有养老床位多少张", "新增养老床位2000张", "ratio"),
        ("每千人口托位数要达到多少个", "确保每千人口托位数达到4.5个", None),
        # a rate asked in so many words, an amount given
        ("数字经济核心产业营收增长百分之多少", "数字经济核心产业营收突破2800亿元", "unit"),
        ("数字经济核心产业营收增长百分之多少", "数字经济核心产业营收增长15%", None),
        # how many there are, not how many new ones
        ("现在一共有多少家高新技术企业", "新认定高新技术企业680家", "stock"),
        ("全市一共有多少部电梯", "保障全市5.3万部电梯实时预警救援全覆盖", None),
        ("今年新建多少套共有产权房", "新建共有产权房2000套", None),  # 共有产权: no stock
        ("全市社会足球场累计到底有多少个", "新建40个社会足球场", "stock"),
        # a count acted on is some of them; one said to reach so many is all of them
        ("现在一共有多少个社区微型消防站", "改造完善100个社区微型消防站", "stock"),
        ("现在一共有多少个5A景区", "新创5A景区1个，景区总数达到12个", None),
        # figures the question itself states tell nothing new; an ordinal names a thing
        ("新开工的那18个老旧小区改造要投多少钱", "新开工18个老旧小区改造", "known"),
        ("那18个老旧小区改造要投多少钱", "18个老旧小区改造投资3.2亿元", None),
        # a total asked, its figure per head given; income per head is what income says
        ("地区生产总值达到多少", "人均生产总值由7.34万元提升至10.26万元", "object"),
        ("地区生产总值达到多少", "地区生产总值增长5.5%、达到10.3万亿元", None),
        ("居民可支配收入增长多少", "城乡居民人均可支配收入增长5%", None),
        # an area asked, a count given
        ("新开工的老旧小区改造总建筑面积多少万平方米", "新开工18个老旧小区改造", "unit"),
        ("老旧小区改造面积多少万平方米", "改造老旧小区面积120万平方米", None),
        # money asked, a count given; money given in 元 or in 亿 of nothing counted
        ("新建那40个社会足球场要花多少钱", "新建40个社会足球场、100公里健身步道", "unit"),
        ("新建社会足球场要投资多少亿元", "新建40个社会足球场", "unit"),
        ("新建社会足球场要投资多少亿元", "新建40个社会足球场，总投资5亿元", None),
        ("重点项目要投资多少钱", "重点项目完成投资500亿", None),
        ("地铁8号线一期全长多少公里", "地铁8号线二期全长20公里", "object"),
        ("地铁8号线一期全长多少公里", "地铁8号线一期全长20公里", None),
        # new ones asked, how many there are given
        ("今年要新增多少高技能人才", "高技能人才达到850万人", "new"),
        ("今年新增多少张养老床位", "养老服务床位增至52.4万张", "new"),
        ("今年新增多少张养老床位", "新增养老床位达到3852张", None),  # new ones, so many
        ("全市有多少高技能人才", "高技能人才达到850万人", None),  # no new ones asked
        # another kind of action on the things counted
        ("今年要改造多少个社会足球场", "新建40个社会足球场", "object"),
        ("今年计划新建多少个社区微型消防站", "改造完善100个社区微型消防站", "object"),
        ("老旧小区改造今年能完工多少个", "新开工18个老旧小区改造", "object"),
        ("今年要翻新多少所中小学的操场", "完成500所中小学体育场地升级改造", None),
        ("今年新建和扩建多少亩蔬菜大棚", "新改扩建设施蔬菜大棚5000亩", None),  # 改扩建: both
        ("今年要新建多少所学校", "建成学校10所", None),  # a new one finished is a new one
    ],
)
def test_a_figure_of_another_kind(question, answer, reason):
    assert _reason(question, answer, lambda word: word in answer.lower()) == reason


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # a growth asked, a share given; a share asked is answered by one
        ("今年民间投资要增长多少", "力争民间投资占比40%以上", "share"),
        ("今年民间投资占比要到多少", "力争民间投资占比40%以上", None),
        ("今年民间投资要增长多少", "民间投资增长5%", None),
        # all of them asked, a figure per head of population given
        ("全市的托位总数要达到多少个", "确保每千人口托位数达到4.5个", "stock"),
        ("每千人口托位数要达到多少个", "确保每千人口托位数达到4.5个", None),
        # renewed ones asked, only new ones done
        ("今年要改扩建几所公办幼儿园", "新建公办幼儿园10所", "object"),
        ("今年要新建几所公办幼儿园", "新建公办幼儿园10所", None),
        # a graded thing asked, the thing without its grade given
        ("今年能新增多少高技能人才", "新增技能人才1.5万人", "object"),
        ("今年能新增多少高技能人才", "新增高技能人才5000人", None),
        ("今年要扶持多少个村集体经济样板项目", "扶持培育25个集体经济样板项目", None),  # no grade
        # another headline indicator: no neighbour, another thing altogether
        ("今年单位GDP能耗要降低多少", "地区生产总值增长5%左右", "other"),
        ("今年经济总量要增长多少", "地区生产总值增长5%左右", None),  # one family
        ("去年城镇新增就业多少人", "城镇新增就业1256万人、城镇调查失业率平均为5.1%", None),
    ],
)
def test_a_figure_of_another_kind_or_grade(question, answer, reason):
    part = "review" if "去年" in question else "plan"
    assert _reason(question, answer, part=part) == reason


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # the subject placing the thing (小学) is nowhere, the thing has another modifier
        ("小学今年能新增多少个学位", "新增中学学位1万个", "object"),
        ("小学今年能新增多少个学位", "新增学位1万个", None),  # no modifier of its own
        ("小学今年能新增多少个学位", "新增小学学位1万个", None),
        # the modifier is the question's own
        ("那今年要开发多少个补贴性技能培训", "开展补贴性技能培训3万人以上", None),
    ],
)
def test_a_thing_placed_by_its_subject(question, answer, reason):
    assert _reason(question, answer) == reason


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # a specific action asked, in the words before the count or in the thing counted
        ("今年新开工建设的中小学项目有几个", "推动18个新改扩建项目建成投用", "object"),
        ("今年能有多少个老旧小区改造完工", "新开工18个老旧小区改造", "object"),
        ("今年能有多少个老旧小区改造完工", "18个老旧小区改造完工", None),
        ("今年新建多少所学校", "建成学校10所", None),  # new ones: any new ones
        # a share asked, an amount given; a growth asked, a level kept
        ("高标准农田占全市耕地的比例要到多少", "新建高标准农田3.6万亩以上", "unit"),
        ("战略性新兴产业的增加值今年要增长多少", "战新兴产业增加值稳定在30%以上", "share"),
        ("制造业增加值占工业增加值要稳在百分之多少", "制造业增加值占工业增加值稳定在60%以上", None),
        ("规上工业增加值今年要增长多少", "规上工业增加值增长6%，稳定在全省前列", None),
    ],
)
def test_an_action_or_a_kind_of_figure(question, answer, reason):
    assert _reason(question, answer) == reason


def test_a_plan_term_asked_is_named_by_the_passage():
    question = "“十五五”期间全社会零售消费每年打算涨多少"
    wanted, intent = asked(question, _idf), detect_intent(question)
    assert wanted.term == "十五五"
    assert intent.tense == "target"
    assert mismatch(_pick("社会消费品零售总额增长5%以上"), intent, wanted).reason == "period"
    planned = _pick("“十五五”时期社会消费品零售总额年均增长5%")
    assert mismatch(planned, intent, wanted) is None


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # "among X, Y" asks of Y, which the clause does not name
        ("今年新增的中小学学位里，初中学位有多少个", "新增学位2.4万个", "object"),
        # a rank asked, none or another given
        ("今年要新评多少家国家级专精特新企业", "专精特新企业120家", "object"),
        ("今年要新评多少家国家级专精特新企业", "新增国家级专精特新企业12家", None),
        # the other side of town
        ("今年农村新增就业要达到多少人", "城镇新增就业8万人", "object"),
        ("今年城里人的收入要涨多少", "农村居民人均可支配收入增长7%", "object"),
        ("今年城镇新增就业要达到多少人", "城镇新增就业8万人", None),
        ("今年农民收入要涨多少", "城乡居民收入增长6%", None),  # both sides
    ],
)
def test_a_part_rank_or_side_of_another(question, answer, reason):
    assert _reason(question, answer, lambda word: word != "初中") == reason


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # per person or per place given, all of them or per head asked
        (
            "太原全市今年一共要建成多少所医养结合机构",
            "每个县(市、区)至少建成1所医养结合服务机构",
            "stock",
        ),
        ("政府补贴的技能培训每个人能补多少钱", "完成政府补贴性技能培训2万人", "ratio"),
        ("学生保险的保费从每人每年多少钱提高", "保费由每生每年5元提高至10元", None),
        # the kinds of a list counted, an amount of one asked
        ("高粱全产业链今年产值能到多少", "持续推进高粱、谷子等6类农业全产业链发展", "object"),
        ("农业全产业链一共几类", "持续推进高粱、谷子等6类农业全产业链发展", None),
        # things counted one by one asked, a length given
        ("今年新修几条健身步道", "新建40个社会足球场、100公里健身步道", "unit"),
        ("今年新修几条健身步道", "新建健身步道20条", None),
        # an amount in 亿 asked with no measure word; 那几条 points, it asks nothing
        ("那几条重点产业链今年营收总额定的是多少亿", "促进“1233”重点产业链营收增长15%以上", "unit"),
    ],
)
def test_a_figure_per_place_of_a_group_or_in_another_unit(question, answer, reason):
    assert _reason(question, answer) == reason


@pytest.mark.parametrize(
    ("topic", "query", "why", "number", "said"),
    [
        (
            "养老床位",
            "迎泽区新增多少养老床位",
            Mismatch("place", "迎泽区"),
            True,
            "迎泽区单独的“养老床位”数字",
        ),
        (
            "迎泽区教育",
            "迎泽区教育怎么样",
            Mismatch("place", "迎泽区"),
            False,
            "迎泽区的“教育”说法",
        ),
        ("医疗床位", "新增多少医疗床位", Mismatch("object", "医疗"), True, "“医疗床位”的数字"),
    ],
)
def test_what_the_report_does_not_state_is_said_plainly(topic, query, why, number, said):
    assert unstated(topic, query, why, number) == said


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # a sibling by its ordinal is another thing, whatever is asked
        ("太原地铁3号线二期今年开工吗", "推进轨道交通1号线二期、3号线一期前期工作", "object"),
        ("地铁三号线一期今年开工吗", "推进轨道交通1号线二期、3号线一期前期工作", None),
        ("第十四届运动会在哪里办", "承办第十五届全国运动会", "object"),
        ("“十四五”期间建了哪些项目", "“十四五”时期建成一批重大项目", None),  # 期间: a span
    ],
)
def test_a_sibling_by_ordinal_is_another_thing(question, answer, reason):
    assert _reason(question, answer) == reason


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        # the thing asked as the subject before the count, its modifier sharing a character
        # with the head (篮球 of 篮球场, head 球场)
        ("社会篮球场今年新建几个", "六是新建40个社会足球场、100公里健身步道", "object"),
        ("社会足球场今年新建几个", "六是新建40个社会足球场、100公里健身步道", None),
        # the subject in a clause with no figure, the figure of a thing counted before it
        (
            "公共就业服务能力提升示范项目今年搞几个",
            "加快推进公共就业服务能力提升示范项目，举办各类就业招聘会300场以上",
            "object",
        ),
        (
            "就业招聘会今年办几场",
            "加快推进公共就业服务能力提升示范项目，举办各类就业招聘会300场以上",
            None,
        ),
        # a rank before 重点
        ("今年并联攻坚多少个国家重点工程项目", "并联攻坚439个省市重点工程项目", "object"),
        ("今年并联攻坚多少个省市重点工程项目", "并联攻坚439个省市重点工程项目", None),
    ],
)
def test_the_thing_asked_before_its_count_or_by_its_rank(question, answer, reason):
    # 篮球 is in no report: the index holds every word but it
    assert _reason(question, answer, lambda word: word != "篮球") == reason
