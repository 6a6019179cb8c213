"""Reports changed through the page: uploads checked, kept under ``home/uploads`` and
indexed; reports removed or corrected.

Only one build runs at a time (a process-wide lock; ``build_index`` also holds the index's
file lock against the CLI). A file that fails validation never reaches the index; a file
that fails to parse, or a build that raises, leaves the index and the uploads folder as
they were. A kept upload never replaces another: a second report with the same name is
stored beside the first. Gradio's temporary copies are deleted once handled.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.readers import MB, format_mb, max_file_bytes

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
MAX_FILES = 10
BUILD_WAIT_SECONDS = 120.0
# Hex digits of the content hash that tell two uploads of the same name apart.
NAME_HASH_CHARS = 10

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


class _Staging:
    """Copies into ``uploads/`` that can be undone; a copy never replaces another file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.created: set[Path] = set()

    def add(self, source: Path) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = stored_path(self.folder, source)
        if not target.exists():
            shutil.copyfile(source, target)
            self.created.add(target)
        return target

    def undo(self, target: Path) -> None:
        """Remove a copy this upload made; a file that was already there stays."""
        if target in self.created:
            self.created.discard(target)
            target.unlink(missing_ok=True)

    def commit(self) -> None:
        self.created.clear()


def remove_temporary(files: Sequence[str | Path]) -> None:
    """Delete Gradio's temporary copies of uploaded files, and nothing outside its folder.

    Gradio leaves each upload at ``<upload folder>/<random>/<name>``;
    once a report is copied to ``uploads/`` (or refused) that copy only takes disk space.
    """
    root = upload_folder().resolve()
    for item in files:
        path = Path(item).resolve()  # a link out of the folder resolves outside it
        if root not in path.parents or not path.is_file():
            continue
        try:
            path.unlink(missing_ok=True)
            if path.parent != root and not any(path.parent.iterdir()):
                path.parent.rmdir()
        except OSError as exc:  # a leftover temp file must not turn a result into an error
            log.warning("cannot remove the uploaded temporary file %s: %s", path, exc)


# An upload no handler took (a file posted to Gradio's upload route alone, a page closed
# while its upload waited, a killed server's) is deleted once it is this old: far longer
# than an upload waits for the build (BUILD_WAIT_SECONDS) before it is copied or refused.
UPLOAD_TTL_SECONDS = 900.0
SWEEP_EVERY_SECONDS = 60.0
QUOTA_FULL = "服务器上待处理的上传已达上限，请稍后再试。"


def upload_folder() -> Path:
    """Gradio's folder of uploaded files (``GRADIO_TEMP_DIR``)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def sweep_uploads(root: Path, older_than: float = UPLOAD_TTL_SECONDS) -> int:
    """Delete the files under ``root`` last changed more than ``older_than`` seconds ago and
    the folders they leave empty; the bytes of the files that stay."""
    now, kept = time.time(), 0
    if not root.is_dir():
        return 0
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            path = Path(folder, name)
            try:
                stat = path.lstat()
                if now - stat.st_mtime > older_than:
                    path.unlink()
                else:
                    kept += stat.st_size
            except OSError:  # gone meanwhile, or not ours to delete: the next sweep
                continue
        if Path(folder) != root:
            with contextlib.suppress(OSError):  # not empty: it stays
                Path(folder).rmdir()
    return kept


class UploadJanitor:
    """Sweeps Gradio's upload folder at start and every ``SWEEP_EVERY_SECONDS`` until stopped."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.root = self.root or upload_folder()
        sweep_uploads(self.root)  # what a killed server left
        self._thread = threading.Thread(target=self._run, daemon=True, name="upload-janitor")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SWEEP_EVERY_SECONDS):
            sweep_uploads(self.root)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class UploadQuota:
    """ASGI middleware: an upload to Gradio's route is refused (507, JSON, Chinese) when the
    files waiting in the upload folder and this one would pass ``quota`` bytes, before any
    of it is read. The quota is what one page upload may hold: MAX_FILES files of the
    largest size."""

    def __init__(self, app, quota: int) -> None:
        self.app, self.quota = app, quota

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and scope.get("method") == "POST" and path.endswith("/upload"):
            declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
            size = int(declared) if declared.isdigit() else 0
            if sweep_uploads(upload_folder()) + size > self.quota:
                from fastapi.responses import JSONResponse

                body = {"error": "upload_quota", "message": QUOTA_FULL}
                await JSONResponse(body, status_code=507)(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
    progress: Callable[[int, int], None] | None = None,
) -> UploadResult:
    """Validate, copy and index uploaded files; never raises for a user mistake.

    The paths handed in are deleted afterwards when they are Gradio's temporary copies.
    """
    try:
        lines, accepted = validate(files, max_file_bytes(settings))
        if not accepted:
            return UploadResult(tuple(lines))
        with _BUILD_LOCK:
            results = _index(accepted, settings, embeddings, progress)
        return UploadResult((*lines, *results), sum(ok for ok, _ in results))
    finally:
        remove_temporary(files)


def _index(accepted: list[Path], settings, embeddings, progress) -> list[tuple[bool, str]]:
    from index import build_index, list_documents

    staging = _Staging(Path(settings.home) / "uploads")
    names = "、".join(p.name for p in accepted)
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
        for target in list(staging.created):
            staging.undo(target)
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

    with _BUILD_LOCK:
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

    Runs under the page's build lock, one change to the index at a time, as uploads do.
    """
    from index import edit_document

    with _BUILD_LOCK:
        return edit_document(
            doc_id,
            title=title,
            year=year,
            region=region,
            settings=settings,
            embeddings=embeddings,
            wait=BUILD_WAIT_SECONDS,
        )
