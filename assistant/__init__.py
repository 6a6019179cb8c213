"""Cited answers from Chinese government work reports: ``from assistant import answer``."""

from assistant.core import AnswerStream, answer, search, stream_answer, warm_up
from assistant.feedback import record_feedback
from assistant.types import Answer, Citation, ReportFilter
from index.errors import IndexMissingError, ModelError, QuestionError, ReportQAError
from index.settings import Settings

__all__ = [
    "Answer",
    "AnswerStream",
    "Citation",
    "IndexMissingError",
    "ModelError",
    "QuestionError",
    "ReportFilter",
    "ReportQAError",
    "Settings",
    "answer",
    "record_feedback",
    "search",
    "stream_answer",
    "warm_up",
]
