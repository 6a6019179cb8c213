"""Key figures: extraction precision and recall against hand labels (issue 24).

Reads the hand labels under ``benchmarks/figures/`` (see its README): ``targets_*.jsonl``,
every item of the targets paragraph of 28 real reports, and ``results_*.jsonl``, the headline
results of the year reviewed in 17. It parses each report with the index's own parser,
extracts its figures (``index.figures``, ``index.results``) and prints, per split, precision
and recall of whole items (indicator, value and qualifier all right) and of each field
alone. A ``dev*`` split is tuned on; a ``holdout*`` one never is.

Usage:
    .venv/bin/python benchmarks/figures_eval.py [--kind target|result] [--misses dev]

The corpus is ``../shared/corpus`` (or ``REPORTQA_FIT_DATA``/corpus): the labels name the
files under ``national/`` and ``provincial-2026/``. ``--misses SPLIT`` prints a dev split's
misses (never a holdout's: it would become a tuned set).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

from index.figures import target_figures
from index.parse import parse_file
from index.results import result_figures
from index.shards import report_parts

HERE = Path(__file__).parent
KINDS = {"target": "targets_*.jsonl", "result": "results_*.jsonl"}


def _key(row: dict) -> tuple:
    value = None if row["value"] is None else round(float(row["value"]), 4)
    return (row["indicator"], value, row["qualifier"])


def _find(corpus: Path, name: str) -> Path:
    for folder in ("national", "provincial-2026", "."):
        if (corpus / folder / name).is_file():
            return corpus / folder / name
    sys.exit(f"figures_eval: {name} is not under {corpus}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("REPORTQA_FIT_DATA", HERE.parent.parent / "shared"))
    parser.add_argument("--corpus", type=Path, default=default / "corpus")
    parser.add_argument("--kind", choices=KINDS, default="target")
    parser.add_argument("--misses", help="print a dev split's misses")
    args = parser.parse_args()
    if args.misses and not args.misses.startswith("dev"):
        sys.exit("figures_eval: only a dev split's misses are printed")
    labels: dict[str, list[dict]] = defaultdict(list)
    splits: dict[str, str] = {}
    for path in sorted((HERE / "figures").glob(KINDS[args.kind])):
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            labels[row["report"]].append(row)
            splits[row["report"]] = row.get("split", "dev")
    fields = ("indicator", "value", "qualifier", "unit", "canonical")
    tally: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for name, wanted in labels.items():
        parsed = parse_file(_find(args.corpus, name))
        got = [
            {
                "indicator": f.indicator,
                "value": f.value,
                "qualifier": f.qualifier,
                "unit": f.unit,
                "canonical": f.canonical,
                "quote": f.text,
            }
            for f in _extract(args.kind, parsed)
        ]
        split = splits[name]
        _count(tally[split]["item"], [_key(r) for r in got], [_key(r) for r in wanted])
        for field in fields:
            _count(
                tally[split][field],
                [(r["quote"][:6], r[field]) for r in got],
                [(r["quote"][:6], r[field]) for r in wanted],
            )
        if args.misses == split:
            _print_misses(name, got, wanted)
    for split in sorted(tally, key=lambda s: (s.startswith("holdout"), s)):
        print(f"{split}:")
        for what, (hit, n_got, n_wanted) in tally[split].items():
            precision = hit / n_got if n_got else float("nan")
            recall = hit / n_wanted if n_wanted else float("nan")
            scores = f"precision {precision:.3f}  recall {recall:.3f}"
            print(f"  {what:<10} {scores}  ({n_wanted} labelled)")
    return 0


def _extract(kind: str, parsed):
    if kind == "target":
        return target_figures(parsed.passages)
    passages = list(parsed.passages)
    parts = report_parts(passages, {parsed.document.doc_id: parsed.document})
    return result_figures(passages, parts, parsed.document.year)


def _count(cell: list[int], got: list, wanted: list) -> None:
    left = list(wanted)
    for item in got:
        if item in left:
            left.remove(item)
            cell[0] += 1
    cell[1] += len(got)
    cell[2] += len(wanted)


def _print_misses(name: str, got: list[dict], wanted: list[dict]) -> None:
    have = [_key(r) for r in got]
    need = [_key(r) for r in wanted]
    for row in wanted:
        if _key(row) not in have:
            print(f"  missed {name}: {_key(row)}  «{row['quote']}»")
    for row in got:
        if _key(row) not in need:
            print(f"  extra  {name}: {_key(row)}  «{row['quote']}»")


if __name__ == "__main__":
    sys.exit(main())
