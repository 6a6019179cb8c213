"""Overview questions: which questions are open, and how a point is said."""

from __future__ import annotations

import pytest

from assistant.overview import (
    _closeness,
    _in_passing,
    _nearby,
    _points,
    _same_paragraph,
    point_text,
)
from assistant.question import clean_question, detect_intent
from assistant.retrieval import Hit
from index.model import Document, Passage


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("北京今年在教育上有哪些打算？", "overview"),
        ("浙江今年打算怎么稳就业？", "overview"),
        ("国家打算如何提振消费", "overview"),
        ("去年在生态环保方面做了哪些事", "overview"),
        ("养老方面有什么新举措", "overview"),
        ("文化旅游这块打算咋搞", "overview"),  # spoken: 这块, 咋搞
        ("城市更新今年咋安排的", "overview"),
        ("科技创新有哪些大动作", "overview"),  # a word of size before the plans
        # one clause answers these: a name, a figure, whether
        ("新疆打算布局哪些未来产业？", "entity"),
        ("今年打算怎么分配那500亿元，多少用于养老", "number"),
        ("社区医院能不能看儿科", "yesno"),
        # spoken ways of asking the plans on a topic
        ("想了解下太原今年交通方面的安排", "overview"),
        ("四川今年怎么帮大家找工作？", "overview"),
        ("广西去年在人工智能上都干了些啥？", "overview"),
        ("太原今年在AI和数字化这块有啥规划？", "overview"),
        ("对困难户、残疾人有啥帮扶？", "overview"),
        ("空气污染方面打算怎么治？", "overview"),
    ],
)
def test_open_questions_are_overviews(question, kind):
    assert detect_intent(clean_question(question)).kind == kind


@pytest.mark.parametrize(
    ("question", "cleaned"),
    [
        ("咱太原今年新增多少养老床位", "太原今年新增多少养老床位"),
        ("咱们的高铁规划要路过哪儿", "高铁规划要路过哪儿"),
        ("那个产业园叫啥来着", "那个产业园叫啥"),
        ("报告里说的那个健身圈有多大", "报告里健身圈有多大"),
        ("今年搞的产业链有几类", "今年产业链有几类"),
        ("家门口的健身圈说的是多少分钟", "家门口的健身圈是多少分钟"),
        ("他说的是真的", "他说的是真的"),  # not before an asking word: what someone said
        ("那个产业园是谁搞的", "那个产业园是谁搞的"),  # at the end it is the question
        ("生态环境这块今年怎么做", "生态环境方面今年怎么做"),
        ("这块地要建什么", "这块地要建什么"),  # at the start it is no topic's 方面
        ("他捡到的这块石头有多重", "他捡到的这块石头有多重"),  # before a noun: a piece
    ],
)
def test_spoken_words_no_report_uses_are_dropped(question, cleaned):
    assert clean_question(question) == cleaned


@pytest.mark.parametrize(
    ("sentence", "said"),
    [
        ("新增中学学位1万个。", "新增中学学位1万个"),
        (
            "甲" * 50 + "，" + "乙" * 30 + "，" + "丙" * 30 + "。",
            "甲" * 50 + "，" + "乙" * 30 + "…",
        ),
        ("丁" * 120, "丁" * 90 + "…"),
    ],
)
def test_point_text(sentence, said):
    assert point_text(sentence) == said


@pytest.mark.parametrize(
    ("key", "sentence", "passing"),
    [
        ("教育", "扩大在工业、科研、教育、医疗、文旅等领域融合应用", True),
        ("文旅", "扩大在工业、科研、教育、医疗、文旅等领域融合应用", True),  # the last item
        ("工业", "扩大在工业、科研等领域融合应用", True),  # the first item
        ("轨道交通", "推进轨道交通1号线二期、3号线一期前期工作", False),  # what it is about
        ("教育", "深化教育综合改革，推进工业、教育、医疗协同", False),  # once about it
    ],
)
def test_a_topic_named_only_in_a_list_is_named_in_passing(key, sentence, passing):
    assert _in_passing(key, sentence) is passing


class _Report:
    """A retriever over one report's passages, each one sentence with its similarity."""

    def __init__(self, rows: list[tuple[str, str, float, str]]) -> None:
        doc = Document("d", "t", 2025, "某市", "d.txt", "h")
        self.hits = []
        for n, (section, sentence, sim, part) in enumerate(rows, start=1):
            passage = Passage("d", sentence, section, n, 0, len(sentence), ((0, len(sentence)),))
            self.hits.append(Hit(passage, doc, 0, 0, 0, (sim,), part))

    def report_hits(self, query, doc_id, section=None):
        return list(self.hits)


_OWN = "二、工作安排 > （六）治山治水 > 强化生态治理"
_BESIDE = "二、工作安排 > （六）治山治水 > 打好保卫战"
_OTHER = "二、工作安排 > （七）惠民生 > 推进病有良医"
_LONG = "这是一个足够长的句子，说的是一项具体的举措"  # past the heading length


@pytest.mark.parametrize(
    ("rows", "shown", "added"),
    [
        # the paragraphs beside the points' one, as close to the question as they are
        ([(_BESIDE, "蓝天" + _LONG, 0.8, "plan"), (_BESIDE, "碧水" + _LONG, 0.7, "plan")], 3, 2),
        # never more than six points
        ([(_BESIDE, f"第{n}" + _LONG, 0.9, "plan") for n in range(4)], 3, 3),
        # less close than the least close point: another topic of the section
        ([(_BESIDE, "收官" + _LONG, 0.5, "plan")], 3, 0),
        # another task of the plan, or the other part of the report
        ([(_OTHER, "医院" + _LONG, 0.9, "plan"), (_BESIDE, "去年" + _LONG, 0.9, "review")], 3, 0),
        # six points already
        ([(_BESIDE, "蓝天" + _LONG, 0.8, "plan")], 6, 0),
    ],
)
def test_an_overview_adds_the_close_measures_beside_its_paragraph(rows, shown, added):
    own = [(_OWN, f"第{n}条" + _LONG, 0.6 + n / 100, "plan") for n in range(shown)]
    report = _Report(own + rows)
    points = _points(report.hits[:shown], lambda h, s: True)
    more = _nearby("生态环境怎么搞", points, report, "plan")
    assert len(more) == added
    assert all(p.hit.passage.section == _BESIDE and p.sim >= 0.6 for p in more)


def _paragraph(sentences: list[str], n: int = 1) -> Hit:
    text, spans = "", []
    for s in sentences:
        spans.append((len(text), len(text) + len(s)))
        text += s
    doc = Document("d", "t", 2025, "某市", "d.txt", "h")
    passage = Passage("d", text, _OWN, n, 0, len(text), tuple(spans))
    return Hit(passage, doc, 0, 0, 0, tuple(0.5 for _ in spans), "plan")


@pytest.mark.parametrize(
    ("about", "added"),
    [
        ((0, 2), [1, 3]),  # two points of the paragraph: its other sentences, in order
        ((0,), []),  # one: the paragraph may be about another thing
    ],
)
def test_a_paragraph_holding_two_points_gives_its_other_sentences(about, added):
    sentences = [f"第{n}句。" + _LONG + "。" for n in range(4)]
    hit = _paragraph(sentences)
    points = [
        p
        for p in _points([hit], lambda h, s: True)
        if p.start in {hit.passage.sentences[i][0] for i in about}
    ]
    more = _same_paragraph(points)
    assert [
        hit.passage.sentences.index((p.start, p.start + len(p.sentence))) for p in more
    ] == added


@pytest.mark.parametrize(
    ("sims", "closeness"),
    [
        ((0.9, 0.8, 0.7), 0.8),
        ((0.9, 0.8, 0.7, 0.1, 0.1), 0.8),  # the closest three: more points cost nothing
        ((0.5, 0.5, 0.5, 0.5), 0.5),
    ],
)
def test_the_closest_points_say_how_close_a_reading_of_the_topic_is(sims, closeness):
    hit = _paragraph([f"第{n}句" + _LONG for n in range(len(sims))])
    hit = Hit(hit.passage, hit.document, 0, 0, 0, sims, "plan")
    assert _closeness(_points([hit], lambda h, s: True)) == pytest.approx(closeness)
