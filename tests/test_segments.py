"""Generations made of shared segments: what a build writes, merges, and cleans up."""

from __future__ import annotations

import shutil

import pytest

from index import build_index, remove_document, sample_report
from index.parse import doc_id_for
from index.segments import SegmentRef, merge_plan, needs_rewrite
from index.store import IndexStore
from tests.conftest import lenient_answer_model


@pytest.fixture
def reports(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(sample_report(), folder / "taiyuan.txt")
    return folder


@pytest.fixture(autouse=True)
def _no_grace(monkeypatch):
    """Retired generations go at the next build (no reader of this test still uses them)."""
    import index.store

    monkeypatch.setattr(index.store, "RETIRED_GRACE_SECONDS", 0.0)


def _small(folder, n: int) -> None:
    (folder / f"county{n}.txt").write_text(
        f"第{n}县2026年政府工作报告\n\n二、2026年工作安排\n\n今年将新建城市书房{n}座，修路{n}0公里。\n",
        encoding="utf-8",
    )


def _stored_ids(settings) -> set[str]:
    store = IndexStore(settings)
    name = store.read_manifest().collection
    return set(store.client().get_collection(name).get(include=[])["ids"])


def test_adding_a_report_writes_one_small_segment_and_shares_the_rest(
    reports, settings, fake_embeddings
):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    (big,) = store.refs(store.read_manifest().generation)
    written = (store.segment_folder(big.name) / "passages.jsonl").stat().st_mtime_ns
    _small(reports, 1)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    refs = store.refs(store.read_manifest().generation)
    assert refs[0].name == big.name and len(refs) == 2
    assert (store.segment_folder(big.name) / "passages.jsonl").stat().st_mtime_ns == written
    assert len(store.segments_of(store.read_manifest().generation)) == 2


def test_many_small_reports_stay_in_few_segments_and_removed_ones_are_dropped(
    reports, settings, fake_embeddings
):
    store = IndexStore(settings)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    for n in range(1, 9):
        _small(reports, n)
        build_index([reports], settings=settings, embeddings=fake_embeddings)
    refs = store.refs(store.read_manifest().generation)
    assert len(refs) <= 4  # the sample, then sizes at least doubling towards the sample
    county = doc_id_for((reports / "county3.txt").resolve())
    remove_document(str(reports / "county3.txt"), settings=settings, embeddings=fake_embeddings)
    gen = store.read_manifest().generation
    assert not [i for i in store.read_ids(gen) if i.startswith(f"{county}:")]
    assert len(store.read_ids(gen)) == sum(store.read_manifest().passage_counts.values())
    # Only segments a kept generation names remain on disk.
    named = {r.name for g in (gen, store.read_manifest().previous) for r in store.refs(g)}
    assert {p.name for p in store.segment_folder(".").iterdir()} == named


def test_a_report_removed_then_added_again_keeps_its_vectors(reports, settings, fake_embeddings):
    from assistant import answer

    _small(reports, 7)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    county = str(reports / "county7.txt")
    remove_document(county, settings=settings, embeddings=fake_embeddings)
    build_index([reports], settings=settings, embeddings=fake_embeddings)  # added back
    for n in (1, 2):  # the generations that dropped it retire
        _small(reports, n)
        build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    live = set(store.read_ids(store.read_manifest().generation))
    assert live <= _stored_ids(settings)
    result = answer(
        "第7县今年新建多少城市书房",
        settings=settings,
        embeddings=fake_embeddings,
        answer_model=lenient_answer_model(),
    )
    assert result.found and "7座" in result.text


def test_a_killed_build_leaves_the_index_answering_and_is_cleaned_up_by_the_next(
    reports, settings, fake_embeddings, monkeypatch
):
    """A build killed after its segments and some vectors were written (no clean-up ran):
    the old generation answers; the next build removes the dead one's files and vectors."""
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    before = store.read_manifest()
    stored = _stored_ids(settings)
    _small(reports, 5)

    original = IndexStore._fill_collection

    def fill_then_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise KeyboardInterrupt  # stands for the kill: the manifest is never swapped

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(IndexStore, "_fill_collection", fill_then_die)
        patched.setattr(IndexStore, "_discard", lambda *a, **k: None)  # a kill cleans nothing
        build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert store.read_manifest() == before
    leaked = _stored_ids(settings) - stored
    assert leaked  # the dead build's vectors are in the collection
    assert len(list(store.generations.iterdir())) == 2

    (reports / "county5.txt").unlink()
    _small(reports, 6)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert not _stored_ids(settings) & leaked
    gens = {store.read_manifest().generation, store.read_manifest().previous}
    assert {p.name for p in store.generations.iterdir()} == gens


@pytest.mark.parametrize(
    ("sizes", "groups"),
    [
        ([(1000, 1000), (100, 100)], [[0], [1]]),
        ([(1000, 1000), (100, 100), (100, 100)], [[0], [1, 2]]),
        ([(1000, 1000), (200, 200), (100, 100), (100, 100)], [[0], [1, 2, 3]]),
        ([(1000, 1000), (0, 100)], [[0]]),  # a segment with nothing left goes
        ([(100, 1000), (100, 100)], [[0, 1]]),
    ],
)
def test_merge_plan_keeps_sizes_doubling_towards_the_first(sizes, groups):
    assert merge_plan(sizes) == groups


def test_merge_plan_gives_logarithmically_many_segments():
    sizes: list[tuple[int, int]] = [(100_000, 100_000)]
    for _ in range(1000):  # a thousand reports of 100 passages, added one by one
        sizes.append((100, 100))
        sizes = [
            (sum(sizes[i][0] for i in g), sum(sizes[i][0] for i in g)) for g in merge_plan(sizes)
        ]
    assert len(sizes) <= 12 and sum(n for n, _ in sizes) == 200_000


def test_a_mostly_removed_segment_is_rewritten():
    assert needs_rewrite([0], [(40, 100)]) and not needs_rewrite([0], [(60, 100)])
    assert needs_rewrite([0, 1], [(100, 100), (60, 60)])


def test_segment_refs_round_trip():
    ref = SegmentRef("g-new", frozenset({"b", "a"}))
    assert SegmentRef.from_json(ref.to_json()) == ref


@pytest.mark.parametrize("scoped", [False, True])
@pytest.mark.parametrize("written", [False, True])
def test_large_scans_choose_through_the_compact_copy_what_the_exact_scan_chooses(
    reports, settings, fake_embeddings, monkeypatch, scoped, written
):
    """Past PREFILTER_SENTENCES the compact copy (the segment's file when the build wrote
    one, else made when needed and kept for the next process) picks candidates that are
    scored exactly: the best sentences are the exact scan's (here with a threshold small
    enough to use it, and fewer candidates than sentences, so that it does choose)."""
    import numpy as np

    from index import segments

    if written:
        monkeypatch.setattr(segments, "PREFILTER_SENTENCES", 10)
    _small(reports, 4)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    (folder, _), *_ = store.segments_of(store.read_manifest().generation)
    assert (folder / segments.QUANTIZED_FILE).exists() == written
    index = store.open_generation(store.read_manifest())
    docs = [d.doc_id for d in store.read_manifest().documents if "taiyuan" in d.doc_id]
    ranges = index.live_ranges(docs if scoped else None)
    vector = np.asarray(fake_embeddings.embed_query("今年新增多少养老床位"), np.float32)
    monkeypatch.setattr(segments, "PREFILTER_SENTENCES", 10**9)
    exact = index.best_sentences(vector, ranges, 10)
    monkeypatch.setattr(segments, "PREFILTER_SENTENCES", 10)
    monkeypatch.setattr(segments, "PREFILTER_KEEP", 100)  # ten times, as in use
    assert int(index.first_sentence[-1]) > 200  # more sentences than candidates
    assert index.best_sentences(vector, ranges, 10).tolist() == exact.tolist()
    assert (folder / segments.QUANTIZED_FILE).exists()
