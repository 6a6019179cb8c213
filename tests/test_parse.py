"""parse_file end to end: ids, hashes, metadata and overrides, file discovery."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from index import sample_report
from index.errors import ReadError
from index.metadata import infer_region, infer_year
from index.parse import SUPPORTED_SUFFIXES, doc_id_for, iter_report_files, parse_file

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def parsed_sample():
    return parse_file(sample_report())


def _passage_keys(parsed) -> list[tuple]:
    return [(p.text, p.section, p.paragraph, p.start, p.end, p.sentences) for p in parsed.passages]


def test_sample_document_record(parsed_sample) -> None:
    document = parsed_sample.document
    assert document.title == "2025年太原市政府工作报告"
    assert document.year == 2025
    assert document.region == "太原市"
    assert document.source == str(sample_report().resolve())
    assert re.fullmatch(r"taiyuan-2025-government-work-report-[0-9a-f]{8}", document.doc_id)
    assert re.fullmatch(r"[0-9a-f]{64}", document.sha256)
    assert all(p.doc_id == document.doc_id for p in parsed_sample.passages)


def test_doc_id_is_stable_and_keeps_chinese(tmp_path: Path) -> None:
    path = tmp_path / "p06_山西省_2026.txt"
    shutil.copy(DATA / "p06_山西省_2026.txt", path)
    assert doc_id_for(path) == doc_id_for(tmp_path / "." / path.name)
    assert re.fullmatch(r"p06-山西省-2026-[0-9a-f]{8}", doc_id_for(path))
    other = tmp_path / "sub"
    other.mkdir()
    shutil.copy(path, other / path.name)
    assert doc_id_for(other / path.name) != doc_id_for(path)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig"])
def test_other_encodings_give_the_same_passages(tmp_path: Path, parsed_sample, encoding) -> None:
    copy = tmp_path / "taiyuan-2025-government-work-report.txt"
    copy.write_bytes(sample_report().read_text("utf-8").encode(encoding))
    parsed = parse_file(copy)
    assert parsed.text == parsed_sample.text
    assert _passage_keys(parsed) == _passage_keys(parsed_sample)
    assert parsed.document.title == parsed_sample.document.title


def test_national_metadata() -> None:
    document = parse_file(DATA / "gwr_2024.txt").document
    assert (document.title, document.year, document.region) == (
        "2024年国务院政府工作报告",
        2024,
        "全国",
    )
    old = parse_file(DATA / "gwr_1954.txt").document
    assert (old.year, old.region) == (1954, "全国")


def test_provincial_metadata_from_name_and_from_text(tmp_path: Path) -> None:
    document = parse_file(DATA / "p06_山西省_2026.txt").document
    assert (document.title, document.year, document.region) == (
        "2026年山西省政府工作报告",
        2026,
        "山西省",
    )
    anonymous = tmp_path / "report.txt"
    shutil.copy(DATA / "p06_山西省_2026.txt", anonymous)
    document = parse_file(anonymous).document
    assert (document.year, document.region) == (2026, "山西省")


def test_year_heuristics() -> None:
    assert infer_year("report", "一、2024年工作回顾\n二、2025年工作安排") == 2025
    assert infer_year("report", "今年是“十五五”开局之年。") == 2026
    assert infer_year("report", "今年是“十四五”规划收官之年。") == 2025
    assert infer_year("gwr_1998", "二、关于1998年政府工作的建议") == 1998
    assert infer_year("report", "2019年和2019年的成绩，2018年的基础。") == 2019
    assert infer_year("report", "没有年份。") is None
    assert infer_year("report", "2019年和2019年的成绩。", guess=False) is None


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        # An encyclopedia article names years and places but is no report: its file name
        # is its title and its year is unknown, so year questions are not kept from it.
        ("DEV_7.txt", "《某游戏》于2008年发售，2009年推出续作，2008年获奖。", ("DEV_7", None, "")),
        # A report without a title line still gets one from its year and region.
        (
            "report.txt",
            "一、2024年工作回顾\n全省经济稳定，全省就业增加，全省收入提高。山西山西山西。",
            ("2024年山西省政府工作报告", 2024, "山西省"),
        ),
        # Its plan year is read even when it names no region; the title is then its file's.
        ("测试报告.txt", "二、2026年工作安排\n办好民生实事。", ("测试报告", 2026, "")),
    ],
)
def test_only_reports_get_guessed_years_and_made_titles(tmp_path, name, text, expected) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    document = parse_file(path).document
    assert (document.title, document.year, document.region) == expected


def test_region_heuristics() -> None:
    opening = "——2025年1月在太原市第十六届人民代表大会第四次会议上\n各位代表："
    assert infer_region("x", opening) == "太原市"
    assert infer_region("x", "2025年大同市政府工作报告") == "大同市"
    assert infer_region("x", "各位代表：\n现在，我代表国务院，向大会报告政府工作。") == "全国"
    assert (
        infer_region("x", "——在广西壮族自治区第十四届人民代表大会第五次会议上\n各位代表：")
        == "广西壮族自治区"
    )
    # An article whose opening names a premier or a city government is no report.
    article = "中国－新西兰自由贸易协定由国务院总理温家宝见证签署，北京市人民政府参与筹办。"
    assert infer_region("x", article) == ""
    biography = "马飚，曾任广西壮族自治区人民政府主席，在广西壮族自治区第十二届人民代表大会上当选。"
    assert infer_region("x", biography) == ""
    assert infer_region("x", "全省" * 3 + "山西" * 5 + "，推动市委工作。") == "山西省"
    # An article that names a province often but never speaks as it (全省, 我省) is no report.
    assert infer_region("x", "山西" * 5 + "，推动市委工作。") == ""
    assert infer_region("x", "没有地名。") == ""
    assert infer_region("x", "2025年清徐县政府工作报告") == "清徐县"
    assert infer_region("2026年雄安新区政府工作报告", "正文。") == "雄安新区"


def test_meta_file_beside_the_report_overrides(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    shutil.copy(sample_report(), report)
    before = parse_file(report).document
    (tmp_path / "report.txt.meta.json").write_text(
        json.dumps({"title": "太原市2025年政府工作报告（节选）", "year": "2025"}), "utf-8"
    )
    after = parse_file(report).document
    assert after.title == "太原市2025年政府工作报告（节选）" and after.year == 2025
    assert after.region == "太原市"
    assert after.sha256 != before.sha256 and after.doc_id == before.doc_id


def test_short_meta_file_name_and_override_precedence(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    shutil.copy(DATA / "p06_山西省_2026.txt", report)
    (tmp_path / "report.meta.json").write_text(json.dumps({"region": "太原市", "year": 2030}))
    document = parse_file(report).document
    assert (document.region, document.year) == ("太原市", 2030)
    document = parse_file(report, {"year": 2031, "region": None}).document
    assert (document.region, document.year) == ("太原市", 2031)


def test_sha256_follows_the_effective_override(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    shutil.copy(DATA / "p06_山西省_2026.txt", report)
    plain = parse_file(report).document.sha256
    assert parse_file(report).document.sha256 == plain
    assert parse_file(report, {"title": "另一个标题"}).document.sha256 != plain


@pytest.mark.parametrize(
    "content", ["{not json", "[1, 2]", json.dumps({"year": "明年"}), json.dumps({"title": 5})]
)
def test_bad_meta_file_is_a_read_error(tmp_path: Path, content: str) -> None:
    report = tmp_path / "report.txt"
    shutil.copy(DATA / "gwr_1954.txt", report)
    (tmp_path / "report.txt.meta.json").write_text(content, "utf-8")
    with pytest.raises(ReadError):
        parse_file(report)


def test_missing_directory_and_empty_inputs(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no such file"):
        parse_file(tmp_path / "nope.txt")
    with pytest.raises(ReadError, match="directory"):
        parse_file(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    with pytest.raises(ReadError):
        parse_file(empty)
    furniture = tmp_path / "menu.txt"
    furniture.write_text("下载\n打印\n相关报道：\n", "utf-8")
    with pytest.raises(ReadError):
        parse_file(furniture)


def test_iter_report_files(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    (tmp_path / ".hidden").mkdir()
    names = ["a.txt", "b/z.md", "b/deep/c.PDF", "b/y.docx", "d.html", "e.htm"]
    skipped = ["a.txt.meta.json", "a.meta.json", "notes.csv", ".hidden/x.txt", "b/~$y.docx"]
    for name in names + skipped:
        (tmp_path / name).write_text("x", "utf-8")
    found = iter_report_files([tmp_path, tmp_path / "a.txt"])
    assert found == sorted((tmp_path / name).resolve() for name in names)
    assert found == sorted(found, key=str)
    assert iter_report_files([tmp_path / "a.txt.meta.json"]) == []
    assert {".txt", ".md", ".html", ".htm", ".docx", ".pdf"} == set(SUPPORTED_SUFFIXES)


def test_iter_report_files_refuses_missing_and_unsupported(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no such file"):
        iter_report_files([tmp_path / "missing"])
    (tmp_path / "notes.csv").write_text("x", "utf-8")
    with pytest.raises(ReadError, match="unsupported"):
        iter_report_files([tmp_path / "notes.csv"])


def test_docx_report_end_to_end(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    for line in ("2025年太原市政府工作报告", "各位代表：", "二、2025年工作安排"):
        document.add_paragraph(line)
    document.add_paragraph("推进“老有厚养”。推动市二院建成安宁疗护中心。新增养老床位2000张。")
    path = tmp_path / "report.docx"
    document.save(str(path))
    parsed = parse_file(path)
    assert parsed.document.title == "2025年太原市政府工作报告"
    assert parsed.document.region == "太原市" and parsed.document.year == 2025
    beds = next(p for p in parsed.passages if "新增养老床位2000张" in p.text)
    assert beds.section == "二、2025年工作安排 > 推进“老有厚养”"


def test_enumerated_heading_ending_like_a_preposition_stands_alone():
    parsed = parse_file(DATA / "multi" / "gwr_2025.txt")
    (passage,) = [p for p in parsed.passages if "“十四五”规划收官之年" in p.text[:20]]
    assert passage.text.startswith("今年是")
    assert passage.section == "二、2025年经济社会发展总体要求和政策取向"
