"""Turn report files into a searchable index.

Public API: ``build_index``, ``list_documents``, ``remove_document``, ``edit_document``,
``needs_upgrade``, ``check_index``, ``repair_index``, ``sample_report``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from index.build import (
    build_index,
    edit_document,
    list_documents,
    needs_upgrade,
    remove_document,
)
from index.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexMissingError,
    IndexServedError,
    MetadataWriteError,
    ModelError,
    QuestionError,
    ReadError,
    ReportNotFoundError,
    ReportQAError,
)
from index.model import BuildReport, Document, IndexedDocument, Passage
from index.repair import check_index, repair_index
from index.settings import Settings
from index.write import BuildStep


def sample_report() -> Path:
    """Path of the bundled sample report (Taiyuan 2025)."""
    name = "taiyuan-2025-government-work-report.txt"
    return Path(str(resources.files("index") / "sample" / name))


__all__ = [
    "BuildReport",
    "BuildStep",
    "Document",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexServedError",
    "IndexedDocument",
    "MetadataWriteError",
    "ModelError",
    "Passage",
    "QuestionError",
    "ReadError",
    "ReportNotFoundError",
    "ReportQAError",
    "Settings",
    "build_index",
    "check_index",
    "edit_document",
    "list_documents",
    "needs_upgrade",
    "remove_document",
    "repair_index",
    "sample_report",
]
