"""Suggested follow-ups under an answer: buttons that ask the next question.

The questions come from :func:`assistant.suggest.follow_ups` (the same topic in another year
or region the index holds, a neighbouring key figure of the cited report). The chat answers
through :func:`suggesting_stream`, and every JSON door (``POST /api/ask``, Gradio's ``/ask``,
``reportqa ask --json``) through :func:`with_suggestions` (by :meth:`ui.core.Core.ask`), so
their answers carry them in ``Answer.suggestions``. :func:`suggestions_html` shows them as
buttons under the answer, and a click asks the button's question as the next one in the
conversation (the page's script types it into the question box and presses 提问, so it is
asked like any question: with the conversation's history and scope, stoppable, kept).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

from assistant.suggest import follow_ups
from assistant.types import Answer
from index.errors import ReportQAError

log = logging.getLogger(__name__)

LABEL = "继续问："


def with_suggestions(answer: Answer | None, settings=None, embeddings=None) -> Answer | None:
    """``answer`` with its follow-up questions; unchanged when none can be worked out (a
    refusal that cites nothing, an index that cannot be read: the answer still stands)."""
    if answer is None or not answer.citations or answer.suggestions:
        return answer
    try:
        found = follow_ups(answer, settings=settings, embeddings=embeddings)
    except ReportQAError as exc:  # no index (any more), a store that does not answer
        log.info("no follow-ups for %r: %s", answer.question[:40], exc)
        return answer
    except Exception:  # suggestions are extra: never lose the answer over them
        log.warning("no follow-ups for %r", answer.question[:40], exc_info=True)
        return answer
    return dataclasses.replace(answer, suggestions=tuple(s.question for s in found))


class _SuggestingStream:
    """A stream of answer pieces whose final ``answer`` carries its follow-up questions."""

    def __init__(self, inner, settings, embeddings) -> None:
        self._inner, self._settings, self._embeddings = inner, settings, embeddings
        self.answer: Answer | None = None

    def __iter__(self):
        yield from self._inner
        self.answer = with_suggestions(self._inner.answer, self._settings, self._embeddings)

    def __getattr__(self, name):  # anything else the stream offers
        return getattr(self._inner, name)


def suggesting_stream(stream_fn: Callable) -> Callable:
    """``stream_fn`` whose streams' final answers carry their follow-up questions."""

    def stream(question, history=None, **kwargs):
        inner = stream_fn(question, history, **kwargs)
        return _SuggestingStream(inner, kwargs.get("settings"), kwargs.get("embeddings"))

    return stream


def suggestions_html(questions: Sequence[str]) -> str:
    """The follow-up questions as buttons (each button's text is its question: the chat's
    sanitizer drops ``data-`` attributes), or "" without any."""
    if not questions:
        return ""
    from ui.render import esc

    buttons = "".join(
        f'<button type="button" class="rq-followup" title="提问：{esc(q)}">{esc(q)}</button>'
        for q in questions
    )
    return (
        f'<div class="rq-followups" role="group" aria-label="推荐追问">'
        f'<span class="rq-followups-label">{LABEL}</span>{buttons}</div>'
    )


# Tap targets of 44 px; the theme's own colours (text, border, secondary fill) so that they
# read in the light and the dark theme alike.
CSS = """
.rq-followups { display: flex; flex-wrap: wrap; gap: 6px; align-items: center;
  margin-top: 10px; }
.rq-followups-label { font-size: 0.85em; color: var(--rq-subdued); font-weight: 600; }
button.rq-followup { min-height: 44px; padding: 6px 12px; border-radius: 22px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  color: var(--body-text-color); font: inherit; font-size: 0.9em; line-height: 1.4;
  text-align: left; cursor: pointer; max-width: 100%; white-space: normal;
  word-break: break-word; }
button.rq-followup:hover { border-color: #d97706; }
button.rq-followup:focus-visible { outline: 2px solid #d97706; outline-offset: 1px; }
"""

# A follow-up button asks its question as if typed: into the question box, then 提问. While
# an answer is coming in the box is disabled and 提问 hidden: the click does nothing then.
SCRIPT = """(() => {
  document.addEventListener('click', (e) => {
    const button = e.target.closest('#rq-chat .rq-followup');
    if (!button) return;
    const box = document.querySelector('#rq-question textarea');
    const ask = document.querySelector('#rq-ask');
    if (!box || box.disabled || !ask || !ask.offsetParent) return;
    box.value = button.textContent.trim();
    box.dispatchEvent(new Event('input', { bubbles: true }));
    setTimeout(() => ask.click(), 0);
  });
})();"""
