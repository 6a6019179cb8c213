"""The words of key figures (a report's targets as rows) and of comparisons across reports."""

from __future__ import annotations

import re

from index.vocab import PROVINCE_ABBREVIATIONS

__all__ = [
    "ABBREVIATION_RUN",
    "AMOUNT_ASKED",
    "ASKED_INDICATORS",
    "EVERY_REGION",
    "FROM_TO",
    "INDICATORS",
    "INDICATOR_VERBS",
    "IN_STEP",
    "ITEM_SPLIT",
    "LOWEST_FIRST",
    "PLAN_PERIOD",
    "PLAN_PERIOD_DIGIT",
    "PROVINCES_ASKED",
    "QUALIFIERS",
    "QUALIFIERS_BEFORE",
    "QUALIFIER_SAME",
    "RANKING",
    "RATE_ASKED",
    "RECENT_COUNT",
    "RECENT_YEARS",
    "REGION_GROUPS",
    "RESPECTIVE_ITEM",
    "RESPECTIVE_JOINED",
    "RESPECTIVE_SPLIT",
    "RESULT_AMOUNT_UNIT",
    "RESULT_AT_LEAST",
    "RESULT_FALL",
    "RESULT_GOES_ON",
    "RESULT_GROWTH",
    "RESULT_INDICATORS",
    "RESULT_LEAD",
    "RESULT_LEVELS",
    "RESULT_NUMBER",
    "RESULT_PIECE",
    "RESULT_SENTENCE",
    "RESULT_SPAN",
    "RESULT_VERB_MOST",
    "REVIEW_ONE_YEAR",
    "REVIEW_SEVERAL_YEARS",
    "SCOPE_WORDS",
    "SEVERAL_YEARS_VERB",
    "SIDE_BY_SIDE",
    "SINCE_YEAR",
    "STATEMENT_VERB",
    "STATE_TASK",
    "TARGETS_CUE",
    "TARGET_ASKED",
    "TARGET_CONNECTIVE",
    "TARGET_HEDGE",
    "TARGET_NUMBER",
    "TASK_LEAD",
    "TASK_TAIL",
    "TREND",
    "YEARS_SPANNED",
    "YEAR_RANGE",
]

# ---------------------------------------------------------------- key figures
# The paragraph of a report's targets for its year ("今年经济社会发展主要预期目标是：…").
TARGETS_CUE = re.compile(
    r"主要预期目标|(?:今年|年度)[^。：]{0,12}主要目标(?=是?：)|(?:今年|年度)[^。：]{0,16}预期目标(?=是?：)"
)
# The items of the targets are its clauses ("、" joins parts of one: "能源、水资源…等指标").
ITEM_SPLIT = re.compile(r"[^，；,;。！？]+")
# A clause that only joins the next sentence's items to the targets ("同时，要在…取得新进展").
TARGET_CONNECTIVE = re.compile(r"同时|此外|另外|与此同时")
# A hedge joined to an item or standing alone ("…左右、争取更优水平", "在实际工作中努力争取更好
# 结果"): no target of its own.
TARGET_HEDGE = re.compile(r"(?:^|、)(?:在实际工作中)?(?:全力|努力)?(?:力争|争取)")
# An item's figure: a number (not of a name: PM2.5), a range's upper end, its unit.
TARGET_NUMBER = re.compile(
    r"(?<![A-Za-z.\d])(?P<value>\d+(?:\.\d+)?)\s*(?:[%％](?=\s*[—–~～至到-]))?"
    r"(?:\s*[—–~～至到-]\s*(?P<high>\d+(?:\.\d+)?))?\s*"
    r"(?P<unit>个百分点|%|％|万亿斤|亿斤|万吨|万人次|万人|万亿元|亿元|微克/立方米|万千瓦|千瓦|公里|万亩|亩|万)?"
)
# Words between an indicator and its figure that say how it is held, not what it is.
INDICATOR_VERBS = re.compile(
    r"(?:全年)?(?:继续)?(?:稳定)?(?:控制在|保持在|稳定在|保持|达到|达|实现|不少于|不低于|超过|低于|为|在)$"
    r"|按(?=增长)"
    r"|(?:争取|力争|不折不扣|全面|坚决)$"
)
# Words that name the report's own area before an indicator ("全省生产总值").
SCOPE_WORDS = re.compile(
    r"^(?:其中)?(?:要在|要)?(?:确保|力争|全面)?(?:全省|全市|全区|全县|全国)?(?:确保|力争|全面)?"
    r"(?:努力)?(?:实现)?"
)
QUALIFIERS = ("左右", "以上", "以内", "以下")  # after the figure
QUALIFIERS_BEFORE = ("不低于", "不少于", "不超过", "不高于", "超过", "低于")  # before it
# A qualifier before the figure said as the one after it means: "超过840亿斤" is 840亿斤以上.
QUALIFIER_SAME = {"超过": "以上", "低于": "以下"}
# Items without a figure: in step with growth, a task the state sets, a state kept.
# "居民收入增长和经济增长同步", "劳动报酬增长和劳动生产率提高同步": in step with another thing.
IN_STEP = re.compile(
    r"(?:和|与|同)[^，；。和与同]{2,10}?(?:保持)?(?:基本)?同步|(?:保持)?(?:基本)?同步"
)
STATE_TASK = re.compile(
    r"(?:目标)?(?:(?:达到|完成|按照).{0,4}国家|与国家.{0,12}衔接|国家下达|完成(?:约束性)?(?:目标)?任务$)"
)
# The task named after the state's words ("完成国家下达的X目标任务"): its lead and tail.
TASK_LEAD = re.compile(r"^(?:下达的?|要求|的|完成|我省|我市|我区)+")
TASK_TAIL = re.compile(r"(?:目标任务|任务|目标)$")
STATEMENT_VERB = re.compile(
    r"保持|持续|继续|稳量|稳中|回稳|(?<!质)量稳|保稳|促稳|基本|稳定|有序|有效|有所|改善|合理|回升|高于|稳步|提质|进一步|取得"
    r"|目标在|只增不减|(?:实现)?正增长"
)
# An item that gives several indicators their figures in order ("城镇、农村居民人均可支配收入
# 分别增长4.5%、5.5%左右"), and what separates its subjects and its figures.
RESPECTIVE_ITEM = re.compile(
    r"^(?P<subject>.+?)分别(?P<verb>增长|提高|下降|降低|达到|为)?(?P<figures>.+)$"
)
RESPECTIVE_SPLIT = re.compile(r"、|和")
# Subjects written as one word: "城乡居民" is 城镇居民 and 农村居民, "一二三产" 一产, 二产, 三产.
RESPECTIVE_JOINED = (
    (re.compile(r"^城乡"), ("城镇", "农村")),
    (re.compile(r"^一二三产"), ("一产", "二产", "三产")),
)
# The common name of an indicator across reports, the most specific first.
INDICATORS = tuple(
    (name, re.compile(words))
    for name, words in (
        ("单位GDP能耗降低", r"单位.{0,6}(?:生产总值|GDP)能耗"),
        ("一般公共预算收入增长", r"一般公共预算收入"),
        ("城镇调查失业率", r"调查失业率"),
        ("城镇新增就业", r"城镇新增就业"),
        ("居民消费价格涨幅", r"居民消费价格|CPI"),
        ("居民收入增长", r"居民(?:人均可支配)?收入"),
        ("固定资产投资增长", r"固定资产投资"),
        ("社会消费品零售总额增长", r"社会消费品零售总额|社零"),
        ("进出口", r"进出口|外贸"),
        ("粮食产量", r"粮食(?:总)?产量"),
        ("PM2.5浓度", r"细颗粒物|PM2\.5"),
        ("研发经费投入增长", r"研发经费投入增长"),
        ("赤字率", r"赤字率"),
        ("GDP增长", r"^(?:地区|国内)?生产总值增长|^经济增长|GDP增长"),
    )
)

# ---------------------------------------------------------------- results
# The headline results of the year a report reviews ("地区生产总值5.2万亿元、增长5.4%").
# A paragraph of the review that opens on one year ("过去一年，", "刚刚过去的2025年，",
# "2025年是…") or on several ("“十四五”时期是…", "五年来，", "这五年，"); one that opens on
# neither is of the years the paragraph before it was.
REVIEW_ONE_YEAR = re.compile(
    r"^(?:各位代表[，！!,])?(?:回顾)?(?:刚刚)?(?:过去的?一年|一年来|(?:刚刚过去的(?=(?:19|20)\d{2}年)"
    r"|(?=(?:19|20)\d{2}年[，,是]))(?P<year>(?:19|20)\d{2})年)"
)
REVIEW_SEVERAL_YEARS = re.compile(
    r"^(?:各位代表[，！!,])?(?:回顾|经过)?(?:过去的?|这|近)?(?:五|十|几)年(?:来|间|中|历程)?"
    r"|^[“\"]?十[一二三四五六七八九]五[”\"]?(?:时期|期间|以来)|^[^，。]{0,8}以来[，,]"
)
# A sentence of the review, and its pieces: an indicator and its figures ("城镇新增就业1256万人、
# 城镇调查失业率平均为5.1%" is two).
RESULT_SENTENCE = re.compile(r"[^；;。！？]+")
RESULT_PIECE = re.compile(r"[^，、,：:]+")
# Words before an indicator that say where or when, not what ("全年", "全省", "2025年").
RESULT_LEAD = re.compile(
    r"^\s*(?:其中|全年|年末|全省|全市|全区|全县|全国|去年|当年|(?:19|20)\d{2}年|实现|完成)*"
)
# A piece that goes on with the figures of the indicator before it ("，增长5.2%", "、达到4211
# 亿元"); one that opens on another thing ("、支出首次超过7000亿元") does not.
RESULT_GOES_ON = re.compile(
    r"\s*(?:实际|名义)?(?:增长|上涨|下降|回落|达到?|实现|为|突破|超过|首次|提高到|增至|增加到|\d)"
)
# Words of a figure over several years, not the year's ("年均增长6%", "累计完成3.7万亿元").
SEVERAL_YEARS_VERB = re.compile(r"年均|累计|五年|以来")
# A figure of a change from one level to another ("从1.29万亿元提高到1.39万亿元"): a term's.
RESULT_SPAN = re.compile(r"从|由")
# The indicators whose results are headline figures: the words a clause opens with (the
# whole head: a sub-aggregate such as 跨境电商进出口 is not the indicator), and the common
# names of its growth and of its amount (``None``: not a headline figure in that form).
RESULT_INDICATORS = tuple(
    (re.compile(head), growth, amount)
    for head, growth, amount in (
        (r"(?:地区|国内)?生产总值|经济总量|GDP", "GDP增长", "GDP总量"),
        (r"城镇新增就业(?:人数)?", None, "城镇新增就业"),
        (r"城镇调查失业率", "城镇调查失业率", None),
        (r"居民消费价格(?:指数)?|CPI", "居民消费价格涨幅", None),
        (r"(?:全体)?居民人均可支配收入", "居民收入增长", None),
        (r"(?:地方)?一般公共预算收入", "一般公共预算收入增长", "一般公共预算收入"),
        (r"(?:全社会)?固定资产投资", "固定资产投资增长", None),
        (r"社会消费品零售总额", "社会消费品零售总额增长", None),
        (r"(?:货物(?:贸易)?|外贸)?进出口(?:总额|总值)?", "进出口", "进出口"),
        (r"粮食(?:总产量?|产量)", None, "粮食产量"),
    )
)
# A result's figure and its unit; an amount's units (a % is a rate or a growth).
RESULT_NUMBER = re.compile(
    r"(?<![A-Za-z.\d])(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>%|％|万亿元|亿元|万人|万亿斤|亿斤|万吨)"
)
RESULT_AMOUNT_UNIT = ("万亿元", "亿元", "万人", "万亿斤", "亿斤", "万吨")
# The verb that makes a rate a growth ("实际增长5.1%", "上涨0.2%"): part of the indicator.
RESULT_GROWTH = re.compile(r"(?:实际|名义)?(?:增长|上涨|下降|回落|微降|微涨|下跌)$")
# A growth that is a fall: its figure is negative ("固定资产投资下降3.3%": -3.3).
RESULT_FALL = re.compile(r"下降|回落|微降|下跌")
# Rates that are a level, not a growth: their figure needs no growth verb.
RESULT_LEVELS = ("城镇调查失业率",)
# The most characters between an indicator and its figure ("首次跃上", "平均值为"): more is
# another thing's figure in the same clause ("一般公共预算收入中税收占比80%").
RESULT_VERB_MOST = 6
# A figure passed, not reached exactly ("超过126万亿元", "首次跃上1.4万亿斤").
RESULT_AT_LEAST = re.compile(r"超过|超|突破|跃上|迈上|站上")

# ---------------------------------------------------------------- comparisons
# Every report of a kind at once ("各省", "各地"), or which of them ranks first.
EVERY_REGION = re.compile(
    r"各(?:省份|省区市|省市|地区|省|地|市)|(?:31|三十一)个省|所有(?:省|地区)|全部省"
)
PROVINCES_ASKED = re.compile(r"省|自治区")  # 各省, 哪个省: provinces, not the nation or cities
RANKING = re.compile(
    r"哪(?:个|些|几个)(?:省|地方|地区|城市)|最高|最低|最多|最少|最大|最小|最快|最慢|垫底|倒数|排名|排个?序"
)
LOWEST_FIRST = re.compile(r"最低|最少|最小|最慢|垫底|倒数")
# Which of an indicator's figures is asked when it has a growth and an amount (进出口): a
# rate ("增速", "增长了多少", "几个点" in speech) or the amount ("总额", "规模"). A figure
# answer to a rate asked holds a percentage (assistant.nearmiss).
RATE_ASKED = re.compile(r"增速|增幅|涨幅|增长|涨了|降了|速度|百分|(?:几|多少)个点")
AMOUNT_ASKED = re.compile(r"总额|总量|总值|规模|多少亿|多少万亿|多少万人|多少斤|多少吨")
YEARS_SPANNED = re.compile(
    r"历年|这些年|近年来|多年来|(?:这|近|最近)[两三四五六七八九十几]年|去年和今年"
    r"|十[一二三四五六七八九]五(?:时期|期间|以来)|(?:19|20)\d{2}年?(?:以来|之后|以后)"
    r"|(?:19|20)\d{2}年?(?:和|与|、|至|到)(?:19|20)\d{2}年"
)
# The years a trend asks: a range ("2015年到2020年"), or the last few ("这两年": the last
# two reports; "这几年"/"近几年": five, the span of one plan period, which people mean by it).
YEAR_RANGE = re.compile(r"((?:19|20)\d{2})年?(?:至|到|-|—|－)((?:19|20)\d{2})年")
RECENT_YEARS = re.compile(r"(?:这|近|最近)(两|三|四|五|六|七|八|九|十|几)年")
# A five-year plan's years ("十三五期间": 2016–2020; the Xth plan of 十X五 starts in 2001+5X)
# and the years since one ("2018年以来").
PLAN_PERIOD = re.compile(r"十([一二三四五六七八九])五(?:时期|期间|以来)")
PLAN_PERIOD_DIGIT = dict(zip("一二三四五六七八九", range(1, 10), strict=True))
SINCE_YEAR = re.compile(r"((?:19|20)\d{2})年?(?:以来|之后|以后)")
RECENT_COUNT = {
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "几": 5,
}
# An item that gives a change from one figure to another ("赤字率从去年的2.1%提高到2.3%"):
# its figure is the second.
FROM_TO = re.compile(
    r"(?:从|由)[^，；。]*?\d[^，；。]*?(?:提高|增加|下降|降低|调整|上升)?(?:到|至)"
)
TREND = re.compile(YEARS_SPANNED.pattern + r"|逐年|每年|历次|怎么变|如何变化|变化|走势|趋势")
# A target asked in so many words: a question that says 去年 may still ask last year's
# target ("去年和今年的失业率目标").
TARGET_ASKED = re.compile(r"目标|预期|计划|打算")
# Provinces named together by their one-character names ("川渝黔滇藏", "渝、辽、皖"), two or
# more in a row: one alone is too often a word's first character (新增, 青年).
ABBREVIATION_RUN = re.compile(
    "[" + "".join(PROVINCE_ABBREVIATIONS) + "](?:、?[" + "".join(PROVINCE_ABBREVIATIONS) + "])+"
)
# Words that set provinces side by side: a group or run of one-character names elsewhere
# in a question (推进京津冀协同…) is its topic, not the reports asked.
SIDE_BY_SIDE = re.compile(r"分别|各(?:是|自|为)|对比|比较|哪|谁|最|列")
# Groups of provinces by the names people give them.
REGION_GROUPS = {
    "长三角": ("上海市", "江苏省", "浙江省", "安徽省"),
    "东北三省": ("辽宁省", "吉林省", "黑龙江省"),
    "东三省": ("辽宁省", "吉林省", "黑龙江省"),
    "京津冀": ("北京市", "天津市", "河北省"),
    "西北五省区": ("陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区"),
    "西北五省": ("陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区"),
    "中部六省": ("山西省", "安徽省", "江西省", "河南省", "湖北省", "湖南省"),
    "西南五省区市": ("重庆市", "四川省", "贵州省", "云南省", "西藏自治区"),
}
# The indicator a question asks for, in the words people use; GDP last: 增长目标 alone
# means it.
ASKED_INDICATORS = tuple(
    (name, re.compile(words))
    for name, words in (
        ("城镇调查失业率", r"失业率"),
        ("城镇新增就业", r"新增就业|就业目标|城镇就业"),
        ("居民消费价格涨幅", r"CPI|物价|居民消费价格"),
        ("居民收入增长", r"居民收入|收入增长"),
        ("一般公共预算收入增长", r"一般公共预算收入|财政收入"),
        ("固定资产投资增长", r"固定资产投资|投资增长"),
        ("社会消费品零售总额增长", r"社会消费品零售|社零"),
        ("进出口", r"进出口|外贸"),
        ("粮食产量", r"粮食"),
        ("单位GDP能耗降低", r"能耗"),
        ("PM2.5浓度", r"PM2\.5|细颗粒物"),
        ("研发经费投入增长", r"研发经费"),
        ("赤字率", r"赤字率"),
        ("GDP总量", r"(?:GDP|生产总值|经济)(?:总量|规模)"),
        ("GDP增长", r"GDP|生产总值|经济(?:实际)?增|增长目标"),
    )
)
