"""The layers hold: front doors (ui/) -> assistant/ -> index/, nothing imports back up."""

from __future__ import annotations

import ast

import pytest

from tests.test_ui import ROOT

# Each package and the packages of this project it must not import.
FORBIDDEN = {
    "index": {"assistant", "ui"},
    "assistant": {"ui"},
    "prompts": {"assistant", "ui"},
}


def _imports(path) -> set[str]:
    """Top-level package of every module ``path`` imports, anywhere in the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_layer_imports_one_above_it(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files or package == "prompts"
    wrong = {
        str(f.relative_to(ROOT)): sorted(_imports(f) & FORBIDDEN[package])
        for f in files
        if _imports(f) & FORBIDDEN[package]
    }
    assert wrong == {}


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ui.cli import main\n    import assistant.core\n")
    assert {"ui", "assistant"} <= _imports(module)
