"""The ``reportqa`` command (click): parse arguments, call the core, format the result.

Subcommands: ``index build|list|remove|check|repair``, ``ask``, ``figures``, ``eval``,
``serve``, ``mcp`` and ``completion``; ``--json`` wherever one prints data. Heavy
libraries are imported by the subcommand that needs them, so ``--help`` and shell
completion stay instant. Shell completion: ``eval "$(reportqa completion bash)"`` (or zsh, fish).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from index import BuildStep

PROG = "reportqa"


@click.group(
    name=PROG,
    help="Cited answers from Chinese government work reports.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
def cli() -> None:
    logging.basicConfig(format="reportqa: %(levelname)s: %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``reportqa`` console script.

    Returns:
        0 on success, 1 when every named report failed to index, 2 for a usage error or
        any :class:`~index.errors.ReportQAError` (printed as one line, no traceback), 130
        when interrupted. Anything else is a bug and keeps its traceback.
    """
    from index.errors import ReportQAError

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = cli.main(args, prog_name=PROG, standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 130
    except ReportQAError as exc:
        _say(_both(exc.message_zh, str(exc)))
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        _say(_both("已中断，原有索引不受影响。", "interrupted; the previous index is intact"))
        return 130
    return code if isinstance(code, int) else 0


def _both(chinese: str, english: str) -> str:
    """A message for the terminal: Chinese first, English after unless it is the same."""
    return chinese if chinese == english else f"{chinese} — {english}"


def _say(message: str) -> None:
    """Print ``message`` to stderr as exactly one line."""
    print("reportqa: " + " ".join(message.splitlines()), file=sys.stderr)


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


_JSON = click.option("--json", "as_json", is_flag=True, help="print the result as JSON")


# --- index ---------------------------------------------------------------------------------


@cli.group(help="build, list or remove indexed reports")
def index() -> None:
    pass


@index.command(help="add new, update changed, skip unchanged reports")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--sample", is_flag=True, help="include the bundled sample report")
@click.option("--if-empty", is_flag=True, help="do nothing if the index has reports")
@click.option("--rebuild", is_flag=True, help="re-read and re-embed everything")
@click.option("--json", "as_json", is_flag=True, help="print the build report as JSON")
@click.option("--wait", type=float, default=0.0, help="seconds to wait for another build")
@click.option("--title", help="override the inferred title")
@click.option("--year", type=int, help="override the inferred plan year")
@click.option("--region", help="override the inferred region (e.g. 太原市)")
def build(paths, sample, if_empty, rebuild, as_json, wait, title, year, region) -> int:
    from index import (
        IndexBusyError,
        IndexServedError,
        build_index,
        list_documents,
        needs_upgrade,
        sample_report,
    )

    paths = list(paths) + ([str(sample_report())] if sample else [])
    indexed = list_documents()
    upgrade = needs_upgrade()
    if if_empty and indexed and not upgrade:
        if not as_json:
            print("index already has reports; nothing to do")
        return 0
    if if_empty and upgrade:
        paths = []  # bring the reports it has up to date; the sample is not one of them
    if not paths and indexed:  # check the indexed reports' own files again
        paths = [d.source for d in indexed]
    if not paths:
        _say(
            _both(
                "请指定至少一个报告文件或目录，或使用 --sample。",
                "name at least one file or directory, or --sample",
            )
        )
        return 2
    given = {"title": title, "year": year, "region": region}
    override = {k: v for k, v in given.items() if v is not None}

    def run(seconds: float):
        with _progress_bar(enabled=not as_json) as progress:
            return build_index(
                paths, override=override or None, progress=progress, wait=seconds, rebuild=rebuild
            )

    # Try once without waiting, so that a wait is announced instead of looking like a hang.
    try:
        report = run(0.0)
    except IndexBusyError as exc:
        if wait <= 0 or isinstance(exc, IndexServedError):  # a server does not end soon
            raise
        _say(
            _both(
                f"另一个索引任务正在进行，最多等待 {wait:g} 秒……",
                f"another build is running; waiting up to {wait:g}s for it to finish",
            )
        )
        report = run(wait)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print_build(report)
    return 1 if report.failed and not (report.added or report.updated or report.unchanged) else 0


def _print_build(report) -> None:
    if report.upgraded:
        _say(
            _both(
                "索引已升级为新版格式：报告按原文件重写，向量取自缓存，未重新计算。",
                "the index was brought up to the current format from its files and cache",
            )
        )
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
    be worth showing; while embedding, it says the build's own estimate of the time left
    (tqdm's would assume every text takes as long: the longest come first)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.stage = ""

    def __enter__(self):
        return self.update if self.enabled else None

    def update(self, step: BuildStep) -> None:
        if step.stage != self.stage:
            self.__exit__()
            self.stage = step.stage
        if self.bar is None and step.total >= _BAR_MIN[step.stage]:
            from tqdm import tqdm

            unit = "file" if step.stage == "reading" else "text"
            self.bar = tqdm(
                total=step.total, unit=unit, desc=step.stage, file=sys.stderr, bar_format=_BAR
            )
        if self.bar is not None:
            if step.seconds_left is not None:
                self.bar.set_postfix_str(f"about {_duration(step.seconds_left)} left", False)
            self.bar.update(step.done - self.bar.n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


# Below these a stage is over before a bar would tell anything (one batch of texts).
_BAR_MIN = {"waiting": 1, "reading": 10, "embedding": 64, "storing": 1000}
_BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit}s [{elapsed}{postfix}]"


@index.command(name="list", help="list indexed reports")
@_JSON
def list_(as_json: bool) -> int:
    from dataclasses import asdict

    from index import list_documents

    docs = list_documents()
    if as_json:
        _print_json([asdict(d) for d in docs])
        return 0
    if not docs:
        print("the index is empty: run `reportqa index build PATH` or `--sample`")
    for d in docs:
        print(f"{d.doc_id}\t{d.year or '-'}\t{d.region or '-'}\t{d.passages}\t{d.title}")
    return 0


@index.command(help="remove a report by id or path")
@click.argument("doc", metavar="DOC_OR_PATH")
@_JSON
def remove(doc: str, as_json: bool) -> int:
    from index import remove_document

    report = remove_document(doc)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(f"removed: {report.removed[0]} ({report.chunks} passages left)")
    return 0


@index.command(help="check that every file of the index reads back")
def check() -> int:
    from index import check_index

    problems = check_index()
    for problem in problems:
        print(problem)
    print("请运行 reportqa index repair 修复。" if problems else "索引完好。")
    return 1 if problems else 0


@index.command(help="make damaged files of the index again from what is kept")
def repair() -> int:
    from index import repair_index

    done = repair_index()
    for line in done:
        print(line)
    print("修复完成。" if done else "索引完好，无需修复。")
    return 0


# --- asking --------------------------------------------------------------------------------


@cli.command(help="answer one question")
@click.argument("question")
@click.option("--region", help="only the reports of this region (e.g. 太原市)")
@click.option("--year", type=int, help="only the reports of this plan year")
@_JSON
def ask(question: str, region: str | None, year: int | None, as_json: bool) -> int:
    from assistant import ReportFilter, answer

    within = ReportFilter(region or "", year) if region or year else None
    result = answer(question, within=within)
    if as_json:
        _print_json(result.to_json())
        return 0
    print(result.text)
    if result.note:  # e.g. the LLM's answer was not used, and why
        print(f"（{result.note}）")
    for c in result.citations:
        where = f"{c.title}（{c.year or '-'}，{c.region or '-'}）{c.section} 第{c.paragraph}段"
        print(f"\n[{c.n}] {where}")
        print(f"    {c.quote}")
    return 0


@cli.command(
    help="print every report's key figures (its main targets, last year's results) as a table"
)
@click.option("--region", help="only the reports of this region (e.g. 北京)")
@click.option("--year", type=int, help="only the reports of this plan year")
@click.option(
    "--kind", type=click.Choice(["target", "result"]), help="only targets, or only results"
)
@click.option("--csv", "as_csv", is_flag=True, help="print CSV (UTF-8 with BOM, for Excel)")
@_JSON
def figures(
    region: str | None, year: int | None, kind: str | None, as_csv: bool, as_json: bool
) -> int:
    from assistant import ReportFilter
    from assistant.figures import COLUMNS, key_figures

    within = ReportFilter(region or "", year) if region or year else None
    rows = key_figures(within, kind=kind)
    if as_json:
        _print_json([r.to_json() for r in rows])
    elif as_csv:
        import csv

        sys.stdout.write("\ufeff")  # Excel reads UTF-8 only with its mark
        writer = csv.DictWriter(sys.stdout, COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.to_json() for r in rows)
    else:
        for r in rows:
            value = "" if r.value is None else f"{r.value:g}"
            value += f"-{r.value_high:g}" if r.value_high else ""
            said = f"{value}{r.unit or ''}{r.qualifier}"
            kind_said = "目标" if r.kind == "target" else "实际"
            print(f"{r.region}\t{r.year or '-'}\t{kind_said}\t{r.indicator}\t{said}\t{r.text}")
    return 0


@cli.command(name="eval", help="score a question file (JSONL)")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_JSON
def eval_(file: str, as_json: bool) -> int:
    from assistant.evaluate import format_report, run_eval

    report = run_eval(file)
    if as_json:
        _print_json(report)
    else:
        print(format_report(report))
    return 0


# --- serving -------------------------------------------------------------------------------


def _auth(ctx, param, value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, colon, password = value.partition(":")
    if not colon:
        raise click.BadParameter(_both("格式应为 用户名:密码。", "wants USER:PASS"))
    return user, password


@cli.command(
    short_help="serve the chat and the HTTP doors",
    help="Serve the chat, the JSON API (/api), the OpenAI-compatible /v1 and MCP (/mcp) "
    "at http://HOST:PORT.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=7860, show_default=True)
@click.option(
    "--auth",
    metavar="USER:PASS",
    callback=_auth,
    help="require this login (also accepted as the bearer key USER:PASS)",
)
def serve(host: str, port: int, auth: tuple[str, str] | None) -> int:
    from ui import launch

    logging.getLogger("ui").setLevel(logging.INFO)  # one line per refused question
    launch(host=host, port=port, auth=auth)
    return 0


@cli.command(
    short_help="serve the MCP tools over stdio",
    help="Serve the MCP tools (ask, search, list_reports) over stdin/stdout.",
)
def mcp() -> int:
    from ui.mcp_server import run_stdio

    run_stdio()
    return 0


@cli.command(
    short_help="print the shell completion script",
    help='Print the shell completion script: eval "$(reportqa completion bash)".',
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)(cli, {}, PROG, "_REPORTQA_COMPLETE")
    print(complete.source())
    return 0


if __name__ == "__main__":
    sys.exit(main())
