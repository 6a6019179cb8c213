"""The least decide probability at which a question asking for words (a name, whether, a
statement; not a time) is answered: the closest clause of such a question scores far
below a figure's, so the figure threshold refuses right answers. Prints, per question of the
given sets, the best clause's probability, and the floor: the geometric mean of the highest
unanswerable one and the lowest right one. Usage (an index of the sets' reports in
REPORTQA_HOME): python benchmarks/fit_words_floor.py SET.jsonl ..."""

import json
import math
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
    return unicodedata.normalize("NFKC", text).replace(" ", "")


def best_probability(item: dict, retriever, model) -> tuple[float, bool] | None:
    """The best clause's decide probability for a words question, and whether it is right."""
    question = clean_question(item["question"])
    plan = search_plan(question, retriever.documents.values(), None)
    intent = plan.intent
    if not plan.attempts or intent.kind in ("number", "overview") or intent.when:
        return None
    docs, query = plan.attempts[0]
    terms = question_terms(query, retriever.bm25.idf)
    hits = answering.retrieve(query, list(docs), retriever, plan.scope.place)
    picks = answering.best_spans(candidates(query, intent, hits, terms), model, intent)
    if not picks:
        return None
    best = max(picks, key=lambda p: p.probability)
    right = item.get("answerable", True) and all(
        _norm(e) in _norm(best.quote) for e in item.get("expect", [])
    )
    return best.probability, right


def main(paths: list[str]) -> None:
    settings = Settings.from_env()
    retriever = get_retriever(settings, load_query_embeddings(settings))
    model = load_model()
    rows = []
    for path in paths:
        for line in Path(path).read_text("utf-8").splitlines():
            item = json.loads(line)
            if "question" not in item or "expect_any" in item:
                continue
            found = best_probability(item, retriever, model)
            if found:
                rows.append((*found, item.get("answerable", True)))
                print(f"{found[0]:.3f} {'right' if found[1] else '-----'} {item['question']}")
    refused = max(p for p, _, answerable in rows if not answerable)
    right = min(p for p, ok, _ in rows if ok)
    floor = math.sqrt(refused * right)
    print(f"highest unanswerable {refused:.3f}, lowest right {right:.3f}, floor {floor:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
