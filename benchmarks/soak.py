"""Soak test: many clients ask the served chat while writers keep changing the index.

Starts its own ``reportqa serve`` on a free loopback port, with a temporary
``REPORTQA_HOME`` holding the bundled sample, then for ``--seconds`` lets ``--clients``
threads ask a rotating set of Chinese questions through the plain ``/api/ask`` (or, with
``--api gradio``, Gradio's ``/ask``, which keeps a session per request) while a page
writer uploads reports through the page as a browser does, asks for their figures and
deletes them through the API (``soak_page.py``).

``--store embedded`` (the default) serves an embedded index, which only its server may
write: the folder writer checks once that a build of this process is refused, and no more.
``--store server`` puts the index on a ``chroma run`` of its own, as several machines
share one, and the folder writer also adds, updates and removes small reports (cut from
the sample, each write a new version) from this process with the Python API, exactly as
``reportqa index build DIR`` / ``reportqa index remove`` on another machine would.
At the end it prints requests, errors, p50/p95 latency, the server's RSS at start and
end, writer rounds, and whether the index holds exactly the reports the writers say it
should.

Usage:
    .venv/bin/python benchmarks/soak.py                          # 5 minutes, 8 clients
    .venv/bin/python benchmarks/soak.py --seconds 30 --clients 2 # a quick check
    .venv/bin/python benchmarks/soak.py --api gradio             # through Gradio's queue
    .venv/bin/python benchmarks/soak.py --store server           # on a Chroma server

Exits 0 when clean; 1 on any failed request, wrong answer, writer failure, lost, stale
or leftover report, or server RSS growth over ``--max-rss-growth-mb`` from warm (after
each question once and a page upload, which loads the model that embeds documents; the
RSS before that is printed too); 130 on Ctrl-C.
The servers, the writers and the temporary folder are cleaned up in every case. The
server runs extractive (``REPORTQA_LLM`` is dropped from its environment); the converted
embedding model is shared through ``REPORTQA_CACHE`` as usual.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import httpx

from index import (
    IndexServedError,
    Settings,
    build_index,
    list_documents,
    remove_document,
    sample_report,
)
from index.parse import parse_file

sys.path.insert(0, str(Path(__file__).parent))
from soak_page import PageWriter, upload_event  # a module beside this script

ASK_PATH = "/api/ask"  # the plain JSON API: no Gradio session per request
GRADIO_ASK_PATH = "/gradio_api/call/ask"  # Gradio's queue protocol, as gradio_client uses
READY_TIMEOUT = 180.0  # seconds for the server to open its port
FIRST_ANSWER_TIMEOUT = 300.0  # the first answer loads the model: slow on a busy 2-core box
REQUEST_TIMEOUT = 120.0
WRITE_WAIT = 120.0  # seconds a write waits for the build lock (nobody else should hold it)
RSS_SAMPLE_SECONDS = 5.0
LOG_TAIL_LINES = 80


@dataclasses.dataclass(frozen=True)
class Question:
    """One question of the rotation and what its answer must contain (if fixed)."""

    text: str
    expect: str | None = None  # a substring the answer text must hold
    found: bool | None = None  # whether it must be answered (True) or refused (False)


# The sample's figures (as in tests/test_ui.py) stay right whatever the writer does: its
# reports are cut from the same text, so another region can only add a labelled part.
QUESTIONS: tuple[Question, ...] = (
    Question("今年新增多少养老床位", "2000张", True),
    Question("城镇新增就业目标是多少", "8万人", True),
    Question("六条优势赛道是哪些", "低空经济", True),
    Question("太原市地区生产总值增长目标是多少", "5%", True),
    Question("举办多少场就业招聘会", "300场", True),
    Question("请问一下，完成政府补贴性技能培训多少人", "2万人", True),
    Question("新增技能人才多少", "1.5万人", True),
    Question("居民消费价格涨幅目标是多少", "2%", True),
    Question("今年新增多少養老床位", "2000张", True),  # traditional characters
    Question("火星基地建几座", None, False),
    Question("湖南省今年粮食产量目标是多少", None, False),  # a region never indexed
    # The writer's regions come and go: answered or refused, but never an error.
    Question("晋中市今年新建口袋公园多少个"),
    Question("大同市地区生产总值增长目标是多少"),
    Question("长治市今年新建城市书房多少座"),
)


@dataclasses.dataclass(frozen=True)
class Slot:
    """One report the writer owns: a file cut from the sample, claimed for ``region``."""

    name: str
    region: str
    paragraphs: tuple[int, int]  # which of the sample's paragraphs it holds


SLOTS = (
    Slot("jinzhong-2025", "晋中市", (0, 10)),
    Slot("datong-2025", "大同市", (10, 22)),
    Slot("changzhi-2025", "长治市", (22, 30)),
)


class AskError(Exception):
    """A request that did not end in an answer: transport, HTTP status or an error event."""


@dataclasses.dataclass
class Stats:
    """What the clients saw; shared by their threads under ``lock``."""

    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    latencies: list[float] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    wrong: list[str] = dataclasses.field(default_factory=list)
    found: Counter[str] = dataclasses.field(default_factory=Counter)

    def record(self, seconds: float, error: str | None, wrong: str | None, found: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if error is not None:
                self.errors.append(error)
            if wrong is not None:
                self.wrong.append(wrong)
            if error is None:
                self.found["answered" if found else "refused"] += 1


def ask(http: httpx.Client, question: str, api: str = "plain") -> dict:
    """One answer through ``/api/ask`` (``api="plain"``) or Gradio's ``/ask`` (``"gradio"``).

    Raises:
        AskError: No answer came back; the message says why, with the server's words.
    """
    try:
        if api == "gradio":
            return _ask_gradio(http, question)
        posted = http.post(ASK_PATH, json={"question": question})
        if posted.status_code != 200:
            raise AskError(f"POST {posted.status_code}: {posted.text[:200]}")
        return posted.json()
    except httpx.HTTPError as exc:
        raise AskError(f"{type(exc).__name__}: {exc}") from exc


def _ask_gradio(http: httpx.Client, question: str) -> dict:
    """What ``gradio_client`` does, minus its threads: post, then read the event stream."""
    posted = http.post(GRADIO_ASK_PATH, json={"data": [question]})
    if posted.status_code != 200:
        raise AskError(f"POST {posted.status_code}: {posted.text[:200]}")
    event_id = posted.json()["event_id"]
    with http.stream("GET", f"{GRADIO_ASK_PATH}/{event_id}") as stream:
        if stream.status_code != 200:
            raise AskError(f"GET {stream.status_code}")
        event = ""
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = json.loads(line.removeprefix("data:"))
                if event == "error":
                    raise AskError(f"error event: {json.dumps(data, ensure_ascii=False)}")
                return data[0]
    raise AskError("the event stream ended without an answer")


def judge(question: Question, answer: dict) -> str | None:
    """Why ``answer`` is wrong for ``question``, or ``None`` when it is acceptable."""
    text = str(answer.get("text", ""))
    if question.found is not None and answer.get("found") is not question.found:
        return f"found={answer.get('found')} (want {question.found}): {text[:120]}"
    if question.expect and question.expect not in text:
        return f"no {question.expect!r} in {text[:120]!r}"
    return None


class Writer:
    """Adds, updates and removes the slots' reports in turn, keeping its own record.

    Round ``r`` works on slot ``r % len(SLOTS)``: an absent report is added, a present one
    updated once and then removed. Adds and updates sync the whole folder (as
    ``reportqa index build DIR``); removals alternate between ``remove_document`` and
    deleting the file before a sync, the two ways a report leaves the index.
    """

    def __init__(self, folder: Path, settings: Settings, embeddings: object) -> None:
        self.folder, self.settings, self.embeddings = folder, settings, embeddings
        self.paragraphs = [p for p in sample_report().read_text("utf-8").split("\n\n") if p]
        self.present: set[Path] = set()
        self.updated: set[Path] = set()
        self.numbers: dict[Path, int] = {}  # the 口袋公园 figure of each file's last version
        self.rounds: Counter[str] = Counter()
        self.failures: list[str] = []
        self.seconds: list[float] = []
        self.current = ""  # the write in progress, to place the clients' errors in time

    def path(self, slot: Slot) -> Path:
        return self.folder / f"{slot.name}.txt"

    def write_file(self, slot: Slot, number: int) -> None:
        """Write a new version: the slot's paragraphs plus figures unique to this round."""
        path = self.path(slot)
        start, end = slot.paragraphs
        body = "\n\n".join(self.paragraphs[start:end])
        path.write_text(
            f"2025年{slot.region}政府工作报告\n\n{body}\n\n"
            f"今年新建口袋公园{number}个，新建城市书房{number + 3}座。\n",
            encoding="utf-8",
        )
        # The meta file pins the region: the text is Taiyuan's and would say 太原市.
        meta = {"title": f"2025年{slot.region}政府工作报告", "year": 2025, "region": slot.region}
        path.with_name(f"{slot.name}.meta.json").write_text(
            json.dumps(meta, ensure_ascii=False), encoding="utf-8"
        )
        self.numbers[path] = number

    def expect_refused(self) -> None:
        """On a served embedded index: a build of this process must be refused."""
        slot = SLOTS[0]
        self.write_file(slot, 1)
        try:
            build_index([self.folder], settings=self.settings, embeddings=self.embeddings)
        except IndexServedError:
            self.rounds["refused"] += 1
            self.path(slot).unlink()
            self.path(slot).with_name(f"{slot.name}.meta.json").unlink()
        else:
            self.failures.append("a build of another process wrote the served embedded index")
            self.present.add(self.path(slot))

    def run(self, stop: threading.Event) -> None:
        round_ = 0
        while not stop.is_set():
            slot = SLOTS[round_ % len(SLOTS)]
            started = time.perf_counter()
            try:
                self.step(slot, round_)
            except Exception as exc:  # recorded and reported; the soak goes on
                self.failures.append(f"round {round_} {self.current}: {exc!r}")
                self.reconcile(slot)
            finally:
                self.seconds.append(time.perf_counter() - started)
                self.current = ""
            round_ += 1

    def reconcile(self, slot: Slot) -> None:
        """After a failed round, the slot as the index holds it: one failure is reported
        once, not again by every later round on that slot."""
        path = self.path(slot)
        source = str(path.resolve())
        with contextlib.suppress(Exception):
            if any(d.source == source for d in list_documents(self.settings)):
                if path.exists():
                    self.present.add(path)
                    return
                remove_document(source, settings=self.settings, embeddings=self.embeddings)
            self.present.discard(path)
            self.updated.discard(path)
            path.unlink(missing_ok=True)
            path.with_name(f"{slot.name}.meta.json").unlink(missing_ok=True)

    def step(self, slot: Slot, round_: int) -> None:
        path = self.path(slot)
        if path not in self.present:
            self.current = f"add {slot.name}"
            self.write_file(slot, 10 + round_)
            self.sync(expect_added=path)
            self.present.add(path)
            self.updated.discard(path)
            self.rounds["added"] += 1
        elif path not in self.updated:
            self.current = f"update {slot.name}"
            self.write_file(slot, 10 + round_)
            self.sync(expect_updated=path)
            self.updated.add(path)
            self.rounds["updated"] += 1
        else:
            by_delete = self.rounds["removed"] % 2 == 1
            self.current = f"remove {slot.name} ({'delete + sync' if by_delete else 'remove'})"
            if by_delete:
                path.unlink()
                self.sync(expect_removed=path)
            else:
                report = remove_document(
                    str(path), settings=self.settings, embeddings=self.embeddings, wait=WRITE_WAIT
                )
                self.check("removed", report.removed, path)
                path.unlink()
            path.with_name(f"{slot.name}.meta.json").unlink()
            self.present.discard(path)
            self.rounds["removed"] += 1

    def sync(
        self,
        *,
        expect_added: Path | None = None,
        expect_updated: Path | None = None,
        expect_removed: Path | None = None,
    ) -> None:
        report = build_index(
            [self.folder], settings=self.settings, embeddings=self.embeddings, wait=WRITE_WAIT
        )
        if report.failed:
            raise RuntimeError(f"build failed: {report.failed}")
        for kind, path in (
            ("added", expect_added),
            ("updated", expect_updated),
            ("removed", expect_removed),
        ):
            if path is None or str(path.resolve()) in getattr(report, kind):
                continue
            # A page upload's build in the server, run meanwhile, syncs what it finds gone.
            gone = kind == "removed" and not any(
                d.source == str(path.resolve()) for d in list_documents(self.settings)
            )
            if not gone:
                self.check(kind, getattr(report, kind), path)

    @staticmethod
    def check(kind: str, sources: tuple[str, ...], path: Path) -> None:
        if str(path.resolve()) not in sources:
            raise RuntimeError(f"{path.name} not {kind}: the build reported {sources}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float | None:
    """The resident memory of process ``pid`` in MB, or ``None`` once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def reportqa_command() -> list[str]:
    """The ``reportqa`` script of the running interpreter's environment."""
    script = Path(sys.executable).with_name("reportqa")
    if script.exists():
        return [str(script)]
    found = shutil.which("reportqa")
    if found is None:
        sys.exit("soak: no `reportqa` command beside this Python; run it with the .venv's")
    return [found]


def run_cli(args: list[str], env: dict[str, str]) -> str:
    """Run ``reportqa ARGS``; its stdout, or exit with its stderr when it fails."""
    done = subprocess.run(
        [*reportqa_command(), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"soak: reportqa {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def server(env: dict[str, str], port: int, log_path: Path) -> Iterator[subprocess.Popen]:
    """``reportqa serve`` on ``port``, terminated (then killed) however the block ends."""
    with log_path.open("wb") as log:
        # Its own session: a Ctrl-C in the terminal reaches only us, and we stop it in order.
        proc = subprocess.Popen(
            [*reportqa_command(), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop_process(proc)


def wait_until_ready(proc: subprocess.Popen, base: str, log_path: Path, api: str) -> float:
    """Wait for the page, then for a first answer; return that answer's seconds."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if proc.poll() is not None:
            sys.exit(f"soak: the server exited ({proc.returncode}):\n{tail(log_path)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/config", timeout=5).status_code == 200:
                break
        if time.monotonic() > deadline:
            sys.exit(f"soak: the server did not answer in {READY_TIMEOUT:.0f}s")
        time.sleep(0.5)
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=FIRST_ANSWER_TIMEOUT) as http:
        try:
            ask(http, QUESTIONS[0].text, api)
        except AskError as exc:
            sys.exit(f"soak: the first question failed: {exc}\n{tail(log_path)}")
    return time.perf_counter() - started


def tail(log_path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The end of the server log, without the one-line notes for refused questions."""
    with contextlib.suppress(OSError):
        text = log_path.read_text("utf-8", errors="replace").splitlines()
        return "\n".join([line for line in text if "not answered" not in line][-lines:])
    return "(no server log)"


def log_digest(log_path: Path) -> str:
    """The server's exceptions, counted by their last line, then its last traceback whole.

    Ids (collection UUIDs, hashes) are masked so that one kind of failure counts once.
    """
    try:
        lines = log_path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    kinds: Counter[str] = Counter()
    last: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next(
                (j for j in range(i + 1, len(lines)) if not lines[j].startswith((" ", "\t"))),
                len(lines) - 1,
            )
            kinds[re.sub(r"[0-9a-f]{8}(-?[0-9a-f]{4}){3}-?[0-9a-f]{12}", "<id>", lines[end])] += 1
            last = lines[i : end + 1]
        elif re.match(r"reportqa: (WARNING|ERROR|CRITICAL)", line):
            kinds[line] += 1
    if not kinds:
        return f"no exceptions; the log ends:\n{tail(log_path, 20)}"
    counted = "\n".join(f"{n:5d} × {kind}" for kind, n in kinds.most_common())
    return f"{counted}\nthe last traceback:\n" + "\n".join(last)


def client(
    index: int,
    base: str,
    stop: threading.Event,
    stats: Stats,
    writer: Writer,
    t0: float,
    api: str,
) -> None:
    """Ask the rotation until ``stop``; each client starts at its own place in it."""
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
        turn = index * 5  # spread the clients over the rotation (14 questions)
        while not stop.is_set():
            question = QUESTIONS[turn % len(QUESTIONS)]
            turn += 1
            started = time.perf_counter()
            error = wrong = None
            found = False
            try:
                answer = ask(http, question.text, api)
                found = bool(answer.get("found"))
                if (why := judge(question, answer)) is not None:
                    wrong = f"{question.text}: {why}"
            except AskError as exc:
                at = time.perf_counter() - t0
                error = f"t={at:.1f}s {question.text}: {exc} [writer: {writer.current or 'idle'}]"
            stats.record(time.perf_counter() - started, error, wrong, found)


def check_index(env: dict[str, str], writer: Writer) -> tuple[list[str], list[str], list[str]]:
    """Lost, stale and leftover reports: the index (read by the CLI) against the writer."""
    listed = json.loads(run_cli(["index", "list", "--json"], env))
    indexed = {d["source"]: d["sha256"] for d in listed}
    expected = {str(sample_report().resolve()): parse_file(sample_report()).document.sha256}
    for path in writer.present:
        if path.exists():  # else a round failed half-way; the writer reports it
            expected[str(path.resolve())] = parse_file(path).document.sha256
    lost = sorted(Path(s).name for s in expected if s not in indexed)
    stale = sorted(Path(s).name for s in expected if s in indexed and indexed[s] != expected[s])
    leftover = sorted(Path(s).name for s in indexed if s not in expected)
    return lost, stale, leftover


def check_server(base: str, writer: Writer, api: str) -> list[str]:
    """Ask the server for each present report's latest figure: does it serve the last write?"""
    problems = []
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
        for slot in SLOTS:
            path = writer.path(slot)
            if path not in writer.present:
                continue
            question = Question(f"{slot.region}今年新建口袋公园多少个", f"{writer.numbers[path]}个")
            try:
                why = judge(question, ask(http, question.text, api))
            except AskError as exc:
                why = str(exc)
            if why is not None:
                problems.append(f"{question.text}: {why}")
    return problems


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="load duration")
    parser.add_argument("--clients", type=int, default=8, help="concurrent askers")
    parser.add_argument("--max-rss-growth-mb", type=float, default=100.0)
    parser.add_argument(
        "--api",
        choices=("plain", "gradio"),
        default="plain",
        help="ask through /api/ask (no session kept) or Gradio's /ask (a session per request)",
    )
    parser.add_argument(
        "--store",
        choices=("embedded", "server"),
        default="embedded",
        help="the index embedded in the server's home, or on a chroma run of the soak's own",
    )
    parser.add_argument(
        "--no-writer", action="store_true", help="clients only: tells readers' growth from builds'"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    home = Path(tempfile.mkdtemp(prefix="reportqa-soak-"))
    try:
        return soak(args, home)
    except KeyboardInterrupt:
        print("soak: interrupted; stopping the server and removing", home, file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(home, ignore_errors=True)


@dataclasses.dataclass
class Outcome:
    """What the run found besides the clients' own figures."""

    seconds: float = 0.0
    rss_start: float = float("nan")
    rss_end: float = float("nan")
    rss_peak: float = float("nan")
    rss_cold: float = float("nan")
    rss_samples: list[tuple[float, float, int]] = dataclasses.field(default_factory=list)
    lost: list[str] = dataclasses.field(default_factory=list)
    stale: list[str] = dataclasses.field(default_factory=list)
    leftover: list[str] = dataclasses.field(default_factory=list)
    unseen: list[str] = dataclasses.field(default_factory=list)


def soak(args: argparse.Namespace, root: Path) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("REPORTQA_LLM", "REPORTQA_CHROMA_URL")}
    env["REPORTQA_HOME"] = str(root / "home")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(chroma_server(root)) if args.store == "server" else None
        if url:
            env["REPORTQA_CHROMA_URL"] = url
        # On a Chroma server the folder writer is another machine: a home of its own.
        settings = dataclasses.replace(
            Settings.from_env(), home=root / ("writer" if url else "home"), chroma_url=url, llm=None
        )
        return run_soak(args, root, env, settings)


def run_soak(args: argparse.Namespace, root: Path, env: dict[str, str], settings: Settings) -> int:
    folder = root / "reports"
    folder.mkdir()
    log_path = root / "server.log"
    print(f"soak: building the sample index in {root} …", flush=True)
    run_cli(["index", "build", "--sample", "--json"], env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server(env, port, log_path) as proc:
        first = wait_until_ready(proc, base, log_path, args.api)
        print(f"soak: server pid {proc.pid} at {base}; first answer {first:.1f}s", flush=True)
        # The writer embeds in this process: load the model before the clock starts.
        from index.embeddings import load_embeddings

        embeddings = load_embeddings(settings)
        writer = Writer(folder, settings, embeddings)
        if not settings.chroma_url and not args.no_writer:
            writer.expect_refused()
        page = PageWriter(base)
        stats = Stats()
        outcome = load(args, proc, base, stats, writer, page)
        outcome.lost, outcome.stale, outcome.leftover = check_index(env, writer)
        outcome.unseen = check_server(base, writer, args.api)
        digest = log_digest(log_path)
    status = summarise(args, stats, writer, page, outcome)
    if status:
        print(f"--- server log: exceptions ---\n{digest}")
    return status


@contextlib.contextmanager
def chroma_server(root: Path) -> Iterator[str]:
    """A ``chroma run`` of this soak's own on a free port; its URL."""
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    with (root / "chroma.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(root / "chroma"), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat").status_code == 200:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"soak: chroma run did not come up:\n{tail(root / 'chroma.log')}")
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(proc)


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate ``proc``, then kill it if it has not ended in 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def warm_up(base: str, page: PageWriter, no_writer: bool, clients: int) -> None:
    """What a server does once before it runs as it will: each question asked once and,
    unless there is no writer, a page upload, which loads the model that embeds documents
    (sentence-transformers and torch, about 700 MB) into the server; then the same again
    with ``clients`` askers at once beside an upload, as the load runs. A first run at
    full concurrency grows the server's RSS by about 50 MB (request threads, their
    buffers), once: measured from before it, that read as growth under load."""
    print("soak: warming up (each question once, a page upload; then at once) …", flush=True)
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
        for question in QUESTIONS:
            ask(http, question.text)
        if not no_writer:
            page.step(http, upload_event(http), -1)

    def asker() -> None:
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
            for question in QUESTIONS:
                ask(http, question.text)

    def uploader() -> None:
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
            page.step(http, upload_event(http), -2)

    threads = [threading.Thread(target=asker) for _ in range(clients)]
    threads += [] if no_writer else [threading.Thread(target=uploader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def load(
    args: argparse.Namespace,
    proc: subprocess.Popen,
    base: str,
    stats: Stats,
    writer: Writer,
    page: PageWriter,
) -> Outcome:
    """Run the clients and the writer for ``args.seconds``, sampling the server's RSS."""
    outcome = Outcome(rss_cold=rss_mb(proc.pid) or float("nan"))
    warm_up(base, page, args.no_writer, args.clients)
    outcome.rss_start = rss_mb(proc.pid) or float("nan")
    outcome.rss_peak = outcome.rss_start
    stop = threading.Event()
    t0 = time.perf_counter()
    writing = [] if args.no_writer else [page.run]
    if writer.settings.chroma_url and not args.no_writer:
        writing.insert(0, writer.run)
    threads = [threading.Thread(target=w, args=(stop,), daemon=True) for w in writing]
    threads += [
        threading.Thread(
            target=client, args=(i, base, stop, stats, writer, t0, args.api), daemon=True
        )
        for i in range(args.clients)
    ]
    print(f"soak: {args.clients} clients and a writer for {args.seconds:.0f}s …", flush=True)
    try:
        for thread in threads:
            thread.start()
        end = t0 + args.seconds
        while (left := end - time.perf_counter()) > 0:
            if proc.poll() is not None:
                stats.errors.append(f"the server exited with {proc.returncode}")
                break
            time.sleep(min(RSS_SAMPLE_SECONDS, left))
            rss = rss_mb(proc.pid) or float("nan")
            outcome.rss_peak = max(outcome.rss_peak, rss)
            # With the writer's rounds beside it: growth per index generation or per request?
            rounds = sum(writer.rounds[k] for k in ("added", "updated", "removed"))
            outcome.rss_samples.append((time.perf_counter() - t0, rss, rounds))
    except KeyboardInterrupt:
        stop.set()
        print("soak: interrupted; letting the current write finish …", file=sys.stderr)
        # Native code (torch, Chroma) cut off mid-write by the exit aborts the process, and
        # the folder must not be removed under a build.
        for thread in threads[: len(writing)]:
            thread.join(timeout=WRITE_WAIT)
        raise
    finally:
        stop.set()  # on Ctrl-C too: daemon threads, but none should start new work
    # Let the requests in flight and the current write finish before measuring.
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + WRITE_WAIT)
    outcome.seconds = time.perf_counter() - t0
    outcome.rss_end = rss_mb(proc.pid) or float("nan")
    return outcome


def summarise(
    args: argparse.Namespace, stats: Stats, writer: Writer, page: PageWriter, out: Outcome
) -> int:
    """Print the figures; return the exit status (0 clean, 1 any problem)."""
    lat = stats.latencies
    growth = out.rss_end - out.rss_start
    rounds = sum(writer.rounds[k] for k in ("added", "updated", "removed"))
    write_s = statistics.mean(writer.seconds) if writer.seconds else float("nan")
    print(f"duration:         {out.seconds:.0f}s, {args.clients} clients")
    print(f"requests:         {len(lat)} ({len(lat) / out.seconds:.2f}/s)")
    print(f"errors:           {len(stats.errors)}")
    print(f"wrong answers:    {len(stats.wrong)}")
    print(f"answered/refused: {stats.found['answered']}/{stats.found['refused']}")
    print(f"latency p50/p95:  {percentile(lat, 50):.2f}s / {percentile(lat, 95):.2f}s")
    print(
        f"server RSS:       {out.rss_cold:.0f} MB cold, {out.rss_start:.0f} MB warm, "
        f"{out.rss_end:.0f} MB at end ({growth:+.0f} MB, limit +{args.max_rss_growth_mb:.0f}; "
        f"peak {out.rss_peak:.0f} MB)"
    )
    step = max(1, len(out.rss_samples) // 10)
    timeline = " ".join(f"{t:.0f}s:{mb:.0f}/{r}" for t, mb, r in out.rss_samples[::step])
    print(f"RSS MB/rounds:    {timeline}")
    print(
        f"writer rounds:    {rounds} ({writer.rounds['added']} added, "
        f"{writer.rounds['updated']} updated, {writer.rounds['removed']} removed; "
        f"{write_s:.1f}s each), {len(writer.failures)} failed"
        + (
            f"; its build refused by the server: {writer.rounds['refused']}"
            if args.store == "embedded"
            else ""
        )
    )
    print(
        f"index at end:     {len(writer.present) + 1} reports expected; "
        f"lost {len(out.lost)}, stale {len(out.stale)}, left over {len(out.leftover)}"
    )
    page_s = statistics.mean(page.seconds) if page.seconds else float("nan")
    print(
        f"page uploads:     {page.rounds['uploaded']} uploaded, {page.rounds['removed']} "
        f"removed ({page_s:.1f}s a round), {len(page.failures)} failed"
    )
    print(f"latest writes:    {len(out.unseen)} not served")
    problems = {
        "error": stats.errors,
        "wrong": stats.wrong,
        "writer failure": writer.failures,
        "page failure": page.failures,
        "lost": out.lost,
        "stale": out.stale,
        "left over": out.leftover,
        "not served": out.unseen,
    }
    for label, items in problems.items():
        for item in items[:20]:
            print(f"{label}: {item}")
        if len(items) > 20:
            print(f"{label}: … {len(items) - 20} more")
    # `not growth <= limit`: a NaN (the server's RSS could not be read) fails too.
    failed = any(problems.values()) or not growth <= args.max_rss_growth_mb
    print("soak: FAILED" if failed else "soak: OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
