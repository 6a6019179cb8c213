"""What the ``reportqa`` commands share to say things: messages on stderr (Chinese first),
JSON on stdout, and the ``--json`` flag (:mod:`ui.cli`, :mod:`ui.cli_index`)."""

from __future__ import annotations

import json
import sys

import click

# The flag of every command that prints data.
JSON_FLAG = click.option("--json", "as_json", is_flag=True, help="print the result as JSON")


def both(chinese: str, english: str) -> str:
    """A message for the terminal: Chinese first, English after unless it is the same."""
    return chinese if chinese == english else f"{chinese} — {english}"


def say(message: str) -> None:
    """Print ``message`` to stderr as exactly one line."""
    print("reportqa: " + " ".join(message.splitlines()), file=sys.stderr)


def print_json(data) -> None:
    """Print ``data`` as JSON, its Chinese as is (not ``\\uXXXX``)."""
    print(json.dumps(data, ensure_ascii=False, indent=1))
