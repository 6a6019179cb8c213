"""The words that tell a figure of a neighbouring thing from the one asked: the kind of
figure asked (a rate, a figure per head, how many there are), what is done to the things
counted, and what a figure's clause says it is of."""

from __future__ import annotations

import re

__all__ = [
    "ACTIONS",
    "AMONG",
    "AREA_PARTS",
    "COUNTED_AFTER_FIGURE",
    "COUNTED_BEFORE_FIGURE",
    "DESIGNATION",
    "FIGURE_VERB",
    "GRADES",
    "GROUP_NAMED",
    "GROWTH_WORDS",
    "LEVEL_SAID",
    "LEVEL_VERBS",
    "MONEY_ASKED",
    "MONEY_SAID",
    "PER_HEAD",
    "RANKS",
    "RATIO_WORDS",
    "SHARE_ASKED",
    "SHARE_WORDS",
    "SIDES",
    "STOCK_ASKED",
    "SUBJECT_LEAD",
    "TERM_NAMED",
    "WHOLE_ASKED",
    "YI_ASKED",
]

# A figure per head of population asked ("每千名老年人", "人均"): a count is no answer.
# Also per person or pupil ("每个人能补多少", "每生每年5元") and per place ("每个县(市、区)至少
# 建成1所").
RATIO_WORDS = re.compile(
    r"每(?:[十百千万]|十万)(?:名|个|位|户)?[\u4e00-\u9fff]{0,4}?(?:人|人口|老年人|户)|人均|户均"
    r"|每(?:个|位|名)?[人生](?!口|次|产)|每个?(?:县|区|乡镇|街道|村|社区)"
)
# A figure per head of a thing ("人均生产总值"): before the thing's word.
PER_HEAD = "人均|户均"
# A stock asked ("一共有多少", "现有"): a figure of new ones (新认定680家) is no answer.
STOCK_ASKED = re.compile(
    r"一共有|总共有|(?<!公)共有(?!产权)|现有|现在有|目前有|总数|总量|累计[^，,。？?新]{0,3}有"
)
# How many there are said of a thing ("高技能人才达843万人", "床位增至52.4万张"): no figure
# of new ones.
LEVEL_SAID = re.compile(r"达到?|增至|增加到|提高到|总数|总量|累计|共有")
# What is done to the things counted, by kind: building new ones, renewing old ones,
# starting and finishing works. A figure of one kind does not answer another
# ("改造多少个足球场" is not "新建40个社会足球场"); 改扩建 is both new and renewed.
ACTIONS = {
    # a new one started or finished is a new one too (新开工, 建成)
    "new": re.compile(r"新建|新增|新设|新开设|新认定|新培育|新引进|引进|招引|扩建|新开工|建成"),
    "renew": re.compile(r"改造|更新|翻新|维修|修缮|提质|升级|改扩建|新改扩建|完善"),
    "start": re.compile(r"开工|启动"),
    "finish": re.compile(r"完工|竣工|建成|投用|投运"),
}
# The thing a figure counts when it follows the figure and its measure word ("推进5万个
# 行政村通光纤" -> 行政村): two to three characters, before a verb or the clause's end.
COUNTED_AFTER_FIGURE = re.compile(
    r"\d+(?:\.\d+)?\s*[万亿]?(?:个|家|所|座|张|条|项|户|处|台|辆|套)"
    r"(?P<thing>[\u4e00-\u9fff]{2,3}?)(?=通|实现|建成|达到|完成|开展|[，,、；;。]|$)"
)
# ... or right before it ("举办各类就业招聘会300场以上" -> 招聘会).
COUNTED_BEFORE_FIGURE = re.compile(
    r"(?P<thing>[\u4e00-\u9fff]{2,3})\d+(?:\.\d+)?\s*[万亿]?(?:个|家|所|座|张|条|项|户|处|台|辆|套|场)"
)
# A group named by its number ("三大工程", "十大产业"): the thing after it is what it counts.
GROUP_NAMED = re.compile(
    r"(?<![一二两三四五六七八九十])[一二两三四五六七八九十]大(?P<thing>[\u4e00-\u9fff]{2,3}?)"
    r"(?=[，,、；;。”」]|$)"
    # ... or the kinds of a list ("高粱、谷子等6类农业全产业链")
    r"|等(?:\d+|[一二两三四五六七八九十]+)[类种](?P<kinds>[\u4e00-\u9fff]{2,8})"
)
# The verb between what a figure is said of and the figure ("一般公共预算收入增长4%",
# "居民消费价格涨幅控制在3%"): the words before it are the figure's own subject.
FIGURE_VERB = re.compile(
    r"增长|提高|提升|下降|降低|上涨|涨幅|增幅|增速|达到|控制在|稳定在|保持在|突破|超过|增至"
)
# Words that frame a subject, not name it: what the government strives for and whose
# figure it is as a whole ("力争", "推动", "全市").
SUBJECT_LEAD = re.compile(
    r"^(?:力争|确保|推动|推进|促进|实现|争取|努力|预计|预期|使|全年|今年|全市|全省|全区|全县|全国)+"
)
# Parts of a region a figure may be said of ("开发区规上工业增加值"): a part's figure is not
# the whole's. Not 城镇: "城镇新增就业" is how reports say the region's new jobs.
AREA_PARTS = re.compile(r"开发区|高新区|经开区|园区|新区|示范区|县域|县城|城区|农村")
# Ranks of a thing ("国家级企业技术中心", "省级以上", 国家 or 省市 before 重点): a figure of
# one rank is not another's.
RANKS = re.compile(r"(?:世界|国际|国家|省|市|县|区)级(?:以上)?|(?:国家|省市|省|市|县)(?=重点)")
# A figure that is a share of a whole ("民间投资占比40%", "占工业增加值比重"): no growth.
SHARE_WORDS = re.compile(r"占比|比重|比例|占[\u4e00-\u9fff]{1,12}?的?比")
# A share asked: in the words above, or "X占Y要稳在多少".
SHARE_ASKED = re.compile(rf"{SHARE_WORDS.pattern}|占")
# Grades a thing's name may open with (高技能人才, 特色产业): the thing without it is a
# wider one, of which the graded ones are a part.
GRADES = frozenset("高特优精尖超")
# A growth said ("增长5%", "涨幅2%", "下降3%"), and a level kept ("稳定在60%以上"): a level
# is no growth.
GROWTH_WORDS = re.compile(r"增长|增速|增幅|涨幅|提高|提升|上涨|下降|降低|减少")
LEVEL_VERBS = re.compile(r"稳定在|保持在")
# A five-year plan named ("十五五", "十四五"): its figures are the plan's, not one year's.
TERM_NAMED = re.compile(r"十[一二三四五六七八九]五")
# "Among X, Y" ("新增的中小学学位里，初中学位有多少"): a question asks of Y, a part of X.
AMONG = re.compile(r"(?:里|中|当中|里面|之中)[，,]")
# The two sides of a region, town and country: a figure of one is not the other's
# (城镇新增就业 for 农村新增就业). 城乡 names both, so neither.
SIDES = {
    "城镇": re.compile(r"城镇|城市|城里|城区"),
    "农村": re.compile(r"农村|乡村|农民|村里"),
}
# The whole of a thing asked ("整个太原的规上工业", "数字经济整体规模"): a figure of a part
# of it (战新兴产业规模以上工业增加值, 核心产业营收) is not the whole's.
WHOLE_ASKED = re.compile(r"整个|整体|总体|全部|所有|全市|全省|全区|全县")
# An amount asked in 亿 with no measure word after it ("营收总额定的是多少亿？").
YI_ASKED = re.compile(r"(?:多少|几)万?亿")
# An amount of money asked in words ("要花多少钱", "多少资金"), as surely as 多少元.
MONEY_ASKED = re.compile(r"多少(?:钱|资金|经费)|几个钱")
# A figure in money: in 元, or in 亿 of nothing counted (投资500亿, not 1.2亿人次).
MONEY_SAID = re.compile(r"\d\s*[万亿千百]*元|\d\s*亿(?![人次斤吨件册千立度])")

# A thing told from its siblings by an ordinal (3号线二期, 机场三期, 第十四届): a clause naming
# the siblings (1号线二期、3号线一期) is not about it. 期 of a span of time (期间, 期末) is none.
DESIGNATION = re.compile(r"(?:[0-9零一二三四五六七八九十]+(?:号线|届|期(?![间末内中初限])))+")
