"""What the page's handlers share: the core they call and the settings they read."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from index import Settings


@dataclass
class Core:
    """What the handlers call: the assistant (or test fakes) and the index settings."""

    settings: Settings
    answer_fn: Callable
    stream_fn: Callable
    embeddings: object = None
    ready: threading.Event | None = None  # set once the model and index are loaded

    def ask(self, question: str, history=None, within=None):
        """One question answered as every JSON door gives it (``POST /api/ask``, Gradio's
        ``/ask``, ``reportqa ask --json``): the core's :class:`~assistant.types.Answer`
        with its follow-up questions in ``suggestions`` (see :mod:`ui.followups`).

        Raises:
            ReportQAError: The question cannot be answered as asked (the core's refusal).
        """
        from ui.followups import with_suggestions

        answer = self.answer_fn(
            question, history, settings=self.settings, embeddings=self.embeddings, within=within
        )
        return with_suggestions(answer, self.settings, self.embeddings)

    def history(self, pairs) -> list[tuple[str, str]]:
        """The conversation's answered turns as the assistant reads them."""
        return [(q, a) for q, a in pairs]
