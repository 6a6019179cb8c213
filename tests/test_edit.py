"""Correcting a report's title, year and region: the meta file, the re-index, the failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import (
    MetadataWriteError,
    ReportQAError,
    build_index,
    edit_document,
    list_documents,
)
from tests.test_ui import REPORT


@pytest.fixture
def indexed(settings, fake_embeddings, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    report = folder / "2025年示例市政府工作报告.txt"
    report.write_text(REPORT, encoding="utf-8")
    build_index([folder], settings=settings, embeddings=fake_embeddings)
    (doc,) = list_documents(settings)
    return doc, report


def test_edit_writes_the_meta_file_and_a_rebuild_keeps_it(indexed, settings, fake_embeddings):
    doc, report = indexed
    edited = edit_document(
        doc.doc_id,
        title="2025年新名市政府工作报告",
        year="2024",
        region="新名市",
        settings=settings,
        embeddings=fake_embeddings,
    )
    expected = ("2025年新名市政府工作报告", 2024, "新名市")
    assert (edited.title, edited.year, edited.region) == expected
    assert edited.doc_id == doc.doc_id and edited.passages == doc.passages
    meta = json.loads(report.with_name(report.name + ".meta.json").read_text("utf-8"))
    assert meta == {"title": "2025年新名市政府工作报告", "year": 2024, "region": "新名市"}
    assert list_documents(settings) == [edited]
    # A later build of the folder (even from nothing) reads the same file.
    build_index([report.parent], settings=settings, embeddings=fake_embeddings, rebuild=True)
    assert [(d.title, d.year, d.region) for d in list_documents(settings)] == [expected]


def test_an_empty_value_goes_back_to_the_inferred_one(indexed, settings, fake_embeddings):
    doc, report = indexed
    meta = report.with_name(report.name + ".meta.json")
    meta.write_text(json.dumps({"region": "错地区", "note": "kept"}), encoding="utf-8")
    edited = edit_document(
        doc.doc_id, title="", year=None, region="", settings=settings, embeddings=fake_embeddings
    )
    assert edited.region == doc.region == "示例市"
    assert json.loads(meta.read_text("utf-8")) == {"note": "kept"}


def test_a_bad_year_changes_nothing(indexed, settings, fake_embeddings):
    doc, report = indexed
    with pytest.raises(ReportQAError) as error:
        edit_document(doc.doc_id, year="明年", settings=settings, embeddings=fake_embeddings)
    assert "年份" in error.value.message_zh
    assert not report.with_name(report.name + ".meta.json").exists()
    assert list_documents(settings) == [doc]


def test_a_read_only_folder_is_said_in_chinese(indexed, settings, fake_embeddings, monkeypatch):
    doc, report = indexed
    real = Path.write_text

    def read_only(self, *args, **kwargs):
        if self.parent == report.parent:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    # chmod does not stop root (the tests may run as root), so the folder refuses here.
    monkeypatch.setattr(Path, "write_text", read_only)
    with pytest.raises(MetadataWriteError) as error:
        edit_document(doc.doc_id, region="新名市", settings=settings, embeddings=fake_embeddings)
    assert "无法在报告所在的文件夹写入" in error.value.message_zh
    assert "没有修改" in error.value.message_zh
    assert list_documents(settings) == [doc]
    assert sorted(p.name for p in report.parent.iterdir()) == [report.name]


def test_a_failed_build_puts_the_meta_file_back(indexed, settings, fake_embeddings, monkeypatch):
    import index.build
    from index import IndexBusyError

    doc, report = indexed
    meta = report.with_name(report.name + ".meta.json")
    meta.write_text('{"region": "旧地区"}', encoding="utf-8")

    def busy(*args, **kwargs):
        raise IndexBusyError("busy", "另一个索引任务正在进行，请稍后再试。")

    monkeypatch.setattr(index.build, "build_index", busy)
    with pytest.raises(IndexBusyError):
        edit_document(doc.doc_id, region="新名市", settings=settings, embeddings=fake_embeddings)
    assert meta.read_text("utf-8") == '{"region": "旧地区"}'


def test_an_unknown_report_is_refused(indexed, settings):
    with pytest.raises(ReportQAError, match="no indexed report"):
        edit_document("no-such-report", title="x", settings=settings)
