"""Generations made of shared segments: what a build writes, merges, and cleans up."""

from __future__ import annotations

import shutil

import numpy as np
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


def _segment_ids(settings) -> set[str]:
    """The passage ids every segment folder of the home holds vectors of."""
    from index.segments import open_segment

    store = IndexStore(settings)
    folders = store.segment_folder(".").iterdir()
    return {
        i
        for f in folders
        if open_segment(f).passage_vectors() is not None
        for i in open_segment(f).ids
    }


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
    assert live <= _segment_ids(settings)
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
    """A build killed after its segments were written (no clean-up ran): the old
    generation answers; the next build removes the dead one's files."""
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    before = store.read_manifest()
    stored = _segment_ids(settings)
    _small(reports, 5)

    original = IndexStore._write_files

    def write_then_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise KeyboardInterrupt  # stands for the kill: the manifest is never swapped

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(IndexStore, "_write_files", write_then_die)
        patched.setattr(IndexStore, "_discard", lambda *a, **k: None)  # a kill cleans nothing
        build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert store.read_manifest() == before
    leaked = _segment_ids(settings) - stored
    assert leaked  # the dead build's segment is on disk
    assert len(list(store.generations.iterdir())) == 2
    assert _answers(settings, fake_embeddings)

    (reports / "county5.txt").unlink()
    _small(reports, 6)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert not _segment_ids(settings) & leaked
    gens = {store.read_manifest().generation, store.read_manifest().previous}
    assert {p.name for p in store.generations.iterdir()} == gens


def _answers(settings, fake_embeddings) -> bool:
    from assistant import answer

    result = answer(
        "太原市今年新增养老床位多少张",
        settings=settings,
        embeddings=fake_embeddings,
        answer_model=lenient_answer_model(),
    )
    return result.found


def test_a_home_whose_passage_vectors_are_in_chroma_answers_and_is_rewritten_once(
    reports, settings, fake_embeddings
):
    """A home built before segments kept passage vectors searches its Chroma collection;
    the next build writes its segments again with their vectors and drops the collection."""
    from index.segments import PASSAGE_VECTORS_FILE, open_segment
    from index.store import CHROMA_FOLDER

    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    manifest = store.read_manifest()
    collection = store.collection(manifest.collection, create=True)
    for path, _ in store.segments_of(manifest.generation):  # as such a home held them
        segment = open_segment(path)
        collection.add(ids=segment.ids, embeddings=np.array(segment.passage_vectors()))
        (path / PASSAGE_VECTORS_FILE).unlink()
    open_segment.cache_clear()
    assert _answers(settings, fake_embeddings)

    build_index([reports], settings=settings, embeddings=fake_embeddings)  # nothing changed
    live = store.read_manifest().generation
    assert not store.uses_chroma(live) and _answers(settings, fake_embeddings)
    _small(reports, 2)  # the generation before, which used the collection, retires
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert not (settings.home / CHROMA_FOLDER).exists()
    assert _answers(settings, fake_embeddings)


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


@pytest.mark.parametrize("scoped", [False, True])
def test_passage_search_through_the_compact_copy_finds_what_the_exact_scan_finds(
    reports, settings, fake_embeddings, monkeypatch, scoped
):
    """Passage vectors are searched as sentence vectors are: exactly, or past
    PREFILTER_PASSAGES through the segment's compact copy, whose candidates are scored
    exactly; the similarities are cosines (what Chroma's cosine distance gave)."""
    from index import segments

    monkeypatch.setattr(segments, "PREFILTER_PASSAGES", 10)
    _small(reports, 4)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    (folder, _), *_ = store.segments_of(store.read_manifest().generation)
    assert (folder / segments.PASSAGE_QUANTIZED_FILE).exists()
    index = store.open_generation(store.read_manifest())
    docs = [d.doc_id for d in store.read_manifest().documents if "taiyuan" in d.doc_id]
    ranges = index.live_ranges(docs if scoped else None)
    vector = np.asarray(fake_embeddings.embed_query("今年新增多少养老床位"), np.float32)
    vector /= np.linalg.norm(vector)
    monkeypatch.setattr(segments, "PREFILTER_PASSAGES", 10**9)
    rows, sims = index.best_passages(vector, ranges, 5)
    every = np.concatenate([np.arange(a, b) for a, b in ranges])
    held = np.concatenate([np.asarray(v) for v in index.passage_vectors])
    cosines = held[every] @ vector / np.linalg.norm(held[every], axis=1)
    assert rows.tolist() == every[np.argsort(-cosines)[:5]].tolist()
    # Held as float16 values (as a server's copy holds them): unit length to 1e-3.
    assert np.allclose(sims, np.sort(cosines)[::-1][:5], atol=1e-3)
    monkeypatch.setattr(segments, "PREFILTER_PASSAGES", 10)
    monkeypatch.setattr(segments, "PREFILTER_KEEP", 20)
    assert len(every) > 20  # more passages than candidates
    assert index.best_passages(vector, ranges, 5)[0].tolist() == rows.tolist()
