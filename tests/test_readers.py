"""Reading every supported format and encoding, and refusing what cannot be read."""

from __future__ import annotations

import codecs
import shutil
import subprocess
from pathlib import Path

import pytest

from index.errors import ReadError
from index.readers import SUPPORTED_SUFFIXES, decode_bytes, read_text, strip_embedded_html

TEXT = "二、2025年工作安排\n推进“老有厚养”。新增养老床位2000张。\n朱镕基同志\n"


def _read(path: Path) -> str:
    return read_text(path, path.read_bytes())


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("utf8.txt", TEXT.encode("utf-8")),
        ("utf8-bom.txt", codecs.BOM_UTF8 + TEXT.encode("utf-8")),
        ("utf16le.txt", codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")),
        ("utf16be.txt", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be")),
        ("gb18030.txt", TEXT.encode("gb18030")),
        ("crlf.txt", TEXT.replace("\n", "\r\n").encode("utf-8")),
    ],
)
def test_text_encodings_decode_exactly(tmp_path: Path, name: str, raw: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(raw)
    assert _read(path) == TEXT


def test_gb18030_keeps_characters_missing_from_gb2312() -> None:
    raw = "朱镕基总理作政府工作报告。".encode("gb18030")
    with pytest.raises(UnicodeEncodeError):
        "镕".encode("gb2312")
    assert decode_bytes(raw, "x.txt") == "朱镕基总理作政府工作报告。"


def test_valid_utf8_is_never_read_as_gbk() -> None:
    # These bytes are also valid GBK, where they would read as mojibake.
    raw = "政府工作报告".encode()
    raw.decode("gbk")
    assert decode_bytes(raw, "x.txt") == "政府工作报告"


def test_undecodable_bytes_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_bytes(b"\x81\x20\xff\x80 not text")
    with pytest.raises(ReadError) as caught:
        _read(path)
    assert "broken.txt" in str(caught.value)
    assert "编码" in caught.value.message_zh
    assert "broken.txt" in caught.value.message_zh


def test_binary_with_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"abc\x00\x00def")
    with pytest.raises(ReadError):
        _read(path)


@pytest.mark.parametrize("raw", [b"", b"   \n\n  "])
def test_empty_file_is_refused(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(raw)
    with pytest.raises(ReadError, match="empty"):
        _read(path)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "report.xls"
    path.write_bytes(b"data")
    with pytest.raises(ReadError, match="unsupported"):
        _read(path)
    assert ".pdf" in SUPPORTED_SUFFIXES


def test_embedded_html_is_removed_keeping_text() -> None:
    text = (
        "新篇章！\n"
        '<div style="color: white; font-weight: bold;"> 建设国家区域中心城市 </div>\t\t杏花岭区\n'
        "<script>var x = 1;</script>养老<b>床位</b>2000张 &amp; 更多"
    )
    cleaned = strip_embedded_html(text)
    assert "<" not in cleaned and "var x" not in cleaned
    assert "\n 建设国家区域中心城市 \n\t\t杏花岭区" in cleaned
    assert "养老床位2000张 & 更多" in cleaned


def test_text_without_tags_is_untouched() -> None:
    text = "a < b 且 c > d &amp; 不是标签"
    assert strip_embedded_html(text) == text


def test_markdown_marks_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text("# 二、2025年工作安排\n\n推进**“老有厚养”**。见[附件](a.html)。\n", "utf-8")
    assert _read(path) == "二、2025年工作安排\n\n推进“老有厚养”。见附件。\n"


def test_html_blocks_become_lines_and_scripts_go(tmp_path: Path) -> None:
    page = (
        "<html><head><title>菜单</title><style>p{}</style></head><body>"
        "<div>下载</div><h1>二、2025年工作安排</h1><p>推进“老有厚养”。<br>新增养老床位2000张。</p>"
        "<script>alert(1)</script><table><tr><td>小店区</td><td>3月1日，万柏林区召开会议。</td></tr>"
        "</table></body></html>"
    )
    path = tmp_path / "report.html"
    path.write_bytes(page.encode("gb18030"))
    lines = [line.strip() for line in _read(path).split("\n") if line.strip()]
    assert "二、2025年工作安排" in lines
    assert "推进“老有厚养”。" in lines and "新增养老床位2000张。" in lines
    assert "小店区\t3月1日，万柏林区召开会议。" in lines
    assert not any("alert" in line or "p{}" in line or "菜单" in line for line in lines)


def test_docx_paragraphs_and_tables(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("二、2025年工作安排")
    document.add_paragraph("推进“老有厚养”。新增养老床位2000张。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "万柏林区"
    table.cell(0, 1).text = "3月1日，万柏林区召开信访安全保障动员部署会。"
    document.add_paragraph("表格之后的段落。")
    path = tmp_path / "report.docx"
    document.save(str(path))
    assert _read(path).split("\n") == [
        "二、2025年工作安排",
        "推进“老有厚养”。新增养老床位2000张。",
        "万柏林区\t3月1日，万柏林区召开信访安全保障动员部署会。",
        "表格之后的段落。",
    ]


def _python_docx_rows(path: Path) -> list[str]:
    """Table rows as python-docx lays them out (a cell once per grid column it spans)."""
    import docx

    rows = []
    for table in docx.Document(str(path)).tables:
        for row in table.rows:
            cells: list[str] = []
            for text in (" ".join(cell.text.split()) for cell in row.cells):
                if text and (not cells or cells[-1] != text):
                    cells.append(text)
            rows.append("\t".join(cells))
    return rows


def test_docx_merged_cells_read_as_python_docx_lays_them_out(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=4, cols=4)
    for r in range(4):
        for c in range(4):
            table.cell(r, c).text = f"第{r}行第{c}列"
    table.cell(0, 0).merge(table.cell(0, 2)).text = "横向合并"
    table.cell(1, 1).merge(table.cell(3, 1)).text = "纵向合并\n两段"
    table.cell(2, 2).merge(table.cell(3, 3)).text = "四格合并"
    table.cell(1, 3).text = ""
    path = tmp_path / "merged.docx"
    document.save(str(path))
    rows = _python_docx_rows(path)
    assert rows[0] == "横向合并\t第0行第3列" and "纵向合并 两段" in rows[3]
    assert _read(path).split("\n") == rows


def test_broken_docx_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ReadError, match="docx"):
        _read(path)


def _cjk_font() -> Path | None:
    if shutil.which("fc-list"):
        listing = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False
        ).stdout
        fonts = sorted(Path(line.split(":")[0]) for line in listing.splitlines() if line.strip())
        fonts = [font for font in fonts if font.suffix.lower() in (".ttf", ".ttc", ".otf")]
        if fonts:
            return fonts[0]
    for pattern in ("**/*CJK*.tt[fc]", "**/wqy*.tt[fc]", "**/*Noto*SC*.[ot]tf"):
        found = sorted(Path("/usr/share/fonts").glob(pattern))
        if found:
            return found[0]
    return None


def test_pdf_text_layer(tmp_path: Path) -> None:
    font = _cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk) to write a Chinese PDF")
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("cjk", fname=str(font), collection_font_number=0)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(0, 8, "二、2025年工作安排\n推进“老有厚养”。新增养老床位2000张。朱镕基")
    path = tmp_path / "report.pdf"
    pdf.output(str(path))
    text = _read(path)
    assert "新增养老床位2000张" in text
    assert "朱镕基" in text and "\x00" not in text


def test_pdf_without_text_layer_is_refused(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 50, 30, style="F")
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(ReadError, match="no text layer") as caught:
        _read(path)
    assert "扫描件" in caught.value.message_zh


def test_garbage_pdf_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(ReadError):
        _read(path)


def test_pdf_wrapped_lines_become_paragraphs(tmp_path: Path) -> None:
    font = _cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk) to write a Chinese PDF")
    from fpdf import FPDF

    from index.clean import clean_text

    body = 3 * (
        "推动市二院建成安宁疗护中心。每个县(市、区)至少建成1所医养结合服务机构。"
        "推进全省最大的社会康养中心建成投用，新增养老床位2000张。新建改造一批城镇社区养老中心。"
    )
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("cjk", fname=str(font), collection_font_number=0)
    pdf.set_font("cjk", size=12)
    for block in ("二、2025年工作安排", "推进“老有厚养”。" + body, "三、全面加强政府自身建设"):
        pdf.multi_cell(0, 8, block, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.multi_cell(0, 8, "严格依法行政。" + body, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "report.pdf"
    pdf.output(str(path))
    assert clean_text(_read(path)).split("\n") == [
        "二、2025年工作安排",
        "推进“老有厚养”。" + body,
        "三、全面加强政府自身建设",
        "严格依法行政。" + body,
    ]


def test_password_protected_pdf_says_password(tmp_path: Path) -> None:
    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(ReadError) as caught:
        read_text(path, path.read_bytes())
    assert "密码" in caught.value.message_zh and "password" in str(caught.value)


@pytest.mark.parametrize("paragraphs", [1_000, 20_000])
def test_html_is_read_in_steps_linear_in_its_size(tmp_path: Path, monkeypatch, paragraphs) -> None:
    """20,000 paragraphs once took 54 s (line breaks inserted into the tree one by one):
    the walk now visits each element twice, whatever the page's size."""
    from lxml import etree

    steps = []
    walk = etree.iterwalk

    def counted(*args, **kwargs):
        for item in walk(*args, **kwargs):
            steps.append(1)
            yield item

    monkeypatch.setattr(etree, "iterwalk", counted)
    path = tmp_path / "many.html"
    path.write_text(
        "<html><body>" + "<p>新增养老床位2000张。</p>" * paragraphs + "</body></html>", "utf-8"
    )
    text = _read(path)
    assert text.count("新增养老床位2000张。") == paragraphs
    assert len(steps) == 2 * (paragraphs + 2)  # html, body and each p: start and end


def test_html_nested_past_what_a_parser_keeps_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.html"
    path.write_text("<div>" * 100_000 + "深处的文字" + "</div>" * 100_000, "utf-8")
    with pytest.raises(ReadError) as caught:
        _read(path)
    assert "嵌套层数过多" in caught.value.message_zh
