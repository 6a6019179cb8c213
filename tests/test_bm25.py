"""The keyword index: Okapi BM25 weights, kept on disk as arrays and reopened unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest

from index.bm25 import BM25, postings_of

K1, B = 1.2, 0.75
CORPUS = [
    ["养老", "床位", "养老", "服务"],
    ["新增", "就业", "岗位"],
    ["养老", "机构", "新增", "床位", "床位", "改造"],
    [],
]


def _expected(corpus: list[list[str]], query: list[str]) -> list[float]:
    """BM25 written out term by term, as the textbook (Lucene idf) gives it."""
    n = len(corpus)
    avg = sum(map(len, corpus)) / n
    out = []
    for doc in corpus:
        score = 0.0
        for term in set(query):
            df = sum(term in d for d in corpus)
            tf = doc.count(term)
            if not tf:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(doc) / avg))
        out.append(score)
    return out


@pytest.mark.parametrize(
    "query",
    [["养老"], ["床位", "新增"], ["养老", "养老", "床位"], ["没有的词"], []],
)
def test_scores_follow_the_formula(query):
    scores = BM25.from_tokens(CORPUS, k1=K1, b=B).scores(query)
    assert scores.shape == (len(CORPUS),)
    np.testing.assert_allclose(scores, _expected(CORPUS, query), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("term", "df"),
    [("养老", 2), ("就业", 1), ("没有的词", 0)],
)
def test_idf_rarer_terms_weigh_more(term, df):
    n = len(CORPUS)
    expected = math.log(1 + (n - df + 0.5) / (df + 0.5))
    assert BM25.from_tokens(CORPUS).idf(term) == pytest.approx(expected)


def test_saved_index_reopens_memory_mapped_with_the_same_scores(tmp_path):
    built = BM25.from_tokens(CORPUS)
    built.save(tmp_path / "bm25")
    loaded = BM25.load(tmp_path / "bm25")
    assert isinstance(loaded.tf, np.memmap)
    assert loaded.size == built.size and loaded.vocab == built.vocab
    for query in (["养老", "床位"], ["新增"], ["没有的词"]):
        np.testing.assert_array_equal(loaded.scores(query), built.scores(query))
        assert loaded.idf(query[0]) == built.idf(query[0])


def test_an_empty_corpus_scores_nothing(tmp_path):
    empty = BM25.from_tokens([])
    assert empty.scores(["养老"]).shape == (0,)
    empty.save(tmp_path / "empty")
    assert BM25.load(tmp_path / "empty").scores(["养老"]).shape == (0,)


@pytest.mark.parametrize(
    ("keep", "added"),
    [
        ([True, True, True, True], []),  # nothing changes
        ([True, False, True, True], [["就业", "岗位", "新增", "新增"]]),  # one replaced
        ([False, False, False, False], CORPUS[:2]),  # all dropped, some back
        ([True, True, False, True], [["全新", "词语"], []]),  # new terms, an empty passage
    ],
)
def test_a_merged_index_is_the_index_of_what_it_holds(keep, added):
    """Dropping and adding passages gives the very index built from the result."""
    # Added as two reports (the first passage, then the rest): the split must not matter.
    reports = [postings_of(added[:1]), postings_of(added[1:])]
    merged = BM25.merged(BM25.from_tokens(CORPUS), np.array(keep), reports)
    holds = [doc for doc, kept in zip(CORPUS, keep, strict=True) if kept] + added
    fresh = BM25.from_tokens(holds)
    assert merged.size == len(holds)
    for query in (["养老", "床位"], ["新增", "就业"], ["全新"], ["服务"]):
        np.testing.assert_allclose(merged.scores(query), fresh.scores(query), rtol=1e-6)
        assert merged.idf(query[0]) == pytest.approx(fresh.idf(query[0]))


def test_an_index_of_the_older_format_is_not_opened(tmp_path):
    BM25.from_tokens(CORPUS).save(tmp_path / "bm25")
    (tmp_path / "bm25" / "vocab.json").write_text('{"size": 4, "vocab": {}}', "utf-8")
    assert BM25.load(tmp_path / "bm25") is None


@pytest.mark.parametrize("largest", [10, 70_000, 5_000_000])
def test_the_stable_order_is_numpys(largest):
    from index.bm25 import _stable_order

    keys = np.random.default_rng(largest).integers(0, largest, 50_000)
    np.testing.assert_array_equal(_stable_order(keys), np.argsort(keys, kind="stable"))
