"""Turn a report file of any supported format into plain text.

Text files are decoded strictly: UTF-8 (with or without BOM), UTF-16 with a BOM,
then GB18030, which also covers GBK and GB2312 (and characters such as 镕 that
GB2312 lacks). Nothing is ever replaced silently: bytes that none of these decode
raise :class:`~index.errors.ReadError`.
"""

from __future__ import annotations

import codecs
import html
import io
import re
from collections.abc import Callable
from pathlib import Path

from index.errors import ReadError

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = frozenset(TEXT_SUFFIXES | HTML_SUFFIXES | {".docx", ".pdf"})

# Tags whose boundaries are line breaks when the markup is flattened.
BLOCK_TAGS = frozenset(
    "address article aside blockquote br center dd div dl dt figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead tfoot tr ul".split()
)
DROPPED_TAGS = ("script", "style", "noscript", "template", "head")

_TAG_RE = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?/?>")
_DROPPED_RE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.I | re.S)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_MD_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_MD_EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1")
_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def decode_bytes(raw: bytes, path: Path | str) -> str:
    """Decode the bytes of a text file without ever replacing a character.

    Args:
        raw: The file's bytes.
        path: The file, named in errors.

    Returns:
        The decoded text, BOM removed, line endings normalised to ``\\n``.

    Raises:
        ReadError: The file is empty, binary, or in none of the supported encodings.
    """
    if not raw.strip():
        raise ReadError(path, "the file is empty", "文件是空的")
    text = _decode_first(raw)
    if text is None or "\x00" in text:
        raise ReadError(
            path,
            "cannot decode the file: it is not UTF-8, UTF-16 (with BOM) or GB18030 text",
            "无法识别文件编码：不是 UTF-8、带 BOM 的 UTF-16 或 GB18030（GBK/GB2312）文本",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_first(raw: bytes) -> str | None:
    if raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def strip_embedded_html(text: str) -> str:
    """Remove HTML tags found inside plain text, keeping the text they wrap.

    Block-level tags become line breaks so that a banner such as
    ``<div>…</div>`` stays on a line of its own; scripts and styles are dropped.
    Text without tags is returned unchanged.
    """
    if not _TAG_RE.search(text):
        return text
    text = _COMMENT_RE.sub("", _DROPPED_RE.sub("", text))

    def replace(match: re.Match[str]) -> str:
        return "\n" if match.group(1).lower() in BLOCK_TAGS else ""

    return html.unescape(_TAG_RE.sub(replace, text))


def _read_plain(raw: bytes, path: Path) -> str:
    text = strip_embedded_html(decode_bytes(raw, path))
    if path.suffix.lower() == ".md":
        text = _MD_LINK_RE.sub(r"\1", _MD_EMPHASIS_RE.sub(r"\2", _MD_HEADING_RE.sub("", text)))
    return text


def _read_html(raw: bytes, path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_bytes(raw, path), "lxml")
    for tag in soup.find_all(DROPPED_TAGS):
        tag.decompose()
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after("\t")
    for block in soup.find_all(list(BLOCK_TAGS)):
        block.insert_before("\n")
        block.insert_after("\n")
    return soup.get_text()


def _read_docx(raw: bytes, path: Path) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises several unrelated types on bad zips
        reason = f"not a readable .docx file ({exc})"
        raise ReadError(path, reason, "不是可读取的 .docx 文件") from exc
    lines = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            lines.append(item.text)
        elif isinstance(item, Table):
            lines.extend(_table_rows(item))
    return "\n".join(lines)


def _table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            # Merged cells come back once per grid column; keep one copy.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        rows.append("\t".join(cells))
    return rows


def _read_pdf(raw: bytes, path: Path) -> str:
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many error types for damaged files
        raise ReadError(path, f"not a readable PDF ({exc})", "不是可读取的 PDF 文件") from exc
    # Some CJK fonts map to two-byte codes and pypdf leaves a NUL before each character.
    text = "\n\n".join(pages).replace("\x00", "")
    if not text.strip():
        raise ReadError(
            path,
            "the PDF has no text layer (a scan?); run OCR on it first",
            "PDF 没有文字层（可能是扫描件），请先做文字识别（OCR）",
        )
    return text


_READERS: dict[str, Callable[[bytes, Path], str]] = {
    **dict.fromkeys(TEXT_SUFFIXES, _read_plain),
    **dict.fromkeys(HTML_SUFFIXES, _read_html),
    ".docx": _read_docx,
    ".pdf": _read_pdf,
}


def unsupported_format(path: Path | str) -> ReadError:
    """The error for a file whose suffix is not one of ``SUPPORTED_SUFFIXES``."""
    supported = " ".join(sorted(SUPPORTED_SUFFIXES))
    return ReadError(
        path, f"unsupported format; supported: {supported}", f"不支持的格式，支持：{supported}"
    )


def read_text(path: Path, raw: bytes) -> str:
    """Extract the text of a report file.

    Args:
        path: The file; its suffix chooses the format.
        raw: The file's bytes.

    Returns:
        The text, one line per paragraph or table row as the format allows.

    Raises:
        ReadError: Unsupported format, undecodable bytes, or no text at all.
    """
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise unsupported_format(path)
    if not raw:
        raise ReadError(path, "the file is empty", "文件是空的")
    text = reader(raw, path)
    if not text.strip():
        raise ReadError(path, "the file contains no text", "文件中没有文字")
    return text
