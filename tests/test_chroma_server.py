"""With REPORTQA_CHROMA_URL the vectors live in a real Chroma server on loopback."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
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
    assert f"{IndexStore(remote).shared.name}-files" in names  # the segments travel there
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
    # Each home holds its own copy of the live generation, fetched from the server.
    live = IndexStore(builder).read_manifest().generation
    for home in homes:
        assert IndexStore(dataclasses.replace(builder, home=home)).holds(live)


def test_builds_from_two_homes_exclude_each_other_through_the_server(
    chroma_url, settings, tmp_path
):
    from index import IndexBusyError
    from index.shared import LOCK
    from tests.conftest import CountingFakeEmbeddings

    one = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "one")
    two = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "two")
    shutil.copy(sample_report(), tmp_path / "taiyuan.txt")
    shared = IndexStore(one).shared
    with shared.lock(wait=0):  # a build on the first machine is running
        with pytest.raises(IndexBusyError) as busy:
            build_index(
                [tmp_path / "taiyuan.txt"], settings=two, embeddings=CountingFakeEmbeddings()
            )
        assert "另一个索引任务正在进行" in busy.value.message_zh
    assert not shared.meta.get(ids=[LOCK])["ids"]  # released

    # A build killed on another machine leaves its lock: taken over once it has expired.
    shared.meta.add(
        ids=[LOCK],
        documents=["killed"],
        metadatas=[{"token": "killed", "expires": time.time() - 1}],
        embeddings=[[0.0]],
    )
    report = build_index(
        [tmp_path / "taiyuan.txt"], settings=two, embeddings=CountingFakeEmbeddings()
    )
    assert report.added and list_documents(one) == list_documents(two)


def test_segments_travel_once_and_a_killed_build_is_cleaned_up_on_the_server(
    chroma_url, settings, fake_embeddings, tmp_path, monkeypatch
):
    """A home copies the segments it lacks, under the names they have everywhere; what a
    build killed after sending its segment left on the server goes at the next build."""
    import index.store
    from index.shared import SharedIndex

    monkeypatch.setattr(index.store, "RETIRED_GRACE_SECONDS", 0.0)
    builder = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "builder")
    reader = dataclasses.replace(builder, home=tmp_path / "reader")
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(sample_report(), reports / "taiyuan.txt")
    build_index([reports], settings=builder, embeddings=fake_embeddings)

    def segments(home: Path) -> set[str]:
        return {p.name for p in (home / "segments").iterdir()}

    def ask() -> bool:
        question = "今年新增多少养老床位"
        model = lenient_answer_model()
        return answer(question, settings=reader, embeddings=fake_embeddings, answer_model=model)

    assert ask().found and segments(reader.home) == segments(builder.home)
    first = segments(reader.home)
    (reports / "books.txt").write_text(
        "示例市2026年政府工作报告\n\n今年将新建城市书房25座。\n", "utf-8"
    )
    build_index([reports], settings=builder, embeddings=fake_embeddings)
    assert ask().found and first < segments(reader.home) == segments(builder.home)

    shared = IndexStore(builder).shared
    (reports / "more.txt").write_text("某县2026年政府工作报告\n\n今年修路30公里。\n", "utf-8")

    def killed(self, manifest):
        raise KeyboardInterrupt  # after the segments went up: the kill

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(SharedIndex, "publish", killed)
        patched.setattr(IndexStore, "_discard", lambda *a, **k: None)  # a kill cleans nothing
        build_index([reports], settings=builder, embeddings=fake_embeddings)
    sent = {m["segment"] for m in shared.files.get(include=["metadatas"])["metadatas"]}
    leaked = sent - segments(reader.home)
    assert leaked and len(shared.generations()) == 3
    assert ask().found  # the old generation answers

    build_index([reports], settings=builder, embeddings=fake_embeddings)
    left = {m["segment"] for m in shared.files.get(include=["metadatas"])["metadatas"]}
    assert not left & leaked and len(shared.generations()) == 2
    assert ask().found and segments(reader.home) <= left


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_segments_arrive_byte_for_byte_in_pieces_fetched_at_once(
    chroma_url, settings, fake_embeddings, tmp_path, small_pieces
):
    """Every file of a segment, cut into many pieces of each coding (vectors as float16,
    text compressed, codes as they are) and fetched by several requests at once, arrives
    as the builder wrote it."""
    builder = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "builder")
    reader = dataclasses.replace(builder, home=tmp_path / "reader")
    shutil.copy(sample_report(), tmp_path / "taiyuan.txt")
    build_index([tmp_path / "taiyuan.txt"], settings=builder, embeddings=fake_embeddings)
    store = IndexStore(reader)
    store.ensure_local(store.read_manifest())
    (segment,) = (builder.home / "segments").iterdir()
    sent = _files(segment)
    assert sent["passages-f32.npy"] and sent["sentences-f32.npy"] and sent["passages.jsonl"]
    assert max(len(b) for b in sent.values()) > 10 * 4096  # many pieces, several requests
    assert _files(reader.home / "segments" / segment.name) == sent


def test_a_segment_sent_as_one_stream_by_an_earlier_version_still_arrives(
    chroma_url, settings, fake_embeddings, tmp_path
):
    """Segments on a server written before files travelled in pieces (each file one
    stream: sentence vectors as a float16 .npy, passage vectors as they are, the rest
    compressed whole, cut every CHUNK_BYTES) are copied as they were written."""
    import base64
    import json
    import zlib

    import numpy as np

    from index.shared import CHUNK_BYTES, segment_record

    builder = dataclasses.replace(settings, chroma_url=chroma_url, home=tmp_path / "builder")
    shutil.copy(sample_report(), tmp_path / "taiyuan.txt")
    build_index([tmp_path / "taiyuan.txt"], settings=builder, embeddings=fake_embeddings)
    shared = IndexStore(builder).shared
    (segment,) = (builder.home / "segments").iterdir()
    listing = []
    for path in sorted(p for p in segment.rglob("*") if p.is_file()):
        file = path.relative_to(segment).as_posix()
        if file == "sentences-f32.npy":
            out = io.BytesIO()
            np.save(out, np.load(path).astype("<f2"))
            codec, data = "half", out.getvalue()
        elif file == "passages-f32.npy":
            codec, data = "", path.read_bytes()
        else:
            codec, data = "zlib", zlib.compress(path.read_bytes(), 1)
        parts = max(1, -(-len(data) // CHUNK_BYTES))
        listing.append({"file": file, "codec": codec, "parts": parts})
        for part in range(parts):
            piece = base64.b64encode(data[part * CHUNK_BYTES : (part + 1) * CHUNK_BYTES])
            shared.files.upsert(
                ids=[f"{segment.name}/{file}/{part}"],
                metadatas=[{"segment": segment.name, "data": piece.decode("ascii")}],
                embeddings=[[0.0]],
            )
    shared.files.update(
        ids=[segment_record(segment.name)],
        metadatas=[{"segment": segment.name, "files": json.dumps(listing)}],
    )
    reader = dataclasses.replace(builder, home=tmp_path / "reader")
    store = IndexStore(reader)
    store.ensure_local(store.read_manifest())
    assert _files(reader.home / "segments" / segment.name) == _files(segment)
