"""Passages: section paths, length bounds, whole sentences, exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import sample_report
from index.chunking import (
    DISTRICT_SECTION,
    LONGEST_SENTENCE,
    MAX_CHARS,
    MIN_CHARS,
    SECTION_SEPARATOR,
    UNIT_CHARS,
    chunk_text,
    evidence_units,
    split_sentences,
)
from index.clean import clean_text
from index.model import Passage
from index.readers import read_text

DATA = Path(__file__).parent / "data"
PLAN = "二、2025年工作安排"


@pytest.fixture(scope="module")
def sample() -> tuple[str, tuple[Passage, ...]]:
    path = sample_report()
    text = clean_text(read_text(path, path.read_bytes()))
    return text, chunk_text("sample", text)


def _containing(passages: tuple[Passage, ...], needle: str) -> Passage:
    found = [p for p in passages if needle in p.text]
    assert len(found) == 1, needle
    return found[0]


def test_every_dev_evidence_is_whole_in_one_passage(sample) -> None:
    _, passages = sample
    evidence = (DATA / "dev_evidence.txt").read_text("utf-8").split("\n")
    evidence = [line for line in evidence if line]
    assert len(evidence) >= 30
    missing = [e for e in evidence if not any(e in p.text for p in passages)]
    assert missing == []


def test_offsets_are_exact(sample) -> None:
    text, passages = sample
    previous_end = 0
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.start >= previous_end
        previous_end = passage.end
        assert passage.doc_id == "sample"
        assert passage.sentences
        for start, end in passage.sentences:
            assert 0 <= start < end <= len(passage.text)
            assert passage.text[start:end].strip() == passage.text[start:end]


def test_paragraph_numbers_are_lines_of_the_clean_text(sample) -> None:
    text, passages = sample
    lines = text.split("\n")
    for passage in passages:
        assert passage.text.split("\n")[0] in lines[passage.paragraph - 1]


def test_sections_follow_the_headings(sample) -> None:
    _, passages = sample
    beds = _containing(passages, "新增养老床位2000张")
    assert beds.section.startswith(PLAN + SECTION_SEPARATOR)
    assert beds.section.endswith("推进“老有厚养”")
    assert "（七）" in beds.section or "(七)" in beds.section
    first = _containing(passages, "下好创新“先手棋”。")
    assert first.section == (f"{PLAN} > (一) 加快向新而行、向绿而行、向效而行 > 下好创新“先手棋”")
    law = _containing(passages, "严格依法行政。")
    assert law.section == "三、全面加强政府自身建设 > 严格依法行政"
    assert _containing(passages, "直面问题是解决问题的前提").section == ""


def test_headings_alone_are_not_passages(sample) -> None:
    _, passages = sample
    texts = {p.text for p in passages}
    assert PLAN not in texts
    assert "三、全面加强政府自身建设" not in texts
    heading_and_body = _containing(passages, "(一) 加快向新而行")
    assert heading_and_body.text.startswith("(一) 加快向新而行、向绿而行、向效而行。产业体系")


def test_lengths_are_bounded_and_sentences_whole(sample) -> None:
    text, passages = sample
    for passage in passages:
        assert len(passage.text) <= MAX_CHARS + MIN_CHARS or len(split_sentences(passage.text)) == 1
    short = [p for p in passages if len(p.text) < MIN_CHARS]
    assert all(p.section.endswith(DISTRICT_SECTION) for p in short)
    covered = [(p.start, p.end) for p in passages]
    for start, end in split_sentences(text):
        inside = [c for c in covered if c[0] <= start and end <= c[1]]
        outside = [c for c in covered if c[0] < end and start < c[1]]
        assert inside == outside, text[start:end]


def test_long_paragraph_is_split_between_sentences(sample) -> None:
    _, passages = sample
    parts = [p for p in passages if p.section.endswith("办好十件民生实事")]
    assert len(parts) == 2
    assert parts[0].end <= parts[1].start and parts[0].paragraph == parts[1].paragraph
    assert all(p.text.endswith(("。", "；")) for p in parts)


def test_district_items_are_their_own_passages(sample) -> None:
    _, passages = sample
    item = _containing(passages, "万柏林区召开信访安全保障动员部署会")
    assert item.text.startswith("3月1日，万柏林区召开")
    assert item.text.endswith("促进社会安全稳定。")
    assert item.section.endswith(DISTRICT_SECTION)
    assert not any(p.text in ("万柏林区", "小店区", "古交市") for p in passages)
    dated = [p for p in passages if p.section.endswith(DISTRICT_SECTION)]
    assert sum(p.text.startswith(("2月28日", "3月1日")) for p in dated) == 9


def test_split_sentences_keeps_closing_quotes_and_numbers() -> None:
    text = "新增学位2.4万个。他说：“好！”然后呢？是的；完毕"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "新增学位2.4万个。",
        "他说：“好！”",
        "然后呢？",
        "是的；",
        "完毕",
    ]


def test_balanced_split_and_long_sentence_kept_whole() -> None:
    sentence = "推进重点项目建设取得新进展，" * 3 + "完成年度目标。"
    paragraph = sentence * 12
    text = f"一、主要任务\n{paragraph}\n" + "一句很长的话，" * 60 + "结束。"
    passages = chunk_text("d", text)
    body = [p for p in passages if p.paragraph == 2]
    assert len(body) > 1
    assert "".join(p.text for p in body) == paragraph
    assert all(len(p.text) <= MAX_CHARS for p in body)
    assert max(len(p.text) for p in body) - min(len(p.text) for p in body) <= len(sentence)
    last = passages[-1]
    assert last.text.endswith("结束。") and len(split_sentences(last.text)) == 1
    # The long sentence is one passage but several evidence units of whole clauses.
    assert len(last.sentences) > 1
    assert all(b - a <= UNIT_CHARS for a, b in last.sentences)
    assert "".join(last.text[a:b] for a, b in last.sentences).replace(
        "，", ""
    ) == last.text.replace("，", "")


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        ("甲乙丙丁" * 30_000, "甲乙丙丁"),  # no stop, no clause: cut every LONGEST_SENTENCE
        ("有一个很长的项目名称，" * 5_000, "有一个很长的项目名称"),  # whole clauses
        ("| 指标 | 目标 | 完成 " * 4_000, "指标"),  # a table's cells on one line
        ("“未闭合的引号" + "内容很多，" * 3_000, "内容很多"),  # clauses inside quotes
    ],
)
def test_a_line_with_no_stop_is_cut_into_bounded_pieces(text: str, piece: str) -> None:
    spans = split_sentences(text)
    assert len(spans) > 1 and all(e - s <= LONGEST_SENTENCE for s, e in spans)
    assert spans[0][0] <= 2 and spans[-1][1] == len(text.rstrip())
    assert all(piece in text[s:e] for s, e in spans[:-1])
    passages = chunk_text("d", f"一、表格\n{text}\n")
    assert max(len(p.text) for p in passages) <= LONGEST_SENTENCE
    assert all(b - a <= LONGEST_SENTENCE for p in passages for a, b in p.sentences)


def test_no_sentence_of_the_sample_is_cut(sample) -> None:
    """The bound is above every real sentence: the sample's sentences end at stops."""
    text, _ = sample
    assert max(e - s for s, e in split_sentences(text)) < LONGEST_SENTENCE


def test_lead_on_its_own_line_titles_the_next_paragraph() -> None:
    text = (
        "各位代表：\n一、2025年工作回顾\n生态底色更加亮丽。\n"
        "始终坚持生态优先、绿色发展，推进生态文明高地建设迈上新台阶，加速构建以国家公园为主体的自然保护地体系。\n"
        "名词解释\n［7］山水工程：\n山水林田湖草沙一体化保护和修复工程。\n"
    )
    passages = chunk_text("d", text)
    eco = _containing(passages, "生态底色更加亮丽。")
    assert eco.text.startswith("生态底色更加亮丽。\n始终坚持")
    assert eco.section == "一、2025年工作回顾 > 生态底色更加亮丽"
    term = _containing(passages, "山水工程")
    assert term.text == "［7］山水工程：\n山水林田湖草沙一体化保护和修复工程。"
    assert term.section == "名词解释 > ［7］山水工程"


def test_heading_levels_nest_and_reset() -> None:
    text = (
        "各位代表：\n第一部分 总体要求\n一、主要任务\n（一）扩大内需\n"
        "1.促进消费。多渠道增加城乡居民收入，推动消费从商品消费为主向商品和服务消费并重转变。\n"
        "（二）稳定外贸\n支持企业开拓多元化市场，稳住外贸基本盘，提升贸易投资合作质量和水平。\n"
    )
    passages = chunk_text("d", text)
    assert _containing(passages, "促进消费").section == (
        "第一部分 总体要求 > 一、主要任务 > （一）扩大内需 > 1.促进消费"
    )
    assert _containing(passages, "开拓多元化市场").section == (
        "第一部分 总体要求 > 一、主要任务 > （二）稳定外贸"
    )


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("短句。另一句。", ["短句。", "另一句。"]),
        # Up to LONG_SENTENCE a sentence is one unit, whatever its clauses.
        ("甲" * 30 + "，" + "乙" * 30 + "。", ["甲" * 30 + "，" + "乙" * 30 + "。"]),
        # Longer: runs of whole clauses within UNIT_CHARS; the last keeps the full stop.
        (
            "甲" * 40 + "，" + "乙" * 15 + "，" + "丙" * 40 + "。",
            ["甲" * 40 + "，" + "乙" * 15, "丙" * 40 + "。"],
        ),
        # A comma inside quotes does not cut; a clause longer than a unit stays whole.
        ("“" + "甲，" * 45 + "”，乙。", ["“" + "甲，" * 45 + "”", "乙。"]),
        ("甲" * 90 + "。", ["甲" * 90 + "。"]),
    ],
)
def test_evidence_units(text: str, units: list[str]) -> None:
    assert [text[a:b] for a, b in evidence_units(text)] == units
