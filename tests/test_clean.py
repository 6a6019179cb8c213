"""Cleaning proven on real excerpts: newspaper page breaks, web furniture, wiki footers."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import sample_report
from index.clean import clean_text
from index.readers import read_text

DATA = Path(__file__).parent / "data"


def _clean_file(path: Path) -> str:
    return clean_text(read_text(path, path.read_bytes()))


@pytest.fixture(scope="module")
def sample_text() -> str:
    return _clean_file(sample_report())


def test_page_breaks_are_joined(sample_text: str) -> None:
    assert "聚焦“1233”重点产业链以商招商、链式招商" in sample_text
    assert "“平急两用”公共基础设施建设" in sample_text
    assert "城市有能级，才有核心竞争力" in sample_text
    assert "坚决当好贯彻落实的执行者、行动派、实干家。" in sample_text
    assert "聚\n" not in sample_text and "平急两\n" not in sample_text


def test_headings_stand_alone(sample_text: str) -> None:
    lines = sample_text.split("\n")
    assert "二、2025年工作安排" in lines
    assert "三、全面加强政府自身建设" in lines
    assert "政府工作报告" in lines


def test_print_and_html_furniture_is_gone(sample_text: str) -> None:
    assert "<div" not in sample_text and "</div>" not in sample_text
    assert "上接第1版" not in sample_text
    assert "建设国家区域中心城市 再现“锦绣太原城”盛景" in sample_text.split("\n")


def test_one_paragraph_per_line(sample_text: str) -> None:
    lines = sample_text.split("\n")
    assert all(line and line == line.strip() for line in lines)
    assert "\t" not in sample_text and "\u3000" not in sample_text


def test_tab_columns_become_one_cell_per_line(sample_text: str) -> None:
    lines = sample_text.split("\n")
    assert "万柏林区" in lines and "古交市" in lines
    item = next(
        line for line in lines if line.startswith("3月1日，万柏林区召开信访安全保障动员部署会")
    )
    assert item.endswith("促进社会安全稳定。")
    # A cell cut off by the next column is not glued to the item beside it.
    assert "2月28日，晋源区委常委会召开扩大会议，传达学习" in lines


def test_provincial_web_page_furniture_is_removed() -> None:
    text = _clean_file(DATA / "p06_山西省_2026.txt")
    lines = text.split("\n")
    for junk in ("下载", "打印", "全屏", "收藏", "【字号：", "加大", "还原", "减小", "】"):
        assert junk not in lines
    assert not any(line.startswith(("来源：", "时间：", "相关报道")) for line in lines)
    assert not any("阮洋摄" in line for line in lines)
    assert lines[:4] == [
        "2026年山西省政府工作报告",
        "——2026年2月2日在山西省第十四届人民代表大会第五次会议上",
        "省长 卢东亮",
        "各位代表：",
    ]
    assert lines[-1].startswith("各位代表！使命催人奋进")


def test_national_wiki_footer_and_link_breaks() -> None:
    text = _clean_file(DATA / "gwr_2024.txt")
    for junk in ("本作品", "公有领域", "Public domain", "false", "维基文库"):
        assert junk not in text
    assert text.split("\n")[-1].startswith("使命重在担当，奋斗创造未来。")
    old = _clean_file(DATA / "gwr_1954.txt")
    assert "在聽了劉少奇同志關於憲法草案的報告並進行了三天的討論以後" in old
    assert "通過了我們國家的根本法——中華人民共和國憲法，接着" in old
    assert "本作品" not in old


def test_web_tail_after_the_speech_is_cut() -> None:
    body = "\n".join(f"第{i}段内容，说明工作安排。" for i in range(10))
    raw = f"{body}\n各位代表！让我们团结奋斗！\n扫一扫在手机打开当前页\n【\n打印本页\n】\n"
    assert clean_text(raw).split("\n")[-1] == "各位代表！让我们团结奋斗！"
    raw = f"{body}\n最后一段。\n（来源：青海日报）\n编辑：何继红\n"
    assert clean_text(raw).split("\n")[-1] == "最后一段。"


def test_whitespace_is_normalised() -> None:
    raw = (
        "各位代表：\n\n\n\n\u3000\u3000现在，我代表\u00a0市人民政府  报告工作。"
        "\n\n\n\t省长\u3000王予波\t\n"
    )
    assert clean_text(raw) == "各位代表：\n现在，我代表 市人民政府 报告工作。\n省长 王予波"


def test_page_marks_and_captions_anywhere() -> None:
    raw = (
        "各位代表：\n推进“住有宜居”。稳步推进保障性住房建设（下转第2版）\n\n"
        "省长卢东亮作政府工作报告。本报记者阮洋摄\n\n"
        "和城中村改造。\n- 3 -\n"
    )
    assert clean_text(raw) == "各位代表：\n推进“住有宜居”。稳步推进保障性住房建设和城中村改造。"


def test_single_line_paragraph_files_join_broken_lines() -> None:
    raw = (
        "政府工作报告\n——2026年1月26日在广东省第十四届\n人民代表大会第五次会议上\n"
        "广东省省长 孟凡利\n各位代表：\n"
        "深入打好蓝天保卫战。持续改善空气质量，以PM\n2.5\n浓度持续下降为主线。\n"
        "“十五五”时期经济社会发展的\n主要目标\n是：地区生产总值年均增长5%左右。\n"
        "“十四五”时期工作回顾\n“十四五”时期是极不平凡的五年。\n"
    )
    assert clean_text(raw).split("\n") == [
        "政府工作报告",
        "——2026年1月26日在广东省第十四届人民代表大会第五次会议上",
        "广东省省长 孟凡利",
        "各位代表：",
        "深入打好蓝天保卫战。持续改善空气质量，以PM2.5浓度持续下降为主线。",
        "“十五五”时期经济社会发展的主要目标是：地区生产总值年均增长5%左右。",
        "“十四五”时期工作回顾",
        "“十四五”时期是极不平凡的五年。",
    ]


def test_bare_enumerator_joins_its_heading_text() -> None:
    raw = "各位代表：\n\n现在报告工作。\n\n（一）\n进一步改善经济环境。\n\n第一，\n农业增产。\n"
    lines = clean_text(raw).split("\n")
    assert "（一）进一步改善经济环境。" in lines and "第一，农业增产。" in lines


def test_latin_words_split_by_a_break_keep_a_space() -> None:
    raw = "各位代表：\n\n我们推进Open\nSource项目\n建设。\n"
    assert clean_text(raw).split("\n")[-1] == "我们推进Open Source项目建设。"


def test_fixed_width_wrapped_lines_are_joined() -> None:
    paragraph = "坚持以人民为中心的发展思想，" * 6 + "持续增进民生福祉。"
    width = 20
    wrapped = [paragraph[i : i + width] for i in range(0, len(paragraph), width)]
    raw = "二、主要任务\n" + "\n".join(wrapped) + "\n三、自身建设\n" + "\n".join(wrapped) + "\n"
    assert clean_text(raw).split("\n") == ["二、主要任务", paragraph, "三、自身建设", paragraph]
