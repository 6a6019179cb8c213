"""HTML for the chat: answers, citation cards, refusals, errors and the report list.

Every piece of text that comes from a report, a question or an error is escaped with
:func:`esc` before it reaches the page; the only markup is the one built here. The output
is a single line (no blank lines) so the chat's Markdown renderer treats it as one raw
HTML block and never re-interprets report text as Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

_MARKER = re.compile(r"\[(\d{1,2})\]")
# The page's script finds card n by the number on it (the sanitizer drops data- attributes).
_LINK = r'<button type="button" class="rq-ref rq-link" title="查看出处">[\1]</button>'


def esc(text: object) -> str:
    """Escape ``text`` for HTML; also ``$`` so no math or template syntax can fire."""
    escaped = html.escape("" if text is None else str(text), quote=True)
    return escaped.replace("$", "&#36;").replace("`", "&#96;").replace("\\", "&#92;")


def _lines(escaped: str) -> str:
    """Turn newlines of already-escaped text into ``<br>`` so the HTML stays on one line."""
    return "<br>".join(part for part in escaped.replace("\r", "").split("\n"))


def highlight(text: str, quote: str) -> str:
    """Escaped ``text`` with the first occurrence of ``quote`` wrapped in ``<mark>``."""
    start = text.find(quote) if quote else -1
    if start < 0:
        return _lines(esc(text))
    end = start + len(quote)
    marked = f'<mark class="rq-quote">{_lines(esc(quote))}</mark>'
    return _lines(esc(text[:start])) + marked + _lines(esc(text[end:]))


def with_markers(text: str) -> str:
    """Escaped answer text whose ``[n]`` markers look like the numbers on the cards and
    lead to them (the page's script scrolls to card ``n`` of the same message)."""
    return _MARKER.sub(_LINK, _lines(esc(text)))


def _meta(citation) -> str:
    parts = [citation.title or "（无标题）"]
    if citation.year:
        parts.append(f"{citation.year}年")
    if citation.region:
        parts.append(citation.region)
    return " · ".join(esc(p) for p in parts)


def _where(citation) -> str:
    section = esc(citation.section) if citation.section else "正文"
    return f"{section} · 第{int(citation.paragraph)}段"


def citation_card(citation) -> str:
    """One citation: number, report title/year/region, section path, paragraph, passage."""
    return (
        f'<div class="rq-card" data-n="{int(citation.n)}">'
        f'<div class="rq-card-head"><span class="rq-ref rq-num">[{int(citation.n)}]</span>'
        f'<span class="rq-title">{_meta(citation)}</span></div>'
        f'<div class="rq-where">{_where(citation)}</div>'
        f'<div class="rq-passage">{highlight(citation.text, citation.quote)}</div>'
        "</div>"
    )


def _cards(citations: Sequence) -> str:
    return "".join(citation_card(c) for c in citations)


def _more(citations: Sequence, label: str) -> str:
    if not citations:
        return ""
    return (
        f'<details class="rq-more"><summary>{label}（{len(citations)}）</summary>'
        f'<div class="rq-cards">{_cards(citations)}</div></details>'
    )


def cards_html(answer) -> str:
    """Cards of the citations the answer's ``[n]`` markers point to; the rest folded away."""
    if not answer.citations:
        return ""
    if getattr(answer, "kind", "") == "near_miss":  # shown, but as what it is
        return (
            '<div class="rq-cards rq-related">'
            '<div class="rq-cards-title">相关内容（不是所问的数字）</div>'
            f"{_cards(answer.citations)}</div>"
        )
    if not answer.found:
        return _more(answer.citations, "可能相关的段落")
    shown = _cited(answer)
    rest = [c for c in answer.citations if c not in shown]
    return (
        f'<div class="rq-cards"><div class="rq-cards-title">引用来源</div>{_cards(shown)}</div>'
        f"{_more(rest, '其他相关段落')}"
    )


def _cited(answer) -> list:
    """The citations the answer's markers point to (the first one when it has none)."""
    cited = {int(n) for n in _MARKER.findall(answer.text)}
    return [c for c in answer.citations if c.n in cited] or list(answer.citations[:1])


def listed_citations(answer) -> list:
    """The citations an answer's plain text lists (its copy, its export): those its
    markers point to, or a near miss's related passages; none for a refusal."""
    if answer.citations and (answer.found or getattr(answer, "kind", "") == "near_miss"):
        return _cited(answer)
    return []


def answer_text(answer) -> str:
    """The answer as plain text, as the copy button copies it: the answer, then per cited
    passage "[n] 标题 · 年份 · 地区 · 章节 · 第N段：引文"."""
    lines = [answer.text]
    if listed := listed_citations(answer):
        lines.append("")
        for c in listed:
            parts = [c.title or "（无标题）", *([f"{c.year}年"] if c.year else [])]
            parts += [*([c.region] if c.region else []), c.section or "正文", f"第{c.paragraph}段"]
            lines.append(f"[{c.n}] {' · '.join(parts)}：{c.quote or c.text}")
    return "\n".join(lines)


def _copy(answer) -> str:
    """The copy button and the text it copies. The chat's sanitizer drops ``data-``
    attributes, so the text rides in a hidden element, its newlines as entities (the
    message stays one line; the browser's ``textContent`` has them back)."""
    plain = esc(answer_text(answer)).replace("\n", "&#10;")
    return (
        '<button type="button" class="rq-copy" title="复制回答和出处（纯文本）">复制</button>'
        f'<div class="rq-plain">{plain}</div>'
    )


def _sources(answer) -> str:
    """Which reports the answer comes from: "出自：2025年 太原市《…》"."""
    seen = dict.fromkeys(
        (c.year, c.region, c.title) for c in _cited(answer) if answer.found and answer.citations
    )
    if not seen:
        return ""
    names = "；".join(
        " ".join(p for p in (f"{y}年" if y else "", r) if p) + f"《{t}》" for y, r, t in seen
    )
    return f'<div class="rq-sources">出自：{esc(names)}</div>'


def _note(answer) -> str:
    return f'<div class="rq-note">{esc(answer.note)}</div>' if answer.note else ""


# The columns of a comparison's table: header, field of the row.
_TABLE_COLUMNS = (
    ("地区", "region"),
    ("年份", "year"),
    ("指标", "indicator"),
    ("数值", "value"),
    ("单位", "unit"),
    ("限定", "qualifier"),
    ("原文", "text"),
)
_ROW_LINE = re.compile(r"^(?:- |\d+\. )")  # a comparison's line per report, shown as a row


def _cell(row, field: str, n: int | None) -> str:
    if field == "text":
        return with_markers(f"{row.text}[{n}]") if n else esc(row.text)
    if field == "value":
        shown = "" if row.value is None else f"{row.value:g}"
        return esc(shown + (f"–{row.value_high:g}" if row.value_high is not None else ""))
    value = getattr(row, field)
    return esc("" if value is None else value)


def table_html(rows, cited: bool = True, name: str = "报告指标对比") -> str:
    """Rows of figures as a table whose headers sort it (the page's script), with a button
    that downloads it as CSV (``name``.csv); ``cited``: each row's words end with its [n]."""
    head = "".join(
        f'<th><button type="button" class="rq-sort" title="排序">{label}</button></th>'
        for label, _ in _TABLE_COLUMNS
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_cell(row, f, n if cited else None)}</td>" for _, f in _TABLE_COLUMNS)
        + "</tr>"
        for n, row in enumerate(rows, 1)
    )
    return (
        f'<div class="rq-table-wrap" data-name="{esc(name)}"><table class="rq-table"><thead>'
        f"<tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        '<button type="button" class="rq-csv">下载 CSV</button></div>'
    )


def figures_html(title: str, rows) -> str:
    """One report's key figures: its targets and the results of the year it reviews, each
    a table to sort and download; what it states none of, said."""
    parts = []
    for kind, heading in (("target", "主要预期目标"), ("result", "上年主要指标完成情况")):
        own = [r for r in rows if r.kind == kind]
        year = f"（{own[0].year}年）" if own and own[0].year else ""
        parts.append(f'<div class="rq-figures-heading">{heading}{year}</div>')
        parts.append(
            table_html(own, cited=False, name=f"{title}{heading}")
            if own
            else f'<div class="rq-note">报告中没有读到{heading}的数字。</div>'
        )
    return "".join(parts)


# The trend chart's size in CSS pixels, and its margin for the axis labels.
_CHART_W, _CHART_H, _CHART_PAD = 360, 150, 28


def trend_svg(answer) -> str:
    """A line chart of a trend's rows (one region's years, each point its figure and its
    ``[n]``), or "" when the rows are not one region's figures in one unit."""
    rows = [r for r in answer.table if r.value is not None]
    if len(rows) < 2 or len({(r.region, r.unit) for r in rows}) != 1:
        return ""
    low, high = min(r.value for r in rows), max(r.value for r in rows)
    span = (high - low) or 1.0
    inner_w, inner_h = _CHART_W - 2 * _CHART_PAD, _CHART_H - 2 * _CHART_PAD
    points = []
    for i, row in enumerate(rows):
        x = _CHART_PAD + inner_w * i / (len(rows) - 1)
        y = _CHART_PAD + inner_h * (1 - (row.value - low) / span)
        n = answer.table.index(row) + 1
        points.append((x, y, f"{row.value:g}{row.unit or ''} [{n}]", str(row.year or "")))
    line = " ".join(f"{x:.0f},{y:.0f}" for x, y, _, _ in points)
    marks = "".join(
        f'<circle cx="{x:.0f}" cy="{y:.0f}" r="4"></circle>'
        f'<text x="{x:.0f}" y="{y - 8:.0f}" text-anchor="middle">{esc(label)}</text>'
        f'<text x="{x:.0f}" y="{_CHART_H - 6}" text-anchor="middle">{esc(year)}</text>'
        for x, y, label, year in points
    )
    return (
        f'<svg class="rq-chart" viewBox="0 0 {_CHART_W} {_CHART_H}" width="{_CHART_W}" '
        f'height="{_CHART_H}" role="img" aria-label="{esc(rows[0].indicator)}历年目标">'
        f'<polyline points="{line}" fill="none"></polyline>{marks}</svg>'
    )


def answer_html(answer) -> str:
    """The final chat message for an :class:`assistant.Answer` (answer or refusal)."""
    kind = getattr(answer, "kind", "")
    if kind == "table" and answer.table:  # its lines per report are the table's rows
        lines = [x for x in answer.text.splitlines() if not _ROW_LINE.match(x)]
        return (
            f'<div class="rq-msg rq-answer rq-compare"><div class="rq-text">'
            f"{with_markers(lines[0])}</div>{trend_svg(answer)}{table_html(answer.table)}"
            f'<div class="rq-text">{with_markers(chr(10).join(lines[1:]))}</div>'
            f"{_sources(answer)}{_note(answer)}{cards_html(answer)}"
            f"{_tools(answer)}</div>"
        )
    if kind == "near_miss":
        return (
            '<div class="rq-msg rq-refusal rq-near-miss"><span class="rq-label">报告未给出</span>'
            f'<div class="rq-text">{with_markers(answer.text)}</div>{_note(answer)}'
            f"{cards_html(answer)}{_tools(answer)}</div>"
        )
    if not answer.found:
        return (
            '<div class="rq-msg rq-refusal"><span class="rq-label">未找到</span>'
            f'<div class="rq-text">{_lines(esc(answer.text))}</div>{_note(answer)}'
            f"{cards_html(answer)}{_tools(answer)}</div>"
        )
    overview = kind == "overview"
    return (
        f'<div class="rq-msg rq-answer{" rq-overview" if overview else ""}">'
        + ('<span class="rq-label rq-label-overview">概览</span>' if overview else "")
        + f'<div class="rq-text">{with_markers(answer.text)}</div>{_sources(answer)}'
        f"{_note(answer)}{cards_html(answer)}{_tools(answer)}</div>"
    )


def _tools(answer) -> str:
    """Under an answer: its copy button, then its suggested follow-up questions as buttons
    (:mod:`ui.followups`)."""
    from ui.followups import suggestions_html

    follow = suggestions_html(getattr(answer, "suggestions", ()))
    return f'<div class="rq-tools">{_copy(answer)}</div>{follow}'


def streaming_html(text: str) -> str:
    """The chat message while the answer is still streaming in."""
    if not text:
        return '<div class="rq-msg rq-pending"><span class="rq-label">检索中…</span></div>'
    return f'<div class="rq-msg rq-streaming"><div class="rq-text">{with_markers(text)}</div></div>'


def stopped_html(text: str = "") -> str:
    """A reply the user stopped: what had arrived, marked as stopped."""
    shown = f'<div class="rq-text">{with_markers(text)}</div>' if text else ""
    return f'<div class="rq-msg rq-stopped"><span class="rq-label">已停止</span>{shown}</div>'


def loading_html(message: str) -> str:
    return f'<div class="rq-loading" role="status">{esc(message)}</div>'


def input_note_html(message: str) -> str:
    """A note under the question box: why what is in it was not sent."""
    return f'<div class="rq-input-note" role="alert">{esc(message)}</div>'


def error_html(message: str) -> str:
    """A failure the user should read (a :class:`ReportQAError`'s ``message_zh``)."""
    return (
        '<div class="rq-msg rq-error"><span class="rq-label">出错了</span>'
        f'<div class="rq-text">{_lines(esc(message))}</div></div>'
    )


def user_html(question: str) -> str:
    """The user's own message, escaped like everything else."""
    return f'<div class="rq-question">{_lines(esc(question))}</div>'


def documents_html(documents: Sequence, total: int | None = None) -> str:
    """The report list: title, year, region and passage count of each report shown.

    ``total`` is how many the index holds when ``documents`` is a filtered part of them.
    A report of unknown region says "未识别", with a hint to set it.
    """
    total = len(documents) if total is None else total
    if not total:
        return (
            '<div class="rq-docs rq-empty">还没有已索引的报告。请在“上传报告”中上传，'
            "或在命令行运行 <code>reportqa index build</code>。</div>"
        )
    unknown = '<span class="rq-unknown" title="在“修改或删除报告”中设置地区">未识别</span>'
    rows = [
        f'<tr><td>{esc(d.title)}</td><td class="rq-year">{esc(d.year or "—")}</td>'
        f"<td>{esc(d.region) if d.region else unknown}</td><td>{int(d.passages)}</td></tr>"
        for d in documents
    ]
    count = f"共 {total} 份报告" if len(rows) == total else f"显示 {len(rows)} / {total} 份报告"
    hint = (
        '<div class="rq-hint">地区“未识别”的报告按地区提问时找不到：'
        "请在下方“修改或删除报告”中设置地区。</div>"
        if any(not d.region for d in documents)
        else ""
    )
    if not rows:
        return f'<div class="rq-docs"><div class="rq-count">{count}</div>没有符合条件的报告。</div>'
    head = "<tr><th>标题</th><th>年份</th><th>地区</th><th>段落</th></tr>"
    return (
        f'<div class="rq-docs"><div class="rq-count">{count}</div><div class="rq-docs-scroll">'
        f'<table class="rq-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
        f"</div>{hint}</div>"
    )


def status_html(lines: Sequence[tuple[bool, str]]) -> str:
    """Upload results: one line per file, ``(ok, message)``."""
    items = "".join(
        f'<li class="{"rq-ok" if ok else "rq-fail"}">{"✔" if ok else "✘"} {esc(msg)}</li>'
        for ok, msg in lines
    )
    return f'<ul class="rq-status">{items}</ul>' if items else ""
