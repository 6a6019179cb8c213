"""The fitted answer model: the answer-or-refuse line, its fallback, the packaged file."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.decide import (
    THRESHOLD_GROUPS,
    Decision,
    Leads,
    load_model,
    model_from_json,
)
from index.model import Document

# log-odds + 10 * sentence lead + 5 * passage lead >= 8
LINE = Decision(p_weight=1.0, sentence_weight=10.0, passage_weight=5.0, bias=-8.0)


def leads(sentence: float, passage: float = 0.0) -> Leads:
    return Leads(sentence=sentence, passage=passage)


@pytest.mark.parametrize(
    ("probability", "sentence", "passage", "answers"),
    [
        (0.5, 0.8, 0.0, True),  # log-odds 0, the sentence's lead exactly on the line
        (0.5, 0.79, 0.0, False),
        (0.5, 0.4, 0.8, True),  # 4 + 4: the passage stands out too
        (0.5, 0.4, 0.79, False),
        (0.9, 0.5, 0.0, False),  # log-odds 2.2: nothing stands out enough
        (0.99, 0.35, 0.0, True),  # 4.6 + 3.5
        (0.01, 0.9, 0.0, False),  # one sentence stands out, but no candidate answers
        (0.0, 1.0, 0.0, False),  # probability 0 is clipped, not a math error
        (1.0, 0.0, 0.0, True),
    ],
)
def test_decision_weighs_probability_against_the_leads(probability, sentence, passage, answers):
    assert LINE.answers(probability, leads(sentence, passage)) is answers


def report_and_article():
    report = Document("r", "太原市2025年政府工作报告", 2025, "太原市", "r.txt", "")
    article = Document("a", "锣鼓经", None, "", "a.txt", "")
    return report, article


def test_without_leads_each_group_has_its_threshold():
    report, article = report_and_article()
    model = dataclasses.replace(load_model(), thresholds={"report": 0.6, "document": 0.2})
    assert not model.answers(0.5, None, report) and model.answers(0.5, None, article)
    assert model.answers(0.6, None, report)


def test_with_leads_each_group_has_its_line():
    report, article = report_and_article()
    model = dataclasses.replace(
        load_model(), decisions={"report": LINE, "document": Decision(1.0, 0.0, 0.0, 0.0)}
    )
    assert not model.answers(0.4, leads(0.7), report) and model.answers(0.5, leads(0.8), report)
    assert model.answers(0.5, leads(0.0), article) and not model.answers(0.4, leads(1.0), article)


def test_packaged_model_never_answers_less_when_more_probable_or_closer():
    model = load_model()
    assert set(model.decisions) == set(THRESHOLD_GROUPS) == set(model.thresholds)
    assert model.model_id
    for decision in model.decisions.values():
        assert decision.p_weight > 0
        assert decision.sentence_weight >= 0 and decision.passage_weight >= 0


def test_model_file_round_trips():
    model = load_model()
    again = model_from_json(model.to_json())
    assert again.decisions == {
        k: Decision(*(round(v, 6) for v in dataclasses.astuple(d)))
        for k, d in model.decisions.items()
    }
    assert again.model_id == model.model_id and again.thresholds == model.thresholds


def test_model_file_of_other_features_is_refused():
    data = load_model().to_json()
    data["features"] = data["features"][:-1]
    with pytest.raises(ValueError, match="other features"):
        model_from_json(data)
