"""Full builds with the code before and after a change, in one run on the same machine.

Each build runs in its own process, from an empty home and an empty embedding cache, with
the code of a git commit (``--before``, default the commit before issue 26) or of this
checkout; the runs alternate (before, after) per corpus so that the machine's load falls on
both alike. Prints per build: reports, passages, sentence units, seconds (model load
included), CPU seconds (less moved by other work on a shared machine), units per second,
peak RSS, and the load average before and after; then
after/before per corpus. With this checkout's code it also prints the time-left estimates
heard at a quarter and at half of the embedding, against the time it really took.

Usage: python benchmarks/index_build.py [--before COMMIT] [--corpus national|34|DIR ...]
       (run from the repo root; default corpora: the 52 national reports and the 34-report
       set of ../shared/corpus)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"
BEFORE = "49b8d2f"  # main before issue 26 (the user-wide embedding cache, bf16, sorting)
CORPORA = {
    "national": [SHARED / "national"],
    "34": [
        SHARED / "taiyuan-2025-government-work-report.txt",
        SHARED / "national" / "gwr_2024.txt",
        SHARED / "national" / "gwr_2025.txt",
        SHARED / "provincial-2026",
    ],
}

# Run in the build's own process, with the code under test first on the path.
CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from index import Settings, build_index
from index.parse import iter_report_files, parse_file

paths = [Path(p) for p in json.loads(sys.argv[1])]
heard = []

def progress(*args):
    step = args[0]
    if getattr(step, "stage", None) == "embedding":
        heard.append((time.perf_counter(), step.done, step.total, step.seconds_left))

new_api = hasattr(__import__("index"), "BuildStep")
started = time.perf_counter()
report = build_index(paths, settings=Settings.from_env(), progress=progress if new_api else None)
seconds = time.perf_counter() - started
units = sum(len(p.sentences) for f in iter_report_files(paths) for p in parse_file(f).passages)
guesses = {}
if heard:
    end = heard[-1][0]
    for share in (0.25, 0.5):
        t, done, total, left = next(h for h in heard if h[1] >= share * h[2])
        guesses[share] = (left, end - t)
print(json.dumps({
    "reports": len(report.added), "failed": len(report.failed), "passages": report.chunks,
    "units": units, "seconds": seconds, "guesses": guesses,
    "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def build(code: Path, paths: list[Path]) -> dict:
    """One full build with the code in ``code``, from nothing, in its own process."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(
            os.environ,
            PYTHONPATH=str(code),
            REPORTQA_HOME=home,
            REPORTQA_EMBEDDING_CACHE=str(Path(home) / "embedding-cache"),
        )
        env.pop("REPORTQA_CHROMA_URL", None)
        load = os.getloadavg()[0]
        out = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps([str(p) for p in paths])],
            cwd=code,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        row["load"] = (load, os.getloadavg()[0])
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--corpus", nargs="*", default=list(CORPORA))
    args = parser.parse_args()
    print(f"before: {args.before}; after: this checkout; {os.cpu_count()} cores")
    head = (
        "set | code | reports | passages | units | seconds | CPU s | units/s | peak RSS MB | load"
    )
    print(f"| {head} |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    with tempfile.TemporaryDirectory() as tree:
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", tree, args.before], cwd=ROOT, check=True
        )
        try:
            for name in args.corpus:
                paths = CORPORA.get(name) or [Path(name)]
                rows = {
                    code: build(path, paths)
                    for code, path in (("before", Path(tree)), ("after", ROOT))
                }
                for code, r in rows.items():
                    print(
                        f"| {name} | {code} | {r['reports']} | {r['passages']} | {r['units']} "
                        f"| {r['seconds']:.0f} | {r['cpu']:.0f} | {r['units'] / r['seconds']:.1f} "
                        f"| {r['rss_mb']:.0f} | {r['load'][0]:.1f}–{r['load'][1]:.1f} |",
                        flush=True,
                    )
                ratios[name] = [rows["after"][k] / rows["before"][k] for k in ("seconds", "cpu")]
                for share, (left, took) in rows["after"]["guesses"].items():
                    print(
                        f"  {name} after, at {float(share):.0%} of the embedding: "
                        f"said {left:.0f} s left, took {took:.0f} s"
                    )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=ROOT, check=False)
    for name, (wall, cpu) in ratios.items():
        print(f"{name}: after/before {wall:.2f} ({1 / wall:.1f}x faster); CPU time {cpu:.2f}")


if __name__ == "__main__":
    main()
