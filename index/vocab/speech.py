"""The words of speech: wrappers and fillers a question drops, everyday names of the reports'
terms, and the wording of suggested follow-up questions."""

from __future__ import annotations

import re

# ---------------------------------------------------------------- question noise
# Spoken wrappers and fillers that carry no meaning for the search; they are removed from
# the question before anything else reads it.
WRAPPERS = (
    r"^(?:请问一下|请问|麻烦(?:你|您)?(?:帮我)?(?:查一下|查查|看一下|看看|问一下)?|帮我(?:查一下|查查|看看|看一下)|"
    r"我?想(?:问一下|问问|知道|了解一?下?)|问一下|你好|您好|能告诉我|告诉我|请告诉我)[，,：:\s]*",
    # The region and year inside a report wrapper are kept ("在2026年的浙江省政府工作报告中，").
    r"^(?:根据|按照|依据|据)(?P<keep>[^，,]{0,20}?)的?(?:政府工作)?报告[，,：:\s]*",
    r"^在?(?P<keep>[^，,]{0,24}?)的?政府工作报告(?:中|里|里面|上)?[，,：:\s]*(?:提到|说|讲)?[，,：:\s]*",
    r"^听说[，,\s]*",
    r"[，,]?(?:真的吗|是真的吗|对吗|是吗|对不对|是不是真的)(?=[？?！!。，,]|$)",
)
WRAPPER_RES = tuple(re.compile(p) for p in WRAPPERS)
# Words of speech inside a question that no report uses: "咱(们)" before a place or topic,
# "来着" after it; "(这)一块" after a topic says what 方面 says in writing.
SPOKEN_WORDS = (
    (re.compile(r"咱们?的?|俺们?的?"), ""),
    (re.compile(r"来着"), ""),
    # "说的那个X" points back at an X the report names; "搞的X" is speech for an X the
    # government runs: no report writes either (none of the 84 in ../shared does).
    (re.compile(r"(?:说|讲|提到?)的那个"), ""),
    # "X说的是多少": what X amounts to; the report states X, never "说的是".
    (re.compile(r"(?<=[\u4e00-\u9fff])说的是(?=多少|几|什么|啥|哪)"), "是"),
    (re.compile(r"搞的(?=[\u4e00-\u9fff])"), ""),
    (
        re.compile(
            r"(?<=[\u4e00-\u9fff])这一?块儿?"
            r"(?=今年|明年|去年|的|要|准备|打算|计划|有|是|怎么|咋|如何|[，,？?]|$)"
        ),
        "方面",
    ),
)
# Sentence-final particles; dropped when they end a clause (呢 stays: it marks follow-ups).
FILLER_PARTICLES = re.compile(
    r"(?<=[\u4e00-\u9fff])(?:啊|呀|吧|嘛|哈|哦|噢|喔|咧|啦)(?=[？?！!。，,\s]|$)"
    # An interjection that opens speech ("嗯，", "呃…"): no report starts a sentence so.
    r"|^(?:嗯+|呃+|额|唔|哎|诶|欸|噢|哦)(?:[，,。.…~～\s]+|(?=那|我|这|就|请|想|问))"
)

# Words that count or point at things rather than name one ("所有行业", "各类企业").
QUANTIFIER_BEFORE = re.compile(
    r"(?:所有|各类|各项|各个|各|全部|一切|相关|有关|这些|那些|一些|其他|其它)$"
)

# ---------------------------------------------------------------- everyday words
# Everyday ways of naming a report's term, for the keyword side of the search; the dense
# side needs no table. Each pair is general economic or civic wording, not one question's.
# Short forms reports and people both use ("规上工业" = "规模以上工业"): either stands for the
# other when the question's words are looked for in a sentence.
_SHORT_FORMS = (("规上", "规模以上"), ("限上", "限额以上"))
# A place a question mentions in its topic may be named otherwise by the reports: the
# reports of Beijing's neighbours speak of its 首都 resources, functions and services.
_PLACE_NAMES_IN_REPORTS = (("北京", "首都"),)
ABBREVIATIONS = {
    a: (b,) for pair in (*_SHORT_FORMS, *_PLACE_NAMES_IN_REPORTS) for a, b in (pair, pair[::-1])
}

EVERYDAY_TERMS = (
    (re.compile(r"GDP|国民生产总值|经济总量|经济规模", re.IGNORECASE), "生产总值"),
    (re.compile(r"经济增速|经济增长(?!目标)"), "生产总值增长"),
    (re.compile(r"CPI|物价(?:涨幅|水平)?", re.IGNORECASE), "居民消费价格"),
    (re.compile(r"R&D|科研投入|科研经费", re.IGNORECASE), "研发经费投入"),
    (re.compile(r"社零"), "社会消费品零售总额"),
    (re.compile(r"(?<![A-Za-z])AI(?![A-Za-z])", re.IGNORECASE), "人工智能"),
    (re.compile(r"老小区|(?<!老)旧小区"), "老旧小区"),
    (re.compile(r"外贸总额|进出口额"), "进出口总值"),
    (re.compile(r"财政收入"), "一般公共预算收入"),
    # Everyday names of people and things the reports name in their own terms.
    (re.compile(r"老年痴呆|失智"), "认知障碍"),
    (
        re.compile(r"(?:丢了?|没了?|失去|找不到)工作的?(?:人员|人|职工)|下岗(?:职工|人员)"),
        "失业人员",
    ),
    (re.compile(r"重新(?:上岗|就业|找到工作)"), "再就业"),
    (re.compile(r"退伍军人|复员军人"), "退役军人"),
    (re.compile(r"生孩子|生娃|生小孩"), "生育"),
    (re.compile(r"楼市|房市"), "房地产市场"),
    (re.compile(r"堵车"), "交通拥堵"),
    (re.compile(r"暖气"), "供暖"),
    (re.compile(r"看病(?!贵|难|就医)"), "就医"),
    (re.compile(r"退休金|养老钱"), "基本养老金"),
    (re.compile(r"工厂"), "工业企业"),
    (re.compile(r"(?:娃娃?|孩子|小孩)上学(?!率)"), "教育"),
    # Everyday names of what the government works on ("帮大家找工作", "在太原做生意").
    (re.compile(r"找(?:工作|活干?)"), "就业"),
    (re.compile(r"做生意|做买卖"), "营商"),
    (re.compile(r"(?:买东西|逛街|购物|掏钱)+"), "消费"),
    (re.compile(r"(?:来|去|出去)玩(?!具)|游玩"), "旅游"),
    (re.compile(r"带(?:娃娃?|孩子|小孩)|看孩子"), "托育"),
    (re.compile(r"(?:种地|种粮|打粮)+"), "粮食生产"),
    (re.compile(r"困难户"), "困难群众"),
    (re.compile(r"欠(?:的)?债"), "债务"),
    # A verb of speech for the reports' one: an old thing made over is 改造 in writing.
    (re.compile(r"翻新"), "改造"),
    # "多出/多添多少个": more of them than now, which reports write as 新增.
    (re.compile(r"多(?:出|添|加)了?(?=多少|几)"), "新增"),
)


# ---------------------------------------------------------------- follow-up suggestions
# What is left before the topic once a question's place and year are taken out ("去年的
# 经济总量" -> "的经济总量", "黑龙江全省城镇新增就业", "国务院…报告把…"): no part of the topic.
SUGGEST_LEAD = re.compile(r"^(?:[，,、：:\s]|的|在|把|对|全省|全市|全区|全县|全国|本省|本市)+")
# A suggested question: the place, the year, then what is asked.
SUGGEST_YEAR = "{year}年"
SUGGEST_SWAPPED = "{place}{when}{rest}"
SUGGEST_TARGET = "{place}{when}{indicator}的目标是多少？"
SUGGEST_RESULT_RATE = "{place}{when}{indicator}了多少？"  # a growth or a rate of the review
SUGGEST_RESULT_AMOUNT = "{place}{when}{indicator}是多少？"
# A key figure's name longer than this is a clause, not a name to ask by.
SUGGEST_MAX_NAME = 16
# The clauses of a sentence ("、" joins the parts of one: "新建绿道1000公里、绿地500公顷").
SUGGEST_CLAUSE = re.compile(r"[^，,；;：:]+")
