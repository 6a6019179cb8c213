"""The look of the page: a system-font theme (nothing fetched from the internet) and CSS."""

from __future__ import annotations

FONTS = (
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "system-ui",
    "sans-serif",
)
MONO = ("Menlo", "Consolas", "Noto Sans Mono CJK SC", "monospace")

CSS = """
/* Secondary text: the theme's own subdued grey is too faint on a light card (2.5:1).
   Gradio scopes this CSS and moves ".dark" to the front of the first selector of a list
   only, so every dark rule has one selector. */
.rq-header, .rq-msg, .rq-docs, #rq-manage { --rq-subdued: #4b5563; }
.dark .rq-header { --rq-subdued: #a3aab5; }
.dark .rq-msg { --rq-subdued: #a3aab5; }
.dark .rq-docs { --rq-subdued: #a3aab5; }
.dark #rq-manage { --rq-subdued: #a3aab5; }
.rq-header h1 { font-size: 1.6rem; margin: 0.2rem 0; color: #b91c1c; }
.dark .rq-header h1 { color: #f87171; }
.rq-header p { margin: 0; color: var(--rq-subdued); font-size: 0.9rem; }
.rq-h { font-size: 1.05rem; font-weight: 600; margin: 4px 0; }
.rq-question { white-space: normal; }
.rq-msg { line-height: 1.7; }
.rq-text { word-break: break-word; }
.rq-ref { color: #92400e; background: #fef3c7; border-radius: 4px; padding: 0 3px;
  margin: 0 1px; font-weight: 600; font-size: 0.85em; white-space: nowrap; }
button.rq-link { border: none; cursor: pointer; font-family: inherit; line-height: inherit;
  text-decoration: underline dotted; }
button.rq-link:hover, button.rq-link:focus-visible { background: #fde68a; }
.rq-sources { font-size: 0.8em; color: var(--rq-subdued); margin-top: 2px; }
.rq-cards { margin-top: 10px; display: flex; flex-direction: column; gap: 8px; }
.rq-cards-title { font-size: 0.8em; color: var(--rq-subdued); }
/* Cards take the theme's colours: light text on a light card was unreadable in dark mode. */
.rq-card { border: 1px solid var(--border-color-primary); border-left: 4px solid #f59e0b;
  border-radius: 8px; padding: 8px 10px; background: var(--background-fill-secondary);
  color: var(--body-text-color); scroll-margin: 12px; }
.rq-card.rq-flash { animation: rq-flash 1.6s ease-out; }
@keyframes rq-flash { 0%, 40% { box-shadow: 0 0 0 3px #f59e0b; } 100% { box-shadow: none; } }
.rq-card-head { display: flex; gap: 6px; align-items: baseline; flex-wrap: wrap;
  font-weight: 600; font-size: 0.92em; }
.rq-where { color: var(--rq-subdued); font-size: 0.8em; margin: 2px 0 6px; }
.rq-passage { font-size: 0.9em; line-height: 1.75; max-height: 22em; overflow-y: auto;
  word-break: break-word; }
mark.rq-quote { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 2px; }
.rq-label { display: inline-block; font-size: 0.78em; line-height: 1.6; padding: 0 8px;
  border-radius: 999px; color: #fff; background: #4b5563; margin-bottom: 4px; }
.rq-refusal { background: #f3f4f6; border: 1px dashed #9ca3af; border-radius: 8px;
  padding: 8px 10px; color: #374151; }
.rq-refusal .rq-card { background: #fff; color: #1f2937; }
/* A refusal on the dark theme: a dark box, so the theme's light text reads on it. */
.dark .rq-refusal { background: #1f2937; border-color: #6b7280; color: #e5e7eb; }
.dark .rq-refusal .rq-card { background: #111827; color: #e5e7eb; }
.rq-near-miss { border-color: #d97706; }
.rq-near-miss .rq-label { background: #d97706; }
.rq-related .rq-card { border-left-color: #9ca3af; }
.rq-label-overview { background: #2563eb; }
/* A comparison's table: its own scroller on a phone, headers that sort it. */
.rq-table-wrap { overflow-x: auto; margin: 6px 0; }
.rq-figures-heading { font-weight: 600; margin-top: 10px; }
/* 👍/👎 are tapped on phones: 44 px targets. The chat's own clear icon would empty the
   conversation without asking; 清空对话 under the box asks first. */
#rq-chat .message-buttons .icon-button { min-width: 44px; min-height: 44px; }
#rq-chat .top-panel .icon-button { display: none; }
.rq-input-note { color: var(--error-text-color, #b91c1c); font-size: 0.9em; margin: 2px 4px; }
.rq-table { border-collapse: collapse; font-size: 0.9em; width: 100%; }
.rq-table th, .rq-table td { border: 1px solid var(--border-color-primary); padding: 3px 6px;
  text-align: left; vertical-align: top; }
.rq-sort { font-weight: 600; cursor: pointer; background: none; border: 0; padding: 0;
  color: var(--body-text-color); }
.rq-sort.rq-up::after { content: " ▲"; }
.rq-sort.rq-down::after { content: " ▼"; }
.rq-chart { display: block; max-width: 100%; height: auto; margin: 4px 0; }
.rq-chart polyline { stroke: #dc2626; stroke-width: 2; }
.rq-chart circle { fill: #dc2626; }
.rq-chart text { font-size: 11px; fill: var(--body-text-color); }
.rq-csv { font-size: 0.8em; padding: 1px 10px; border-radius: 999px; cursor: pointer;
  margin-top: 4px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); color: var(--body-text-color); }
.rq-error { background: #fef2f2; border: 1px solid #fecaca; border-radius: 8px;
  padding: 8px 10px; color: #7f1d1d; }
.rq-error .rq-label { background: #dc2626; }
.rq-pending .rq-label { background: #2563eb; }
.rq-stopped .rq-label { background: #6b7280; }
.rq-tools { margin-top: 6px; display: flex; justify-content: flex-end; }
.rq-copy { font-size: 0.8em; padding: 1px 10px; border-radius: 999px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color); }
.rq-plain { display: none; }
#rq-limit-holder { display: none !important; }
.rq-loading { background: #eff6ff; border: 1px solid #bfdbfe; border-radius: 8px;
  padding: 6px 10px; color: #1e3a8a; }
.rq-more { margin-top: 8px; }
.rq-more summary { cursor: pointer; font-size: 0.85em; color: var(--rq-subdued); }
.rq-more .rq-cards { margin-top: 6px; }
.rq-note { font-size: 0.8em; color: var(--rq-subdued); margin-top: 4px; }
.rq-docs { font-size: 0.9em; }
.rq-count { color: var(--rq-subdued); font-size: 0.85em; margin-bottom: 4px; }
.rq-hint { color: var(--rq-subdued); font-size: 0.8em; margin-top: 6px; }
.rq-unknown { color: #b45309; font-weight: 600; cursor: help; }
.dark .rq-unknown { color: #fbbf24; }
.rq-table { width: 100%; border-collapse: collapse; border: none !important; }
.rq-table tr { border: none !important; }
.rq-table th, .rq-table td { border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important;
  padding: 4px 6px; text-align: left; vertical-align: top; word-break: break-word; }
.rq-table th { color: var(--rq-subdued); font-weight: 600; white-space: nowrap; }
.rq-table td.rq-year { white-space: nowrap; }
/* The list scrolls inside its own box (Gradio keeps an HTML block's overflow visible: a long
   list ran under the sections below it). */
.rq-docs-scroll { max-height: 55vh; overflow-y: auto; }
#rq-filters { gap: 6px; flex-wrap: wrap; }
#rq-filters > * { flex: 1 1 110px !important; }
#rq-filters > #rq-search { flex: 2 1 160px !important; }
.rq-confirm { color: #b91c1c; font-weight: 600; }
/* The delete question on a line of its own, the buttons under it: beside them it was
   squeezed into a column four characters wide. */
#rq-confirm-row { flex-wrap: wrap; gap: 6px; }
#rq-confirm-row > #rq-confirm-text { flex: 1 1 100% !important; min-width: 100% !important; }
#rq-confirm-row > button { flex: 0 1 auto !important; }
.dark .rq-confirm { color: #f87171; }
.rq-status { list-style: none; padding: 0; margin: 4px 0; font-size: 0.9em; }
.rq-status .rq-ok { color: #15803d; }
.rq-status .rq-fail { color: #b91c1c; }
.dark .rq-status .rq-ok { color: #4ade80; }
.dark .rq-status .rq-fail { color: #f87171; }
#rq-scope { gap: 6px; align-items: center; flex-wrap: wrap; }
#rq-scope > * { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
#rq-scope-label { padding: 0 !important; }
.rq-scope-label, .rq-examples-label { font-weight: 600; font-size: 0.9em; white-space: nowrap; }
#rq-examples { gap: 6px; flex-wrap: wrap; align-items: center; }
#rq-examples > * { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
#rq-examples-label { padding: 0 !important; }
#rq-clear { margin-left: auto; }
@media (max-width: 640px) {
  .rq-header p { font-size: 0.8rem; }
  .rq-header h1 { font-size: 1.3rem; }
  /* One scroller on a phone, the page: the chat and its passages grow instead of
     scrolling inside it, and Gradio's scroll-down button has nothing to cover. */
  #rq-chat { height: auto !important; max-height: none !important; }
  #rq-chat .bubble-wrap, #rq-chat .wrapper { height: auto !important; max-height: none !important;
    overflow: visible !important; }
  #rq-chat .scroll-down-button-container { display: none !important; }
  .rq-passage { max-height: none; overflow: visible; }
  .rq-docs-scroll { max-height: none; overflow: visible; }
  .rq-card { padding: 6px 8px; }
  /* The question box stays at the bottom of the screen while the conversation scrolls by
     (to the end of the chat's column: the reports under it do not need it). */
  #rq-input-row { position: sticky; bottom: 0; z-index: 20; margin: 0 -6px !important;
    padding: 6px !important; background: var(--background-fill-primary);
    box-shadow: 0 -4px 12px rgba(0, 0, 0, 0.08); }
  /* Tap targets of 44 px (the chat's [n] links are words in a sentence: left as they are). */
  #rq-chat-column button:not(.rq-link), #rq-ask, #rq-stop { min-height: 44px; }
}
"""

# After an answer the question box has the focus again: the next question is just typed.
FOCUS_BOX = "() => { document.querySelector('#rq-question textarea')?.focus(); }"
# The chat keeps the newest question at the top of its view while the answer streams in
# below it, so the answer text is read first and the cards follow (Gradio's own autoscroll
# follows the bottom, which hides the answer behind long citation cards).
SHOW_LAST_QUESTION = """() => { requestAnimationFrame(() => {
  const all = document.querySelectorAll('#rq-chat .rq-question');
  const q = all[all.length - 1];
  let box = q && q.parentElement;
  while (box && box.scrollHeight <= box.clientHeight + 1) box = box.parentElement;
  if (!box || !document.querySelector('#rq-chat').contains(box)) {
    if (q) q.scrollIntoView({ block: 'start' });  // a phone: the page is the one scroller
    return;
  }
  box.scrollTop += q.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
}); }"""


# A file over the size limit is stopped in the browser, before it is sent: Gradio's own
# cap answers in English (HTTP 413), and sending it would only be refused by the server.
# The limit comes from the page (#rq-limit, written from the server's settings).
_TOO_BIG = """document.addEventListener('change', (e) => {
  const input = e.target;
  if (!(input instanceof HTMLInputElement) || input.type !== 'file') return;
  const field = input.closest('#rq-upload');
  if (!field) return;
  document.querySelectorAll('#rq-too-big').forEach((old) => old.remove());
  const limit = document.querySelector('#rq-limit');
  const max = limit ? Number(limit.dataset.maxBytes) : 0;
  const big = max ? [...input.files].filter((f) => f.size > max) : [];
  if (!big.length) return;
  e.stopImmediatePropagation();
  input.value = '';
  const note = document.createElement('div');
  note.id = 'rq-too-big';
  note.className = 'rq-error';
  note.setAttribute('role', 'alert');
  note.textContent = big.map((f) => f.name).join('、') + ' 超过 ' + limit.dataset.maxMb
    + ' MB 的上限，未上传。';
  field.after(note);
}, true);"""


# The chat's sanitizer keeps buttons but not ``data-`` attributes or handlers: one listener
# on the document serves every answer's ``[n]`` links and copy button.
#   [n]: open, scroll to and flash card n of the same answer (it may be folded away).
#   复制: copy the answer's plain text (its hidden .rq-plain, made on the server), with a
#   fallback where the clipboard API is missing (a plain-http page on another host).
# Saves text as a file named ``name`` (a comparison's CSV, the source viewer's report).
_SAVE = """window.rqSave = (text, name, type) => {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: type + ';charset=utf-8' }));
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
};"""
_ANSWER_TOOLS = """document.addEventListener('click', (e) => {
  const link = e.target.closest('#rq-chat .rq-link');
  if (link) {
    e.preventDefault();
    const msg = link.closest('.rq-msg');
    const card = msg && [...msg.querySelectorAll('.rq-card')].find(
      (c) => c.querySelector('.rq-num')?.textContent.trim() === link.textContent.trim());
    if (!card) return;
    const folded = card.closest('details');
    if (folded) folded.open = true;
    card.scrollIntoView({ block: 'nearest' });
    card.classList.remove('rq-flash');
    void card.offsetWidth;
    card.classList.add('rq-flash');
    return;
  }
  const sort = e.target.closest('#rq-chat .rq-sort, #rq-figures .rq-sort');
  if (sort) {
    const table = sort.closest('table');
    const col = sort.closest('th').cellIndex;
    const up = !sort.classList.contains('rq-up');
    table.querySelectorAll('.rq-sort').forEach((b) => b.classList.remove('rq-up', 'rq-down'));
    sort.classList.add(up ? 'rq-up' : 'rq-down');
    const key = (r) => r.cells[col].textContent.replace(/\\[\\d+\\]$/, '').trim();
    const order = (a, b) => {
      const x = parseFloat(key(a)), y = parseFloat(key(b));
      if (!isNaN(x) || !isNaN(y)) return (isNaN(x) ? -Infinity : x) - (isNaN(y) ? -Infinity : y);
      return key(a).localeCompare(key(b), 'zh');
    };
    const body = table.tBodies[0];
    [...body.rows].sort((a, b) => (up ? 1 : -1) * order(a, b)).forEach((r) => body.append(r));
    return;
  }
  const csv = e.target.closest('#rq-chat .rq-csv, #rq-figures .rq-csv');
  if (csv) {
    const wrap = csv.closest('.rq-table-wrap');
    const table = wrap.querySelector('table');
    const field = (c) => '"' + c.textContent.replace(/\\[\\d+\\]$/, '').replace(/"/g, '""') + '"';
    const lines = [...table.rows].map((r) => [...r.cells].map(field).join(','));
    window.rqSave('\\ufeff' + lines.join('\\n'), (wrap.dataset.name || '报告指标对比') + '.csv',
      'text/csv');
    return;
  }
  const copy = e.target.closest('#rq-chat .rq-copy');
  if (!copy) return;
  const text = copy.closest('.rq-msg').querySelector('.rq-plain').textContent;
  const done = () => {
    copy.textContent = '已复制';
    setTimeout(() => { copy.textContent = '复制'; }, 1500);
  };
  const fallback = () => {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
    done();
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else {
    fallback();
  }
});"""


# Keys of a chat app: Esc stops the answer coming in; ↑ in the empty box brings back the
# last question, to edit and send again.
_KEYS = """document.addEventListener('keydown', (e) => {
  const box = document.querySelector('#rq-question textarea');
  if (e.key === 'Escape') {
    const stop = document.querySelector('#rq-stop');
    if (stop && stop.offsetParent) { e.preventDefault(); stop.click(); }
    return;
  }
  if (e.key === 'ArrowUp' && box && e.target === box && !box.value) {
    const all = document.querySelectorAll('#rq-chat .rq-question');
    if (!all.length) return;
    e.preventDefault();
    box.value = all[all.length - 1].textContent;
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }
});"""


# Gradio's 编辑 fills its box with the message's content, which is the question's HTML
# (ui.render.user_html): the question's own text goes there instead, once the box is drawn.
_EDIT_AS_TEXT = """new MutationObserver(() => {
  document.querySelectorAll('#rq-chat textarea.edit-textarea:not([data-rq-text])')
    .forEach((area) => { area.dataset.rqText = '1'; requestAnimationFrame(() => {
      if (!area.value.startsWith('<div class="rq-question">')) return;
      const parsed = document.createElement('template');
      parsed.innerHTML = area.value.replace(/<br>/g, '\\n');
      area.value = parsed.content.textContent;
      area.dispatchEvent(new Event('input', { bubbles: true }));
    }); });
}).observe(document.documentElement, { childList: true, subtree: true });"""


def head(accept: str) -> str:
    """Extra ``<head>`` markup.

    The page padding lies outside the app's content area, where the custom CSS is scoped;
    so does the app's own ``overflow: hidden``, which on a phone becomes ``clip``: it made
    the app a scroll box of its own, and the question box could not stay on screen. What
    is scrolled into view on a phone stops above that box (``scroll-padding-bottom``).
    The upload field gets its ``accept`` list here rather than through ``gr.File(file_types=)``
    because Gradio rejects other types with an English message; the upload handler checks
    types itself and answers in Chinese. Files over the size limit are stopped before they
    are sent, with a Chinese message. Answers' ``[n]`` links and copy buttons work
    through one listener on the document; Esc and ↑ through another; 编辑 on a question
    opens on its text, not its HTML.
    """
    return (
        "<style>@media (max-width: 640px) { .gradio-container .main.app "
        "{ padding: 8px 6px !important; } .gradio-container { overflow: clip !important; } "
        "html { scroll-padding-bottom: 76px; } }"
        "</style>"
        "<script>(() => { const set = () => document.querySelectorAll("
        "'#rq-upload input[type=file]').forEach((i) => { if (i.accept !== "
        f"'{accept}') i.accept = '{accept}'; }}); new MutationObserver(set).observe("
        "document.documentElement, { childList: true, subtree: true }); "
        f"{_SAVE} {_TOO_BIG} {_ANSWER_TOOLS} {_KEYS} {_EDIT_AS_TEXT} }})();</script>"
    )


def theme():
    """A light red/amber theme using local fonts only."""
    import gradio as gr

    return gr.themes.Default(
        primary_hue="red",
        secondary_hue="amber",
        neutral_hue="gray",
        font=list(FONTS),
        font_mono=list(MONO),
    )
