"""The two cut-offs at which a question asking for words (a name, whether, a statement; not a
time) is answered: the closest clause of such a question scores far below a figure's, so the
figure threshold refuses right answers.

- ``WORDS_FLOOR``, the least decide probability: the geometric mean of the highest
  unanswerable question's best clause and the lowest right one above it.
- ``HELD_COVER``, below that floor, the least share of the weight of the question's words the
  searched reports use that the closest clause must hold (with at least ``HELD_WORDS`` such
  words): halfway between the highest share a question reaches once its answer's passage is
  removed (no right clause is left) and the lowest right one above it.

Prints, per question of the given sets, the best clause's probability and share, and the two
cut-offs. Usage, each set after the index home of its reports:
python benchmarks/fit_words_floor.py HOME:SET.jsonl[,SET.jsonl ...] ..."""

import dataclasses
import json
import math
import re
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import answering
from assistant.decide import load_model
from assistant.extract import candidates, question_terms
from assistant.question import clean_question
from assistant.retrieval import get_retriever
from assistant.scope import search_plan
from index.embeddings import load_query_embeddings
from index.settings import Settings


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def best_clauses(item: dict, retriever, model) -> list[tuple[float, float, int, str]]:
    """For a words question: its best clause's decide probability, held-word share, count of
    held words and label (right, wrong, unanswerable); then the same once the passages
    holding its evidence are removed (label gone)."""
    question = clean_question(item["question"])
    plan = search_plan(question, retriever.documents.values(), None)
    intent = plan.intent
    if not plan.attempts or intent.kind in ("number", "overview") or intent.when:
        return []
    docs, query = plan.attempts[0]
    ids = answering.searched(list(docs), retriever)
    terms = question_terms(query, retriever.bm25.idf)
    hits = answering.retrieve(query, list(docs), retriever, plan.scope.place)
    evidence = _norm(item.get("evidence") or "")
    answerable = item.get("answerable", True)
    rows = []
    for gone in (False, True) if evidence and answerable else (False,):
        kept = [h for h in hits if not (gone and evidence in _norm(h.passage.text))]
        picks = answering.best_spans(candidates(query, intent, kept, terms), model, intent)
        if not picks:
            continue
        best = max(picks, key=lambda p: p.probability)
        share, count = answering.held_coverage(terms, best.quote, retriever, ids)
        right = all(_norm(e) in _norm(best.quote) for e in item.get("expect", []))
        label = "gone" if gone else "unanswerable" if not answerable else "right" * right or "wrong"
        rows.append((best.probability, share, count, label))
    return rows


def main(groups: list[str]) -> None:
    rows = []
    for group in groups:  # HOME:SET.jsonl[,SET.jsonl ...]
        home, _, paths = group.partition(":")
        settings = dataclasses.replace(Settings.from_env(), home=Path(home))
        retriever = get_retriever(settings, load_query_embeddings(settings))
        model = load_model()
        for path in paths.split(","):
            for line in Path(path).read_text("utf-8").splitlines():
                item = json.loads(line)
                if "question" not in item or "expect_any" in item:
                    continue
                for row in best_clauses(item, retriever, model):
                    rows.append(row)
                    p, share, count, label = row
                    print(f"{p:.3f} {share:.2f} {count} {label:12} {item['question']}")
    refused = max(p for p, _, _, label in rows if label == "unanswerable")
    right = min(p for p, _, _, label in rows if label == "right" and p > refused)
    floor = math.sqrt(refused * right)
    print(f"highest unanswerable {refused:.3f}, lowest right above {right:.3f}, floor {floor:.3f}")
    below = [(s, label) for p, s, n, label in rows if p < floor and n >= answering.HELD_WORDS]
    empty = max(s for s, label in below if label in ("gone", "unanswerable"))
    above = min(s for s, label in below if label == "right" and s > empty)
    print(
        f"below the floor: highest without an answer {empty:.2f}, lowest right above it "
        f"{above:.2f}, held cover {(empty + above) / 2:.3f}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
