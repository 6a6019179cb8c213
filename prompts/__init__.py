"""Prompts as versioned package data (``prompts/*.md``), rendered strictly."""

from __future__ import annotations

import re
import string
from importlib import resources

_VERSION = re.compile(r"^<!--\s*version:\s*(\S+)\s*-->\n", re.MULTILINE)


class PromptError(KeyError):
    """A prompt was rendered without one of its variables."""


def load(name: str) -> str:
    """The raw text of ``prompts/NAME.md`` without its version line."""
    text = resources.files("prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")
    return _VERSION.sub("", text, count=1)


def version(name: str) -> str:
    """The version a prompt file declares in its first line."""
    text = resources.files("prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")
    match = _VERSION.match(text)
    return match.group(1) if match else "0"


def variables(name: str) -> set[str]:
    """The ``{placeholders}`` a prompt needs."""
    return {f for _, f, _, _ in string.Formatter().parse(load(name)) if f}


def render(name: str, **values: str) -> str:
    """Fill a prompt; a missing or unexpected variable raises :class:`PromptError`."""
    needed = variables(name)
    missing, extra = needed - values.keys(), values.keys() - needed
    if missing or extra:
        raise PromptError(f"prompt {name!r}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    return load(name).format(**values)
