"""The ``reportqa`` command: parse arguments, call the core, format the result."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportqa", description="Cited answers from Chinese government work reports."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    idx = sub.add_parser("index", help="build, list or remove indexed reports")
    isub = idx.add_subparsers(dest="action", required=True)
    build = isub.add_parser("build", help="add new, update changed, skip unchanged reports")
    build.add_argument("paths", nargs="*", help="report files or directories")
    build.add_argument("--sample", action="store_true", help="include the bundled sample report")
    build.add_argument(
        "--if-empty", action="store_true", help="do nothing if the index has reports"
    )
    build.add_argument("--rebuild", action="store_true", help="re-read and re-embed everything")
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    build.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another build")
    build.add_argument("--title", help="override the inferred title")
    build.add_argument("--year", type=int, help="override the inferred plan year")
    build.add_argument("--region", help="override the inferred region (e.g. 太原市)")
    lst = isub.add_parser("list", help="list indexed reports")
    lst.add_argument("--json", action="store_true")
    rm = isub.add_parser("remove", help="remove a report by id or path")
    rm.add_argument("doc", metavar="DOC_OR_PATH")
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ev = sub.add_parser("eval", help="score a question file (JSONL)")
    ev.add_argument("file")
    ev.add_argument("--json", action="store_true")
    serve = sub.add_parser("serve", help="serve the chat at http://HOST:PORT")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--auth", metavar="USER:PASS")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``reportqa`` console script.

    Returns:
        0 on success, 1 when every named report failed to index, 2 for a usage error or
        any :class:`~index.errors.ReportQAError` (printed as one line, no traceback), 130
        when interrupted. Anything else is a bug and keeps its traceback.
    """
    args = _parser().parse_args(argv)
    from index.errors import ReportQAError

    logging.basicConfig(format="reportqa: %(levelname)s: %(name)s: %(message)s")
    handler = {"index": _index, "ask": _ask, "eval": _eval, "serve": _serve}[args.command]
    try:
        return handler(args)
    except ReportQAError as exc:
        _say(_both(exc.message_zh, str(exc)))
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        _say(_both("已中断，原有索引不受影响。", "interrupted; the previous index is intact"))
        return 130


def _both(chinese: str, english: str) -> str:
    """A message for the terminal: Chinese first, English after unless it is the same."""
    return chinese if chinese == english else f"{chinese} — {english}"


def _say(message: str) -> None:
    """Print ``message`` to stderr as exactly one line."""
    print("reportqa: " + " ".join(message.splitlines()), file=sys.stderr)


def _index(args) -> int:
    return {"build": _build, "list": _list, "remove": _remove}[args.action](args)


def _build(args) -> int:
    from index import IndexBusyError, build_index, list_documents, sample_report

    paths = list(args.paths) + ([str(sample_report())] if args.sample else [])
    if not paths:
        _say(
            _both(
                "请指定至少一个报告文件或目录，或使用 --sample。",
                "name at least one file or directory, or --sample",
            )
        )
        return 2
    if args.if_empty and list_documents():
        if not args.json:
            print("index already has reports; nothing to do")
        return 0
    override = {k: v for k in ("title", "year", "region") if (v := getattr(args, k)) is not None}

    def run(wait: float):
        with _progress_bar(enabled=not args.json) as progress:
            return build_index(
                paths,
                override=override or None,
                progress=progress,
                wait=wait,
                rebuild=args.rebuild,
            )

    # Try once without waiting, so that a wait is announced instead of looking like a hang.
    try:
        report = run(0.0)
    except IndexBusyError:
        if args.wait <= 0:
            raise
        _say(
            _both(
                f"另一个索引任务正在进行，最多等待 {args.wait:g} 秒……",
                f"another build is running; waiting up to {args.wait:g}s for it to finish",
            )
        )
        report = run(args.wait)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print_build(report)
    return 1 if report.failed and not (report.added or report.updated or report.unchanged) else 0


def _print_build(report) -> None:
    for label, items in (("added", report.added), ("updated", report.updated)):
        for item in items:
            print(f"{label}: {item}")
    for failure in report.failed:
        print(f"failed: {failure.source}: {failure.reason}", file=sys.stderr)
    for item in report.removed:
        print(f"removed: {item}")
    print(
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed, "
        f"{len(report.failed)} failed; {report.chunks} passages, "
        f"{report.embedded} embedded, {report.seconds:.1f}s"
    )


class _progress_bar:
    """A tqdm bar on stderr per build stage, opened only once a stage has enough to do to
    be worth showing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.stage = ""

    def __enter__(self):
        return self.update if self.enabled else None

    def update(self, done: int, total: int, stage: str) -> None:
        if stage != self.stage:
            self.__exit__()
            self.stage = stage
        if self.bar is None and total >= _BAR_MIN[stage]:
            from tqdm import tqdm

            unit = "file" if stage == "reading" else "text"
            self.bar = tqdm(total=total, unit=unit, desc=stage, file=sys.stderr)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# Below these a stage is over before a bar would tell anything (one batch of texts).
_BAR_MIN = {"reading": 10, "embedding": 64, "sentences": 64, "storing": 1000}


def _list(args) -> int:
    from dataclasses import asdict

    from index import list_documents

    docs = list_documents()
    if args.json:
        print(json.dumps([asdict(d) for d in docs], ensure_ascii=False, indent=1))
        return 0
    if not docs:
        print("the index is empty: run `reportqa index build PATH` or `--sample`")
    for d in docs:
        print(f"{d.doc_id}\t{d.year or '-'}\t{d.region or '-'}\t{d.passages}\t{d.title}")
    return 0


def _remove(args) -> int:
    from index import remove_document

    report = remove_document(args.doc)
    print(f"removed: {report.removed[0]} ({report.chunks} passages left)")
    return 0


def _ask(args) -> int:
    from assistant import answer

    result = answer(args.question)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
        return 0
    print(result.text)
    if result.note:  # e.g. the LLM's answer was not used, and why
        print(f"（{result.note}）")
    for c in result.citations:
        where = f"{c.title}（{c.year or '-'}，{c.region or '-'}）{c.section} 第{c.paragraph}段"
        print(f"\n[{c.n}] {where}")
        print(f"    {c.quote}")
    return 0


def _eval(args) -> int:
    from assistant.evaluate import format_report, run_eval

    report = run_eval(args.file)
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_report(report))
    return 0


def _serve(args) -> int:
    from ui import launch

    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    if auth is not None and len(auth) != 2:
        _say(_both("--auth 的格式应为 用户名:密码。", "--auth wants USER:PASS"))
        return 2
    logging.getLogger("ui").setLevel(logging.INFO)  # one line per refused question
    launch(host=args.host, port=args.port, auth=auth)
    return 0
