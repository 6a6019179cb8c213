"""Comparison answers scored row by row (issue 24).

Each line of a set (``benchmarks/questions/compare_fresh.jsonl``: written by a helper by
reading the reports, never tuned on) asks one indicator of several reports and lists the
rows a right answer holds (region, year, value, the report's words), the reports that state
none, and for a ranking the region that comes first. Over the index of ``REPORTQA_HOME`` it
prints, per kind (table, ranking, trend): expected rows present with the right value, those
cited to the right words, rows invented (a region not expected, or one said to state
none), silent reports named as such, rankings with the right first row, and the median
seconds per answer.

Usage:
    REPORTQA_HOME=/tmp/reportqa-hook-34 .venv/bin/python benchmarks/compare_eval.py \\
        benchmarks/questions/compare_fresh.jsonl
    … benchmarks/questions/compare_dev.jsonl --misses   # a dev set's misses too
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from assistant import answer
from assistant.regions import region_key


def score(line: dict, misses: bool = False) -> dict[str, int]:
    """The counts of one question's answer (its misses printed with ``misses``)."""
    got = answer(line["question"])
    rows = {(region_key(r.region), r.year): r for r in got.table}
    quotes = {
        (region_key(r.region), r.year): c.quote
        for r, c in zip(got.table, got.citations if got.table else (), strict=True)
    }
    tally = defaultdict(int)
    expected = set()
    for want in line["expect_rows"]:
        key = (region_key(want["region"]), want["year"])
        expected.add(key[0])
        tally["rows"] += 1
        row = rows.get(key)
        if row is not None and row.value == want["value"]:
            tally["right"] += 1
            tally["cited"] += want["quote"] in quotes[key] or quotes[key] in want["quote"]
        elif misses:
            said = f"{row.value} «{row.text}»" if row else "no row"
            print(
                f"  {line['id']} {want['region']}: want {want['value']} «{want['quote']}», {said}"
            )
    tally["invented"] = sum(key[0] not in expected for key in rows)
    silent_said = got.text.partition("没有给出这一")[2]
    for region in line["expect_silent"]:
        tally["silent"] += 1
        tally["silent_named"] += region in silent_said
    if line["kind"] == "ranking" and line.get("expect_first"):
        tally["rankings"] += 1
        first = got.table[0].region if got.table else ""
        tally["first_right"] += region_key(first) == region_key(line["expect_first"])
    return tally


def main() -> int:
    lines = [json.loads(x) for x in Path(sys.argv[1]).read_text("utf-8").splitlines() if x]
    misses = "--misses" in sys.argv  # a dev set's: never the fresh set's
    answer("各省今年GDP增长目标是多少")  # warm: the first question reads the reports
    by_kind: dict[str, defaultdict] = defaultdict(lambda: defaultdict(int))
    seconds: list[float] = []
    for line in lines:
        started = time.perf_counter()
        tally = score(line, misses)
        seconds.append(time.perf_counter() - started)
        for key, value in tally.items():
            by_kind[line["kind"]][key] += value
            by_kind["all"][key] += value
    for kind, t in by_kind.items():
        print(
            f"{kind:<8} rows right {t['right']}/{t['rows']}, cited {t['cited']}, "
            f"invented {t['invented']}, silent named {t['silent_named']}/{t['silent']}"
            + (f", first right {t['first_right']}/{t['rankings']}" if t["rankings"] else "")
        )
    print(f"median {statistics.median(seconds):.2f}s per answer, max {max(seconds):.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
