"""How the engine grows: build, add one report, open and answer at 10^4, 10^5 (10^6) passages.

Usage:
    python benchmarks/scale.py [--sizes 10000 100000] [--server] [--corpus ../shared/corpus]
        [--before 38e358a [--codes before after]] [--work DIR] [--json FILE]

Documents are the real reports' passages re-cut and recombined into new reports (each with
its own region, year and title in a ``.meta.json``, and its region written into every
paragraph so no two reports share a text). The embedding is a deterministic stand-in (a
random unit vector seeded by the text's hash): this measures the engine, not the model.
Each size is built in a fresh home, every phase in its own process so that peak memory is
that phase's:

- build: the whole index from nothing (seconds, peak RSS);
- add one: one more report into that index (seconds, peak RSS), ``--repeat`` times (3), the
  median;
- serve: open the index as ``reportqa serve`` does (``warm_up``; start-up seconds), then
  answer questions (p50/p95 ms) and report the process's peak RSS. Against a server it
  starts from an empty home, as a server on another machine would, so start-up includes
  copying the index from the Chroma server. ``--repeat`` times: the medians.

``--server`` repeats every size against a ``chroma run`` on 127.0.0.1 (``--only-server``:
only against it). ``--before REF`` measures the code at git REF ("before", in a worktree
``DIR/code-before``) next to this working tree ("after") on the same generated reports:
each size's reports are written once (``DIR/SIZE-docs``) and copied for every store and
code, so both add the same one report and neither changes the other's input. ``--codes``
picks which to measure now (the other can follow in a later run with the same DIR).

``--work DIR`` keeps everything under DIR (``DIR/SIZE-STORE-CODE`` holds a copy of the
reports, the home, the Chroma data and ``build.json``); run again with the same DIR, it skips
a build that has finished and measures adding one more report and serving only (a 10^5 build
takes a quarter of an hour). ``--json FILE`` keeps the rows of earlier runs for other sizes,
stores and codes, so a later run completes the side-by-side table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The code measured: this repo or, in a child phase, the checkout it was given (SCALE_CODE).
# It goes first on the path, before `index` or `assistant` is imported (the editable
# install's finder, which points at ROOT, comes after the path).
CODE = Path(os.environ.get("SCALE_CODE", ROOT)).resolve()
sys.path.insert(0, str(CODE))

DIM = 384
QUESTIONS = (
    "今年新增多少养老床位",
    "城镇新增就业目标是多少",
    "地区生产总值增长多少",
    "老旧小区改造多少个",
    "居民消费价格涨幅目标",
    "粮食产量是多少",
    "研发经费投入强度",
    "新建改建农村公路多少公里",
    "那去年完成了多少",
    "单位地区生产总值能耗下降多少",
)
ROUNDS = 3  # each question this many times: p95 needs more than ten samples


class StandIn:
    """A deterministic embedding that costs next to nothing: a random unit vector per text."""

    model_id = "scale-standin-v1"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        import numpy as np

        rng = np.random.default_rng(zlib.crc32(text.encode()))
        v = rng.standard_normal(DIM).astype(np.float32)
        return (v / np.linalg.norm(v)).tolist()


def _settings(home: Path, url: str | None):
    from index import Settings

    return dataclasses.replace(Settings.from_env(), home=home, chroma_url=url)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- phases (each run in a child process) -----------------------------------------------


def phase_build(home: Path, url: str | None, docs: Path) -> dict:
    from index import build_index

    started = time.perf_counter()
    report = build_index([docs], settings=_settings(home, url), embeddings=StandIn())
    return {
        "seconds": time.perf_counter() - started,
        "passages": report.chunks,
        "documents": len(report.added) + len(report.updated) + len(report.unchanged),
        "failed": len(report.failed),
        "peak_mb": _peak_mb(),
    }


def phase_serve(home: Path, url: str | None) -> dict:
    started = time.perf_counter()
    from assistant import answer, warm_up

    settings = _settings(home, url)
    embeddings = StandIn()
    warm_up(settings, embeddings=embeddings)
    startup = time.perf_counter() - started
    times = []
    for _ in range(ROUNDS):
        for q in QUESTIONS:
            t = time.perf_counter()
            answer(q, settings=settings, embeddings=embeddings)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {
        "startup_seconds": startup,
        "p50_ms": statistics.median(times),
        "p95_ms": times[math.ceil(0.95 * len(times)) - 1],
        "peak_mb": _peak_mb(),
    }


def _child(code: Path, *args: str) -> dict:
    """Run one phase in a fresh process importing the code at ``code``."""
    done = subprocess.run(
        [sys.executable, __file__, "_phase", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(code), "SCALE_CODE": str(code)},
    )
    if done.returncode != 0:
        raise SystemExit(f"phase {args[0]} ({code}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- documents ----------------------------------------------------------------------------


def paragraph_pool(corpus: Path) -> list[str]:
    """The passages of the real reports under ``corpus`` (not CMRC)."""
    from index.parse import iter_report_files, parse_file

    files = [f for f in iter_report_files([corpus]) if "cmrc" not in str(f).lower()]
    pool = []
    for f in files:
        try:
            pool += [p.text for p in parse_file(f).passages]
        except Exception:  # a report our reader refuses is just not in the pool
            continue
    return pool


def write_documents(folder: Path, pool: list[str], count: int, start: int = 0) -> None:
    """``count`` reports of 100 paragraphs each, numbered from ``start``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        rng = random.Random(i)
        region = f"样本{i}县"
        year = 2000 + i % 27
        body = [f"{year}年{region}政府工作报告", "一、过去一年工作回顾"]
        picked = rng.sample(pool, 100)
        for n, text in enumerate(picked):
            if n == 50:
                body.append(f"二、{year}年工作安排")
            body.append(f"{region}{text}")
        name = folder / f"report-{i:07d}.txt"
        name.write_text("\n\n".join(body) + "\n", "utf-8")
        meta = {"title": f"{year}年{region}政府工作报告", "year": year, "region": region}
        (folder / f"{name.name}.meta.json").write_text(json.dumps(meta, ensure_ascii=False))


def shared_documents(folder: Path, pool: list[str], count: int) -> Path:
    """``count`` reports in ``folder``, written once (``folder.done`` says they are all there)."""
    done = folder.with_suffix(".done")
    if not done.exists() or done.read_text() != str(count):
        shutil.rmtree(folder, ignore_errors=True)
        write_documents(folder, pool, count)
        done.write_text(str(count))
    return folder


def passages_per_document(pool: list[str]) -> float:
    from index.parse import parse_file

    with tempfile.TemporaryDirectory() as tmp:
        write_documents(Path(tmp), pool, 5, start=10**8)
        counts = [len(parse_file(f).passages) for f in sorted(Path(tmp).glob("*.txt"))]
    return sum(counts) / len(counts)


# -- the Chroma server ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("chroma run did not start")


# -- the code before -----------------------------------------------------------------------


def _git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def before_tree(ref: str, where: Path) -> tuple[Path, str]:
    """A git worktree of this repo at ``ref`` in ``where`` (made once, then reused)."""
    commit = _git(ROOT, "rev-parse", "--verify", f"{ref}^{{commit}}")
    if not where.exists():
        _git(ROOT, "worktree", "add", "--detach", str(where), commit)
    if (held := _git(where, "rev-parse", "HEAD")) != commit:
        raise SystemExit(f"{where} holds {held[:9]}, not {ref} ({commit[:9]})")
    return where.resolve(), commit


# -- driver -----------------------------------------------------------------------------


def measure(
    code: Path, pool: list[str], shared: Path, server: bool, work: Path, repeat: int = 3
) -> dict:
    """Build ``shared``'s reports with ``code`` in ``work``, then ``repeat`` times add one
    more and serve (the medians)."""
    docs = work / "docs"  # this code's own copy: the report it adds is its own
    home = work / "home"
    built = work / "build.json"  # the build's figures, once it has finished
    if not built.exists():  # from nothing: no half-built home or Chroma data
        for old in (docs, home, work / "chroma"):
            shutil.rmtree(old, ignore_errors=True)
        shutil.copytree(shared, docs)
    proc, url = start_chroma(work / "chroma") if server else (None, None)
    try:
        args = [str(home), url or ""]
        if built.exists():
            build = json.loads(built.read_text())
        else:
            build = _child(code, "build", *args, str(docs))
            built.write_text(json.dumps(build))
        adds, serves = [], []
        for _ in range(repeat):
            # The same next report for every code and store (one more each time).
            write_documents(docs, pool, 1, start=len(list(docs.glob("*.txt"))))
            adds.append(_child(code, "build", *args, str(docs)))
        # Against a server, a chat server on another machine starts from an empty home
        # and copies the index from the server first.
        reader = work / "reader-home" if server else home
        for _ in range(repeat):
            if server:
                shutil.rmtree(reader, ignore_errors=True)
            serves.append(_child(code, "serve", str(reader), url or ""))
    finally:
        if proc:
            proc.terminate()
            proc.wait()
    add, serve = _median_of(adds), _median_of(serves)
    return {
        "store": "server" if server else "embedded",
        # The index as served: a home reused across parser versions holds another count
        # than its first build did.
        "passages": add["passages"],
        "documents": add["documents"],
        "build_s": build["seconds"],
        "build_peak_mb": build["peak_mb"],
        "add_one_s": add["seconds"],
        "add_peak_mb": add["peak_mb"],
        "startup_s": serve["startup_seconds"],
        "p50_ms": serve["p50_ms"],
        "p95_ms": serve["p95_ms"],
        "serve_peak_mb": serve["peak_mb"],
        # Every sample: the machine is shared, and one sample of a few seconds is noise.
        "add_one_samples": [round(a["seconds"], 2) for a in adds],
        "startup_samples": [round(x["startup_seconds"], 2) for x in serves],
    }


def _median_of(samples: list[dict]) -> dict:
    """Each figure's median over ``samples``, and the highest peak memory."""
    out = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    return out | {"peak_mb": max(s["peak_mb"] for s in samples)}


COLUMNS = (
    ("store", "{}"),
    ("code", "{}"),
    ("passages", "{:,}"),
    ("build_s", "{:.0f}"),
    ("build_peak_mb", "{:.0f}"),
    ("add_one_s", "{:.1f}"),
    ("add_peak_mb", "{:.0f}"),
    ("startup_s", "{:.1f}"),
    ("p50_ms", "{:.0f}"),
    ("p95_ms", "{:.0f}"),
    ("serve_peak_mb", "{:.0f}"),
)


def table(rows: list[dict]) -> str:
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "---|" * len(COLUMNS)
    lines = [head, rule]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[name]) for name, fmt in COLUMNS) + " |")
    return "\n".join(lines)


def _key(row: dict) -> tuple:
    return (row["size"], row["store"], row.get("code", "after"))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_phase":
        import assistant
        import index

        for module in (index, assistant):  # the code asked for, not the editable install
            if not Path(module.__file__).resolve().is_relative_to(CODE):
                raise SystemExit(f"{module.__name__} is {module.__file__}, not under {CODE}")
        name, home, url, *rest = sys.argv[2:]
        home_path, url = Path(home), url or None
        if name == "build":
            result = phase_build(home_path, url, Path(rest[0]))
        else:
            result = phase_serve(home_path, url)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--server", action="store_true", help="also against `chroma run`")
    parser.add_argument("--only-server", action="store_true", help="only against `chroma run`")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    parser.add_argument("--work", type=Path, help="keep (and reuse) the built homes here")
    parser.add_argument("--before", metavar="REF", help="also measure the code at git REF")
    parser.add_argument("--codes", nargs="+", choices=("before", "after"), help="default: both")
    parser.add_argument(
        "--repeat", type=int, default=3, help="adds and starts to take the median of"
    )
    args = parser.parse_args()
    codes = args.codes or (["before", "after"] if args.before else ["after"])
    if "before" in codes and not args.before:
        parser.error("--codes before needs --before REF")
    pool = paragraph_pool(args.corpus)
    per_doc = passages_per_document(pool)
    print(f"{len(pool):,} real passages; {per_doc:.0f} passages per generated report", flush=True)
    earlier = json.loads(args.json.read_text()) if args.json and args.json.exists() else []
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="rq-scale-") as tmp:
        top = args.work or Path(tmp)
        top.mkdir(parents=True, exist_ok=True)
        trees = {"after": (ROOT, "working tree")}
        if "before" in codes:
            trees["before"] = before_tree(args.before, top / "code-before")
        try:
            for size in args.sizes:
                shared = shared_documents(top / f"{size}-docs", pool, max(1, round(size / per_doc)))
                stores = (True,) if args.only_server else (False, True) if args.server else (False,)
                for server, code in [(s, c) for s in stores for c in codes]:
                    work = top / f"{size}-{'server' if server else 'embedded'}-{code}"
                    work.mkdir(parents=True, exist_ok=True)
                    path, ref = trees[code]
                    row = measure(path, pool, shared, server, work, args.repeat)
                    rows.append({"size": size, "code": code, "ref": ref, **row})
                    print(table(rows[-1:]).splitlines()[-1], flush=True)
                    if args.json:
                        mine = {_key(r) for r in rows}
                        kept = [r for r in earlier if _key(r) not in mine]
                        args.json.write_text(json.dumps(kept + rows, indent=1, ensure_ascii=False))
        finally:
            if not args.work and "before" in trees:  # a worktree in a temporary directory
                _git(ROOT, "worktree", "remove", "--force", str(trees["before"][0]))
    if args.json and args.json.exists():  # with the earlier runs' rows
        rows = json.loads(args.json.read_text())
    order = {"embedded": 0, "server": 1, "before": 0, "after": 1}
    rows.sort(key=lambda r: (r["size"], order[r["store"]], order[r.get("code", "after")]))
    print(table(rows))


if __name__ == "__main__":
    main()
