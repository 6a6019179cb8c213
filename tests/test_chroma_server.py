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


@pytest.fixture
def chroma_url(tmp_path):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed beside this Python")
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("chroma server did not come up")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
