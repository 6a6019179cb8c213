"""The reports panel without a browser: search, filter, sort; correct and remove a report."""

from __future__ import annotations

import json
import os

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from index import build_index, list_documents
from index.model import IndexedDocument
from tests.test_ui import REPORT
from ui import render, reports


def doc(title, year, region, source="/r/x.txt", passages=3) -> IndexedDocument:
    return IndexedDocument(title, title, year, region, source, "sha", passages)


DOCS = [
    doc("2024年北京市政府工作报告", 2024, "北京市"),
    doc("2026年北京市政府工作报告", 2026, "北京市"),
    doc("2025年山西省政府工作报告", 2025, "山西省"),
    doc("一篇文章", None, "", source="/r/文章.md"),
]


@pytest.mark.parametrize(
    ("view", "titles"),
    [
        (reports.View(), ["2026年北京市", "2025年山西省", "2024年北京市", "一篇文章"]),
        (
            reports.View(sort=reports.SORTS[1]),
            ["2024年北京市", "2025年山西省", "2026年北京市", "一篇文章"],
        ),
        (reports.View(sort="地区"), ["2026年北京市", "2024年北京市", "2025年山西省", "一篇文章"]),
        (reports.View(query="北京 2024"), ["2024年北京市"]),
        (reports.View(query="山西"), ["2025年山西省"]),
        (reports.View(query="文章.MD"), ["一篇文章"]),  # the file name, any case
        (reports.View(query="未识别"), ["一篇文章"]),
        (reports.View(region="北京市"), ["2026年北京市", "2024年北京市"]),
        (reports.View(year="2025"), ["2025年山西省"]),
        (reports.View(region=reports.UNKNOWN), ["一篇文章"]),
        (reports.View(region="北京市", year="2025"), []),
    ],
)
def test_search_filter_and_sort(view, titles):
    shown = [d.title.removesuffix("政府工作报告") for d in reports.select(DOCS, view)]
    assert shown == titles


def test_choices_and_labels():
    assert reports.region_choices(DOCS) == ["全部地区", "北京市", "山西省", "未识别"]
    assert reports.year_choices(DOCS) == ["全部年份", "2026", "2025", "2024", "未识别"]
    assert reports.year_choices(DOCS[:1]) == ["全部年份", "2024"]
    assert reports.pick_label(DOCS[3]) == "一篇文章 · 未识别 · 未识别"


def test_reports_of_the_same_title_are_told_apart_in_the_pick_list():
    same = [
        doc("2025年示例市政府工作报告", 2025, "示例市", source="/a/示例市.txt"),
        doc("2025年示例市政府工作报告", 2025, "示例市", source="/a/示例市-修订.pdf"),
        doc("2025年示例市政府工作报告", 2025, "示例市", source="/b/示例市.txt"),
    ]
    labels = reports.pick_labels([*same, DOCS[0]])
    assert len(set(labels)) == 4 and labels[3] == reports.pick_label(DOCS[0])
    assert labels[1] == "2025年示例市政府工作报告 · 2025 · 示例市 · 示例市-修订.pdf"
    assert labels[0].endswith("/a/示例市.txt") and labels[2].endswith("/b/示例市.txt")


def test_the_list_shows_the_count_and_marks_an_unknown_region():
    html = render.documents_html(DOCS[2:], total=4)
    assert "显示 2 / 4 份报告" in html and 'class="rq-year">2025<' in html
    assert '<span class="rq-unknown"' in html and "设置地区" in html
    assert "共 4 份报告" in render.documents_html(DOCS)
    assert "没有符合条件的报告" in render.documents_html([], total=4)
    assert "rq-hint" not in render.documents_html(DOCS[:3])


@pytest.fixture
def core(settings, fake_embeddings, tmp_path):
    from ui.core import Core

    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "2025年示例市政府工作报告.txt").write_text(REPORT, encoding="utf-8")
    (folder / "notes.txt").write_text("一些笔记，没有地区。\n\n修路10公里。", encoding="utf-8")
    build_index([folder], settings=settings, embeddings=fake_embeddings)
    return Core(settings, None, None, fake_embeddings)


def refresh(core, **view):
    from ui.chat import ANY_REGION, ANY_YEAR
    from ui.panel import make_refresh

    args = dict(region="全部地区", year="全部年份", pick=None, query="", sort=None)
    args.update(scope_region=ANY_REGION, scope_year=ANY_YEAR)
    return make_refresh(core)(**{**args, **view})


def test_refresh_filters_the_list_and_offers_what_is_held(core):
    html, region, years, pick, scope_region, scope_year = refresh(core)
    assert "共 2 份报告" in html and "示例市" in html and "未识别" in html
    assert region["choices"] == ["全部地区", "示例市", "未识别"]
    assert years["choices"] == ["全部年份", "2025", "未识别"]
    assert [c for c, _ in pick["choices"]] == [
        "2025年示例市政府工作报告 · 2025 · 示例市",
        "notes · 未识别 · 未识别",
    ]
    assert scope_region["choices"] == ["不限地区", "示例市"]
    assert scope_year["choices"] == ["不限年份", "2025"]
    html, *_ = refresh(core, query="示例")
    assert "显示 1 / 2 份报告" in html and "notes" not in html
    # A filter whose reports are gone falls back to all.
    _, region, *_, scope_region, _ = refresh(core, region="湖南省", scope_region="湖南省")
    assert region["value"] == "全部地区" and scope_region["value"] == "不限地区"


def test_edit_then_delete_from_the_panel(core, settings):
    from ui.panel import make_confirm, make_delete, make_fill, make_save

    notes = next(d for d in list_documents(settings) if d.title == "notes")
    title, year, region, *_ = make_fill(core)(notes.doc_id)
    assert (title, year, region) == ("notes", "", "")
    said = make_save(core)(notes.doc_id, "会议笔记", "2025", "示例县")
    assert "已保存并重新索引：会议笔记 · 2025 · 示例县" in said
    meta = json.loads((settings.home.parent / "reports" / "notes.txt.meta.json").read_text())
    assert meta == {"title": "会议笔记", "year": 2025, "region": "示例县"}
    assert "示例县" in refresh(core)[0]
    assert "年份应为" in make_save(core)(notes.doc_id, "会议笔记", "今年", "")
    row, question, _ = make_confirm(core)(notes.doc_id)
    assert row["visible"] is True and "确定从索引中删除《会议笔记》吗" in question
    row, said = make_delete(core)(notes.doc_id)
    assert row["visible"] is False and "已删除：会议笔记" in said
    assert [d.title for d in list_documents(settings)] == ["2025年示例市政府工作报告"]
    assert (settings.home.parent / "reports" / "notes.txt").exists()  # not ours to delete
    assert "请先选择" in make_delete(core)(None)[1]


def test_deleting_an_upload_deletes_its_kept_file(settings, fake_embeddings, tmp_path):
    from ui import uploads

    incoming = tmp_path / "incoming" / "2025年示例市政府工作报告.txt"
    incoming.parent.mkdir()
    incoming.write_text(REPORT, encoding="utf-8")
    uploads.add_reports([incoming], settings=settings, embeddings=fake_embeddings)
    (kept,) = list_documents(settings)
    uploads.edit_report(
        kept.doc_id,
        title="",
        year="",
        region="示例县",
        settings=settings,
        embeddings=fake_embeddings,
    )
    assert sorted(p.name for p in (settings.home / "uploads").iterdir()) == [
        incoming.name,
        incoming.name + ".meta.json",
    ]
    title = uploads.remove_report(kept.doc_id, settings=settings, embeddings=fake_embeddings)
    assert title == kept.title and list_documents(settings) == []
    assert not any((settings.home / "uploads").iterdir())
