"""Reports changed through the page: uploads checked, kept under ``home/uploads`` and
indexed; reports removed or corrected.

Only one change runs at a time (the page's :data:`ui.builds.DESK`, which can cancel it;
``build_index`` also holds the index's file lock against the CLI). A file that fails
validation never reaches the index; a file that fails to parse, or a build that raises or
is cancelled, leaves the index and the uploads folder as they were. A kept upload never
replaces another: a second report with the same name is stored beside the first. Gradio's
temporary copies are deleted once handled.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.errors import BuildCancelled, ReportQAError
from index.readers import MB, format_mb, max_file_bytes
from index.write import BuildStep, Progress
from ui.builds import DESK, BuildDesk
from ui.upload_folder import remove_temporary

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
MAX_FILES = 10
BUILD_WAIT_SECONDS = 120.0
# Hex digits of the content hash that tell two uploads of the same name apart.
NAME_HASH_CHARS = 10

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff（）()]+")


@dataclass(frozen=True)
class UploadResult:
    """What happened to each file: ``lines`` of ``(ok, Chinese message)``; ``indexed`` count."""

    lines: tuple[tuple[bool, str], ...]
    indexed: int = 0


def safe_name(name: str) -> str:
    """A file name that is safe to create under the uploads folder."""
    stem = _UNSAFE.sub("_", Path(name).name).strip("._") or "report"
    return stem[:120]


def check_file(path: Path, max_bytes: int) -> str | None:
    """The Chinese reason a file may not be uploaded, or ``None`` when it is acceptable.

    ``max_bytes`` is the limit every reader applies (``Settings.max_file_mb``).
    """
    name = path.name
    if path.suffix.lower() not in ALLOWED_SUFFIXES:
        kinds = "、".join(s.lstrip(".") for s in ALLOWED_SUFFIXES)
        return f"{name}：不支持的文件类型，只能上传 {kinds} 文件。"
    try:
        size = path.stat().st_size
    except OSError:
        return f"{name}：无法读取上传的文件。"
    if size > max_bytes:
        return (
            f"{name}：文件太大（{size / MB:.1f} MB），单个文件不能超过 {format_mb(max_bytes)} MB"
            "（REPORTQA_MAX_FILE_MB）。"
        )
    if size == 0:
        return f"{name}：文件是空的。"
    return None


def stored_path(folder: Path, source: Path) -> Path:
    """Where an upload is kept under ``folder``: its own name unless another file holds it.

    A different report with the same name gets a short hash of its content before the
    suffix, so both are kept; the same content again maps to the file already there.
    """
    name = Path(safe_name(source.name))
    digest = _sha256(source)
    candidates = (
        folder / name,
        folder / f"{name.stem}-{digest[:NAME_HASH_CHARS]}{name.suffix}",
        folder / f"{name.stem}-{digest}{name.suffix}",  # only if the short hash collides
    )
    for target in candidates[:-1]:
        if not target.exists() or _sha256(target) == digest:
            return target
    return candidates[-1]


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


# The journal of a build's copies into uploads/, one per server process: ".staged-<pid>".
STAGED = ".staged-"


class _Staging:
    """Copies into ``uploads/`` that can be undone; a copy never replaces another file.

    Each copy is named in this process's journal before it is made, until the build ends:
    the copies of a server killed mid-build are then found by the next one
    (:func:`recover_staged`).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.created: set[Path] = set()
        self.journal = folder / f"{STAGED}{os.getpid()}"

    def add(self, source: Path) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = stored_path(self.folder, source)
        if not target.exists():
            self.created.add(target)
            self._note()
            shutil.copyfile(source, target)
        return target

    def undo(self, target: Path) -> None:
        """Remove a copy this upload made; a file that was already there stays."""
        if target in self.created:
            self.created.discard(target)
            target.unlink(missing_ok=True)
            self._note()

    def abandon(self) -> None:
        """Remove every copy this upload made."""
        for target in list(self.created):
            self.undo(target)

    def commit(self) -> None:
        self.created.clear()
        self._note()

    def _note(self) -> None:
        if self.created:
            self.journal.write_text("\n".join(sorted(p.name for p in self.created)), "utf-8")
        else:
            self.journal.unlink(missing_ok=True)


def recover_staged(settings) -> list[Path]:
    """Delete the copies a killed server's upload left in ``uploads/`` unindexed; the
    paths deleted. Journals of servers still running are left to them."""
    from index import list_documents

    folder = Path(settings.home) / "uploads"
    journals = [j for j in folder.glob(f"{STAGED}*") if not _alive(j.name.removeprefix(STAGED))]
    if not journals:
        return []
    try:
        indexed = {Path(d.source).resolve() for d in list_documents(settings)}
    except ReportQAError as exc:  # which copies are indexed is unknown: all stay for now
        log.warning("staged uploads left for the next start: %s", exc)
        return []
    removed: list[Path] = []
    for journal in journals:
        for name in journal.read_text("utf-8").split("\n"):
            copy = folder / Path(name).name  # a name only: nothing outside the folder
            if name and copy.resolve() not in indexed and copy.is_file():
                copy.unlink()
                removed.append(copy)
        journal.unlink()
    return removed


def _alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _describe(report, target: Path, display: str, passages: dict[str, int]) -> tuple[bool, str]:
    source = str(target.resolve())
    count = passages.get(source, passages.get(str(target), 0))
    for failure in report.failed:
        if Path(failure.source).resolve() == target.resolve():
            return False, f"{display}：无法读取，未加入索引（{failure.reason_zh}）。"
    if source in report.unchanged or str(target) in report.unchanged:
        return True, f"{display}：内容没有变化，已在索引中（{count} 段）。"
    if source in report.updated or str(target) in report.updated:
        return True, f"{display}：已更新索引（{count} 段）。"
    return True, f"{display}：已加入索引（{count} 段）。"


def validate(
    files: Sequence[str | Path], max_bytes: int
) -> tuple[list[tuple[bool, str]], list[Path]]:
    """Split uploaded files into Chinese problems and acceptable paths."""
    lines: list[tuple[bool, str]] = []
    accepted: list[Path] = []
    for i, item in enumerate(files):
        path = Path(item)
        if i >= MAX_FILES:
            lines.append((False, f"{path.name}：一次最多上传 {MAX_FILES} 个文件，这个文件未处理。"))
        elif problem := check_file(path, max_bytes):
            lines.append((False, problem))
        else:
            accepted.append(path)
    return lines, accepted


def add_reports(
    files: Sequence[str | Path],
    *,
    settings,
    embeddings=None,
    progress: Progress | None = None,
    desk: BuildDesk = DESK,
) -> UploadResult:
    """Validate, copy and index uploaded files; never raises for a user mistake.

    The build waits its turn at ``desk``, which can cancel it. The paths handed in are
    deleted afterwards when they are Gradio's temporary copies.
    """
    try:
        lines, accepted = validate(files, max_file_bytes(settings))
        if not accepted:
            return UploadResult(tuple(lines))
        names = "、".join(p.name for p in accepted)
        try:
            with desk.turn(names) as check:
                results = _index(accepted, names, settings, embeddings, _checked(progress, check))
        except ReportQAError as exc:  # its turn never came
            results = [(False, f"{names}：未加入索引。{exc.message_zh}")]
        return UploadResult((*lines, *results), sum(ok for ok, _ in results))
    finally:
        remove_temporary(files)


def _checked(progress, check: Callable[[], None]):
    """``progress`` that first asks ``check`` whether the build was cancelled."""

    def step(at: BuildStep) -> None:
        check()
        if progress:
            progress(at)

    return step


def _index(accepted: list[Path], names: str, settings, embeddings, progress):
    from index import build_index, list_documents

    staging = _Staging(Path(settings.home) / "uploads")
    try:
        targets = [(staging.add(p), p.name) for p in accepted]
        report = build_index(
            list(dict.fromkeys(t for t, _ in targets)),
            settings=settings,
            embeddings=embeddings,
            progress=progress,
            wait=BUILD_WAIT_SECONDS,
        )
    except Exception as exc:  # a failed build must leave index and folder as they were
        staging.abandon()
        if isinstance(exc, BuildCancelled):
            return [(False, f"{names}：{exc.message_zh}")]
        if not hasattr(exc, "message_zh"):
            log.exception("upload build failed")
        reason = getattr(exc, "message_zh", "内部错误，请查看服务器日志。")
        return [(False, f"{names}：索引失败，索引没有改变。{reason}")]
    passages = {d.source: d.passages for d in list_documents(settings)}
    results = [_describe(report, t, name, passages) for t, name in targets]
    for (ok, _), (target, _) in zip(results, targets, strict=True):
        if not ok:
            staging.undo(target)
    staging.commit()
    return results


def remove_report(doc_id: str, *, settings, embeddings=None) -> str:
    """Drop a report from the index (as ``reportqa index remove``); returns its title.

    A report that was uploaded through the page is also deleted from ``uploads/`` with its
    meta file: otherwise the next build of that folder would bring it back. A report
    indexed from elsewhere keeps its file.

    Raises:
        ReportQAError: It is no longer indexed, or the index is busy.
    """
    from index import list_documents, remove_document

    with DESK.turn(doc_id):
        titles = {d.doc_id: d.title for d in list_documents(settings)}
        report = remove_document(
            doc_id, settings=settings, embeddings=embeddings, wait=BUILD_WAIT_SECONDS
        )
        source = Path(report.removed[0])
        if (Path(settings.home) / "uploads").resolve() in source.parents:
            for kept in (source, source.with_name(source.name + ".meta.json")):
                kept.unlink(missing_ok=True)
    return titles.get(doc_id, source.name)


def edit_report(doc_id: str, *, title: str, year: str, region: str, settings, embeddings=None):
    """Correct a report's title, year and region (see :func:`index.edit_document`).

    Waits its turn at the page's desk, one change to the index at a time, as uploads do.
    """
    from index import edit_document

    with DESK.turn(title or doc_id):
        return edit_document(
            doc_id,
            title=title,
            year=year,
            region=region,
            settings=settings,
            embeddings=embeddings,
            wait=BUILD_WAIT_SECONDS,
        )
