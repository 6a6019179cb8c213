"""The state of a conversation on the page, kept in the server and in the browser.

``messages`` as shown; ``pairs``, the answered (question, answer text) turns the assistant
reads for follow-ups; ``turns``, per exchange (a user message and its reply) the answer's
JSON, or None for an error or a stopped reply, for the 👍/👎 and the source viewer of that
reply. It is kept in the browser too, as one of the page's conversations (:mod:`ui.chats`),
so a reload shows it again and follow-ups still work. Plain dicts and lists: Gradio stores
them as they are.
"""

from __future__ import annotations

import html
import re

from assistant.types import Answer
from ui import render

# Exchanges of one conversation kept in the browser across reloads: about 15 KB each, so
# one conversation stays well inside what the browser keeps of all (ui.chats.BYTES_SAVED).
EXCHANGES_SAVED = 50


def new_state() -> dict:
    """An empty conversation."""
    return {"pairs": [], "messages": [], "turns": []}


def chat_with(state: dict, question: str, reply_html: str) -> list[dict]:
    """The messages of ``state`` and one more exchange: ``question`` and its reply."""
    return [
        *state["messages"],
        {"role": "user", "content": render.user_html(question)},
        {"role": "assistant", "content": reply_html},
    ]


def added(state: dict, question: str, messages: list[dict], answer: Answer | None) -> dict:
    """``state`` with one more exchange; only answers join the assistant's history."""
    extra = [(question, answer.text)] if answer is not None else []
    turn = answer.to_json() if answer is not None else None
    return {
        "pairs": [*state["pairs"], *extra],
        "messages": messages,
        "turns": [*state.get("turns", []), turn],
    }


def saved(state: dict) -> dict:
    """What the browser keeps: the last ``EXCHANGES_SAVED`` exchanges."""
    cut = max(0, len(state["turns"]) - EXCHANGES_SAVED)
    answered = sum(t is not None for t in state["turns"][:cut])
    return {
        "pairs": state["pairs"][answered:],
        "messages": state["messages"][2 * cut :],
        "turns": state["turns"][cut:],
    }


def restored(kept) -> dict:
    """A conversation the browser kept, checked: anything unexpected starts afresh."""
    try:
        state = {
            "pairs": [(str(q), str(a)) for q, a in kept["pairs"]],
            "messages": [
                {"role": m["role"], "content": str(m["content"])} for m in kept["messages"]
            ],
            "turns": list(kept["turns"]),
        }
    except (KeyError, TypeError, ValueError):
        return new_state()
    return state if len(state["messages"]) == 2 * len(state["turns"]) else new_state()


def turn_answer(state: dict | None, turn: int) -> Answer | None:
    """The answer of exchange ``turn`` (0-based) of ``state``; None for an error, a
    stopped reply or an exchange the state does not hold."""
    turns = (state or new_state())["turns"]
    data = turns[turn] if 0 <= turn < len(turns) else None
    if not isinstance(data, dict):
        return None
    try:
        return Answer.from_json(data)
    except (TypeError, ValueError):  # a browser's copy from another version
        return None


def question_at(state: dict, turn: int) -> str:
    """The question of exchange ``turn`` as it was asked, read back from its message
    (:func:`ui.render.user_html`: escaped text, lines joined by ``<br>``)."""
    content = state["messages"][2 * turn]["content"]
    return html.unescape(re.sub(r"<[^>]*>", "", content.replace("<br>", "\n")))


def upto(state: dict, turn: int) -> dict:
    """``state`` with its first ``turn`` exchanges: what a question asked again replaces
    (that exchange and every one after it) leaves the conversation and its history."""
    turns = state["turns"][:turn]
    answered = sum(t is not None for t in turns)  # the pairs are the answered turns'
    return {
        **state,
        "pairs": state["pairs"][:answered],
        "messages": state["messages"][: 2 * turn],
        "turns": turns,
    }
