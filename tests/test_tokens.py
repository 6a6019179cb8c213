"""Keyword tokens: jieba's dictionary from our faster cache is jieba's own dictionary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Loads jieba through index.tokens, then compares with a jieba tokenizer that loaded
# its dictionary the library's own way.
CHECK = """
import jieba
from index import tokens
words = tokens.tokenize("今年新增养老床位2000张，改造老旧小区120个")
own = jieba.Tokenizer()
own.initialize()
same = own.FREQ == jieba.dt.FREQ and own.total == jieba.dt.total
print(same, " ".join(words))
"""


def _run(cache: Path) -> list[str]:
    env = {**os.environ, "REPORTQA_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_cached_dictionary_is_jiebas_and_tokenizes_alike(tmp_path):
    first = _run(tmp_path)  # jieba loads its own; we keep a copy
    assert list((tmp_path).glob("jieba-*/freqs.npy")), "the dictionary was not cached"
    second = _run(tmp_path)  # from our copy
    assert first[0] == second[0] == "True"
    assert first[1:] == second[1:]
    assert "养老" in second and "床位" in second


def test_a_broken_cache_falls_back_to_jieba(tmp_path):
    _run(tmp_path)
    folder = next(tmp_path.glob("jieba-*"))
    (folder / "freqs.npy").write_bytes(b"not an array")
    again = _run(tmp_path)
    assert again[0] == "True"
