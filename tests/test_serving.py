"""A served embedded home is written by its server alone (two writing processes damaged
the store in a soak run); reading stays open, and a Chroma server lifts the rule."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from index import IndexServedError, build_index, list_documents, remove_document
from index.serving import check_not_served, serving, wait_for_builds
from index.store import IndexStore
from ui.cli import main

URL = "http://127.0.0.1:7999"
# Another process serving a home: it holds the lock until its stdin closes.
_SERVER = (
    "import sys; from pathlib import Path; from index.settings import Settings;"
    "from index.serving import serving\n"
    "import dataclasses\n"
    "s = dataclasses.replace(Settings.from_env(), home=Path(sys.argv[1]))\n"
    "with serving(s, sys.argv[2]):\n"
    "    print('ready', flush=True); sys.stdin.read()\n"
)


@contextlib.contextmanager
def serving_elsewhere(home: Path):
    """A process that serves ``home`` until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(home), URL],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait()


@pytest.fixture
def other_server(settings):
    """A process that serves ``settings.home`` until the test ends."""
    with serving_elsewhere(settings.home) as proc:
        yield proc


def _park(folder: Path) -> Path:
    path = folder / "park.txt"
    path.write_text("示例县2026年政府工作报告\n\n今年将新建口袋公园30个。\n", "utf-8")
    return path


def test_a_build_in_another_process_is_refused_and_names_the_server(
    tmp_path, settings, fake_embeddings, other_server
):
    with pytest.raises(IndexServedError) as refused:
        build_index([_park(tmp_path)], settings=settings, embeddings=fake_embeddings)
    assert URL in refused.value.message_zh and "网页或 API" in refused.value.message_zh
    assert list_documents(settings) == []  # nothing was written


def test_a_removal_is_refused_too_and_reading_is_not(tmp_path, settings, fake_embeddings):
    path = _park(tmp_path)
    build_index([path], settings=settings, embeddings=fake_embeddings)
    with serving_elsewhere(settings.home):
        assert [d.title for d in list_documents(settings)]  # reading is open
        with pytest.raises(IndexServedError):
            remove_document(str(path), settings=settings, embeddings=fake_embeddings)
    # The server gone, the same removal goes through.
    assert remove_document(str(path), settings=settings, embeddings=fake_embeddings).removed


def test_the_cli_does_not_wait_for_a_server(tmp_path, settings, other_server, capsys):
    code = main(["index", "build", "--wait", "30", str(_park(tmp_path))])
    err = capsys.readouterr().err
    assert code != 0
    assert "正在使用这个索引" in err and "最多等待" not in err


def test_a_second_server_on_the_home_is_refused(settings, other_server):
    with pytest.raises(IndexServedError) as refused, serving(settings, "http://127.0.0.1:1"):
        pass
    assert "已在使用" in refused.value.message_zh and URL in refused.value.message_zh


def test_the_serving_process_writes_its_own_home(tmp_path, settings, fake_embeddings):
    with serving(settings, URL):
        check_not_served(settings)
        report = build_index([_park(tmp_path)], settings=settings, embeddings=fake_embeddings)
        assert report.added
        holder = json.loads((settings.home / "serving.json").read_text("utf-8"))
        assert holder["url"] == URL
    assert not (settings.home / "serving.json").exists()


def test_a_chroma_server_lifts_the_rule(settings):
    shared = dataclasses.replace(settings, chroma_url="http://127.0.0.1:1")
    with serving(shared, URL):
        pass
    check_not_served(shared)
    assert not (settings.home / "serving.lock").exists()


def test_a_server_starts_after_the_build_of_another_process(settings):
    """A build running at start is waited for: the server would write beside it."""
    from filelock import FileLock

    settings.home.mkdir(parents=True)
    held, finish = threading.Event(), threading.Event()
    events: list[str] = []

    def build() -> None:  # another owner of the lock (a FileLock of its own thread)
        with FileLock(str(IndexStore(settings).lock_path)):
            held.set()
            finish.wait()
            events.append("build ended")

    thread = threading.Thread(target=build)
    thread.start()
    held.wait()

    def waiting() -> None:
        events.append("waiting")
        finish.set()

    wait_for_builds(settings, waiting)
    events.append("serving")
    thread.join()
    assert events == ["waiting", "build ended", "serving"]
