"""Reports uploaded through the page: check them, keep them under ``home/uploads``, index them.

Only one build runs at a time (a process-wide lock; ``build_index`` also holds the index's
file lock against the CLI). A file that fails validation never reaches the index; a file
that fails to parse, or a build that raises, leaves the index and the uploads folder as
they were.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
MAX_FILES = 10
BUILD_WAIT_SECONDS = 120.0

log = logging.getLogger(__name__)
_BUILD_LOCK = threading.Lock()
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


def check_file(path: Path) -> str | None:
    """The Chinese reason a file may not be uploaded, or ``None`` when it is acceptable."""
    name = path.name
    if path.suffix.lower() not in ALLOWED_SUFFIXES:
        kinds = "、".join(s.lstrip(".") for s in ALLOWED_SUFFIXES)
        return f"{name}：不支持的文件类型，只能上传 {kinds} 文件。"
    try:
        size = path.stat().st_size
    except OSError:
        return f"{name}：无法读取上传的文件。"
    if size > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // (1024 * 1024)
        return f"{name}：文件太大（{size / 1024 / 1024:.1f} MB），单个文件不能超过 {limit} MB。"
    if size == 0:
        return f"{name}：文件是空的。"
    return None


class _Staging:
    """Copies into ``uploads/`` that can be undone (restoring any file they replaced)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.copies: dict[Path, Path | None] = {}

    def add(self, source: Path) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / safe_name(source.name)
        backup = None
        if target.exists():
            backup = target.with_name(target.name + ".previous")
            shutil.copy2(target, backup)
        shutil.copyfile(source, target)
        self.copies[target] = backup
        return target

    def undo(self, target: Path) -> None:
        backup = self.copies.pop(target, None)
        if backup is not None:
            backup.replace(target)
        else:
            target.unlink(missing_ok=True)

    def commit(self) -> None:
        for backup in self.copies.values():
            if backup is not None:
                backup.unlink(missing_ok=True)
        self.copies.clear()


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


def validate(files: Sequence[str | Path]) -> tuple[list[tuple[bool, str]], list[Path]]:
    """Split uploaded files into Chinese problems and acceptable paths."""
    lines: list[tuple[bool, str]] = []
    accepted: list[Path] = []
    names: set[str] = set()
    for i, item in enumerate(files):
        path = Path(item)
        if i >= MAX_FILES:
            lines.append((False, f"{path.name}：一次最多上传 {MAX_FILES} 个文件，这个文件未处理。"))
        elif safe_name(path.name) in names:
            lines.append((False, f"{path.name}：与同批的另一个文件重名，这个文件未处理。"))
        elif problem := check_file(path):
            lines.append((False, problem))
        else:
            accepted.append(path)
            names.add(safe_name(path.name))
    return lines, accepted


def add_reports(
    files: Sequence[str | Path],
    *,
    settings,
    embeddings=None,
    progress: Callable[[int, int], None] | None = None,
) -> UploadResult:
    """Validate, copy and index uploaded files; never raises for a user mistake."""
    lines, accepted = validate(files)
    if not accepted:
        return UploadResult(tuple(lines))
    with _BUILD_LOCK:
        results = _index(accepted, settings, embeddings, progress)
    return UploadResult((*lines, *results), sum(ok for ok, _ in results))


def _index(accepted: list[Path], settings, embeddings, progress) -> list[tuple[bool, str]]:
    from index import build_index, list_documents

    staging = _Staging(Path(settings.home) / "uploads")
    names = "、".join(p.name for p in accepted)
    try:
        targets = {staging.add(p): p.name for p in accepted}
        report = build_index(
            list(targets),
            settings=settings,
            embeddings=embeddings,
            progress=progress,
            wait=BUILD_WAIT_SECONDS,
        )
    except Exception as exc:  # a failed build must leave index and folder as they were
        for target in list(staging.copies):
            staging.undo(target)
        if not hasattr(exc, "message_zh"):
            log.exception("upload build failed")
        reason = getattr(exc, "message_zh", "内部错误，请查看服务器日志。")
        return [(False, f"{names}：索引失败，索引没有改变。{reason}")]
    passages = {d.source: d.passages for d in list_documents(settings)}
    results = [_describe(report, t, name, passages) for t, name in targets.items()]
    for (ok, _), target in zip(results, targets, strict=True):
        if not ok:
            staging.undo(target)
    staging.commit()
    return results
