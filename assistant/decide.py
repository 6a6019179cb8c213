"""The fitted answerability model: candidate signals in, probability that it answers out.

The weights and the threshold are data (``answerability.json`` beside this file), written by
``benchmarks/fit_answerability.py`` from labelled questions; nothing here is tuned by hand.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.extract import FEATURES, Candidate

MODEL_PATH = Path(__file__).with_name("answerability.json")


@dataclass(frozen=True)
class AnswerModel:
    """A logistic regression over standardised :data:`assistant.extract.FEATURES`.

    Attributes:
        weights: One weight per feature (on standardised values).
        bias: The intercept.
        mean: Feature means used for standardising.
        scale: Feature standard deviations used for standardising.
        threshold: The least probability at which the assistant answers, chosen on held-out
            data so that few unanswerable questions are answered.
        tie: Probability distance within which answers from several reports are shown
            together.
    """

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float
    tie: float

    def probabilities(self, items: list[Candidate]) -> np.ndarray:
        """P(answers) for each candidate."""
        if not items:
            return np.zeros(0)
        x = (np.array([c.features for c in items]) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))

    def to_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(float(self.bias), 6),
            "mean": [round(float(m), 6) for m in self.mean],
            "scale": [round(float(s), 6) for s in self.scale],
            "threshold": round(float(self.threshold), 4),
            "tie": round(float(self.tie), 4),
        }


def model_from_json(data: dict) -> AnswerModel:
    """The model of a ``answerability.json`` document.

    Raises:
        ValueError: The file was fitted for other features than this code computes.
    """
    if tuple(data["features"]) != FEATURES:
        raise ValueError(
            "answerability.json was fitted on other features; run benchmarks/fit_answerability.py"
        )
    return AnswerModel(
        weights=np.array(data["weights"], dtype=float),
        bias=float(data["bias"]),
        mean=np.array(data["mean"], dtype=float),
        scale=np.array(data["scale"], dtype=float),
        threshold=float(data["threshold"]),
        tie=float(data["tie"]),
    )


@functools.cache
def load_model(path: Path = MODEL_PATH) -> AnswerModel:
    """The packaged model (read once)."""
    return model_from_json(json.loads(path.read_text("utf-8")))
