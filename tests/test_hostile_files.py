"""Hostile files: size limits before anything inflates, zip bombs, and what uploads leave behind."""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import pytest

from index import build_index
from index.errors import ReadError
from index.parse import parse_file
from index.readers import MB, read_text

ROOT = Path(__file__).resolve().parents[1]
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PARAGRAPH = "<w:p><w:r><w:t>中文</w:t></w:r></w:p>".encode()
REPORT = "2025年示例市政府工作报告\n\n一、重点工作\n\n今年新增养老床位300张，建成社区食堂40个。\n"
# A bomb must not cost more than this, whatever it claims to hold.
PEAK_GROWTH_LIMIT_MB = 200

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def write_docx(path: Path, body: Iterable[bytes], level: int = 6) -> Path:
    """A minimal .docx whose ``word/document.xml`` body is streamed in, never held whole."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", RELS)
        with package.open("word/document.xml", "w") as member:
            member.write(f'<w:document xmlns:w="{W}"><w:body>'.encode())
            for chunk in body:
                member.write(chunk)
            member.write(b"</w:body></w:document>")
    return path


def paragraphs(total_bytes: int) -> Iterable[bytes]:
    """Repeated paragraphs of 中文, ``total_bytes`` of XML in 1 MB chunks."""
    chunk = PARAGRAPH * (MB // len(PARAGRAPH))
    for _ in range(total_bytes // len(chunk)):
        yield chunk


def lie_about_size(path: Path, member: str, claimed: int) -> None:
    """Make the zip headers claim ``member`` unpacks to ``claimed`` bytes."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = data.find(signature)
        while start >= 0:
            if data[start + name_at : start + name_at + len(name)] == name:
                struct.pack_into("<I", data, start + size_at, claimed)
            start = data.find(signature, start + 1)
    path.write_bytes(bytes(data))


def write_pdf(path: Path, pages: Iterable[bytes]) -> Path:
    """A PDF with one Helvetica page per content stream, each stream deflated."""
    streams = [zlib.compress(content, 9) for content in pages]
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(streams)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(streams)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, stream in enumerate(streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (first_page + 2 * i + 1)
        )
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def text_page(line: bytes, count: int) -> bytes:
    """A content stream that shows ``line`` ``count`` times."""
    return b"BT /F1 12 Tf 72 712 Td " + b"(%s) Tj T* " % line * count + b"ET"


# --- the limit, format by format ----------------------------------------------------------

LIMIT = MB  # small enough to build every case in milliseconds


def _big_txt(path: Path) -> Path:
    path.write_bytes(REPORT.encode() * (LIMIT // len(REPORT.encode()) + 1))
    return path


def _big_html(path: Path) -> Path:
    path.write_bytes(b"<p>" + "新增养老床位".encode() * (LIMIT // 18 + 1) + b"</p>")
    return path


def _gb18030_growing_past_limit(path: Path) -> Path:
    # 2 bytes a character on disk, 3 once decoded to UTF-8: under the limit, then over it.
    path.write_bytes("养老床位".encode("gb18030") * (LIMIT // 8))
    return path


def _docx_unpacking_past_limit(path: Path) -> Path:
    return write_docx(path, paragraphs(2 * LIMIT))


def _docx_table_repeating_a_merged_cell(path: Path) -> Path:
    # One 100 kB cell merged down 50 rows: 5 MB of text from a few kB of XML.
    long_text = "养老床位" * 8000
    first = (
        f"<w:tr><w:tc><w:tcPr><w:vMerge w:val='restart'/></w:tcPr>"
        f"<w:p><w:r><w:t>{long_text}</w:t></w:r></w:p></w:tc></w:tr>"
    )
    merged = "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc></w:tr>" * 50
    return write_docx(path, [f"<w:tbl>{first}{merged}</w:tbl>".encode()])


def _pdf_stream_inflating_past_limit(path: Path) -> Path:
    return write_pdf(path, [text_page(b"x" * 100, 2 * LIMIT // 100)])


def _pdf_text_past_limit(path: Path) -> Path:
    # Each stream is under the limit; the text of all three pages is not.
    return write_pdf(path, [text_page(b"x" * 1000, LIMIT // 2 // 1000)] * 3)


@pytest.mark.parametrize(
    ("name", "make", "expected_zh"),
    [
        ("big.txt", _big_txt, "文件超过 1 MB 的上限（REPORTQA_MAX_FILE_MB），已拒绝。"),
        ("big.html", _big_html, "文件超过 1 MB 的上限"),
        ("gb.txt", _gb18030_growing_past_limit, "提取出的文字超过 1 MB 的上限"),
        ("bomb.docx", _docx_unpacking_past_limit, "文件解压后超过 1 MB 的上限"),
        ("merged.docx", _docx_table_repeating_a_merged_cell, "提取出的文字超过 1 MB 的上限"),
        ("stream.pdf", _pdf_stream_inflating_past_limit, "文件解压后超过 1 MB 的上限"),
        ("pages.pdf", _pdf_text_past_limit, "提取出的文字超过 1 MB 的上限"),
    ],
)
def test_every_format_is_refused_past_the_limit(tmp_path, name, make, expected_zh) -> None:
    path = make(tmp_path / name)
    with pytest.raises(ReadError) as caught:
        parse_file(path, max_bytes=LIMIT)
    assert caught.value.message_zh.startswith(f"{name}：{expected_zh}")
    assert "1 MB limit (REPORTQA_MAX_FILE_MB)" in str(caught.value)


def test_environment_sets_the_limit_for_cli_api_and_page(tmp_path, monkeypatch, fake_embeddings):
    from index import Settings

    path = tmp_path / "报告.txt"
    path.write_bytes(REPORT.encode() * 20)
    refused = "文件超过 0.001 MB 的上限（REPORTQA_MAX_FILE_MB），已拒绝。"
    monkeypatch.setenv("REPORTQA_MAX_FILE_MB", "0.001")
    with pytest.raises(ReadError) as caught:
        read_text(path, path.read_bytes())
    assert caught.value.message_zh == f"报告.txt：{refused}"
    report = build_index([path], settings=Settings.from_env(), embeddings=fake_embeddings)
    (failure,) = report.failed
    assert failure.reason_zh == refused
    monkeypatch.setenv("REPORTQA_MAX_FILE_MB", "1")
    assert parse_file(path).passages


def test_a_file_under_the_limit_is_read(tmp_path) -> None:
    path = write_docx(tmp_path / "ok.docx", [PARAGRAPH * 10])
    assert read_text(path, path.read_bytes(), max_bytes=LIMIT).split("\n") == ["中文"] * 10


def test_a_huge_grid_span_costs_nothing(tmp_path) -> None:
    row = (
        "<w:tr><w:tc><w:tcPr><w:gridSpan w:val='2000000000'/></w:tcPr>"
        "<w:p><w:r><w:t>小店区</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>3月1日</w:t></w:r></w:p></w:tc></w:tr>"
    )
    path = write_docx(tmp_path / "span.docx", [f"<w:tbl>{row}</w:tbl>".encode()])
    assert read_text(path, path.read_bytes(), max_bytes=LIMIT) == "小店区\t3月1日"


def test_too_many_pdf_pages_are_refused(tmp_path, monkeypatch) -> None:
    from index import readers

    monkeypatch.setattr(readers, "MAX_PDF_PAGES", 2)
    path = write_pdf(tmp_path / "long.pdf", [text_page(b"x", 1)] * 3)
    with pytest.raises(ReadError) as caught:
        parse_file(path)
    assert "超过 2 页的上限" in caught.value.message_zh


# --- zip bombs, measured in a fresh process -------------------------------------------------

MEASURE = """
import json, resource, sys, tracemalloc
from pathlib import Path
from index.errors import ReadError
from index.parse import parse_file
import docx.oxml, pypdf  # imported before the baseline: only the read is measured

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
try:
    parse_file(Path(sys.argv[1]))
    error = None
except ReadError as exc:
    error = exc.message_zh
traced = tracemalloc.get_traced_memory()[1] / 2**20
rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"error": error, "rss_mb": rss, "traced_mb": traced}))
"""


def _measured(path: Path) -> dict:
    """MEASURE's figures for parsing ``path`` in a fresh process with the default limits."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("REPORTQA_MAX_FILE_MB", None)
    env.pop("REPORTQA_MAX_PASSAGES", None)
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def _bomb_1gb(path: Path) -> Path:
    # Level 1 deflates 1 GB of repeated paragraphs to ~6 MB in a few seconds.
    return write_docx(path, paragraphs(1024 * MB), level=1)


def _bomb_under_limit(path: Path) -> Path:
    # 40 MB stays under the 50 MB limit but deflates ~300:1.
    return write_docx(path, paragraphs(40 * MB))


def _bomb_lying_header(path: Path) -> Path:
    # 256 MB of XML whose headers claim 1 kB: only reading can find out.
    write_docx(path, paragraphs(256 * MB), level=1)
    lie_about_size(path, "word/document.xml", 1000)
    return path


@pytest.mark.parametrize(
    ("make", "expected_zh"),
    [
        (_bomb_1gb, "文件解压后超过 50 MB 的上限（REPORTQA_MAX_FILE_MB），已拒绝。"),
        (_bomb_under_limit, "压缩比异常"),
        (_bomb_lying_header, "不是可读取的 .docx 文件"),
    ],
)
def test_zip_bomb_is_refused_without_inflating(tmp_path, make, expected_zh) -> None:
    path = make(tmp_path / "bomb.docx")
    assert path.stat().st_size < 10 * MB
    result = _measured(path)
    rss, traced = result["rss_mb"], result["traced_mb"]
    print(f"{make.__name__}: peak RSS growth {rss:.1f} MB, traced peak {traced:.1f} MB")
    assert result["error"] is not None and expected_zh in result["error"]
    assert rss < PEAK_GROWTH_LIMIT_MB and traced < PEAK_GROWTH_LIMIT_MB


# --- uploads through the page ---------------------------------------------------------------


@pytest.fixture
def gradio_temp(tmp_path, monkeypatch) -> Path:
    """Gradio's upload folder for this test."""
    folder = tmp_path / "gradio"
    folder.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def _gradio_upload(folder: Path, name: str, data: bytes) -> Path:
    """A file as Gradio hands it over: ``<upload folder>/<random>/<name>``."""
    path = folder / os.urandom(8).hex() / name
    path.parent.mkdir()
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("size", [2048, 3 * MB])
def test_oversize_upload_gets_the_chinese_limit(settings, tmp_path, size) -> None:
    from ui import uploads

    small = dataclasses.replace(settings, max_file_mb=0.001)
    path = tmp_path / "大报告.txt"
    path.write_bytes(b"x" * size)
    result = uploads.add_reports([path], settings=small)
    ((ok, message),) = result.lines
    assert not ok and result.indexed == 0
    assert message.startswith("大报告.txt：文件太大（")
    assert message.endswith("单个文件不能超过 0.001 MB（REPORTQA_MAX_FILE_MB）。")


def test_bomb_upload_gets_a_chinese_reason(settings, fake_embeddings, tmp_path, gradio_temp):
    from ui import uploads

    bomb = write_docx(_gradio_upload(gradio_temp, "炸弹.docx", b""), paragraphs(64 * MB), level=9)
    result = uploads.add_reports([bomb], settings=settings, embeddings=fake_embeddings)
    assert result.lines == (
        (
            False,
            "炸弹.docx：无法读取，未加入索引（文件解压后超过 50 MB 的上限（REPORTQA_MAX_FILE_MB），"
            "已拒绝。）。",
        ),
    )
    assert not any((settings.home / "uploads").glob("*")) and not bomb.exists()


def test_same_name_uploads_are_both_kept(settings, fake_embeddings, tmp_path):
    from ui import uploads

    first = tmp_path / "a" / "报告.txt"
    second = tmp_path / "b" / "报告.txt"
    for path, text in ((first, REPORT), (second, REPORT.replace("300张", "500张"))):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    together = uploads.add_reports([first, second], settings=settings, embeddings=fake_embeddings)
    again = uploads.add_reports([second], settings=settings, embeddings=fake_embeddings)
    assert together.indexed == 2 and all(ok for ok, _ in together.lines)
    assert "没有变化" in again.lines[0][1]
    kept = {p.name: p.read_bytes() for p in (settings.home / "uploads").iterdir()}
    assert kept.pop("报告.txt") == first.read_bytes()
    ((name, data),) = kept.items()
    assert name.startswith("报告-") and name.endswith(".txt") and data == second.read_bytes()


def test_gradio_temporary_copies_are_removed(settings, fake_embeddings, tmp_path, gradio_temp):
    from ui import uploads

    outside = tmp_path / "mine" / "报告.txt"
    outside.parent.mkdir()
    outside.write_text(REPORT, encoding="utf-8")
    link = gradio_temp / "link" / "链接.txt"
    link.parent.mkdir()
    link.symlink_to(outside)
    handed = [
        _gradio_upload(gradio_temp, "新报告.txt", REPORT.encode("gb18030")),  # accepted
        _gradio_upload(gradio_temp, "notes.exe", b"x"),  # refused by type
        _gradio_upload(gradio_temp, "空.txt", b""),  # refused as empty
        outside,  # not Gradio's: kept
        link,  # Gradio's folder, but a link to a file outside it: kept
    ]
    result = uploads.add_reports(handed, settings=settings, embeddings=fake_embeddings)
    assert result.indexed == 3
    assert not any(p.exists() for p in handed[:3])
    assert sorted(p.name for p in gradio_temp.iterdir()) == ["link"]
    assert outside.read_text(encoding="utf-8") == REPORT and link.exists()


def _one_line_txt(path: Path) -> Path:
    # 49 MB of text with no stop: under the file limit, and once 78,514 passages.
    path.write_bytes("城市建设和产业发展持续推进".encode() * (49 * MB // 39))
    return path


def _markdown_table(path: Path) -> Path:
    row = "| 指标 | 2024年 | 2025年 | 增长 |\n"
    path.write_text("# 统计表\n\n" + row * (20 * MB // len(row.encode())), "utf-8")
    return path


@pytest.mark.parametrize("make", [_one_line_txt, _markdown_table])
def test_a_text_of_far_more_passages_than_a_report_is_refused_in_bounded_memory(
    tmp_path, make
) -> None:
    path = make(tmp_path / ("long.txt" if make is _one_line_txt else "table.md"))
    result = _measured(path)
    assert result["error"] is not None and "REPORTQA_MAX_PASSAGES" in result["error"]
    # The file's bytes, its decoded text and a few rewrites of it (Markdown's), never its
    # passages: 2.4-6 GB before the limit.
    print(f"{make.__name__}: traced peak {result['traced_mb']:.0f} MB")
    assert result["traced_mb"] < 6 * path.stat().st_size / MB


def test_the_passage_limit_is_a_setting(tmp_path, monkeypatch) -> None:
    path = tmp_path / "报告.txt"
    path.write_text(REPORT * 20, "utf-8")
    passages = len(parse_file(path).passages)
    monkeypatch.setenv("REPORTQA_MAX_PASSAGES", str(passages - 1))
    with pytest.raises(ReadError) as caught:
        parse_file(path)
    assert f"超过 {passages - 1} 段的上限" in caught.value.message_zh


def test_a_sweep_deletes_old_uploads_and_keeps_fresh_ones(gradio_temp) -> None:
    from ui.upload_folder import UPLOAD_TTL_SECONDS, sweep_uploads

    old = _gradio_upload(gradio_temp, "遗留.bin", b"x" * 1000)
    fresh = _gradio_upload(gradio_temp, "刚传.txt", b"y" * 10)
    aged = time.time() - UPLOAD_TTL_SECONDS - 1
    os.utime(old, (aged, aged))
    assert sweep_uploads(gradio_temp) == 10
    assert not old.exists() and not old.parent.exists() and fresh.exists()
    assert gradio_temp.is_dir()


def test_the_server_sweeps_at_start_and_refuses_uploads_past_its_quota_or_limit(
    settings, tmp_path, gradio_temp
) -> None:
    import httpx

    from tests.test_ui import free_port
    from ui import create_app, serve
    from ui.upload_folder import QUOTA_FULL, UPLOAD_TTL_SECONDS
    from ui.uploads import MAX_FILES

    left = _gradio_upload(gradio_temp, "killed.txt", b"z" * 100)  # a killed server's
    aged = time.time() - UPLOAD_TTL_SECONDS - 1
    os.utime(left, (aged, aged))
    small = dataclasses.replace(settings, max_file_mb=0.01)  # quota: MAX_FILES * 10 kB
    server = serve(create_app(small), port=free_port(), block=False)
    try:
        assert not left.exists()
        url = f"{server.local_url}gradio_api/upload"
        fits = httpx.post(url, files={"files": ("a.txt", b"a" * 1000)}, timeout=60)
        over = httpx.post(url, files={"files": ("b.txt", b"b" * (MAX_FILES * 10_500))}, timeout=60)
        large = httpx.post(url, files={"files": ("c.txt", b"c" * 20_000)}, timeout=60)
    finally:
        server.close()
    assert fits.status_code == 200
    assert over.status_code == 507 and over.json()["message"] == QUOTA_FULL
    # Over the file limit, under the quota: Gradio's English text is replaced.
    assert large.status_code == 413 and large.json() == {
        "error": "file_too_large",
        "message": "文件太大，单个文件不能超过 0.01 MB（REPORTQA_MAX_FILE_MB）。",
    }
