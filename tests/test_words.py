"""A words question's closest clause below the probability floor: answered when it holds the
question's words that the reports use (the asker's own words weigh nothing)."""

from __future__ import annotations

import pytest

from assistant.answering import HELD_COVER, held_coverage


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
