"""``reportqa index build|list|remove|check|repair``: the commands that change or read the
index itself, with the build's progress bars on stderr (added to the command by
:mod:`ui.cli`)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from ui.cli_output import JSON_FLAG, both, print_json, say

if TYPE_CHECKING:
    from index import BuildStep


@click.group(help="build, list or remove indexed reports")
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
        say(
            both(
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
        say(
            both(
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
        say(
            both(
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
@JSON_FLAG
def list_(as_json: bool) -> int:
    from dataclasses import asdict

    from index import list_documents

    docs = list_documents()
    if as_json:
        print_json([asdict(d) for d in docs])
        return 0
    if not docs:
        print("the index is empty: run `reportqa index build PATH` or `--sample`")
    for d in docs:
        print(f"{d.doc_id}\t{d.year or '-'}\t{d.region or '-'}\t{d.passages}\t{d.title}")
    return 0


@index.command(help="remove a report by id or path")
@click.argument("doc", metavar="DOC_OR_PATH")
@JSON_FLAG
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
