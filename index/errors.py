"""The named errors of reportqa; front doors turn them into friendly messages."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from index.settings import Settings


class ReportQAError(Exception):
    """Base class of every error reportqa raises on purpose.

    Attributes:
        message_zh: The same message in Chinese, for the chat.
    """

    def __init__(self, message: str, message_zh: str | None = None) -> None:
        super().__init__(message)
        self.message_zh = message_zh or message


class ReadError(ReportQAError):
    """A report file could not be read or decoded."""

    def __init__(self, path: Path | str, reason: str, reason_zh: str | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}", f"{Path(path).name}：{reason_zh or reason}")


class IndexMissingError(ReportQAError):
    """There is no index yet, or it holds no report."""


class ReportNotFoundError(ReportQAError):
    """No indexed report has the id or source path asked for."""


class IndexBusyError(ReportQAError):
    """Another build holds the index lock."""


class IndexServedError(IndexBusyError):
    """A server in another process serves this embedded index: only it may write it."""


class ModelError(ReportQAError):
    """The embedding or chat model could not be loaded or used."""


class QuestionError(ReportQAError):
    """The question cannot be answered as asked (empty, too long, unreadable)."""


class BuildCancelled(ReportQAError):
    """A build was cancelled on request; what it wrote was deleted again."""

    def __init__(self) -> None:
        super().__init__("the build was cancelled", "已取消，索引没有改变。")


class StoreUnavailableError(ReportQAError):
    """The Chroma server named by ``REPORTQA_CHROMA_URL`` cannot be reached."""


class StorageError(ReportQAError):
    """The index could not be written (disk full, no permission); the build was undone."""


class IndexCorruptError(ReportQAError):
    """A file of the index does not read back (a truncated shard, a damaged manifest)."""

    def __init__(self, what: str, rebuild: bool = False) -> None:
        fix = "reportqa index build --rebuild 报告文件夹" if rebuild else "reportqa index repair"
        super().__init__(
            f"the index is damaged ({what}); run `{fix}`",
            f"索引文件已损坏（{what}），请运行 {fix} 修复。",
        )


class MetadataWriteError(ReportQAError):
    """A report's ``NAME.meta.json`` could not be written (a read-only folder, say)."""


class IndexChangedError(ReportQAError):
    """The generation being read was replaced and removed by builds in the meantime."""

    def __init__(self, reason: BaseException) -> None:
        super().__init__(
            f"the index changed while answering ({reason}); ask again",
            "索引刚刚更新，请再问一次。",
        )


def store_unavailable(settings: Settings, reason: BaseException) -> StoreUnavailableError:
    """The error for a Chroma server that cannot be reached."""
    url = settings.chroma_url
    return StoreUnavailableError(
        f"cannot reach the Chroma server at {url} (REPORTQA_CHROMA_URL): {reason}",
        f"无法连接向量库服务器（REPORTQA_CHROMA_URL={url}），请确认它已启动。",
    )


@contextlib.contextmanager
def chroma_errors(settings: Settings) -> Iterator[None]:
    """Turn a lost connection to the Chroma server into :class:`StoreUnavailableError`,
    and a collection that is gone into :class:`IndexChangedError`."""
    import httpx
    from chromadb.errors import InternalError, NotFoundError

    try:
        yield
    except httpx.TransportError as exc:  # refused, reset, timed out: not a bug of ours
        raise store_unavailable(settings, exc) from exc
    except NotFoundError as exc:
        raise IndexChangedError(exc) from exc
    except InternalError as exc:
        # Embedded, another process changed the vectors under this reader (see
        # _CHANGED_UNDER_READER): asked again, on a fresh client if need be, it reads them.
        if any(sign in str(exc) for sign in _CHANGED_UNDER_READER):
            raise IndexChangedError(exc) from exc
        raise


# Signs that another process changed the vectors under this reader: a collection met
# mid-save (no file, or half of one, for a moment: the soak met both as builds went live
# every second), or an id its loaded vector index holds and the records no longer do (a
# build removed a retired report's records while a question of the generation before was
# read).
_CHANGED_UNDER_READER = (
    "Nothing found on disk",
    "hnsw segment reader",
    "deserializing pickle",
    "Error finding id",
)


_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_FAILED_WRITE = frozenset({None, errno.EIO, errno.EFBIG, errno.ENXIO})


@contextlib.contextmanager
def storage_errors(home: Path) -> Iterator[None]:
    """Turn a full disk or a denied write under ``home`` into :class:`StorageError`.

    Wrap only code that writes the index: reading a report the user may not open is a
    per-file failure, not an index problem.
    """
    try:
        yield
    except ReportQAError:
        raise  # already says what went wrong
    except Exception as exc:
        problem = _storage_problem(exc)
        if problem == "full":
            raise StorageError(
                f"no space left on the disk of {home}; the build was undone and the "
                "previous index is intact",
                "磁盘空间不足，本次建索引已撤销，原有索引不受影响。",
            ) from exc
        if problem == "denied":
            raise StorageError(
                f"no permission to write the index at {home}; the build was undone and the "
                "previous index is intact",
                f"没有写入索引目录（{home}）的权限，本次建索引已撤销，原有索引不受影响。",
            ) from exc
        if problem == "other":
            raise StorageError(
                f"the index at {home} could not be written ({exc}); the build was undone "
                "and the previous index is intact",
                f"索引目录（{home}）写入失败，本次建索引已撤销，原有索引不受影响。",
            ) from exc
        raise


def _storage_problem(exc: BaseException) -> Literal["full", "denied", "other"] | None:
    """Whether ``exc``, or an error that caused it, is a full disk, a denied write or
    another failure of the file system (numpy's writes, a disk that fills inside them,
    raise errors with no errno).

    SQLite (the cache, embedded Chroma) and Chroma's Rust core report these only in words.
    """
    seen: BaseException | None = exc
    other = False
    while seen is not None:
        # No errno (numpy's writes) or a failing device; not a missing file (a model's),
        # nor a wait that ran out (a lock's timeout is an OSError with no errno).
        failed = isinstance(seen, OSError) and not isinstance(seen, TimeoutError)
        other = other or (failed and seen.errno in _FAILED_WRITE)
        if isinstance(seen, OSError) and seen.errno in _DISK_FULL:
            return "full"
        if isinstance(seen, OSError) and seen.errno in _DENIED:
            return "denied"
        text = str(seen).lower()
        if "disk is full" in text or "no space left" in text:
            return "full"
        if "readonly database" in text or "permission denied" in text:
            return "denied"
        seen = seen.__cause__ or seen.__context__
    return "other" if other else None
