"""Cited answers from Chinese government work reports: ``from assistant import answer``."""

from assistant.core import AnswerStream, answer, stream_answer, warm_up
from assistant.types import Answer, Citation
from index.errors import IndexMissingError, ModelError, QuestionError, ReportQAError
from index.settings import Settings

__all__ = [
    "Answer",
    "AnswerStream",
    "Citation",
    "IndexMissingError",
    "ModelError",
    "QuestionError",
    "ReportQAError",
    "Settings",
    "answer",
    "stream_answer",
    "warm_up",
]
