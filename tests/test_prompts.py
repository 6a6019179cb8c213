"""Prompts are versioned data files whose variables are checked."""

import pytest

from prompts import PromptError, render, variables, version


@pytest.mark.parametrize(
    ("name", "expected"),
    [("answer", {"passages", "question"}), ("rewrite", {"history", "question"})],
)
def test_prompt_variables_and_version(name, expected):
    assert variables(name) == expected
    assert int(version(name)) >= 1
    text = render(name, **{v: f"<{v}>" for v in expected})
    assert all(f"<{v}>" in text for v in expected) and "version" not in text


def test_missing_variable_fails_loudly():
    with pytest.raises(PromptError):
        render("answer", question="x")
