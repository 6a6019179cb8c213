"""HTML for the chat: answers, citation cards, refusals, errors and the report list.

Every piece of text that comes from a report, a question or an error is escaped with
:func:`esc` before it reaches the page; the only markup is the one built here. The output
is a single line (no blank lines) so the chat's Markdown renderer treats it as one raw
HTML block and never re-interprets report text as Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

_MARKER = re.compile(r"\[(\d{1,2})\]")


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
    """Escaped answer text whose ``[n]`` markers look like the numbers on the cards."""
    return _MARKER.sub(r'<span class="rq-ref">[\1]</span>', _lines(esc(text)))


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
    if not answer.found:
        return _more(answer.citations, "可能相关的段落")
    cited = {int(n) for n in _MARKER.findall(answer.text)}
    shown = [c for c in answer.citations if c.n in cited] or list(answer.citations[:1])
    rest = [c for c in answer.citations if c not in shown]
    return (
        f'<div class="rq-cards"><div class="rq-cards-title">引用来源</div>{_cards(shown)}</div>'
        f"{_more(rest, '其他相关段落')}"
    )


def _note(answer) -> str:
    return f'<div class="rq-note">{esc(answer.note)}</div>' if answer.note else ""


def answer_html(answer) -> str:
    """The final chat message for an :class:`assistant.Answer` (answer or refusal)."""
    if not answer.found:
        return (
            '<div class="rq-msg rq-refusal"><span class="rq-label">未找到</span>'
            f'<div class="rq-text">{_lines(esc(answer.text))}</div>{_note(answer)}'
            f"{cards_html(answer)}</div>"
        )
    return (
        '<div class="rq-msg rq-answer">'
        f'<div class="rq-text">{with_markers(answer.text)}</div>{_note(answer)}'
        f"{cards_html(answer)}</div>"
    )


def streaming_html(text: str) -> str:
    """The chat message while the answer is still streaming in."""
    if not text:
        return '<div class="rq-msg rq-pending"><span class="rq-label">检索中…</span></div>'
    return f'<div class="rq-msg rq-streaming"><div class="rq-text">{with_markers(text)}</div></div>'


def loading_html(message: str) -> str:
    return f'<div class="rq-loading" role="status">{esc(message)}</div>'


def error_html(message: str) -> str:
    """A failure the user should read (a :class:`ReportQAError`'s ``message_zh``)."""
    return (
        '<div class="rq-msg rq-error"><span class="rq-label">出错了</span>'
        f'<div class="rq-text">{_lines(esc(message))}</div></div>'
    )


def user_html(question: str) -> str:
    """The user's own message, escaped like everything else."""
    return f'<div class="rq-question">{_lines(esc(question))}</div>'


def documents_html(documents: Iterable) -> str:
    """The report list: title, year, region and passage count of every indexed report."""
    rows = [
        f"<tr><td>{esc(d.title)}</td><td>{esc(d.year or '—')}</td>"
        f"<td>{esc(d.region or '—')}</td><td>{int(d.passages)}</td></tr>"
        for d in documents
    ]
    if not rows:
        return (
            '<div class="rq-docs rq-empty">还没有已索引的报告。请在下方上传报告，'
            "或在命令行运行 <code>reportqa index build</code>。</div>"
        )
    head = "<tr><th>标题</th><th>年份</th><th>地区</th><th>段落</th></tr>"
    return (
        f'<div class="rq-docs"><div class="rq-count">共 {len(rows)} 份报告</div>'
        f'<table class="rq-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def status_html(lines: Sequence[tuple[bool, str]]) -> str:
    """Upload results: one line per file, ``(ok, message)``."""
    items = "".join(
        f'<li class="{"rq-ok" if ok else "rq-fail"}">{"✔" if ok else "✘"} {esc(msg)}</li>'
        for ok, msg in lines
    )
    return f'<ul class="rq-status">{items}</ul>' if items else ""
