"""Cut cleaned report text into passages with section paths and exact offsets.

Every line of the cleaned text is a paragraph. Headings set the section path
(levels: "第X部分/章" > "一、" or a short unnumbered title > "（一）"/"第一，" >
"1." > a lead phrase such as "推进“老有厚养”。" that opens a paragraph). Headings
alone are not passages; a heading or lead phrase followed by body text in the same
paragraph stays in that passage.

Passages follow paragraphs. A paragraph longer than ``MAX_CHARS`` is cut between
sentences (。！？；) into parts of about equal size; a sentence is never cut, so a
single sentence longer than the limit stays whole. Pieces shorter than
``MIN_CHARS`` are joined to an adjacent piece of the same section when the result
stays within ``MAX_CHARS + MIN_CHARS``; a short piece with no such neighbour
(e.g. "各位代表！" before a heading) stays on its own.

Unnumbered short titles all count as level "一、", so a report that nests
numbered parts under unnumbered ones loses the outer title from the path.

District-news block: a newspaper page may end with district news laid out in
interleaved columns (district names such as 小店区 in one column, dated items
such as "2月28日，…" in another). The cleaner turns each tab-separated cell into a
line; here each non-label line of the block becomes its own passage under the
section "区县动态". What this cannot do: the column a district name belongs to is
lost, so items are not linked to the names beside them (each item's own text still
names its district); items cut across columns or pages are left as fragments
(e.g. "2月28日，晋源区委常委会召开扩大会议，传达学习"); the block is assumed to
run until the next numbered heading or the end of the document.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from index.clean import CLOSERS, is_title_like
from index.model import Passage

# About 300 Chinese characters keeps a passage within the 512-token window of small
# embedding models with room to spare, and is short enough to read as a citation.
MAX_CHARS = 300
# Below 40 characters a piece rarely carries a fact on its own ("各位代表！").
MIN_CHARS = 40
LEAD_MAX_CHARS = 20
HEADING_MAX_CHARS = 60
TITLE_MAX_CHARS = 40
FRONT_MATTER_MAX_PARAGRAPHS = 15
DISTRICT_SECTION = "区县动态"
# Fewer lone district names than this are ordinary short lines, not a news block.
DISTRICT_MIN_LABELS = 3
SECTION_SEPARATOR = " > "

TERMINATORS = "。！？；!?;"
CLAUSE_ENDS = "，,；;：:"
CELL_ENDS = "|\t　、"  # table cells and list items: where a stopless line may be cut
# No sentence of the 84 real reports here is longer (the longest: 501 characters); a
# longer one is a table or a text with no stops, whose one "sentence" was once a passage
# of 120,463 characters (and the answer).
LONGEST_SENTENCE = 512
# A sentence longer than the corpus's 90th-percentile sentence (84 characters over the
# 34 reports) usually lists several facts; its evidence units are runs of whole clauses
# of at most UNIT_CHARS, so one vector stands for about one fact (median sentence: 34).
LONG_SENTENCE = 80
UNIT_CHARS = 60
_NUMERAL = "[一二三四五六七八九十]{1,3}"
_LEVELS = (
    (0, re.compile(r"^第[一二三四五六七八九十百\d]+(?:章|部分|篇)")),
    (1, re.compile(rf"^{_NUMERAL}(?:、|$)|^附件\s*\d*$|^(?:结束语|名词解释|注释)$")),
    (2, re.compile(rf"^[（(]\s*{_NUMERAL}\s*[)）]|^第{_NUMERAL}[，、,]")),
    (3, re.compile(r"^(?:\d{1,2}[.．、](?!\d)|[（(]\d{1,2}[)）]|[［\[]\d{1,3}[］\]])")),
)
_DISTRICT_LABEL_RE = re.compile(r"^[\u4e00-\u9fff]{1,4}(?:区|县|市|旗)$")
_LEAD_STOPWORDS = tuple("各位代表 今年 去年 我们 同时 其中 目前 为此 总之 此外".split())


@dataclass(frozen=True)
class _Heading:
    level: int
    title: str
    only: bool  # the paragraph holds nothing but the heading


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    paragraph: int
    section: str
    mergeable: bool = True


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``.

    Sentences end at 。！？； (closing quotes and brackets stay with their
    sentence) and at line breaks. Spans are absolute offsets, trimmed of whitespace,
    never empty. A "sentence" longer than ``LONGEST_SENTENCE`` (a table, a list with no
    stop) is cut at clause or cell ends, at worst every ``LONGEST_SENTENCE`` characters.
    """
    spans: list[tuple[int, int]] = []
    for s, e in _sentences(text, start, len(text) if end is None else end):
        if e - s <= LONGEST_SENTENCE:
            spans.append((s, e))
        else:
            spans.extend(_cut(text, s, e))
    return spans


def _cut(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` as runs of whole clauses or cells of at most ``LONGEST_SENTENCE``
    characters, a longer clause cut every ``LONGEST_SENTENCE``."""
    runs: list[tuple[int, int]] = []
    for s, e in clause_spans(text, start, end, ends=CLAUSE_ENDS + CELL_ENDS):
        while e - s > LONGEST_SENTENCE:
            runs.append((s, s + LONGEST_SENTENCE))
            s += LONGEST_SENTENCE
        if runs and e - runs[-1][0] <= LONGEST_SENTENCE:
            runs[-1] = (runs[-1][0], e)
        else:
            runs.append((s, e))
    if runs and end - runs[-1][0] <= LONGEST_SENTENCE:  # the last keeps the closing mark
        runs[-1] = (runs[-1][0], end)
    return runs


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    segment = index = start
    while index < end:
        char = text[index]
        if char == "\n" or char in TERMINATORS:
            stop = index + 1
            while char != "\n" and stop < end and text[stop] in TERMINATORS + CLOSERS:
                stop += 1
            _add_span(spans, text, segment, stop)
            segment = index = stop
            continue
        index += 1
    _add_span(spans, text, segment, end)
    return spans


def clause_spans(
    text: str, start: int = 0, end: int | None = None, ends: str = CLAUSE_ENDS
) -> list[tuple[int, int]]:
    """Clause spans of ``text[start:end]``: cut at ``ends`` (commas, semicolons and colons)
    outside quotes and brackets, without the cutting mark, trimmed, never empty."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    depth, segment = 0, start
    for index in range(start, end):
        char = text[index]
        if char in "“（(《「":
            depth += 1
        elif char in "”）)》」":
            depth = max(0, depth - 1)
        elif depth == 0 and char in ends:
            _add_span(spans, text, segment, index)
            segment = index + 1
    _add_span(spans, text, segment, end)
    return spans


def evidence_units(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The sentences of ``text[start:end]``, a sentence longer than ``LONG_SENTENCE`` cut
    between clauses into runs of at most ``UNIT_CHARS`` (a longer clause stays whole)."""
    units: list[tuple[int, int]] = []
    for s, e in split_sentences(text, start, end):
        clauses = clause_spans(text, s, e) if e - s > LONG_SENTENCE else []
        if len(clauses) < 2:
            units.append((s, e))
            continue
        run_start, run_end = clauses[0]
        for c_start, c_end in clauses[1:]:
            if c_end - run_start > UNIT_CHARS:
                units.append((run_start, run_end))
                run_start = c_start
            run_end = c_end
        units.append((run_start, e))  # the last run keeps the sentence's closing mark
    return units


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def chunk_text(doc_id: str, text: str) -> tuple[Passage, ...]:
    """Cut a cleaned document into passages.

    Args:
        doc_id: Id of the document the passages belong to.
        text: Cleaned text, one paragraph per line.

    Returns:
        Passages in document order; ``text[p.start:p.end] == p.text`` for each.
    """
    pieces = _merge_short(text, _split_long(text, _pieces(text)))
    passages = []
    for piece in pieces:
        sentences = evidence_units(text, piece.start, piece.end)
        passages.append(
            Passage(
                doc_id=doc_id,
                text=text[piece.start : piece.end],
                section=piece.section,
                paragraph=piece.paragraph,
                start=piece.start,
                end=piece.end,
                sentences=tuple((s - piece.start, e - piece.start) for s, e in sentences),
            )
        )
    return tuple(passages)


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, offset = [], 0
    for line in text.split("\n"):
        spans.append((offset, offset + len(line)))
        offset += len(line) + 1
    return spans


def _front_matter_end(paragraphs: list[str]) -> int:
    for index, paragraph in enumerate(paragraphs[:FRONT_MATTER_MAX_PARAGRAPHS]):
        if paragraph.startswith("各位代表"):
            return index
    return 0


def _pieces(text: str) -> list[_Piece]:
    spans = _paragraph_spans(text)
    paragraphs = [text[start:end] for start, end in spans]
    front_end = _front_matter_end(paragraphs)
    labels = sum(1 for paragraph in paragraphs if _DISTRICT_LABEL_RE.match(paragraph))
    outline = _Outline(paragraphs, district_block=labels >= DISTRICT_MIN_LABELS)
    pieces = []
    for number, (start, end) in enumerate(spans, 1):
        if not paragraphs[number - 1].strip():
            continue
        if number <= front_end:
            pieces.append(_Piece(start, end, number, ""))
        elif (piece := outline.piece(number, start, end)) is not None:
            pieces.append(piece)
    return pieces


@dataclass
class _Outline:
    """The section path while walking the paragraphs in order."""

    paragraphs: list[str]
    district_block: bool
    path: list[str] = field(default_factory=lambda: [""] * len(_LEVELS))
    pending_lead: str = ""
    in_block: bool = False

    def piece(self, number: int, start: int, end: int) -> _Piece | None:
        """The piece for paragraph ``number``, or None for a heading or district label."""
        paragraph = self.paragraphs[number - 1]
        if self.district_block and _DISTRICT_LABEL_RE.match(paragraph):
            self.in_block = True
            return None
        heading = _heading(paragraph, unnumbered=not self.in_block)
        if heading is not None:
            self.path[heading.level :] = [heading.title] + [""] * (len(_LEVELS) - heading.level - 1)
            self.pending_lead, self.in_block = "", False
            return None if heading.only else _Piece(start, end, number, _section(self.path))
        if self.in_block:
            section = _section([*self.path, DISTRICT_SECTION])
            return _Piece(start, end, number, section, mergeable=False)
        lead, self.pending_lead = self.pending_lead, ""
        if not lead:
            lead = _lead(paragraph)
            if lead and lead == paragraph.rstrip("。"):
                # A lead alone on its line titles the paragraph after it.
                lead = self.pending_lead = lead if _opens_body(self.paragraphs, number) else ""
        return _Piece(start, end, number, _section([*self.path, lead]))


def _opens_body(paragraphs: list[str], number: int) -> bool:
    """Whether a one-sentence paragraph titles the body paragraph after it.

    It does not when it answers the line before ("［7］山水工程：") or when a
    heading or nothing follows.
    """
    previous = paragraphs[number - 2] if number >= 2 else ""
    following = paragraphs[number] if number < len(paragraphs) else ""
    if previous.endswith(("：", ":")) or not following:
        return False
    return _heading(following, unnumbered=True) is None


def _section(parts: list[str]) -> str:
    return SECTION_SEPARATOR.join(part for part in parts if part)


def _heading(paragraph: str, unnumbered: bool) -> _Heading | None:
    for level, pattern in _LEVELS:
        if pattern.match(paragraph):
            sentences = split_sentences(paragraph)
            only = level < 3 and len(sentences) <= 1 and len(paragraph) <= HEADING_MAX_CHARS
            return _Heading(level, _title(paragraph), only)
    if unnumbered and not paragraph.endswith(("：", ":")) and is_title_like(paragraph):
        return _Heading(1, _title(paragraph), True)
    return None


def _title(paragraph: str) -> str:
    title = re.split(r"[。！？；：:!?;]", paragraph, maxsplit=1)[0].strip()
    return title if len(title) <= TITLE_MAX_CHARS else title[:TITLE_MAX_CHARS] + "…"


def _lead(paragraph: str) -> str:
    """The lead phrase opening a paragraph ("推进“老有厚养”。"), or ""."""
    head, mark, _ = paragraph.partition("。")
    if not mark or not head or len(head) > LEAD_MAX_CHARS or head.startswith(_LEAD_STOPWORDS):
        return ""
    if any(char in head for char in "，,：:；;！？") or sum(c.isdigit() for c in head) > 1:
        return ""
    return head


def _split_long(text: str, pieces: list[_Piece]) -> list[_Piece]:
    result = []
    for piece in pieces:
        if piece.end - piece.start <= MAX_CHARS:
            result.append(piece)
            continue
        spans = split_sentences(text, piece.start, piece.end)
        result.extend(replace(piece, start=s, end=e) for s, e in _pack(spans))
    return result


def _pack(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Group consecutive sentences into parts of about equal size, each within MAX_CHARS."""
    total = spans[-1][1] - spans[0][0]
    target = total / math.ceil(total / MAX_CHARS)
    groups = []
    group_start, previous_end = spans[0][0], None
    for start, end in spans:
        if previous_end is not None and (
            end - group_start > MAX_CHARS or previous_end - group_start >= target
        ):
            groups.append((group_start, previous_end))
            group_start = start
        previous_end = end
    groups.append((group_start, previous_end))
    return groups


def _merge_short(text: str, pieces: list[_Piece]) -> list[_Piece]:
    result: list[_Piece] = []
    for piece in pieces:
        if result and _can_merge(text, result[-1], piece):
            result[-1] = replace(result[-1], end=piece.end)
        else:
            result.append(piece)
    return result


def _can_merge(text: str, left: _Piece, right: _Piece) -> bool:
    short = min(left.end - left.start, right.end - right.start) < MIN_CHARS
    return (
        short
        and left.mergeable
        and right.mergeable
        and left.section == right.section
        and right.end - left.start <= MAX_CHARS + MIN_CHARS
        and not text[left.end : right.start].strip()
    )
