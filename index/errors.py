"""The named errors of reportqa; front doors turn them into friendly messages."""

from __future__ import annotations

from pathlib import Path


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


class IndexBusyError(ReportQAError):
    """Another build holds the index lock."""


class ModelError(ReportQAError):
    """The embedding or chat model could not be loaded or used."""


class QuestionError(ReportQAError):
    """The question cannot be answered as asked (empty, too long, unreadable)."""


class StoreUnavailableError(ReportQAError):
    """The Chroma server named by ``REPORTQA_CHROMA_URL`` cannot be reached."""


class StorageError(ReportQAError):
    """The index could not be written (disk full, no permission); the build was undone."""


class MetadataWriteError(ReportQAError):
    """A report's ``NAME.meta.json`` could not be written (a read-only folder, say)."""


class IndexChangedError(ReportQAError):
    """The generation being read was replaced and removed by builds in the meantime."""

    def __init__(self, reason: BaseException) -> None:
        super().__init__(
            f"the index changed while answering ({reason}); ask again",
            "索引刚刚更新，请再问一次。",
        )
