"""``reportqa eval``: score a question file (format of shared/eval/README.md)."""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from pathlib import Path

from assistant.core import answer
from index.errors import QuestionError, ReportQAError
from index.settings import Settings

_MARKER = re.compile(r"\[\d+\]")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def load_questions(path: Path | str) -> list[dict]:
    """The questions of a JSONL file; a malformed line is a clear error."""
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            for turn in item.get("turns") or [item]:
                turn["question"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise QuestionError(f"{path}:{number}: not a question line ({exc})") from None
        items.append(item)
    return items


def _score(item: dict, result, kind: str) -> dict:
    text = _norm(result.text)
    cited = [_norm(c.text) for c in result.citations[:5]]
    if not item.get("answerable", True):
        correct = not result.found
        # A near miss should show what the report says instead (its `related` passage).
        related = _norm(item.get("related") or "")
        evidence = not related or any(related in c for c in cited)
    elif "expect_any" in item:
        # An overview: enough of the topic's sentences cited (shared/eval/README.md).
        hits = sum(any(_norm(p) in c for c in cited) for p in item["expect_any"])
        correct = evidence = result.found and hits >= item.get("min_hits", 3)
    else:
        correct = result.found and all(_norm(e) in text for e in item.get("expect", []))
        wanted = _norm(item.get("evidence") or "")
        evidence = not wanted or any(wanted in c for c in cited)
    return {
        "id": item.get("id", ""),
        "question": item["question"],
        "kind": kind,
        "answerable": item.get("answerable", True),
        "related": bool(item.get("related")),
        "correct": correct,
        "evidence": evidence,
        "found": result.found,
        "text": result.text,
        "length": len(_MARKER.sub("", result.text)),
    }


def _turns(item: dict) -> list[tuple[dict, str]]:
    """The questions of a line with their kind: a dialog line has several turns."""
    if "turns" not in item:
        return [(item, item.get("kind", ""))]
    turns = []
    for n, turn in enumerate(item["turns"]):
        kind = "first turn" if n == 0 else "follow-up"
        turns.append(({**turn, "id": f"{item.get('id', '')}#{n + 1}"}, kind))
    return turns


def run_eval(path: Path | str, *, settings: Settings | None = None, embeddings=None) -> dict:
    """Ask every question of a file and score the answers.

    A line with ``turns`` is a dialog: each turn is asked with the earlier ones as history,
    ``(question, answer_text)`` pairs as :func:`assistant.answer` takes them.

    Returns:
        Accuracy, evidence-in-citations rate, refusal rates, answer length and latency
        figures, the same by question kind, and the list of misses.
    """
    items = load_questions(path)
    settings = settings or Settings.from_env()
    if items:
        first = _turns(items[0])[0][0]["question"]
        answer(first, settings=settings, embeddings=embeddings)  # warm-up
    rows, latencies = [], []
    for item in items:
        history: list[tuple[str, str]] = []
        for turn, kind in _turns(item):
            started = time.perf_counter()
            try:
                result = answer(turn["question"], history, settings=settings, embeddings=embeddings)
            except ReportQAError as exc:
                rows.append(_error_row(turn, kind, exc))
                history.append((turn["question"], ""))
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            rows.append(_score(turn, result, kind))
            history.append((turn["question"], result.text))
    report = _summary(rows, latencies)
    kinds = sorted({r["kind"] for r in rows if r["kind"]})
    report["by_kind"] = {k: _figures([r for r in rows if r["kind"] == k]) for k in kinds}
    return report


def _error_row(item: dict, kind: str, exc: Exception) -> dict:
    return {
        "id": item.get("id", ""),
        "question": item["question"],
        "kind": kind,
        "error": str(exc),
        "correct": False,
        "evidence": False,
        "found": False,
        "length": 0,
        "answerable": item.get("answerable", True),
        "text": "",
    }


def _rate(items: list[dict], key: str) -> float | None:
    return round(sum(r[key] for r in items) / len(items), 4) if items else None


def _figures(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    figures = {
        "questions": len(rows),
        "accuracy": _rate(rows, "correct"),
        "evidence_in_citations": _rate(answerable, "evidence"),
    }
    near = [r for r in rows if r.get("related")]
    if near:  # near misses: is what the report says instead shown?
        figures["related_in_citations"] = _rate(near, "evidence")
    return figures


def _summary(rows: list[dict], latencies: list[float]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    lengths = [r["length"] for r in answerable if r["found"]]
    ordered = sorted(latencies)
    return {
        **_figures(rows),
        "refusal_rate_unanswerable": _rate(unanswerable, "correct"),
        "false_refusal_rate": round(sum(not r["found"] for r in answerable) / len(answerable), 4)
        if answerable
        else None,
        "median_answer_chars": statistics.median(lengths) if lengths else None,
        "latency_ms_p50": round(ordered[len(ordered) // 2], 1) if ordered else None,
        "latency_ms_p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1)
        if ordered
        else None,
        "misses": [r for r in rows if not (r["correct"] and r["evidence"])],
    }


def format_report(report: dict) -> str:
    """A readable summary: the misses first, the figures last."""
    lines = []
    for miss in report["misses"]:
        why = miss.get("error") or ("wrong answer" if not miss["correct"] else "evidence not cited")
        lines.append(f"MISS {miss['id']} {miss['question']} -> {miss['text']} ({why})")
    for kind, figures in report.get("by_kind", {}).items():
        related = figures.get("related_in_citations")
        lines.append(
            f"kind {kind}: {figures['questions']} questions, accuracy {figures['accuracy']}, "
            f"evidence {figures['evidence_in_citations']}"
            + (f", related cited {related}" if related is not None else "")
        )
    for key in (
        "questions",
        "accuracy",
        "evidence_in_citations",
        "refusal_rate_unanswerable",
        "false_refusal_rate",
        "median_answer_chars",
        "latency_ms_p50",
        "latency_ms_p95",
    ):
        lines.append(f"{key}: {report[key]}")
    return "\n".join(lines)
