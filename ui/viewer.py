"""The source viewer: a citation's whole report, opened at the cited paragraph with the
cited sentence highlighted; previous/next citation of the answer, the report's text to
download, close. A side panel on a laptop, the whole screen on a phone.

An answer's ``[n]`` links cannot carry data into the server (the chat's sanitizer drops
``data-`` attributes), so the page's script (:data:`SCRIPT`) writes which answer and which
citation into a hidden box, whose handler reads the answer from the conversation's state
and draws the report here. Every piece of report text is escaped (:func:`ui.render.esc`).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.report_text import ReportText, report_text
from assistant.types import Citation
from index import ReportQAError
from ui import render
from ui.conversation import turn_answer
from ui.core import Core

# How a section path's parts are joined (index.chunking.SECTION_SEPARATOR).
_SEPARATOR = " > "


def viewer_html(
    report: ReportText, turn: int, cited: Citation, citations: Sequence[Citation], nonce: str
) -> str:
    """The viewer of ``cited`` (citation of exchange ``turn``): the report's passages in
    order under their headings, the cited one marked, the other citations of the answer
    in the same report labelled. ``nonce`` makes each opening new to the page."""
    ordered = sorted(citations, key=lambda c: c.n)
    at = ordered.index(cited)
    here = _cited_at(report.passages, cited)
    others = {
        _cited_at(report.passages, c): c.n
        for c in ordered
        if c is not cited and c.source == cited.source
    }
    body, shown = [], []
    for i, passage in enumerate(report.passages):
        parts = passage.section.split(_SEPARATOR) if passage.section else []
        same = 0
        while same < min(len(parts), len(shown)) and parts[same] == shown[same]:
            same += 1
        for depth in range(same, len(parts)):
            level = min(depth + 1, 3)
            body.append(f'<div class="rq-view-h rq-view-h{level}">{render.esc(parts[depth])}</div>')
        shown = parts
        first = i == 0 or report.passages[i - 1].paragraph != passage.paragraph
        number = f'<span class="rq-view-no">{int(passage.paragraph)}</span>' if first else ""
        if i == here:
            text = render.highlight(passage.text, cited.quote)
            css, label = "rq-view-p rq-view-cited", f'<span class="rq-ref">[{int(cited.n)}]</span>'
        elif i in others:
            text = render.highlight(passage.text, "")
            css, label = "rq-view-p rq-view-also", f'<span class="rq-ref">[{others[i]}]</span>'
        else:
            text, css, label = render.highlight(passage.text, ""), "rq-view-p", ""
        body.append(
            f'<div class="{css}">{number}<span class="rq-view-t">{text}</span>{label}</div>'
        )
    if here is None:  # the report changed since the answer: say so, show the passage cited
        body.insert(0, _missing(cited))
    return _frame(
        report.document.title, _meta(cited), _nav(turn, ordered, at), "".join(body), nonce
    )


def viewer_error_html(message: str, nonce: str) -> str:
    """The viewer saying why the report cannot be shown (removed since, no index …)."""
    body = f'<div class="rq-view-error" role="alert">{render.esc(message)}</div>'
    return _frame("原文", "", "", body, nonce)


def _cited_at(passages: Sequence, cited: Citation) -> int | None:
    """Where the cited passage is in the report: the passage of its paragraph with its
    text, else one holding its quote; None when the report no longer holds it."""
    same = [i for i, p in enumerate(passages) if p.paragraph == cited.paragraph]
    for pool in (same, range(len(passages))):
        for i in pool:
            if passages[i].text == cited.text:
                return i
        for i in pool:
            if cited.quote and cited.quote in passages[i].text:
                return i
    return same[0] if same else None


def _missing(cited: Citation) -> str:
    return (
        '<div class="rq-view-p rq-view-cited"><div class="rq-view-error">报告已修改，'
        f"原引用的段落不在当前版本中：</div>{render.highlight(cited.text, cited.quote)}</div>"
    )


def _meta(cited: Citation) -> str:
    parts = [f"{cited.year}年" if cited.year else "", cited.region, cited.section or "正文"]
    parts.append(f"第{int(cited.paragraph)}段")
    return " · ".join(render.esc(p) for p in parts if p)


def _nav(turn: int, ordered: Sequence[Citation], at: int) -> str:
    def go(step: int, label: str, css: str) -> str:
        target = at + step
        if not 0 <= target < len(ordered):
            return f'<button type="button" class="rq-view-go {css}" disabled>{label}</button>'
        n = int(ordered[target].n)
        return (
            f'<button type="button" class="rq-view-go {css}" data-turn="{int(turn)}" '
            f'data-n="{n}" title="引用 [{n}]">{label}</button>'
        )

    return (
        f'<span class="rq-view-count">引用 [{int(ordered[at].n)}]，第 {at + 1} / {len(ordered)} 处'
        f"</span>{go(-1, '‹ 上一处', 'rq-view-prev')}{go(1, '下一处 ›', 'rq-view-next')}"
    )


def _frame(title: str, meta: str, nav: str, body: str, nonce: str) -> str:
    return (
        f'<div class="rq-viewer" role="dialog" aria-label="原文：{render.esc(title)}" '
        f'data-name="{render.esc(title)}" data-nonce="{render.esc(nonce)}">'
        '<div class="rq-view-head"><div class="rq-view-top">'
        f'<div class="rq-view-title">{render.esc(title)}</div>'
        '<button type="button" class="rq-view-close" title="关闭（Esc）">✕ 关闭</button></div>'
        f'<div class="rq-view-meta">{meta}</div><div class="rq-view-bar">{nav}'
        '<button type="button" class="rq-view-download" title="下载这份报告的文本">'
        "下载全文</button>"
        f'</div></div><div class="rq-view-body">{body}</div></div>'
    )


def make_show(core: Core):
    """The handler that opens the viewer at a citation the page's script names."""

    def show(asked: str, state: dict):
        """``asked`` is ``"turn:n:nonce"``: citation ``n`` of exchange ``turn``."""
        import gradio as gr

        turn, n, nonce = [*(asked or "").split(":"), "", "", ""][:3]
        if not (turn.isdigit() and n.isdigit()):
            return gr.skip()
        answer = turn_answer(state, int(turn))
        cited = [c for c in answer.citations if c.n == int(n)] if answer else []
        if not cited:  # an answer still coming in, or one the page no longer holds
            return gr.skip()
        try:
            report = report_text(cited[0].source, settings=core.settings)
        except ReportQAError as exc:
            return viewer_error_html(exc.message_zh, nonce)
        return viewer_html(report, int(turn), cited[0], answer.citations, nonce)

    return show


def source_viewer(core: Core, state) -> None:
    """The viewer's hidden box and panel; ``state`` is the conversation's."""
    import gradio as gr

    asked = gr.Textbox(visible="hidden", elem_id="rq-view-ask", container=False)
    view = gr.HTML("", elem_id="rq-viewer-holder")
    asked.change(
        make_show(core),
        inputs=[asked, state],
        outputs=view,
        show_progress="hidden",
        api_visibility="private",
        concurrency_limit=None,  # reading one report: it must not wait behind answers
    )


CSS = """
#rq-viewer-holder { padding: 0 !important; margin: 0 !important; min-height: 0 !important;
  border: none !important; }
.rq-viewer { position: fixed; top: 0; right: 0; bottom: 0; width: min(520px, 40vw);
  z-index: 1000; display: flex; flex-direction: column; box-sizing: border-box;
  background: var(--background-fill-primary); color: var(--body-text-color);
  border-left: 1px solid var(--border-color-primary);
  box-shadow: -6px 0 24px rgba(0, 0, 0, 0.18); --rq-subdued: #4b5563; }
.dark .rq-viewer { --rq-subdued: #a3aab5; }
.rq-viewer[hidden] { display: none !important; }
.rq-view-head { padding: 10px 14px 8px; border-bottom: 1px solid var(--border-color-primary); }
.rq-view-top { display: flex; gap: 8px; align-items: flex-start; }
.rq-view-title { flex: 1; font-weight: 600; font-size: 1.05rem; line-height: 1.5; }
.rq-view-meta { color: var(--rq-subdued); font-size: 0.85em; margin: 2px 0 6px; }
.rq-view-bar { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.rq-view-count { font-size: 0.85em; color: var(--rq-subdued); margin-right: auto; }
.rq-view-go, .rq-view-close, .rq-view-download { min-height: 44px; min-width: 44px;
  padding: 0 12px; border-radius: 8px; cursor: pointer; font-size: 0.9em;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  color: var(--body-text-color); }
.rq-view-go[disabled] { opacity: 0.45; cursor: default; }
.rq-view-body { flex: 1 1 auto; min-height: 0; overflow-y: auto; padding: 8px 14px 40vh;
  line-height: 1.8; word-break: break-word; overscroll-behavior: contain; }
.rq-view-h { font-weight: 600; margin: 14px 0 4px; }
.rq-view-h1 { font-size: 1.05em; }
.rq-view-h2, .rq-view-h3 { font-size: 0.98em; }
.rq-view-p { margin: 0 0 8px; padding: 2px 6px; border-radius: 6px; scroll-margin: 30vh; }
.rq-view-no { display: inline-block; min-width: 2.2em; color: var(--rq-subdued);
  font-size: 0.75em; }
.rq-view-cited { background: var(--background-fill-secondary); outline: 2px solid #f59e0b; }
.rq-view-also { border-left: 3px solid #d1d5db; }
.rq-view-error { color: var(--error-text-color, #b91c1c); font-weight: 600; margin: 8px 0; }
@media (max-width: 640px) {
  .rq-viewer { width: 100vw; left: 0; border-left: none; box-shadow: none; }
  .rq-view-head { padding: 8px 10px 6px; }
  .rq-view-body { padding: 6px 10px 40vh; }
}
"""

# Opening: an answer's [n] (the n-th .rq-msg of the chat is exchange n's reply, as the
# conversation's state counts them) or 上一处/下一处 write "turn:n:nonce" into the hidden
# box; the new panel is scrolled to its cited paragraph once it is shown. Closing hides
# it at once (✕ or Esc) and gives the focus back to where it was.
SCRIPT = """(() => {
  let back = null;
  const open = (turn, n) => {
    const box = document.querySelector('#rq-view-ask textarea, #rq-view-ask input');
    if (!box || turn < 0) return;
    box.value = turn + ':' + n + ':' + Date.now();
    box.dispatchEvent(new Event('input', { bubbles: true }));
  };
  const close = () => {
    const view = document.querySelector('#rq-viewer-holder .rq-viewer:not([hidden])');
    if (!view) return false;
    view.hidden = true;
    (back && back.isConnected ? back : document.querySelector('#rq-question textarea'))
      ?.focus({ preventScroll: true });
    return true;
  };
  window.rqCloseViewer = close;
  document.addEventListener('click', (e) => {
    const link = e.target.closest('#rq-chat .rq-link');
    if (link) {
      const msg = link.closest('.rq-msg');
      back = link;
      open([...document.querySelectorAll('#rq-chat .rq-msg')].indexOf(msg),
        link.textContent.replace(/\\D/g, ''));
      return;
    }
    const go = e.target.closest('.rq-viewer .rq-view-go');
    if (go && !go.disabled) { open(Number(go.dataset.turn), go.dataset.n); return; }
    if (e.target.closest('.rq-viewer .rq-view-close')) { close(); return; }
    const save = e.target.closest('.rq-viewer .rq-view-download');
    if (save) {
      const view = save.closest('.rq-viewer');
      const lines = [view.dataset.name, ''];
      view.querySelectorAll('.rq-view-h, .rq-view-t').forEach((el) => {
        lines.push(el.innerText.trim());
      });
      const name = (view.dataset.name || '报告') + '.txt';
      window.rqSave(lines.join('\\n') + '\\n', name, 'text/plain');
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && close()) e.stopImmediatePropagation();
  }, true);
  const place = (tries) => {
    const cited = document.querySelector('#rq-viewer-holder .rq-viewer:not([data-placed])');
    if (!cited) return;
    const body = cited.querySelector('.rq-view-body');
    if (!body.clientHeight) { if (tries) requestAnimationFrame(() => place(tries - 1)); return; }
    cited.dataset.placed = '1';
    const target = body.querySelector('.rq-view-cited');
    if (target) {
      body.scrollTop += target.getBoundingClientRect().top - body.getBoundingClientRect().top
        - body.clientHeight / 4;
    }
    cited.querySelector('.rq-view-close')?.focus({ preventScroll: true });
  };
  new MutationObserver(() => place(120)).observe(document.documentElement,
    { childList: true, subtree: true });
})();"""
