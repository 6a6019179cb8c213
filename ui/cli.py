"""The ``reportqa`` command (click): parse arguments, call the core, format the result.

Subcommands: ``index build|list|remove|check|repair``, ``ask``, ``figures``, ``eval``,
``serve``, ``mcp`` and ``completion``; ``--json`` wherever one prints data. Heavy
libraries are imported by the subcommand that needs them, so ``--help`` and shell
completion stay instant. Shell completion: ``eval "$(reportqa completion bash)"`` (or zsh, fish).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import click

from ui.cli_index import index
from ui.cli_output import JSON_FLAG, both, print_json, say

PROG = "reportqa"


@click.group(
    name=PROG,
    help="Cited answers from Chinese government work reports.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
def cli() -> None:
    logging.basicConfig(format="reportqa: %(levelname)s: %(name)s: %(message)s")


cli.add_command(index)  # build, list, remove, check, repair (ui/cli_index.py)


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
        say(both(exc.message_zh, str(exc)))
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        say(both("已中断，原有索引不受影响。", "interrupted; the previous index is intact"))
        return 130
    return code if isinstance(code, int) else 0


# --- asking --------------------------------------------------------------------------------


@cli.command(help="answer one question")
@click.argument("question")
@click.option("--region", help="only the reports of this region (e.g. 太原市)")
@click.option("--year", type=int, help="only the reports of this plan year")
@JSON_FLAG
def ask(question: str, region: str | None, year: int | None, as_json: bool) -> int:
    from assistant import ReportFilter, Settings, answer, stream_answer
    from ui.core import Core

    within = ReportFilter(region or "", year) if region or year else None
    # The core as the other JSON doors ask it: the answer with its follow-up questions.
    result = Core(Settings.from_env(), answer, stream_answer).ask(question, within=within)
    if as_json:
        print_json(result.to_json())
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
@JSON_FLAG
def figures(
    region: str | None, year: int | None, kind: str | None, as_csv: bool, as_json: bool
) -> int:
    from assistant import ReportFilter
    from assistant.figures import COLUMNS, key_figures

    within = ReportFilter(region or "", year) if region or year else None
    rows = key_figures(within, kind=kind)
    if as_json:
        print_json([r.to_json() for r in rows])
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
@JSON_FLAG
def eval_(file: str, as_json: bool) -> int:
    from assistant.evaluate import format_report, run_eval

    report = run_eval(file)
    if as_json:
        print_json(report)
    else:
        print(format_report(report))
    return 0


# --- serving -------------------------------------------------------------------------------


def _auth(ctx, param, value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, colon, password = value.partition(":")
    if not colon:
        raise click.BadParameter(both("格式应为 用户名:密码。", "wants USER:PASS"))
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
