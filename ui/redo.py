"""Asking a question again: 重试 under the last answer (the same question, with the same
history before it) and 编辑 on a question (the edited question instead).

Gradio's own Chatbot events carry which message was pressed (``.retry``, ``.edit``); the
exchange and every one after it leave the conversation, and the question then goes through
the answering of a new one (:func:`ui.chat.make_respond`): streamed, stoppable, saved in
the browser when done.

Gradio disables 重试 and 编辑 only while the chat's handler streams: from a question sent to
its answer starting (the question taken, the answer waiting for its turn in the queue) and
from the answer's end to the page taking questions again, they could start a second answer
into the same conversation. The page locks them for the whole of it: :data:`LOCK` runs in the
browser the moment a question is sent (before the server hears of it), :data:`UNLOCK` once
the page takes questions again, and :data:`SCRIPT` keeps the buttons disabled in between.
"""

from __future__ import annotations

import gradio as gr

from assistant.question import QuestionError, clean_question
from ui import render
from ui.conversation import new_state, question_at, upto
from ui.runs import Runs


def _turn(index) -> int:
    """The exchange of the message at ``index`` (an int, or a pair for grouped messages)."""
    return (index if isinstance(index, int) else index[0]) // 2


def make_redo(runs: Runs, busy: tuple):
    """The handlers of 重试 and 编辑: each returns ``(asked, state, box, *buttons, note,
    run_id)``, as :func:`ui.chat.take` does with the state; ``busy`` are the updates of the
    box and the buttons while an answer runs."""

    def restart(state: dict | None, turn: int, question: str):
        state = state or new_state()
        nothing = ("", *(gr.skip(),) * (len(busy) + 1), "", gr.skip())
        if not question or not 0 <= turn < len(state["turns"]):  # a stale page: nothing
            return nothing
        try:
            clean_question(question)  # the limit of every question
        except QuestionError as exc:  # the edited text is kept in the box, to shorten
            kept = gr.update(value=question)
            return (
                "",
                gr.skip(),
                kept,
                *nothing[3:-2],
                render.input_note_html(exc.message_zh),
                gr.skip(),
            )
        return question, upto(state, turn), *busy, "", runs.start()

    def again(state: dict, retry: gr.RetryData):
        """重试: the last question asked again, its answer replaced."""
        turn = _turn(retry.index)
        known = state and 0 <= turn < len(state["turns"])
        return restart(state, turn, question_at(state, turn) if known else "")

    def edited(state: dict, edit: gr.EditData):
        """编辑: the edited question asked instead, from its exchange on."""
        return restart(state, _turn(edit.index), str(edit.value or "").strip())

    return again, edited


# The chat's buttons that ask again: every button on a question's side (编辑, and 发送/取消 of
# an edit in progress) and, on an answer's side, those before 踩/赞 (重试). By place, not by
# label: Gradio names them in the browser's language.
_REDO_BUTTONS = (
    "#rq-chat .message-buttons-right button, "
    "#rq-chat .message-buttons-left button:nth-last-of-type(n+3)"
)

# Disables those buttons while the page is answering, and again whenever Gradio redraws or
# re-enables them (it enables them when its handler ends, before the page is done); enables
# the ones it disabled once the page is done. ``disabled``, not a style: a keyboard or a
# script cannot press them either.
SCRIPT = f"""(() => {{
  const BUTTONS = '{_REDO_BUTTONS}';
  let locked = false;
  const apply = () => {{
    const on = document.body.classList.contains('rq-answering');
    if (!on && !locked) return;  // nothing to undo: most changes of the page
    locked = on;
    document.querySelectorAll(BUTTONS).forEach((b) => {{
      if (on && !b.disabled) {{ b.disabled = true; b.dataset.rqLocked = '1'; }}
      if (!on && b.dataset.rqLocked) {{ b.disabled = false; delete b.dataset.rqLocked; }}
    }});
  }};
  window.rqAnswering = (on) => {{ document.body.classList.toggle('rq-answering', on); apply(); }};
  new MutationObserver(apply).observe(document.documentElement,
    {{ childList: true, subtree: true, attributes: true, attributeFilter: ['disabled'] }});
}})();"""

# The ``js`` of every event that sends a question (提问, Enter, an example, 重试, 编辑): locks
# the buttons, and hands the event's inputs on to its handler unchanged.
LOCK = "(...inputs) => { window.rqAnswering?.(true); return inputs; }"
# The ``js`` of the last step of an answer's events: the buttons back.
UNLOCK = "() => { window.rqAnswering?.(false); }"

CSS = """
body.rq-answering #rq-chat .message-buttons button:disabled { opacity: 0.35;
  cursor: not-allowed; }
"""
