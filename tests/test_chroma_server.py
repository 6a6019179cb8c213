"""With REPORTQA_CHROMA_URL the vectors live in a real Chroma server on loopback."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant import answer
from index import build_index, list_documents, sample_report
from index.store import IndexStore
from tests.conftest import lenient_answer_model

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """A ``chroma run`` on a loopback port that a test can stop and start again."""

    def __init__(self, chroma: Path, path: Path) -> None:
        self.command = [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1"]
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*self.command, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail("chroma server did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def chroma_server(tmp_path):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed beside this Python")
    server = ChromaServer(chroma, tmp_path / "server")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def chroma_url(chroma_server) -> str:
    return chroma_server.url


def test_index_and_answer_through_a_chroma_server(chroma_url, settings, fake_embeddings, tmp_path):
    remote = dataclasses.replace(settings, chroma_url=chroma_url)
    shutil.copy(sample_report(), tmp_path / "taiyuan.txt")
    report = build_index([tmp_path / "taiyuan.txt"], settings=remote, embeddings=fake_embeddings)
    assert report.chunks > 20
    assert not (remote.home / "chroma").exists()
    names = [c.name for c in IndexStore(remote).client().list_collections()]
    assert IndexStore(remote).read_manifest().collection in names
    result = answer(
        "今年新增多少养老床位",
        settings=remote,
        embeddings=fake_embeddings,
        answer_model=lenient_answer_model(),
    )
    assert result.found and "2000张" in result.text
    assert [d.region for d in list_documents(remote)] == ["太原市"]


def test_server_down_is_a_message_and_back_up_just_works(
    chroma_server, settings, tmp_path, monkeypatch, capsys
):
    from assistant.cli import main
    from index.errors import StoreUnavailableError
    from tests.conftest import CountingFakeEmbeddings

    remote = dataclasses.replace(settings, chroma_url=chroma_server.url)
    shutil.copy(sample_report(), tmp_path / "taiyuan.txt")
    build_index([tmp_path / "taiyuan.txt"], settings=remote, embeddings=CountingFakeEmbeddings())
    chroma_server.stop()

    # A new embeddings object is a new retriever, which must open the store again.
    with pytest.raises(StoreUnavailableError):
        answer("今年新增多少养老床位", settings=remote, embeddings=CountingFakeEmbeddings())
    monkeypatch.setenv("REPORTQA_CHROMA_URL", chroma_server.url)
    monkeypatch.setattr("index.embeddings.load_embeddings", lambda _s: CountingFakeEmbeddings())
    (tmp_path / "demo.txt").write_text("今年将新建城市书房25座。\n", encoding="utf-8")
    assert main(["index", "build", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "无法连接向量库服务器" in err
    assert "Traceback" not in err

    chroma_server.start()
    result = answer(
        "今年新增多少养老床位",
        settings=remote,
        embeddings=CountingFakeEmbeddings(),
        answer_model=lenient_answer_model(),
    )
    assert result.found and "2000张" in result.text
    assert main(["index", "build", str(tmp_path)]) == 0
    assert len(list_documents(remote)) == 2
