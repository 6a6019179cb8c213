"""Clean the raw text of a report into one paragraph per line.

The rules were written against real files: a newspaper page (paragraphs split
mid-word at page and column breaks, "(上接第1版)"), wikisource exports of the
national reports (links turned into line breaks mid-sentence, a public-domain
footer) and provincial reports copied from web pages (menus, source and date
lines, photo captions, "相关报道" tails).

Line joining works on breaks: a line that does not end a sentence continues on
the next non-empty line unless it is a heading or a title-like line. A file whose
paragraphs are separated by blank lines has "soft" single line breaks (wiki
links); those are joined unless the line is a numbered heading, because a short
unpunctuated line there is a link, not a heading.

Tab-separated lines are laid out in columns (a newspaper's district-news block):
each cell becomes a line of its own and is never joined to anything.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass

SENTENCE_END = "。！？；：!?;:…"
CLOSERS = "”’」』）)】》〉\"'"
# A line ending in one of these is mid-sentence, so it cannot be a heading.
CONTINUATION_END = "的之和与及或在对把被将从向以为是等、，,“‘《（(—-"

_SPACES_RE = re.compile(r"[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE_RE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_PRINT_MARK_RE = re.compile(
    r"[（(]\s*(?:上接|下转|接|转)(?:第\s*)?[\d０-９一二三四五六七八九十]+\s*版\s*[)）]"
)
_PAGE_NUMBER_RE = re.compile(r"^[-—–]\s*\d{1,4}\s*[-—–]$|^第\s*\d{1,4}\s*页(?:\s*共\s*\d+\s*页)?$")
ENUMERATED_RE = re.compile(
    r"^(?:第[一二三四五六七八九十百\d]+(?:章|部分|篇)"
    r"|[一二三四五六七八九十]{1,3}、"
    r"|[（(]\s*[一二三四五六七八九十]{1,3}\s*[)）]"
    r"|第[一二三四五六七八九十]{1,3}[，、,]"
    r"|[一二三四五六七八九十]{1,3}$"
    r"|附件\s*\d*$|结束语$|名词解释$|名词注释$|注释$)"
)
_DATELINE_RE = re.compile(r"会议上[)）]?$")

MENU_TOKENS = frozenset(
    "下载 打印 全屏 收藏 分享 分享: 分享： 分享到 加大 还原 减小 大 中 小 【 】 > | × 首页 "
    "您的位置: 您的位置： 当前位置: 当前位置： 打印本页 关闭窗口".split()
)
_FONT_MENU_RE = re.compile(r"^【?\s*字[号体]\s*[:：]?[^。]{0,16}$")
_LABEL_RE = re.compile(
    r"^[（(]?(?:来源|时间|发表时间|发布时间|发布日期|日期|阅读量|浏览次数|作者|编辑|责任编辑)\s*[:：]\s*(.*?)[)）]?$"
)
_DATETIME_RE = re.compile(
    r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*\d{1,2}[:：时]\d{1,2}分?(?:[:：]\d{2})?)?$"
)
TAIL_MARKERS = tuple(
    "相关报道 相关文档 相关链接 相关附件 相关新闻 扫一扫在手机打开 》》点击 打印本页 关闭窗口 "
    "分享到 责任编辑".split()
)
WIKI_FOOTER_START = "本作品"
WIKI_FOOTER_MAX_LINES = 60
# Web-page tails (相关报道…) are only looked for in the last 40% of the lines.
TAIL_ZONE_START = 0.6
# The web page's top ends at "各位代表", at the first long line, or after this many lines.
FRONT_ZONE_MAX_LINES = 40
LONG_LINE_CHARS = 80
LABEL_MAX_CHARS = 40
TITLE_MAX_CHARS = 50
# Fixed-width wrapping shows as at least this many lines (and this share) of one length.
MIN_WRAP_CHARS = 10
MIN_WRAPPED_LINES = 5
WRAPPED_SHARE = 0.2
BARE_ENUMERATOR_CHARS = 4
# Share of lines that open a blank-separated block above which a file is blank-line style.
BLANK_STYLE_MIN_RATIO = 0.3


@dataclass
class _Line:
    text: str
    hard_break: bool  # a blank line (or the file's paragraph style) precedes it
    cell: bool = False


def clean_text(raw: str) -> str:
    """Clean a report's raw text.

    Args:
        raw: Text as read from the file (any line endings).

    Returns:
        The cleaned text: one paragraph per line, lines separated by ``\\n``,
        no blank lines, no page or web furniture. Offsets of passages refer to it.
    """
    lines = _normalise(raw)
    lines = _cut_tail(_cut_wiki_footer(lines))
    lines = _drop_front_matter(lines)
    marked = _mark_breaks(lines, _blank_line_style(lines))
    paragraphs = _join(marked, _wrap_width(lines))
    return "\n".join(_SPACES_RE.sub(" ", p).strip() for p in paragraphs)


def _normalise(raw: str) -> list[str]:
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    lines = []
    for raw_line in text.split("\n"):
        line = _INVISIBLE_RE.sub("", raw_line)
        if raw_line and not line:
            # A line of zero-width characters is a wiki artefact, not a paragraph break.
            continue
        line = _PRINT_MARK_RE.sub("", _SPACES_RE.sub(" ", line)).strip(" \t")
        lines.append("" if _PAGE_NUMBER_RE.match(line) else line)
    return lines


def _cut_wiki_footer(lines: list[str]) -> list[str]:
    for index in range(max(0, len(lines) - WIKI_FOOTER_MAX_LINES), len(lines)):
        if lines[index].startswith(WIKI_FOOTER_START) and any(
            "公有领域" in line or "Public domain" in line for line in lines[index:]
        ):
            return lines[:index]
    return lines


def _cut_tail(lines: list[str]) -> list[str]:
    for index in range(int(len(lines) * TAIL_ZONE_START), len(lines)):
        if lines[index].startswith(TAIL_MARKERS):
            lines = lines[:index]
            break
    while lines and (not lines[-1] or _is_web_label(lines[-1]) or lines[-1] in MENU_TOKENS):
        lines.pop()
    return lines


def _is_web_label(line: str) -> bool:
    return bool(_LABEL_RE.match(line)) and len(line) <= LABEL_MAX_CHARS


def is_photo_caption(line: str) -> bool:
    """Whether a line is a photo caption rather than report text."""
    bare = line.rstrip("）) ")
    if bare.endswith("摄") and ("记者" in bare or "摄影" in bare or len(bare) <= 40):
        return True
    return "作政府工作报告" in line and "记者" in line


def _front_zone_end(lines: list[str]) -> int:
    """Index of the first line of the speech proper (the web page's top ends before it)."""
    seen = 0
    for index, line in enumerate(lines):
        if not line:
            continue
        seen += 1
        if line.startswith("各位代表") or seen > FRONT_ZONE_MAX_LINES:
            return index
        if len(line) >= LONG_LINE_CHARS and not is_photo_caption(line):
            return index
    return 0


def _drop_front_matter(lines: list[str]) -> list[str]:
    end = _front_zone_end(lines)
    kept: list[str] = []
    seen: set[str] = set()
    skip_value = after_crumb = False
    for line in lines[:end]:
        if not line:
            kept.append(line)
            continue
        drop = (
            skip_value
            or after_crumb
            or line in MENU_TOKENS
            or bool(_FONT_MENU_RE.match(line))
            or _is_web_label(line)
            or bool(_DATETIME_RE.match(line))
            or is_photo_caption(line)
            or "作政府工作报告" in line
            or line in seen
        )
        seen.add(line)
        label = _LABEL_RE.match(line)
        # "来源：" alone: its value is on the next line.
        skip_value = bool(label) and not label.group(1)
        after_crumb = line == ">"
        if not drop:
            kept.append(line)
    body = [line for line in lines[end:] if not is_photo_caption(line)]
    return kept + body


def _blank_line_style(lines: list[str]) -> bool:
    """Whether paragraphs are separated by blank lines (so single breaks are soft)."""
    filled = sum(1 for line in lines if line)
    blocks = sum(
        1 for index, line in enumerate(lines) if line and (index == 0 or not lines[index - 1])
    )
    return blocks >= 2 and blocks >= BLANK_STYLE_MIN_RATIO * filled


def _wrap_width(lines: list[str]) -> int:
    """Length of a full line when the text was wrapped at a fixed width (PDF text), else 0.

    Wrapping shows as many lines of about the same length that mostly stop
    mid-sentence; a line that long was cut by the layout. Files with one
    paragraph per line have no such width.
    """
    lengths = collections.Counter(len(line) for line in lines if len(line) >= MIN_WRAP_CHARS)
    if not lengths:
        return 0
    width = max(lengths, key=lambda n: lengths[n - 1] + lengths[n] + lengths[n + 1])
    band = [line for line in lines if abs(len(line) - width) <= 1]
    cut = sum(1 for line in band if not ends_sentence(line))
    wrapped = len(band) >= MIN_WRAPPED_LINES and len(band) >= WRAPPED_SHARE * lengths.total()
    return width - 1 if wrapped and cut * 2 > len(band) else 0


def _mark_breaks(lines: list[str], blank_style: bool) -> list[_Line]:
    marked: list[_Line] = []
    blank_before = True
    for line in lines:
        if not line:
            blank_before = True
            continue
        hard = blank_before or not blank_style
        if "\t" in line:
            cells = [cell.strip() for cell in line.split("\t")]
            marked.extend(_Line(cell, True, cell=True) for cell in cells if cell)
        else:
            marked.append(_Line(line, hard))
        blank_before = False
    return marked


def ends_sentence(line: str) -> bool:
    """Whether a line ends with sentence-final punctuation (closing quotes allowed)."""
    bare = line.rstrip(CLOSERS + " ")
    return bool(bare) and bare[-1] in SENTENCE_END


def is_title_like(line: str) -> bool:
    """Whether a line reads as a heading or title that stands on its own.

    Enumerated headings ("一、", "（三）", "第二部分"…) and short lines without
    sentence punctuation that do not stop mid-phrase qualify.
    """
    if any(mark in line for mark in "。！？；!?;"):
        return False
    # An enumerated heading may end in a word like "取向" whose last character is
    # also a preposition: the enumerator decides.
    if ENUMERATED_RE.match(line):
        return True
    if line[-1] in CONTINUATION_END:
        return False
    if len(line) > TITLE_MAX_CHARS or line.startswith(("——", "--", "（", "(")):
        return False
    return bool(re.search(r"[\u4e00-\u9fff]", line))


def _stands_alone(current: str, last: str, may_be_title: bool, following: _Line, wrap: int) -> bool:
    """Whether the paragraph ``current`` (whose last source line is ``last``) ends here.

    ``may_be_title`` is false once a line was joined across a hard break (a page
    break): the text is then a paragraph, whatever its length. In wrapped text
    (``wrap`` > 0) a line as long as the wrap width was cut by the layout, not ended.
    """
    if following.cell or ENUMERATED_RE.match(following.text):
        return True
    if wrap and len(last) >= wrap:
        return False
    if ends_sentence(current) or _DATELINE_RE.search(current):
        return True
    if not may_be_title:
        return False
    if following.hard_break:
        return is_title_like(current)
    # A bare enumerator ("（一）") before a soft break introduces the text that follows.
    bare_enumerator = len(current) <= BARE_ENUMERATOR_CHARS
    return bool(ENUMERATED_RE.match(current)) and is_title_like(current) and not bare_enumerator


def _join(lines: list[_Line], wrap: int) -> list[str]:
    paragraphs: list[str] = []
    current, last = "", ""
    may_be_title = locked = False
    for line in lines:
        if current and not locked and not _stands_alone(current, last, may_be_title, line, wrap):
            current = _glue(current, line.text)
            may_be_title = may_be_title and not line.hard_break
        else:
            if current:
                paragraphs.append(current)
            current, may_be_title, locked = line.text, True, line.cell
        last = line.text
    if current:
        paragraphs.append(current)
    return paragraphs


def _glue(left: str, right: str) -> str:
    # Only Latin words need a space back; Chinese (and split numbers like PM2.5) join directly.
    if left[-1:].isascii() and left[-1:].isalpha() and right[:1].isascii() and right[:1].isalpha():
        return f"{left} {right}"
    return left + right
