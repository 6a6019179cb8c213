"""The Chinese vocabulary the code relies on, in one place.

Region names and suffixes, measure words, question words and tense cues; spoken fillers, the
everyday words people use for the reports' terms and the wording of suggested follow-ups are
in :mod:`index.vocab.speech`, the words of key figures and comparisons in
:mod:`index.vocab.figures`, both read in here. Everything else imports from here, so a
new word is added once and every step (scope, intent, support, follow-ups) sees it.
"""

from __future__ import annotations

import csv
import functools
import re
from importlib.metadata import distribution
from typing import NamedTuple

# ---------------------------------------------------------------- regions
NATIONAL = "全国"
# Ways a question names the national report. "国家" also starts 国家级/国家队, and after a
# question word or a quantifier (哪个国家, 这些国家, 其他国家) it is any country, not ours;
# 发展中国家 holds 中国 without naming it.
NATIONAL_ALIASES = ("全国", "我国", "国家", "国务院", "中央政府", "中国")
NATIONAL_ALIAS_RE = re.compile(
    r"全国|我国|(?<![哪个些么他它各中])国家(?!级|队|重点|标准|公园|实验室)|国务院|中央政府"
    r"|(?<!发展)中国"
)

PROVINCES = (
    ("北京市", "北京"), ("天津市", "天津"), ("上海市", "上海"), ("重庆市", "重庆"),
    ("河北省", "河北"), ("山西省", "山西"), ("辽宁省", "辽宁"), ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"), ("江苏省", "江苏"), ("浙江省", "浙江"), ("安徽省", "安徽"),
    ("福建省", "福建"), ("江西省", "江西"), ("山东省", "山东"), ("河南省", "河南"),
    ("湖北省", "湖北"), ("湖南省", "湖南"), ("广东省", "广东"), ("海南省", "海南"),
    ("四川省", "四川"), ("贵州省", "贵州"), ("云南省", "云南"), ("陕西省", "陕西"),
    ("甘肃省", "甘肃"), ("青海省", "青海"), ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"), ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"), ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"), ("澳门特别行政区", "澳门"),
)  # fmt: skip

# Longest first, so 维吾尔自治区 is cut before 区.
REGION_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县",
    "地区", "省", "市", "州", "盟", "县", "区", "旗",
)  # fmt: skip
REGION_SUFFIX_RE = re.compile("(?:" + "|".join(REGION_SUFFIXES) + ")$")
# A place-like name in a question: two to four Han characters before a region suffix.
# Words that end in 区/市/县 but are no place (小区, 社区, 城区 …) are ruled out by a
# first-character list and a stop list in :data:`NOT_PLACES`.
PLACE_RE = re.compile(r"([\u4e00-\u9fff]{2,4}?(?:特别行政区|自治区|自治州|省|市|州|盟|县|区|旗))")
NOT_PLACES = frozenset(
    "小区 社区 城区 园区 景区 街区 矿区 林区 山区 牧区 库区 片区 老区 新区 开发区 保税区 "
    "自贸区 示范区 试验区 先行区 功能区 核心区 集聚区 城市 都市 超市 夜市 集市 股市 楼市 "
    "全市 我市 本市 各市 全省 我省 本省 各省 全区 我区 本区 各区 全县 我县 各县 市县 "
    "郊区 地区 市区 县区 省市 城乡接合区 合作区 服务区 生态区".split()
)
# County names that are also everyday words (老城区 of 洛阳, 城关区 of 拉萨).
GENERIC_PLACE_STEMS = frozenset(
    "老城 新城 城关 城中 市中 城东 城西 城南 城北 城厢 开发 高新 经开 新区 郊 矿 港口 港 "
    "白云 和平 长安 新华 中心 南山 北山 东山 西山 河东 河西 江北 江南 城阳 高新技术".split()
)
# Characters a place name does not start with (part of the words around it).
NOT_PLACE_START = frozenset("的在和与及是年今明去有要新老各全本我这那哪个多少几给对向到从")


def short_region(name: str) -> str:
    """``山西省`` -> ``山西``, ``内蒙古自治区`` -> ``内蒙古``; a name that would be one
    character long (忠县) is kept whole."""
    for full, short in PROVINCES:
        if name == full:
            return short
    short = REGION_SUFFIX_RE.sub("", name)
    return short if len(short) >= 2 else name


class Place(NamedTuple):
    """A Chinese administrative division: full name, level (1 province, 2 prefecture,
    3 county) and its 12-digit division code."""

    name: str
    level: int
    code: str

    def contains(self, other: Place) -> bool:
        """Whether ``other`` lies inside this place (深圳市 inside 广东省)."""
        digits = {1: 2, 2: 4}.get(self.level, 6)
        return other.level > self.level and other.code[:digits] == self.code[:digits]


@functools.cache
def gazetteer() -> dict[str, Place]:
    """Every Chinese province, prefecture and county by the names a question may use.

    Maps a name (full, and short for provinces and prefectures: 深圳市 and 深圳) to its
    :class:`Place`. The list is the national administrative-division table shipped with the
    ``cpca`` package (read as data: the package itself needs pandas at import).
    """
    path = distribution("cpca").locate_file("cpca/resources/adcodes.csv")
    names: dict[str, Place] = {}
    with open(str(path), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code, name = row["adcode"], row["name"]
            level = 1 if code[2:] == "0" * 10 else 2 if code[4:] == "0" * 8 else 3
            generic = REGION_SUFFIX_RE.sub("", name) in GENERIC_PLACE_STEMS
            if name in NOT_PLACES or (level == 3 and (len(name) < 3 or generic)):
                continue  # 城区, 矿区, 南县 (in 河南县域): words more often than places
            place = Place(name, level, code)
            names.setdefault(name, place)
            short = short_region(name)
            if level < 3 and short != name:
                names.setdefault(short, place)
    for full, short in PROVINCES:  # the short name of a province wins (吉林 over 吉林市)
        names[full] = names[short] = names.get(full) or Place(full, 1, "")
    return names


@functools.cache
def places_by_name() -> dict[str, tuple[Place, ...]]:
    """Every division of the table by its full name (short too for provinces and
    prefectures), all of those that share it (鼓楼区: four), in code order; none left out
    as an everyday word, for resolving the names of held reports, not a question's words."""
    path = distribution("cpca").locate_file("cpca/resources/adcodes.csv")
    names: dict[str, list[Place]] = {}
    with open(str(path), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code, name = row["adcode"], row["name"]
            level = 1 if code[2:] == "0" * 10 else 2 if code[4:] == "0" * 8 else 3
            place = Place(name, level, code)
            for alias in {name, short_region(name) if level < 3 else name}:
                names.setdefault(alias, []).append(place)
    return {name: tuple(sorted(found, key=lambda p: p.code)) for name, found in names.items()}


# Colloquial names of a place, as people say them. Each is the name one place goes by in
# speech and the press, never an everyday word (山城, 江城 are left out: several cities).
NICKNAMES = {
    "沪": "上海市",  # the one-character name of Shanghai (沪牌, 沪上)
    "沪上": "上海市",  # "on the Shanghai": Shanghai itself
    "申城": "上海市",  # after 春申君, whose fief it was
    "魔都": "上海市",  # internet slang for Shanghai
    "京": "北京市",  # the one-character name of Beijing
    "京城": "北京市",  # "the capital city"
    "帝都": "北京市",  # internet slang for Beijing
    "津门": "天津市",  # "the ford's gate": Tianjin's old name
    "粤": "广东省",  # the one-character name of Guangdong
    "鹏城": "深圳市",  # after 大鹏所城, the old fort of Shenzhen
    "蓉城": "成都市",  # "city of hibiscus": Chengdu
    "羊城": "广州市",  # "city of rams": Guangzhou
    "穗": "广州市",  # the one-character name of Guangzhou
    "榕城": "福州市",  # "city of banyans": Fuzhou
    "鹭岛": "厦门市",  # "egret island": Xiamen
    "泉城": "济南市",  # "city of springs": Jinan
    "冰城": "哈尔滨市",  # "ice city": Harbin
    "春城": "昆明市",  # "city of spring": Kunming
    "星城": "长沙市",  # Changsha, after the star 长沙星
    "并州": "太原市",  # Taiyuan's old name
}
# The one-character name of each province (沪, 粤, 川 …), as on number plates. One
# character is part of many words (新增, 云计算, 宁可), so it names a place only where a
# question begins with it and a time or 省 follows (PROVINCE_ABBREVIATION_RE).
PROVINCE_ABBREVIATIONS = {
    "京": "北京市", "津": "天津市", "沪": "上海市", "渝": "重庆市", "冀": "河北省",
    "晋": "山西省", "辽": "辽宁省", "吉": "吉林省", "黑": "黑龙江省", "苏": "江苏省",
    "浙": "浙江省", "皖": "安徽省", "闽": "福建省", "赣": "江西省", "鲁": "山东省",
    "豫": "河南省", "鄂": "湖北省", "湘": "湖南省", "粤": "广东省", "琼": "海南省",
    "川": "四川省", "蜀": "四川省", "黔": "贵州省", "滇": "云南省", "陕": "陕西省",
    "甘": "甘肃省", "陇": "甘肃省", "青": "青海省", "蒙": "内蒙古自治区",
    "桂": "广西壮族自治区", "藏": "西藏自治区", "宁": "宁夏回族自治区", "新": "新疆维吾尔自治区",
}  # fmt: skip
PROVINCE_ABBREVIATION_RE = re.compile(
    "^([" + "".join(PROVINCE_ABBREVIATIONS) + r"])(?=今年|明年|去年|前年|后年|\d{4}年|省)"
)
NICKNAME_RE = re.compile("|".join(sorted((n for n in NICKNAMES if len(n) > 1), key=len)[::-1]))
# Words before a place that make it part of the topic, not the question's scope: a partner
# ("和上海同城化", "对接北京的资源"), a destination ("去上海"), a source ("承接北京").
# A place that names a group of places with its part ("山西中部城市群", "太原都市圈"): the
# group is what the question is about, not whose report.
TOPIC_PLACE_AFTER = re.compile(
    r"^(?:[东南西北中]部|东南|东北|西南|西北)?(?:城市群|都市圈|经济圈|经济区|经济带|城镇带|城镇群)"
)
TOPIC_PLACE_BEFORE = re.compile(
    r"(?:和|与|同|跟|及|以及|对接|承接|服务|支援|对口|协同|联合|携手|融入|连接|联通|辐射|"
    r"去|到|往|至|赴|向|通|接|对)$"
)


# ---------------------------------------------------------------- time and tense
# A yearly average ("年均增长6.3%") is a figure of several years, never one year's figure.
YEARLY_AVERAGE = re.compile(r"年均|平均每年|每年平均")
# A question that itself asks about several years may be answered with one.
# A paragraph that tells several years at once ("五年来，", "过去五年，").
SEVERAL_YEARS_SAID = re.compile(r"^\s*(?:过去|这|近)?(?:五|十|几)年(?:来|间|中)?[，,]")
# A paragraph that tells one year ("刚刚过去的2017年，", "过去一年，").
ONE_YEAR_SAID = re.compile(r"^\s*(?:刚刚)?过去的?(?:一年|(?:19|20)\d{2}年)[，,]")
SEVERAL_YEARS_ASKED = re.compile(r"年均|平均|每年|几年来|五年|十[一二三四五六七八九]五|累计")
YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
RELATIVE_YEARS = {
    "今年": 0, "本年": 0, "明年": 1, "后年": 2, "去年": -1, "上年": -1, "上一年": -1,
    "前一年": -1, "前年": -2,
}  # fmt: skip
RELATIVE_YEAR_RE = re.compile("|".join(RELATIVE_YEARS))
# "去年（2025年）": a relative year glossed with the year it means.
GLOSSED_YEAR = re.compile(
    r"(?P<word>" + "|".join(RELATIVE_YEARS) + r")\s*[(（]\s*(?P<year>(?:19|20)\d{2})\s*年?\s*[)）]"
)
# Words that name the report a question reads and its year: "2026年的报告里咋说的",
# "2023年政府工作报告里". They set the report and leave the topic.
REPORT_NAMED = re.compile(
    r"[，,]?(?:在|据|按|根据)?(?P<year>(?:19|20)\d{2})\s*年(?:的|度)?"
    # "2017年国家报告": the place stays (it is the scope), the rest names the report.
    r"(?P<place>国家|国务院|全国|中央)?的?(?:政府)?(?:工作)?报告"
    r"(?:里面|里|中|上)?(?:是|又是)?(?:怎么|咋|如何)?(?:说|讲|写|提)?(?:的|到)?(?:呢|吗)?"
)
# The same words with no year ("报告里咋说的"): only taken out of the topic.
REPORT_WORDS = re.compile(
    r"[，,]?(?:在|据|按|根据)?的?(?:政府)?(?:工作)?报告(?:里面|里|中|上)(?:是|又是)?(?:怎么|咋|如何)?"
    r"(?:说|讲|写|提)?(?:的|到)?(?:呢|吗)?"
)
# "回顾2022年时说": the year a report's review part speaks of.
REVIEWED_YEAR = re.compile(
    r"回顾(?P<year>(?:19|20)\d{2})\s*年(?:工作)?(?:时|的时候)?(?:说|讲|提到|写到)?(?:的)?[，,：:]?"
)
# A word that points back at the year the question already named ("当年", "那一年").
THAT_YEAR = re.compile(r"当年|那一年|那年|该年")
# A question about what already happened (the review part of a report answers it).
PAST_CUE = re.compile(
    r"去年|上年|前年|过去|回顾|实际|已经|"
    r"(?:完成|达到|取得|实现|增长|下降|提高|降低|上涨|突破|超过|减少|增加|新增|建成|提升)到?了"
)
# A question about the plan (the plan part answers it).
PLAN_CUE = re.compile(
    r"今年|明年|目标|计划|预期|打算|力争|(?<![主重需只想])要|将|拟|安排|争取|确保|定在|定为"
)
# "…了多少": what has been done; weaker than a plan word ("今年的目标定了多少" asks the plan).
DONE_ASKED = re.compile(r"了(?:多少|几)")
# Section titles of the review part and of the plan part of a report.
REVIEW_SECTION = re.compile(r"回顾|过去|去年|上年|成绩|工作总结|发展成就")
PLAN_SECTION = re.compile(r"安排|任务|目标|今年|总体要求|预期|重点工作|主要工作|部署")
# "开好局、起好步": the first year of a plan period, i.e. this year's work, though the title
# names the five-year plan.
FIRST_YEAR_SECTION = re.compile(r"开好局|起好步|开局之年")

# ---------------------------------------------------------------- question words
NUMBER_CUE = re.compile(
    r"多少|几[个项所家张条座名人户亿万千百十]?|比例|比重|占比|百分之|多大|多高|多长|多久|涨幅|增速|"
    r"增长率|增幅|规模"
)
PERCENT_CUE = re.compile(
    r"(增长|下降|提高|降低|上涨|增加|减少|回升)到?了?多少(?![\u4e00-\u9fff])|增速|涨幅|增幅|"
    r"比重|比例|占比|百分|增长率|强度|(?:率|占比)[^，,。？?多]{0,6}多少"
)
ENTITY_CUE = re.compile(r"哪些|哪个|哪几|哪一|哪|什么|谁|叫什么|是何|何种|名称")
# Words that ask for a number themselves; the other number cues (规模, 比例, 增速 …) name a
# quantity and may be only the topic of a question that asks which ("哪些企业冲刺百亿规模").
NUMBER_ASKED = re.compile(r"多少|(?<![这那哪])几(?=[\u4e00-\u9fff])|多大|多高|多长|多久|百分之")
# Words that ask how much, how big, how long …: jieba may cut one in two ("有多大" -> 多, 大;
# "楼有多高" -> 楼有, 多, 高), and the pieces would count as words of the topic (定 of
# "目标定在多少" would find 固定资产投资). They are taken out before the question's words
# are weighed.
HOW_MUCH = re.compile(r"(?:定[在为的成]?)?有?多(?:少|大|高|长|久|远)")
# Words that ask whether or what a thing is called ("有没有", "管不管", "能不能", "可不可以",
# "叫什么名字"): like HOW_MUCH they are no words of the topic, no report sentence holds them,
# and jieba may join them to a neighbour ("消费券叫" of "消费券叫什么名字").
ASKING_PHRASES = re.compile(
    r"(?P<verb>[\u4e00-\u9fff])[不没](?P=verb)|(?P<aux>[可需应愿])不(?P=aux)[以要该意]"
    r"|是否|真的假的|叫(?:什么|啥)(?:名字|名称)?|(?:什么|啥)名字|名字(?:是|叫)?(?:什么|啥)"
)
# Words of any question or report: they weigh little in telling passages apart.
GENERIC_WORDS = frozenset(
    "今年 明年 全年 全市 全省 计划 目标 要 将 新 实现 完成 达到 安排 "
    "方面 重点 主要 工作 情况 多少 几 什么 哪些 哪个 是否 怎么 如何 有 "
    "是 呢 吗 为 的 打造 建设 实施 开展 加强 提升 完善 支持 落实 "
    "做好 促进 深化 构建 培育 发展 有关 去年 上年 实际 预期 打算 能 还 再 多 "
    "定义 特点 名叫 属于 作用 意义 原因 内容 方式 政府 报告 现在 目前 如今 大家".split()
)
# An open question about a topic ("教育方面有什么打算", "打算怎么稳就业"): several sentences
# answer it, not one clause. Its cues: what plans or measures there are, or how the
# government will act on a topic (a verb of policy after 怎么/如何).
_POLICY_NOUNS = (
    "打算|安排|举措|措施|部署|计划|考虑|政策|重点工作|工作|新举措|新招"
    "|做法|实事|成绩|成效|进展|亮点|动作|规划|帮扶|扶持|办法"
)
_POLICY_VERBS = (
    "稳|发展|提振|推进|促进|扩大|抓|做好|推动|改善|提升|加强|保障|建设|支持|扩内需|优化|应对|加快|落实"
    "|完善|打造|培育|保护|治理|防范|提高|增加|做|干|办|搞|弄|安排|部署"
    "|治|防|帮|让|吸引|拉动"
)
# A word of size or weight before the plans asked about ("哪些大动作", "什么新举措").
_POLICY_ADJECTIVES = "(?:大|新|主要|重要|重点|具体)?"
_HOW = "(?:怎么|如何|怎样|咋)"
OVERVIEW_CUE = re.compile(
    rf"(?:哪些|什么|啥){_POLICY_ADJECTIVES}(?:{_POLICY_NOUNS})+|(?:做|干|办)了?些?(?:哪些|什么|啥)"
    rf"|(?:打算|准备|计划|要)?(?:是)?{_HOW}(?:{_POLICY_VERBS})|方面的(?:{_POLICY_NOUNS})"
)
# The words of an overview question that ask, not name the topic ("在教育上有哪些打算").
OVERVIEW_WORDS = re.compile(
    rf"(?:打算|准备|计划|要)?{_HOW}(?:搞|弄|做|干|办|安排|部署)?的?"
    rf"|有?(?:哪些|什么|啥){_POLICY_ADJECTIVES}(?:{_POLICY_NOUNS})+"
    rf"|(?:做|干|办)了?些?(?:哪些|什么|啥)(?:事情?|工作)?|方面的(?:{_POLICY_NOUNS})"
)
# The enumeration comma between the items of a list ("工业、科研、教育、医疗").
LIST_MARK = "、"
# The number before a section title ("（一）", "(二)", "三、"): the list numbers its own.
ENUMERATOR = re.compile(r"^\s*(?:[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)\s*")
# What frames the topic of an overview ("在教育上", "养老方面") once its asking words are gone.
OVERVIEW_FRAME = re.compile(r"^在|(?:上|方面)?(?:今年|明年|去年|全年|(?:19|20)\d{2}年)*$")
# Asking how: the answer is what will be done, the whole sentence, not its first clause.
HOW_ASKED = re.compile(_HOW)
# Words between a subject and its asking word ("的目标是", "要增长", "提高到了", "要控制在"):
# what comes before them is the subject, the thing the question asks a figure of.
# Modal words and verbs of change that stand before a count ("要", "打算", "新增", "增长").
_BEFORE_COUNT = "要|将|能|会|打算|计划|力争|增长|提高|增加|完成|新增"
SUBJECT_FRAME = re.compile(
    rf"(?:{_BEFORE_COUNT}|的|目标|预期|任务|实际|拟|预计|争取|下降|降低|"
    r"减少|达到|保持在|控制在|定在|定|安排|发行|是|有|为|到|了|一共|总共|现在|目前)*$"
)
# Words after a count that bound it, not name what is counted ("多少以内", "几个左右").
COUNT_NOISE = re.compile(r"(?:以上|以内|以下|左右|上下|之内|一共|总共)+")
# Measure words of a span of time.
DURATION = re.compile(r"小时|分钟|秒|天|日|周|个?月|年")
# Words of time in a subject ("今年", "2025年", "全年"): no part of the thing asked.
TIME_WORDS = re.compile(r"(?:(?:19|20)\d{2}年|[今明去前后上全]年|近年|当年|年内|到年底)+")
# Verbs of doing between a subject and its count ("农村老年食堂要新建几个", "电梯打算装多少"):
# the thing counted is before them.
COUNT_VERBS = re.compile(
    rf"(?:{_BEFORE_COUNT}|准备|新建|新开工|新改扩建|建成|建设|修建|建|修|改造|提升"
    r"|引进|招引|培育|加装|装|开|办|举办|实现|百分之)+$"
)
# What may stand between a verb and the asked count ("卖出了多少", "加装多少").
MODAL_TAIL = re.compile(r"[了过的]+$")
# Modal words of speech that jieba may join to the verb after them ("要产", "想招", "再修").
MODALS = frozenset("要想再还能将会可得")
# Which one(s) or who: a question with one of these and no NUMBER_ASKED word wants names.
WHICH_CUE = re.compile(r"哪|谁")
# Several names asked ("哪些行业", "哪几个"): a list answers, whole.
LIST_ASKED = re.compile(r"哪些|哪几")
# "Respectively": the question asks one figure for each of several things.
# Two things counted at once, by a measure word ("多少个精品示范村和提档升级村"); without
# one what follows the count may be whom a thing is done for ("多少妇女查乳腺癌和宫颈癌").
JOINED_THINGS = re.compile(
    r"(?:多少|几)[个家所座处条项名位张套户间台辆部][\u4e00-\u9fff]{2,}?"
    r"(?:和|与|以及|及|跟)[\u4e00-\u9fff]{2}"
)
RESPECTIVELY = re.compile(r"分别|各自|各(?=[是为有增涨降达提减])")
# A question that asks when, and the time expressions that answer it.
TIME_ASKED = re.compile(
    r"哪天|哪一天|哪日|几月|几号|几日|哪年|哪一年|哪个月|哪一月|什么时候|何时|什么时间|哪个季度|几时"
    r"|啥时候?|多会儿|哪会儿"
)
TIME_RE = re.compile(
    r"\d{1,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|\d{1,2}号(?!线)|[〇零一二三四五六七八九十]{2,4}年|[一二三四五六七八九十]{1,2}月|"
    r"年底|年初|年内|年末|年中|上半年|下半年|季度|世纪|年代"
)
YESNO_CUE = re.compile(r"是否|有没有|会不会|能不能|是不是|打算.{1,12}不|要不要|管不管|真的吗")
# A token that asks rather than tells.
ASKING_TOKEN = re.compile(
    r"^(?:哪|几|多少|多长|多大|多高|多久|多远|什么|谁|那个|这个|那些|这些|叫|称为|是不是)"
)

# Measure words: a number question names the unit it wants ("多少张" wants 张).
MEASURE_WORDS = (
    "公里", "平方米", "平方公里", "千瓦", "亿元", "万元", "公顷", "立方米", "万吨", "人次",
    "个", "家", "场", "所", "亩", "张", "部", "项", "条", "座", "名", "人", "户", "吨", "元",
    "台", "辆", "套", "批", "期", "次", "倍", "天", "年", "方面", "斤", "间", "处", "栋", "件",
    "只", "头", "株", "棵", "位", "支", "种", "类", "级", "层", "片", "块", "辆", "艘", "架",
)  # fmt: skip
_MEASURE_ALT = "|".join(sorted(set(MEASURE_WORDS), key=len, reverse=True))
# 这几/那几 point at some ("那几条产业链"), they ask nothing.
_ASKING = "(?:多少|(?<![这那])几)"
UNIT_AFTER_ASK = re.compile(rf"{_ASKING}(万|亿|千|百)?({_MEASURE_ALT})")
# A word asking how many, with its measure word ("多少公里", "几万亩"). Not 人 alone: after
# 多少 it begins a word as often as it counts ("多少人民", "多少人口").
ASKED_COUNT = re.compile(
    rf"{_ASKING}(?:万|亿|千|百)?(?:{'|'.join(w for w in _MEASURE_ALT.split('|') if w != '人')})?"
)
UNITS = frozenset(MEASURE_WORDS)
# Units of measure (length, area, weight, money, power): a figure in another unit is of
# another amount, unlike measure words of things counted, which stand in for each other
# (电梯 in 台 or 部).
MEASURE_UNITS = frozenset(
    "公里 平方米 平方公里 千瓦 亿元 万元 公顷 立方米 万吨 亩 吨 元 斤".split()
)
# The thing counted right after the asked count ("新增多少张医院床位？" -> 医院床位): a figure
# of another thing (家庭养老床位) does not answer it. It ends at a particle or punctuation.
COUNTED_THING = re.compile(
    rf"{_ASKING}(?>(?:万|亿|千|百)?(?:{_MEASURE_ALT})?)"
    r"的?(?P<thing>[\u4e00-\u9fffA-Za-z0-9]{1,12}?)(?=的?(?:[呢吗啊呀吧了]|[^\u4e00-\u9fffA-Za-z0-9]|$))"
)
# Quote marks inside a named thing ("专精特新“小巨人”企业"): part of its name, not its end.
QUOTE_MARKS = re.compile(r"[“”‘’「」『』《》\"']")
# 个 is the general measure word of speech: "多少个岗位" is answered by "50万人", "多少个项目"
# by "120项". It stands for any measure word of things counted one by one, not of amounts.
COUNTING_WORDS = (
    "个", "家", "场", "所", "张", "部", "项", "条", "座", "名", "人", "户", "台", "辆", "套",
    "批", "间", "处", "栋", "件", "只", "头", "株", "棵", "位", "支", "艘", "架", "人次",
)  # fmt: skip


# Measure words that count the same things: firms and households in 家 or 户.
SAME_COUNT = ("家", "户")


def accepted_units(units: tuple[str, ...]) -> tuple[str, ...]:
    """The measure words that answer a question asking in ``units`` (个 takes any count)."""
    if "个" in units:
        return units + COUNTING_WORDS
    return units + SAME_COUNT if set(units) & set(SAME_COUNT) else units


# ---------------------------------------------------------------- numerals
CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
# A figure in Chinese numerals counts before a measure word of things counted or amounts
# (百万亩, 三千亿元, 十大产业); not before 年, 次, 期, 级, 批 …, which are more often words
# (一年来, 一期工程, 一批学校), nor 一大 (一大批).
_CN_FIGURE_UNITS = (
    "个|方面|项|条|大|类|件|张|所|家|座|场|亩|公里|公顷|平方米|平方公里|千瓦|立方米|"
    "吨|元|人次|人|户|名|台|辆|套|倍"
)
NUMBER_RE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|％|万|亿)?|"
    rf"(?!一大)[一二两三四五六七八九十百千][零〇一二两三四五六七八九十百千万亿]*(?={_CN_FIGURE_UNITS})"
)

# The words of speech (index.vocab.speech), of key figures and comparisons
# (index.vocab.figures) and of neighbouring figures (index.vocab.neighbours), here with the rest.
from index.vocab.figures import *  # noqa: E402, F403
from index.vocab.neighbours import *  # noqa: E402, F403
from index.vocab.speech import *  # noqa: E402, F403
