"""Asking a question again: 重试 under the last answer (the same question, with the same
history before it) and 编辑 on a question (the edited question instead).

Gradio's own Chatbot events carry which message was pressed (``.retry``, ``.edit``); the
exchange and every one after it leave the conversation, and the question then goes through
the answering of a new one (:func:`ui.chat.make_respond`): streamed, stoppable, saved in
the browser when done.
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
