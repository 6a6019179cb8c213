"""The fitted answer models: candidate signals in, probabilities out.

Two logistic regressions over the same signals (:data:`assistant.extract.FEATURES`):
``decide`` gives the probability that a candidate's *sentence* answers the question (it
chooses the sentence); ``rank`` chooses the span inside that sentence (the clause with the
asked figure, not its neighbours too). Whether to answer at all is decided on the best
sentence's ``decide`` probability together with how far the closest retrieved sentence
and the closest passage lead the others (:class:`Decision`). Weights and thresholds are
data (``answerability.json`` beside this file), written by
``benchmarks/fit_answerability.py`` from labelled questions.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.extract import FEATURES
from index.model import Document

MODEL_PATH = Path(__file__).with_name("answerability.json")
THRESHOLD_GROUPS = ("report", "document")


def penalty_key(group: str, asks_figure: bool) -> str:
    """The key of :attr:`AnswerModel.length_penalties` for a group of documents and a
    question that asks (or does not ask) for a figure: a figure is said in one clause, a
    name or a plan often takes two ("扭转…被动局面，争取实现…目标")."""
    return f"{group}/{'figure' if asks_figure else 'words'}"


PENALTY_KEYS = tuple(penalty_key(g, f) for g in THRESHOLD_GROUPS for f in (True, False))


def threshold_group(document: Document) -> str:
    """Which threshold an answer from ``document`` must reach.

    A report (it has a plan year or a region) is full of near misses: its other targets,
    its review of the year before, in the same words. Other documents (an article, a
    notice) seldom are. Each group's threshold is chosen on its own held-out unanswerable
    questions.
    """
    return "report" if document.year or document.region else "document"


@dataclass(frozen=True)
class Linear:
    """A logistic regression over standardised features."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(label) for each feature row."""
        if not len(rows):
            return np.zeros(0)
        x = (rows - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))

    def to_json(self) -> dict:
        return {
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(float(self.bias), 6),
            "mean": [round(float(m), 6) for m in self.mean],
            "scale": [round(float(s), 6) for s in self.scale],
        }

    @classmethod
    def from_json(cls, data: dict) -> Linear:
        return cls(
            weights=np.array(data["weights"], dtype=float),
            bias=float(data["bias"]),
            mean=np.array(data["mean"], dtype=float),
            scale=np.array(data["scale"], dtype=float),
        )


@dataclass(frozen=True)
class Leads:
    """How far the closest retrieved texts stand out in meaning (cosines; see
    :func:`assistant.extract.lead`): the closest sentence of the retrieved passages, and
    the closest passage of the searched reports."""

    sentence: float
    passage: float


@dataclass(frozen=True)
class Decision:
    """Answer or refuse, for one group of documents: a line over the candidate's
    ``decide`` log-odds and the question's :class:`Leads`.

    The candidate signals compare sentences with each other (similarities in standard
    deviations of all retrieved sentences), so they do not say whether one sentence or
    passage is far closer than the rest, as that of an indexed passage that answers is
    and the closest of many loosely related ones is not. Cosines are the embedding
    model's own scale, so the line holds for ``model_id``.
    """

    p_weight: float
    sentence_weight: float
    passage_weight: float
    bias: float  # the fitted threshold folded in: the line at 0 is the threshold

    def answers(self, probability: float, leads: Leads) -> bool:
        p = min(max(probability, 1e-9), 1 - 1e-9)
        log_odds = math.log(p / (1 - p))
        closeness = self.sentence_weight * leads.sentence + self.passage_weight * leads.passage
        return self.p_weight * log_odds + closeness + self.bias >= 0

    def to_json(self) -> dict:
        return {k: round(float(v), 6) for k, v in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class AnswerModel:
    """The two fitted regressions and the decision threshold.

    Attributes:
        decide: P(the candidate's sentence answers the question).
        rank: Orders the spans of one sentence (the shortest that answers wins).
        thresholds: The least ``decide`` probability at which the assistant answers, per
            group of documents (:func:`threshold_group`), each chosen on held-out data so
            that few unanswerable questions of that group are answered; used when the
            index's embedding model is not ``model_id``.
        decisions: Per group, whether to answer from probability and leads
            (:class:`Decision`), chosen for the same target; used with ``model_id``.
        model_id: The embedding model whose similarities ``decisions`` was fitted on.
        tie: ``decide`` distance within which answers from several reports are shown
            together.
        length_penalties: What each 40 characters of a span cost against its ``rank``
            probability, per group of documents and what the question asks for
            (:func:`penalty_key`): the shortest span that is as often whole as a longer
            one. A report's figure is in one clause; an article's answer is often a
            whole sentence.
    """

    decide: Linear
    rank: Linear
    thresholds: Mapping[str, float]
    tie: float
    length_penalties: Mapping[str, float]
    decisions: Mapping[str, Decision]
    model_id: str

    def answers(self, probability: float, leads: Leads | None, document: Document) -> bool:
        """Whether a candidate of ``document`` with this ``decide`` probability is an answer;
        ``leads`` is ``None`` when the index's model is not ``model_id``."""
        return self.group_answers(threshold_group(document), probability, leads)

    def group_answers(self, group: str, probability: float, leads: Leads | None) -> bool:
        """:meth:`answers` for a document of ``group`` (:func:`threshold_group`)."""
        if leads is None:
            return probability >= self.thresholds[group]
        return self.decisions[group].answers(probability, leads)

    def span_scores(self, rows: np.ndarray, groups: Sequence[str], asks_figure: bool) -> np.ndarray:
        """How well each candidate span, among those of one sentence, answers; ``groups``
        holds each row's group of documents (:func:`threshold_group`), ``asks_figure``
        whether the question asks for a number."""
        scores = self.rank.probabilities(rows)
        # A number question names the unit it wants ("增长了多少" wants %): inside a
        # sentence, a span with a number in that unit beats any span without one.
        scores = scores + rows[:, FEATURES.index("unit_match")]
        per_group = {g: self.length_penalties[penalty_key(g, asks_figure)] for g in set(groups)}
        penalties = np.array([per_group[g] for g in groups], dtype=float)
        return scores - penalties * rows[:, FEATURES.index("length")]

    def to_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "decide": self.decide.to_json(),
            "rank": self.rank.to_json(),
            "thresholds": {k: round(float(v), 4) for k, v in self.thresholds.items()},
            "tie": round(float(self.tie), 4),
            "length_penalties": {k: round(float(v), 4) for k, v in self.length_penalties.items()},
            "decisions": {k: v.to_json() for k, v in self.decisions.items()},
            "model_id": self.model_id,
        }


def model_from_json(data: dict) -> AnswerModel:
    """The model of an ``answerability.json`` document.

    Raises:
        ValueError: The file was fitted for other features than this code computes.
    """
    if tuple(data["features"]) != FEATURES:
        raise ValueError(
            "answerability.json was fitted on other features; run benchmarks/fit_answerability.py"
        )
    return AnswerModel(
        decide=Linear.from_json(data["decide"]),
        rank=Linear.from_json(data["rank"]),
        thresholds={k: float(v) for k, v in data["thresholds"].items()},
        tie=float(data["tie"]),
        length_penalties={k: float(v) for k, v in data["length_penalties"].items()},
        decisions={k: Decision(**v) for k, v in data["decisions"].items()},
        model_id=data["model_id"],
    )


@functools.cache
def load_model(path: Path = MODEL_PATH) -> AnswerModel:
    """The packaged model (read once)."""
    return model_from_json(json.loads(path.read_text("utf-8")))
