"""Overview questions: which questions are open, and how a point is said."""

from __future__ import annotations

import pytest

from assistant.overview import point_text
from assistant.question import detect_intent


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("北京今年在教育上有哪些打算？", "overview"),
        ("浙江今年打算怎么稳就业？", "overview"),
        ("国家打算如何提振消费", "overview"),
        ("去年在生态环保方面做了哪些事", "overview"),
        ("养老方面有什么新举措", "overview"),
        # one clause answers these: a name, a figure, whether
        ("新疆打算布局哪些未来产业？", "entity"),
        ("今年打算怎么分配那500亿元，多少用于养老", "number"),
        ("社区医院能不能看儿科", "yesno"),
    ],
)
def test_open_questions_are_overviews(question, kind):
    assert detect_intent(question).kind == kind


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
