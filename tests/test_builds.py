"""The page's changes to the index: one at a time, told while waiting, cancellable, and a
killed server's staged copies removed at the next start."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from index import list_documents
from index.errors import BuildCancelled, IndexBusyError
from tests.conftest import holding_turn
from ui import uploads
from ui.builds import BuildDesk

REPORT = (
    "2025年示例县政府工作报告\n\n一、2024年工作回顾\n\n全年修路10公里。新建公园3个。\n\n"
    "二、2025年工作安排\n\n新增养老床位200张。改造老旧小区12个。\n"
)


def _file(folder, name: str, text: str = REPORT):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_cancelled_upload_leaves_index_and_folder_as_they_were(
    settings, fake_embeddings, tmp_path
) -> None:
    desk = BuildDesk()
    first = uploads.add_reports(
        [_file(tmp_path, "已有.txt")], settings=settings, embeddings=fake_embeddings, desk=desk
    )
    assert first.indexed == 1
    before = list_documents(settings)
    kept = sorted(p.name for p in (settings.home / "uploads").iterdir())
    stages = []

    def step(at) -> None:
        stages.append(at.stage)
        if at.stage == "embedding":  # asked while the build writes: its next step stops it
            assert desk.cancel().startswith("已请求取消为「新报告.txt」建立索引")

    text = REPORT.replace("200张", "300张").replace("示例县", "某县")
    other = _file(tmp_path, "新报告.txt", text)
    result = uploads.add_reports(
        [other], settings=settings, embeddings=fake_embeddings, progress=step, desk=desk
    )
    assert result.lines == ((False, "新报告.txt：已取消，索引没有改变。"),)
    assert "embedding" in stages and "storing" not in stages
    assert list_documents(settings) == before
    assert sorted(p.name for p in (settings.home / "uploads").iterdir()) == kept
    assert desk.running is None and desk.cancel() == "当前没有正在建立的索引。"
    # The desk is free again, and the cancel did not outlive its build.
    again = uploads.add_reports([other], settings=settings, embeddings=fake_embeddings, desk=desk)
    assert again.indexed == 1


def test_a_second_change_waits_its_turn_and_is_told_what_runs(
    settings, fake_embeddings, tmp_path
) -> None:
    desk = BuildDesk()
    done: list = []
    with holding_turn(desk, "第一份.txt"):
        assert desk.running is not None and desk.running.describe().startswith(
            "正在为「第一份.txt」建立索引（已进行"
        )
        with pytest.raises(IndexBusyError) as caught, desk.turn("第二份.txt", wait=0):
            pass  # a turn that cannot wait
        assert caught.value.message_zh.startswith("正在为「第一份.txt」建立索引")
        assert caught.value.message_zh.endswith("等待超时，请稍后再试。")
        second = threading.Thread(
            target=lambda: done.append(
                uploads.add_reports(
                    [_file(tmp_path, "第二份.txt")],
                    settings=settings,
                    embeddings=fake_embeddings,
                    desk=desk,
                )
            )
        )
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive() and not done  # queued behind the first
    second.join()
    assert done[0].indexed == 1 and desk.running is None


def test_a_cancel_raises_only_in_the_build_it_was_asked_for() -> None:
    desk = BuildDesk()
    with desk.turn("一.txt") as check:
        desk.cancel()
        with pytest.raises(BuildCancelled):
            check()
    with desk.turn("二.txt") as check:
        check()  # the next build is not cancelled


def test_a_killed_servers_staged_copies_are_removed_at_start(settings, tmp_path) -> None:
    folder = settings.home / "uploads"
    folder.mkdir(parents=True)
    staged, own, other = (_file(folder, n) for n in ("半途.txt", "本进程.txt", "旧的.txt"))
    (folder / f"{uploads.STAGED}{_dead_pid()}").write_text("半途.txt\n../逃出.txt", "utf-8")
    outside = _file(settings.home, "逃出.txt")  # a name with a path reaches nothing outside
    live = folder / f"{uploads.STAGED}{os.getpid()}"
    live.write_text("本进程.txt", "utf-8")  # a running server's upload is its own
    assert uploads.recover_staged(settings) == [staged]
    assert not staged.exists() and own.exists() and other.exists() and outside.exists()
    assert live.exists() and [j.name for j in folder.glob(f"{uploads.STAGED}*")] == [live.name]


def test_a_staged_copy_that_was_indexed_stays(settings, fake_embeddings, tmp_path) -> None:
    result = uploads.add_reports(
        [_file(tmp_path, "已索引.txt")], settings=settings, embeddings=fake_embeddings
    )
    assert result.indexed == 1
    folder = settings.home / "uploads"
    # Killed after the build went live, before the journal was cleared.
    (folder / f"{uploads.STAGED}{_dead_pid()}").write_text("已索引.txt", "utf-8")
    assert uploads.recover_staged(settings) == []
    assert (folder / "已索引.txt").exists() and len(list_documents(settings)) == 1


def test_a_build_waiting_for_another_process_says_so(settings, fake_embeddings, tmp_path) -> None:
    """Another process's build (the CLI's) holds the index: the page hears "waiting" first,
    not "reading" with nothing moving."""
    from filelock import FileLock

    from index import build_index
    from index.store import IndexStore

    heard, stages, done = threading.Event(), [], []

    def step(at) -> None:
        stages.append(at.stage)
        if at.stage == "waiting":
            heard.set()

    store = IndexStore(settings)
    settings.home.mkdir(parents=True, exist_ok=True)
    other = FileLock(str(store.lock_path))
    other.acquire()
    report = _file(tmp_path, "等待.txt")
    build = threading.Thread(
        target=lambda: done.append(
            build_index(
                [report], settings=settings, embeddings=fake_embeddings, progress=step, wait=60
            )
        )
    )
    build.start()
    heard.wait()
    assert stages == ["waiting"] and not done  # it waits, and says so
    other.release()
    build.join()
    assert done[0].added and stages[1] == "reading"
