"""How many suggested follow-ups the index answers (issue 27).

Every question of a question file (``everyday.jsonl``: one JSON object a line with a
``question``) is answered over the index of ``REPORTQA_HOME``; each of its suggested
follow-ups (:func:`assistant.suggest.follow_ups`) is then asked in turn, and counted as
answered when ``found``.

    REPORTQA_HOME=/tmp/fu-home .venv/bin/python benchmarks/suggest_eval.py \
        ../shared/eval/everyday.jsonl [--show]
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from assistant import answer
from assistant.suggest import follow_ups
from index import Settings
from index.embeddings import load_query_embeddings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--show", action="store_true", help="print every suggestion")
    args = parser.parse_args()
    settings = Settings.from_env()
    embeddings = load_query_embeddings(settings)
    kw = dict(settings=settings, embeddings=embeddings)
    asked = with_none = 0
    by_kind: dict[str, list[bool]] = collections.defaultdict(list)
    for line in args.questions.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        question = json.loads(line)["question"]
        first = answer(question, **kw)
        asked += 1
        found = follow_ups(first, **kw)
        with_none += not found
        if args.show:
            print(f"{'✓' if first.found else '✗'} {question}")
        for s in found:
            reply = answer(s.question, **kw)
            by_kind[s.kind].append(reply.found)
            if args.show:
                mark = "✓" if reply.found else "✗"
                print(f"    {s.kind:6} {mark} {s.question}  → {reply.text[:50]}")
    total = [ok for oks in by_kind.values() for ok in oks]
    print(f"questions {asked}, without suggestions {with_none}, suggestions {len(total)}")
    for kind, oks in sorted(by_kind.items()):
        print(f"  {kind:6} {sum(oks)}/{len(oks)} answered")
    share = sum(total) / len(total) if total else 0.0
    print(f"answered share {share:.3f}")


if __name__ == "__main__":
    main()
