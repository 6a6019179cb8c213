"""What users say about answers: one JSON line per 👍/👎, under ``REPORTQA_HOME``.

The file is for people improving the assistant (which questions it gets wrong, with the
passages it cited), so each line holds the whole exchange, not a reference to it.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from assistant.types import Answer
from index.errors import StorageError
from index.settings import Settings

FEEDBACK_FILE = "feedback.jsonl"
Verdict = Literal["up", "down"]
_LOCK = threading.Lock()  # lines of concurrent votes must not interleave


def feedback_path(settings: Settings | None = None) -> Path:
    """Where feedback is kept: ``feedback.jsonl`` in the index home."""
    return Path((settings or Settings.from_env()).home) / FEEDBACK_FILE


def record_feedback(answer: Answer, verdict: Verdict, *, settings: Settings | None = None) -> Path:
    """Append the user's verdict on ``answer`` to the feedback file.

    Each line: ``time`` (UTC, ISO 8601), ``verdict`` (``up``/``down``), ``question``,
    ``standalone_question``, ``answer`` (the text), ``found``, ``mode`` and ``citations``
    (report, section, paragraph and quote of each).

    Returns:
        The feedback file.

    Raises:
        ValueError: ``verdict`` is neither ``up`` nor ``down``.
        StorageError: The file cannot be written (disk full, no permission).
    """
    if verdict not in ("up", "down"):
        raise ValueError(f"verdict must be 'up' or 'down', not {verdict!r}")
    path = feedback_path(settings)
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "verdict": verdict,
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "found": answer.found,
        "mode": answer.mode,
        "citations": [
            {
                "n": c.n,
                "title": c.title,
                "year": c.year,
                "region": c.region,
                "section": c.section,
                "paragraph": c.paragraph,
                "quote": c.quote,
                "source": c.source,
            }
            for c in answer.citations
        ],
    }
    line = json.dumps(record, ensure_ascii=False) + "\n"
    try:
        with _LOCK:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as file:
                file.write(line)
    except OSError as exc:
        raise StorageError(
            f"cannot write {path} ({exc.strerror or exc})", "无法保存反馈（磁盘已满或没有写权限）。"
        ) from exc
    return path
