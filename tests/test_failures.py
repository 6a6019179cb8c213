"""Dependency failures are messages, and a failed build leaves nothing behind."""

from __future__ import annotations

import dataclasses
import errno
import logging
import pkgutil
import socket
import sqlite3

import pytest

from assistant import answer
from index import ReportQAError, build_index
from index.errors import StorageError, StoreUnavailableError
from index.store import IndexStore, open_client
from tests.conftest import CountingFakeEmbeddings, lenient_answer_model
from ui.cli import main


@pytest.fixture
def closed_url() -> str:
    """The URL of a loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _answers(settings, embeddings) -> bool:
    result = answer(
        "今年新增多少养老床位",
        settings=settings,
        embeddings=embeddings,
        answer_model=lenient_answer_model(),
    )
    return result.found and "2000张" in result.text


def _records(settings, embeddings) -> dict[str, set[str]]:
    """The ids of the index's records in Chroma, per kind (pending marks included)."""
    from index.store import close_client, open_client

    client = open_client(settings)
    try:
        records = IndexStore(settings).records(embeddings.model_id, client)
        kinds = ("passages", "reports", "meta")
        stored = {kind: set(getattr(records, kind).get(include=[])["ids"]) for kind in kinds}
        units = {i for c in records.unit_collections() for i in c.get(include=[])["ids"]}
        return {**stored, "units": units}
    finally:
        close_client(settings, client)


def _failing(target: str, error: Exception, *, after: bool = False):
    """A stand-in for ``target`` that raises ``error``, ``after`` doing the real work."""
    original = pkgutil.resolve_name(target)

    def failing(*args, **kwargs):
        if after:
            original(*args, **kwargs)
        raise error

    return failing


_FULL = "磁盘空间不足"
_WRITE_FAILURES = {
    "cache-full": (
        "index.cache.CachedEmbeddings._store",
        lambda: sqlite3.OperationalError("database or disk is full"),
        False,
        _FULL,
    ),
    "sentences-file": ("numpy.save", lambda: OSError(errno.ENOSPC, "No space left"), False, _FULL),
    "records-written": (
        "index.records.Records.add_report",
        lambda: OSError(errno.ENOSPC, "No space left on device"),
        True,
        _FULL,
    ),
    "manifest": ("os.fsync", lambda: OSError(errno.ENOSPC, "No space left"), False, _FULL),
    # numpy's writes raise with no errno when the disk fills inside them
    "no-errno": ("numpy.save", lambda: OSError("0 bytes written"), False, "写入失败"),
    "device": ("os.fsync", lambda: OSError(errno.EIO, "Input/output error"), False, "写入失败"),
    "denied": (
        "index.records.Records.add_report",
        lambda: PermissionError(errno.EACCES, "Permission denied"),
        True,
        "权限",
    ),
}


@pytest.mark.parametrize("case", list(_WRITE_FAILURES))
def test_failed_write_undoes_the_build_and_the_old_index_answers(
    case, reports, settings, fake_embeddings, monkeypatch
):
    target, make_error, after, message_zh = _WRITE_FAILURES[case]
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    before = store.manifest_path.read_text(encoding="utf-8")
    records = _records(settings, fake_embeddings)
    (reports / "new.txt").write_text("今年将新建口袋公园30个。\n" * 3, encoding="utf-8")
    monkeypatch.setattr(target, _failing(target, make_error(), after=after))

    with pytest.raises(StorageError) as err:
        build_index([reports], settings=settings, embeddings=fake_embeddings)

    assert message_zh in err.value.message_zh and "原有索引不受影响" in err.value.message_zh
    assert store.manifest_path.read_text(encoding="utf-8") == before
    assert _records(settings, fake_embeddings) == records  # what it wrote was deleted
    assert not list(settings.home.glob(".manifest.json.*"))
    monkeypatch.undo()
    assert _answers(settings, fake_embeddings)
    assert build_index([reports], settings=settings, embeddings=fake_embeddings).added


def test_failure_outside_the_disk_is_not_called_a_full_disk(
    reports, settings, fake_embeddings, monkeypatch
):
    target = "index.records.Records.add_report"
    monkeypatch.setattr(target, _failing(target, RuntimeError("a bug"), after=True))
    with pytest.raises(RuntimeError, match="a bug"):
        build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert not any(_records(settings, fake_embeddings).values())
    assert IndexStore(settings).read_manifest() is None


def test_unwritable_home_is_a_message(reports, settings, fake_embeddings, monkeypatch):
    target = "filelock.FileLock.acquire"
    monkeypatch.setattr(target, _failing(target, PermissionError(errno.EACCES, "no")))
    with pytest.raises(StorageError) as err:
        build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert "权限" in err.value.message_zh


def test_corrupt_cache_is_set_aside_and_rebuilt(reports, settings, fake_embeddings, caplog):
    from index.write import model_id_for

    cache = IndexStore(settings).cache_path(model_id_for(settings, fake_embeddings))
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not a database\0" * 512)

    with caplog.at_level(logging.WARNING, logger="index.cache"):
        first = build_index([reports], settings=settings, embeddings=fake_embeddings)

    assert first.chunks > 20 and not first.failed
    assert any("corrupt" in r.getMessage() for r in caplog.records)
    assert cache.with_name(cache.name + ".corrupt").exists()
    path = reports / "taiyuan.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("新增养老床位2000张", "新增养老床位2500张"), encoding="utf-8")
    second = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert second.embedded == 1  # the new cache holds the first build's vectors


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_cli_build_with_chroma_server_down_is_one_line(reports, closed_url, monkeypatch, capsys):
    monkeypatch.setenv("REPORTQA_CHROMA_URL", closed_url)
    assert main(["index", "build", str(reports)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "无法连接向量库服务器" in line and closed_url in line and "Chroma" in line


def test_cli_ask_with_chroma_server_down_is_one_line(
    reports, settings, fake_embeddings, closed_url, monkeypatch, capsys
):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    # The CLI would load the configured model (seconds); the server being down is said
    # before it is loaded.
    loaded = []
    for loader in ("load_embeddings", "load_query_embeddings"):
        monkeypatch.setattr(f"index.embeddings.{loader}", lambda _settings: loaded.append(1))
    monkeypatch.setenv("REPORTQA_CHROMA_URL", closed_url)
    assert main(["ask", "今年新增多少养老床位"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "无法连接向量库服务器" in line
    assert loaded == []


def test_chroma_server_down_raises_store_unavailable(settings, closed_url):
    remote = dataclasses.replace(settings, chroma_url=closed_url)
    with pytest.raises(StoreUnavailableError) as err:
        open_client(remote)
    assert isinstance(err.value, ReportQAError) and closed_url in err.value.message_zh


def test_cli_reportqa_error_is_one_line_in_both_languages(settings, monkeypatch, capsys):
    assert main(["index", "remove", "nothing-like-this"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "还没有建立索引" in line and "there is no index yet" in line


def test_cli_wait_says_it_is_waiting(reports, settings, monkeypatch, capsys):
    from index.build import build_lock

    monkeypatch.setattr("index.embeddings.load_embeddings", lambda _s: CountingFakeEmbeddings())
    with build_lock(IndexStore(settings), wait=0):
        assert main(["index", "build", "--wait", "0.01", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    waiting, busy = err.strip().splitlines()
    assert "等待" in waiting and "waiting" in waiting
    assert "另一个索引任务正在进行" in busy


def test_server_logs_a_refused_question_as_one_info_line(settings, caplog):
    from index import QuestionError
    from ui.chat import make_respond
    from ui.conversation import new_state
    from ui.core import Core

    def refuse(*args, **kwargs):
        raise QuestionError("question too long", "问题太长了，请精简到500字以内。")

    respond = make_respond(Core(settings, refuse, refuse))
    with caplog.at_level(logging.INFO, logger="ui.chat"):
        *_, (chat, _) = respond("长" * 100_000, new_state())
    assert "问题太长了" in chat[-1]["content"]
    (record,) = [r for r in caplog.records if r.name == "ui.chat"]
    assert record.levelno == logging.INFO and record.exc_info is None
    assert "question too long" in record.getMessage()
    assert len(record.getMessage()) < 300  # a short prefix of the question, not all of it


def _change(reports, n: int) -> None:
    """Make the next build write a new version of one report."""
    (reports / "extra.txt").write_text(
        f"2025年某县政府工作报告\n\n今年修路{n + 1}0公里。", encoding="utf-8"
    )


def test_question_asked_while_builds_replace_its_generation(
    settings, fake_embeddings, reports, monkeypatch
):
    """Two builds finish while a question is on its way: the report versions it read are
    gone (only the live and the previous manifest's are kept), and it is answered from the
    newest."""
    import assistant.core
    import index.store
    from assistant.retrieval import get_retriever
    from index.errors import IndexChangedError

    # Builds a minute apart, or a question slower than that: its shards are gone too.
    monkeypatch.setattr(index.store, "RETIRED_GRACE_SECONDS", 0.0)
    _change(reports, 0)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    stale = IndexStore(settings).read_manifest()
    for n in (1, 2):  # each build makes a new version of the extra report live
        _change(reports, n)
        build_index([reports], settings=settings, embeddings=fake_embeddings)
    with pytest.raises(IndexChangedError):
        get_retriever(settings, fake_embeddings, stale)  # its records are gone
    reads = []
    live = assistant.core.require_index

    def first_read_is_stale(s):
        reads.append(s)
        return stale if len(reads) == 1 else live(s)

    monkeypatch.setattr(assistant.core, "require_index", first_read_is_stale)
    assert _answers(settings, fake_embeddings)
    assert len(reads) == 2  # read again after the stale generation failed


def test_the_manifest_just_replaced_still_answers_questions_in_flight(
    settings, fake_embeddings, reports
):
    from assistant.retrieval import get_retriever

    _change(reports, 0)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    first = IndexStore(settings).read_manifest()
    _change(reports, 1)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert IndexStore(settings).read_manifest().previous == first.generation
    hits = get_retriever(settings, fake_embeddings, first).search("修路多少公里")
    assert any("修路10公里" in h.passage.text for h in hits)


def test_a_new_generation_waits_for_the_questions_reading_the_old_one(
    settings, fake_embeddings, reports
):
    """The old retriever is not closed under a question; the new one opens after it is."""
    import threading

    from assistant.retrieval import get_retriever, using_retriever

    _change(reports, 0)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    asked, got = threading.Event(), []
    with using_retriever(settings, fake_embeddings) as old:
        _change(reports, 1)
        build_index([reports], settings=settings, embeddings=fake_embeddings)

        def newer() -> None:
            asked.set()
            with using_retriever(settings, fake_embeddings) as new:
                got.append((new, old._closed))

        thread = threading.Thread(target=newer)
        thread.start()
        asked.wait()
        hits = old.search("修路多少公里")  # still whole: nothing closed it
        assert any("修路10公里" in h.passage.text for h in hits) and not old._closed
    thread.join()
    ((new, closed_when_opened),) = got
    assert new is not old and closed_when_opened and old._closed
    assert get_retriever(settings, fake_embeddings) is new


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "lots"])
def test_a_limit_that_is_no_size_is_a_message(value, monkeypatch):
    from index import Settings
    from index.errors import ReportQAError

    monkeypatch.setenv("REPORTQA_MAX_FILE_MB", value)
    with pytest.raises(ReportQAError) as err:
        Settings.from_env()
    assert "REPORTQA_MAX_FILE_MB" in err.value.message_zh


def test_a_home_that_is_a_file_is_a_message(settings, tmp_path):
    import dataclasses

    home = tmp_path / "home-file"
    home.write_text("not a folder", "utf-8")
    with pytest.raises(StorageError) as err:
        IndexStore(dataclasses.replace(settings, home=home))
    assert "REPORTQA_HOME" in err.value.message_zh
    assert home.read_text("utf-8") == "not a folder"  # nothing lost


@pytest.mark.parametrize(
    ("message", "changed"),
    [
        ("Error creating hnsw segment reader: Nothing found on disk", True),
        ("Error executing plan: Internal error: Error finding id", True),
        ("Error deserializing pickle file", True),
        ("Failed to apply logs to the hnsw segment writer", False),
        ("some other internal error", False),
    ],
)
def test_chroma_met_mid_change_is_asked_again_and_other_errors_stay(settings, message, changed):
    from chromadb.errors import InternalError

    from index.errors import IndexChangedError, chroma_errors

    expected = IndexChangedError if changed else InternalError
    with pytest.raises(expected), chroma_errors(settings):
        raise InternalError(message)


def test_a_stale_view_of_the_same_generation_is_reopened_before_asking_again(
    settings, fake_embeddings, reports, monkeypatch
):
    """Another process changed the vectors under this one's client (Chroma's "Error finding
    id"), and no newer generation replaced it: the question is asked again on a new one."""
    import assistant.core
    from assistant.retrieval import get_retriever
    from index.errors import IndexChangedError

    _change(reports, 0)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    first = get_retriever(settings, fake_embeddings)
    used = []
    answer = assistant.core.extractive_answer

    def stale_once(question, standalone, retriever, *args, **kwargs):
        used.append(retriever)
        if len(used) == 1:
            raise IndexChangedError(RuntimeError("Error finding id"))
        return answer(question, standalone, retriever, *args, **kwargs)

    monkeypatch.setattr(assistant.core, "extractive_answer", stale_once)
    assert _answers(settings, fake_embeddings)
    assert used[0] is first and used[1] is not first and first._closed
    assert used[1].manifest.generation == first.manifest.generation


def test_the_server_asks_glibc_for_few_malloc_arenas():
    """Per-thread arenas grew the soak's server 0.9 MB a build; two bound it (ui.heap)."""
    import ctypes.util
    import platform

    from ui.heap import limit_arenas

    if platform.system() != "Linux" or "musl" in (ctypes.util.find_library("c") or "musl"):
        pytest.skip("glibc only")
    assert limit_arenas() is True


def test_no_c_library_to_ask_is_no_error(monkeypatch):
    import ctypes.util

    from ui.heap import limit_arenas

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert limit_arenas() is False
