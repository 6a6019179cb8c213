"""With REPORTQA_CHROMA_URL the vectors live in a real Chroma server on loopback."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant import answer
from index import build_index, list_documents, remove_document, sample_report
from index.store import IndexStore, open_client
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
    names = {c.name for c in open_client(remote).list_collections()}
    kinds = {re.sub(r"rq-reportqa-([0-9a-f]{8}-)?", "", name) for name in names}
    units = {f"units-{n}" for n in range(8)}
    # the vectors live there (a report's sentences in one of the unit collections)
    assert {"passages", "reports", "meta"} < kinds <= {"passages", "reports", "meta"} | units
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
    from index.errors import StoreUnavailableError
    from tests.conftest import CountingFakeEmbeddings
    from ui.cli import main

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


# A chat server as `reportqa serve` runs it (ui.serve over ui.create_app), with the
# tests' meaningful fake embeddings and a lenient answer model instead of the real model.
SERVER = """
import functools, sys
from assistant import answer, stream_answer
from index import Settings
from tests.conftest import CountingFakeEmbeddings, lenient_answer_model
from ui import create_app, serve
model = lenient_answer_model()
app = create_app(
    Settings.from_env(),
    answer_fn=functools.partial(answer, answer_model=model),
    stream_fn=functools.partial(stream_answer, answer_model=model),
    embeddings=CountingFakeEmbeddings(),
)
serve(app, port=int(sys.argv[1]), block=True)
"""


@contextlib.contextmanager
def _chat_server(url: str, home: Path):
    port = _free_port()
    env = {
        **os.environ,
        "REPORTQA_HOME": str(home),
        "REPORTQA_CHROMA_URL": url,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    address = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                urllib.request.urlopen(address, timeout=1)
                break
            except OSError:
                assert proc.poll() is None, "the chat server exited"
                time.sleep(0.1)
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _ask(address: str, question: str) -> dict:
    from gradio_client import Client

    return Client(address, verbose=False).predict(question, api_name="/ask")


def test_servers_on_other_homes_share_the_index_of_the_chroma_server(
    chroma_url, settings, tmp_path
):
    """One index, in the Chroma server: two chat servers with homes of their own answer
    from what a third home builds and removes, without a restart."""
    from tests.conftest import CountingFakeEmbeddings

    builder = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "builder")
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(sample_report(), reports / "taiyuan.txt")
    build_index([reports], settings=builder, embeddings=CountingFakeEmbeddings())
    homes = [tmp_path / "server-1", tmp_path / "server-2"]
    with _chat_server(chroma_url, homes[0]) as one, _chat_server(chroma_url, homes[1]) as two:
        for address in (one, two):
            first = _ask(address, "今年新增多少养老床位")
            assert first["found"] and "2000张" in first["text"]

        (reports / "books.txt").write_text(
            "示例市2026年政府工作报告\n\n二、2026年工作安排\n\n今年将新建城市书房25座。\n",
            encoding="utf-8",
        )
        added = build_index([reports], settings=builder, embeddings=CountingFakeEmbeddings())
        assert len(added.added) == 1
        for address in (one, two):
            books = _ask(address, "示例市今年新建多少城市书房")
            assert books["found"] and "25座" in books["text"]
            assert {c["source"] for c in books["citations"]} == {str(added.added[0])}

        remove_document(
            str(reports / "books.txt"), settings=builder, embeddings=CountingFakeEmbeddings()
        )
        for address in (one, two):
            gone = _ask(address, "示例市今年新建多少城市书房")
            assert not gone["found"]
            assert all(c["source"] != added.added[0] for c in gone["citations"])
    # The chat servers' homes hold keyword shards and no vector.
    for home in homes:
        assert (home / "shards").is_dir() and not (home / "chroma").exists()
        assert not [p for p in home.rglob("*") if "vector" in p.name or "f32" in p.name]


def test_builds_from_two_homes_exclude_each_other_through_the_server(
    chroma_url, settings, tmp_path
):
    from index import IndexBusyError
    from index.claims import LOCK_TTL
    from tests.conftest import CountingFakeEmbeddings

    one = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "one")
    two = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "two")
    shutil.copy(sample_report(), tmp_path / "taiyuan.txt")
    records = IndexStore(one).records("")
    with records.lock(wait=0):  # a build on the first machine is running
        with pytest.raises(IndexBusyError) as busy:
            build_index(
                [tmp_path / "taiyuan.txt"], settings=two, embeddings=CountingFakeEmbeddings()
            )
        assert "另一个索引任务正在进行" in busy.value.message_zh
    assert not records.meta.get(where={"kind": "lock"})["ids"]  # released

    # A build killed on another machine leaves its claim: ignored once it is stale.
    records.meta.upsert(
        ids=["lock:killed"],
        metadatas=[{"kind": "lock", "at": time.time() - LOCK_TTL - 1}],
        embeddings=[[0.0]],
    )
    report = build_index(
        [tmp_path / "taiyuan.txt"], settings=two, embeddings=CountingFakeEmbeddings()
    )
    assert report.added and list_documents(one) == list_documents(two)
    assert not records.meta.get(where={"kind": "lock"})["ids"]


def test_a_home_on_another_machine_adds_to_the_shared_index(chroma_url, settings, tmp_path):
    from tests.conftest import CountingFakeEmbeddings

    one = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "one")
    two = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "two")
    shutil.copy(sample_report(), tmp_path / "taiyuan.txt")
    build_index([tmp_path / "taiyuan.txt"], settings=one, embeddings=CountingFakeEmbeddings())
    park = tmp_path / "more" / "park.txt"
    park.parent.mkdir()
    park.write_text("2026年阳曲县政府工作报告\n\n今年将新建口袋公园30个。\n", "utf-8")
    # A fresh home holds none of the shards of the report built before: it fetches them.
    report = build_index([park], settings=two, embeddings=CountingFakeEmbeddings())
    assert report.added
    assert sorted(d.region for d in list_documents(one)) == ["太原市", "阳曲县"]
    assert list_documents(one) == list_documents(two)


def _stored(settings, model_id: str) -> set[str]:
    """The report versions with records in the index's collections."""
    from index.store import close_client

    client = open_client(settings)
    try:
        records = IndexStore(settings).records(model_id, client)
        ids = set(records.passages.get(include=[])["ids"]) | set(
            {i for c in records.unit_collections() for i in c.get(include=[])["ids"]}
        )
        return {i.partition(":")[0] for i in ids} | records.pending_reports()
    finally:
        close_client(settings, client)


@pytest.mark.parametrize("server", [False, True], ids=["embedded", "server"])
@pytest.mark.parametrize("phase", ["mark_pending", "add_report", "publish", "clear_pending"])
def test_a_build_killed_at_any_phase_leaves_the_previous_index_answering(
    chroma_server, settings, fake_embeddings, tmp_path, monkeypatch, server, phase
):
    """Killed before, while or after it writes records, or as it makes the new manifest
    live: the previous index answers on every home, and the next build deletes what the
    killed one left."""
    import index.store
    from index.records import Records

    monkeypatch.setattr(index.store, "RETIRED_GRACE_SECONDS", 0.0)
    url = chroma_server.url if server else None
    builder = dataclasses.replace(settings, chroma_url=url, home=tmp_path / "builder")
    reader = dataclasses.replace(builder, home=tmp_path / "reader") if server else builder
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(sample_report(), reports / "taiyuan.txt")
    build_index([reports], settings=builder, embeddings=fake_embeddings)
    model = fake_embeddings.model_id
    live = _stored(builder, model)

    def ask():
        question = "今年新增多少养老床位"
        model = lenient_answer_model()
        return answer(question, settings=reader, embeddings=fake_embeddings, answer_model=model)

    assert ask().found
    (reports / "more.txt").write_text("某县2026年政府工作报告\n\n今年修路30公里。\n", "utf-8")
    owner = IndexStore if phase == "publish" else Records  # the manifest goes live
    original = getattr(owner, phase)

    def killed(self, *args, **kwargs):
        if phase == "add_report":
            original(self, *args, **kwargs)  # its records are written: then the kill
        raise KeyboardInterrupt

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(owner, phase, killed)
        patched.setattr(Records, "drop_reports", lambda *a, **k: None)  # a kill cleans nothing
        build_index([reports], settings=builder, embeddings=fake_embeddings)
    left = _stored(builder, model) - live
    assert ask().found  # the previous index answers
    went_live = phase == "clear_pending"  # the kill came after the new manifest went live
    assert len(list_documents(reader)) == (2 if went_live else 1)
    if phase in ("add_report", "publish"):
        assert left  # the killed build's records are still there
    (reports / "more.txt").write_text("某县2026年政府工作报告\n\n今年修路40公里。\n", "utf-8")
    build_index([reports], settings=builder, embeddings=fake_embeddings)
    if not went_live:
        assert not left & _stored(builder, model)  # deleted by the next build
    assert ask().found and len(list_documents(reader)) == 2
