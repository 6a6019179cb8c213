"""Turn a report file of any supported format into plain text.

Text files are decoded strictly: UTF-8 (with or without BOM), UTF-16 with a BOM,
then GB18030, which also covers GBK and GB2312 (and characters such as 镕 that
GB2312 lacks). Nothing is ever replaced silently: bytes that none of these decode
raise :class:`~index.errors.ReadError`.

Every reader is bounded by ``max_bytes`` (``REPORTQA_MAX_FILE_MB``) before it inflates
anything: a larger file is refused unread, a .docx member that would unpack past the limit
or looks like a zip bomb is refused from the zip directory, and extracted text that passes
the limit stops the extraction.
"""

from __future__ import annotations

import codecs
import html
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import ReadError
from index.settings import Settings

if TYPE_CHECKING:
    from docx.oxml.table import CT_Tbl

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

MB = 2**20
# Word's XML deflates about 10:1 and images hardly at all; a member unpacking to over 100
# times its stored size is a zip bomb.
MAX_ZIP_RATIO = 100
# Small parts (styles, settings) can be that repetitive; only a member this large is suspect.
ZIP_RATIO_MIN_BYTES = 4 * MB
# A .docx part is inflated this much at a time, so a header that lies costs one step.
READ_CHUNK_BYTES = MB
# The longest work reports run to about 60 pages; thousands of pages is not a report, and
# each page costs a text extraction.
MAX_PDF_PAGES = 3000
# pypdf's limits on what one stream may inflate to; each is lowered to ``max_bytes``.
_PDF_OUTPUT_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "brotli_maximum_output_length",
    "array_based_stream_maximum_output_length",
)
# The relationship in ``_rels/.rels`` that names a .docx file's main part.
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_FILE = ("the file is", "文件")
_UNPACKED = ("unpacked, the file would be", "文件解压后")
_EXTRACTED = ("the extracted text is", "提取出的文字")


def max_file_bytes(settings: Settings | None = None) -> int:
    """The file and text limit in bytes: ``settings.max_file_mb``, by default the environment's."""
    return int((settings or Settings.from_env()).max_file_mb * MB)


def format_mb(size: int) -> str:
    """A byte count in MB as people write it: ``50``, ``0.5``, ``63.2``."""
    return f"{round(size / MB, 3):g}"


def _too_large(path: Path | str, max_bytes: int, what: tuple[str, str]) -> ReadError:
    limit = format_mb(max_bytes)
    return ReadError(
        path,
        f"{what[0]} larger than the {limit} MB limit (REPORTQA_MAX_FILE_MB); refused",
        f"{what[1]}超过 {limit} MB 的上限（REPORTQA_MAX_FILE_MB），已拒绝。",
    )


class _TextBudget:
    """Counts extracted text and refuses it as soon as it passes the limit, not at the end."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.used = 0

    def add(self, text: str) -> str:
        self.used += len(text.encode("utf-8")) + 1  # + the line break that will join it
        if self.used > self.max_bytes:
            raise _too_large(self.path, self.max_bytes, _EXTRACTED)
        return text


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The bytes of a report file, refused unread when it is larger than ``max_bytes``.

    Raises:
        ReadError: The file is larger than ``max_bytes``.
        OSError: The file cannot be read.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_large(path, max_bytes, _FILE)
    with path.open("rb") as file:
        raw = file.read(size + 1)  # read(n) reserves n bytes: ask for the size, not the limit
        if len(raw) > size:  # it grew since the stat: read on, still bounded
            raw += file.read(max_bytes - size)
    if len(raw) > max_bytes:
        raise _too_large(path, max_bytes, _FILE)
    return raw


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


def _read_plain(raw: bytes, path: Path, max_bytes: int) -> str:
    """Text and Markdown; their byte size, checked in ``read_text``, is their bound."""
    text = strip_embedded_html(decode_bytes(raw, path))
    if path.suffix.lower() == ".md":
        text = _MD_LINK_RE.sub(r"\1", _MD_EMPHASIS_RE.sub(r"\2", _MD_HEADING_RE.sub("", text)))
    return text


def _read_html(raw: bytes, path: Path, max_bytes: int) -> str:
    """HTML; its byte size, checked in ``read_text``, is its bound. One walk over lxml's
    tree, in time linear in the page (inserting line breaks into the tree, as we once
    did, took 54 s for 20,000 paragraphs)."""
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = lxml_html.document_fromstring(decode_bytes(raw, path), parser=parser)
    except etree.ParserError:  # no element at all: an empty or whitespace page
        return ""
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        # libxml2 stops at 256 levels: the text below them would be lost without a word.
        raise ReadError(
            path,
            "the HTML is nested too deeply to be a report (over 256 levels); refused",
            "HTML 嵌套层数过多（超过 256 层），不像一份报告，已拒绝。",
        )
    out: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in DROPPED_TAGS:
                walker.skip_subtree()
                continue
            out.append("\n" if tag in BLOCK_TAGS else "")
            out.append(element.text or "")
        else:
            if tag in ("td", "th"):
                out.append("\t")
            if tag in BLOCK_TAGS:
                out.append("\n")
            out.append(element.tail or "")
    return "".join(out)


def _read_docx(raw: bytes, path: Path, max_bytes: int) -> str:
    from docx.oxml.document import CT_Document
    from docx.oxml.parser import parse_xml  # python-docx's parser: no entities, no network
    from docx.oxml.table import CT_Tbl

    try:
        # Only the main part is inflated: python-docx would load every part, images included.
        with zipfile.ZipFile(io.BytesIO(raw)) as package:
            _check_members(package, path, max_bytes)
            rels = parse_xml(_read_member(package, "_rels/.rels", path, max_bytes))
            main = [r.get("Target", "") for r in rels if r.get("Type") == _OFFICE_DOCUMENT]
            root = parse_xml(_read_member(package, main[0], path, max_bytes))
    except ReadError:
        raise
    except Exception as exc:  # zipfile and lxml raise several unrelated types on bad files
        reason = f"not a readable .docx file ({exc!r})"
        raise ReadError(path, reason, "不是可读取的 .docx 文件") from exc
    if not isinstance(root, CT_Document):
        raise ReadError(path, "not a Word document", "不是可读取的 .docx 文件（不是 Word 文档）")
    budget = _TextBudget(path, max_bytes)
    lines = []
    for block in root.body.inner_content_elements if root.body is not None else ():
        if isinstance(block, CT_Tbl):
            lines.extend(budget.add(row) for row in _table_rows(block))
        else:
            lines.append(budget.add(block.text))
    return "\n".join(lines)


def _check_members(package: zipfile.ZipFile, path: Path, max_bytes: int) -> None:
    """Refuse a .docx from its zip directory, before inflating anything, if a member is a bomb."""
    for member in package.infolist():
        if member.file_size > max_bytes:
            raise _too_large(path, max_bytes, _UNPACKED)
        if (
            member.file_size > ZIP_RATIO_MIN_BYTES
            and member.file_size > MAX_ZIP_RATIO * member.compress_size
        ):
            ratio = member.file_size // max(member.compress_size, 1)
            raise ReadError(
                path,
                f"{member.filename} would unpack {ratio}:1 (over {MAX_ZIP_RATIO}:1): "
                "a zip bomb; refused",
                f"文件中的 {member.filename} 压缩比异常（{ratio}:1，上限 {MAX_ZIP_RATIO}:1），"
                "疑似压缩炸弹，已拒绝。",
            )


def _read_member(package: zipfile.ZipFile, name: str, path: Path, max_bytes: int) -> bytes:
    """A member's bytes, never inflating past ``max_bytes`` whatever its header says.

    zipfile stops at the declared size and then fails the CRC check, so a member that
    claims less than it holds fails after one chunk; the count guards the other way.
    """
    name = posixpath.normpath(name.lstrip("/"))  # relationship targets may start at the root
    chunks: list[bytes] = []
    size = 0
    with package.open(name) as member:
        while chunk := member.read(READ_CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(path, max_bytes, _UNPACKED)
            chunks.append(chunk)
    return b"".join(chunks)


def _table_rows(table: CT_Tbl) -> Iterator[str]:
    """One tab-separated line per row, each merged cell once.

    Rows are read from the XML rather than through python-docx's ``row.cells``, which
    repeats a cell once per grid column it spans: a hostile span of millions would
    allocate millions of cells.
    """
    above: dict[int, str] = {}  # grid column -> text a vertical merge there continues
    for row in table.tr_lst:
        cells: list[str] = []
        column = row.grid_before
        for cell in row.tc_lst:
            if cell.vMerge == "continue":
                text = above.get(column, "")
            else:
                text = " ".join(" ".join(p.text for p in cell.p_lst).split())
                above[column] = text
            # A merged cell spans several grid columns of Word's layout; keep one copy.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
            column += cell.grid_span
        yield "\t".join(cells)


def _read_pdf(raw: bytes, path: Path, max_bytes: int) -> str:
    import pypdf
    from pypdf.errors import LimitReachedError

    budget = _TextBudget(path, max_bytes)
    defaults = pypdf.get_configuration()
    limits = {name: min(getattr(defaults, name), max_bytes) for name in _PDF_OUTPUT_LIMITS}
    try:
        with pypdf.apply_configuration(**limits):
            reader = pypdf.PdfReader(io.BytesIO(raw))
            if reader.is_encrypted and not reader.decrypt(""):  # only an empty password
                raise ReadError(
                    path,
                    "the PDF is password-protected; remove the password first",
                    "PDF 文件有密码保护，请先去掉密码再上传",
                )
            if len(reader.pages) > MAX_PDF_PAGES:
                raise ReadError(
                    path,
                    f"{len(reader.pages)} pages, more than {MAX_PDF_PAGES}; refused",
                    f"PDF 有 {len(reader.pages)} 页，超过 {MAX_PDF_PAGES} 页的上限，已拒绝。",
                )
            pages = [budget.add(page.extract_text() or "") for page in reader.pages]
    except ReadError:
        raise
    except LimitReachedError as exc:  # a stream would inflate past the limit
        raise _too_large(path, max_bytes, _UNPACKED) from exc
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


_READERS: dict[str, Callable[[bytes, Path, int], str]] = {
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


def read_text(path: Path, raw: bytes, *, max_bytes: int | None = None) -> str:
    """Extract the text of a report file.

    Args:
        path: The file; its suffix chooses the format.
        raw: The file's bytes.
        max_bytes: The largest file, the most a .docx may unpack to and the most text
            extracted; ``None`` takes ``REPORTQA_MAX_FILE_MB`` from the environment.

    Returns:
        The text, one line per paragraph or table row as the format allows.

    Raises:
        ReadError: Unsupported format, undecodable bytes, no text at all, or over the
            limit (on disk, unpacked or as text).
    """
    limit = max_file_bytes() if max_bytes is None else max_bytes
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise unsupported_format(path)
    if not raw:
        raise ReadError(path, "the file is empty", "文件是空的")
    if len(raw) > limit:
        raise _too_large(path, limit, _FILE)
    text = reader(raw, path, limit)
    if len(text.encode("utf-8")) > limit:  # decoding can grow text: GB18030 to UTF-8 is 1.5x
        raise _too_large(path, limit, _EXTRACTED)
    if not text.strip():
        raise ReadError(path, "the file contains no text", "文件中没有文字")
    return text
