"""A words question's closest clause below the probability floor: answered when it holds the
question's words that the reports use (the asker's own words weigh nothing)."""

from __future__ import annotations

import pytest

from assistant.answering import HELD_COVER, held_coverage, on_topic
from assistant.extract import Pick
from assistant.retrieval import Hit
from index.model import Document, Passage


class _Reports:
    """Reports that use exactly ``words``."""

    def __init__(self, words: set[str]) -> None:
        self.words = words

    def holds(self, term: str, doc_ids=None) -> bool:
        return term in self.words


@pytest.mark.parametrize(
    ("terms", "used", "clause", "answers"),
    [
        # 管不管 and 一直 are the asker's: the clause holds every word the reports use
        (
            {"期房": 4.0, "交房": 3.0, "一直": 2.0, "管不管": 4.0},
            {"期房", "交房"},
            "打好“保交房”攻坚战，推进期房交付",
            True,
        ),
        # the clause holds the weaker of the used words only
        (
            {"留守": 3.0, "儿童": 1.0, "心理": 3.0},
            {"留守", "儿童", "心理"},
            "强化流动儿童基本公共服务供给",
            False,
        ),
        # used words the clause lacks weigh against it whatever the asker's words
        (
            {"燃气": 4.0, "管道": 3.0, "老化": 3.0, "咋整": 5.0},
            {"燃气", "管道", "老化"},
            "推进燃气管道老化更新改造",
            True,
        ),
    ],
)
def test_held_coverage(terms, used, clause, answers):
    share, count = held_coverage(terms, clause, _Reports(used), None)
    assert count == len(used)
    assert (share >= HELD_COVER) == answers


@pytest.mark.parametrize(
    ("unnamed", "about", "quote", "answers"),
    [
        # a topic the reports never name: only a clause holding two of its characters in a row
        (True, "出租车起步价会涨", "城镇新增就业8万人，居民消费价格涨幅2%左右", False),
        (True, "跟哪两个地方一起建那个发展核", "加快推进太原榆次太谷发展核建设", True),
        # a topic they name: the fitted floor decides alone
        (False, "出租车起步价会涨", "城镇新增就业8万人，居民消费价格涨幅2%左右", True),
    ],
)
def test_a_topic_the_reports_never_name(unnamed, about, quote, answers):
    doc = Document("d", "示例市2026年政府工作报告", 2026, "示例市", "d.txt", "0")
    passage = Passage("d", quote, "", 1, 0, len(quote), ((0, len(quote)),))
    pick = Pick(Hit(passage, doc, 1.0, 1.0, 1.0, (), "plan"), quote, quote, 0.1)
    assert on_topic(pick, unnamed, about) is answers
