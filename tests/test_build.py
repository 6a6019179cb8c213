"""Index builds: incremental sync, re-embedding only what changed, crash safety, locking."""

from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest

from index import IndexBusyError, build_index, list_documents, remove_document, sample_report
from index.build import build_lock
from index.parse import doc_id_for
from index.store import IndexStore
from tests.conftest import lenient_answer_model


@pytest.fixture
def reports(tmp_path):
    """A folder with the sample report and a small second report."""
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(sample_report(), folder / "taiyuan.txt")
    (folder / "demo.txt").write_text(
        "示例市2026年政府工作报告\n\n二、2026年工作安排\n\n"
        "今年将新建城市书房25座，改造提升公园绿地12处。\n\n"
        "推进“智慧交通”。新增公交线路8条，优化路口信号配时300个。\n",
        encoding="utf-8",
    )
    return folder


def test_second_build_embeds_nothing(reports, settings, fake_embeddings):
    first = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert len(first.added) == 2 and first.chunks > 20
    assert first.embedded == first.chunks
    calls = fake_embeddings.embedded
    second = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert fake_embeddings.embedded == calls
    assert second.embedded == 0 and len(second.unchanged) == 2
    assert not second.added and not second.updated
    assert second.chunks == first.chunks


def _settle(*files, seconds_ago: int = 60) -> None:
    """Date ``files`` (every file of a folder) back: a file's stamp counts once it has settled."""
    past = time.time_ns() - seconds_ago * 10**9
    for file in files:
        for one in file.iterdir() if file.is_dir() else [file]:
            os.utime(one, ns=(past, past))


@pytest.fixture
def reads(monkeypatch) -> list:
    """The report files a build reads the bytes of (to hash or to parse them)."""
    import index.parse

    read, real = [], index.parse._read_raw

    def counted(path, limit):
        read.append(path.resolve())
        return real(path, limit)

    monkeypatch.setattr(index.parse, "_read_raw", counted)
    return read


def test_an_unchanged_file_is_not_even_hashed_again(reports, settings, fake_embeddings, reads):
    _settle(reports)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    reads.clear()
    second = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert reads == [] and len(second.unchanged) == 2
    # The same size, another text and time: read, and indexed anew.
    path = reports / "demo.txt"
    path.write_text(path.read_text("utf-8").replace("25座", "26座"), "utf-8")
    _settle(path, seconds_ago=30)
    third = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert set(reads) == {path.resolve()}
    assert third.updated == (str(path.resolve()),)


def test_a_new_parser_reads_stamped_files_again(
    reports, settings, fake_embeddings, reads, monkeypatch
):
    import index.parse

    _settle(reports)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    reads.clear()
    monkeypatch.setattr(index.parse, "PARSER_VERSION", b"999\0")
    report = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert len(set(reads)) == 2 and len(report.updated) == 2


def test_a_new_meta_file_beside_an_unchanged_report_is_read(
    reports, settings, fake_embeddings, reads
):
    _settle(reports)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    meta = reports / "demo.txt.meta.json"
    meta.write_text('{"region": "示例县"}', "utf-8")
    _settle(meta, seconds_ago=30)
    report = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert report.updated == (str((reports / "demo.txt").resolve()),)
    regions = {d.region for d in list_documents(settings)}
    assert "示例县" in regions


def test_a_file_changed_moments_ago_is_hashed_again(
    reports, settings, fake_embeddings, reads, monkeypatch
):
    # Written moments ago (here: within a day): another change within the same timestamp
    # tick would not show in its stamp, so none is recorded and the next build reads it.
    import index.parse

    monkeypatch.setattr(index.parse, "_SETTLED_NS", 86_400 * 10**9)
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    reads.clear()
    assert len(build_index([reports], settings=settings, embeddings=fake_embeddings).unchanged)
    assert len(set(reads)) == 2


def test_a_build_with_an_override_hashes_and_leaves_no_stamp(
    reports, settings, fake_embeddings, reads
):
    _settle(reports)
    path = reports / "demo.txt"
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    build_index([path], settings=settings, embeddings=fake_embeddings, override={"title": "X"})
    reads.clear()
    # Without the override the title is inferred again: the file must be read.
    report = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert report.updated == (str(path.resolve()),)
    assert path.resolve() in reads


def test_editing_one_paragraph_reembeds_only_that_passage(reports, settings, fake_embeddings):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    path = reports / "taiyuan.txt"
    text = path.read_text(encoding="utf-8")
    assert "新增养老床位2000张" in text
    path.write_text(text.replace("新增养老床位2000张", "新增养老床位2500张"), encoding="utf-8")
    fake_embeddings.calls.clear()
    report = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert report.updated == (str(path.resolve()),)
    assert report.embedded == 1
    passage, sentences = fake_embeddings.calls  # the passage, then its changed sentences
    assert len(passage) == 1 and "2500张" in passage[0]
    assert sentences and all("2500张" in s for s in sentences)


def test_interrupted_build_keeps_previous_index(reports, settings, fake_embeddings):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    before = IndexStore(settings).manifest_path.read_text(encoding="utf-8")
    (reports / "new.txt").write_text("今年将新建口袋公园30个。\n" * 3, encoding="utf-8")

    class Exploding(type(fake_embeddings)):
        def embed_documents(self, texts):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index([reports], settings=settings, embeddings=Exploding(size=64, calls=[]))
    assert IndexStore(settings).manifest_path.read_text(encoding="utf-8") == before
    assert {d.source for d in list_documents(settings)} == {
        str((reports / n).resolve()) for n in ("taiyuan.txt", "demo.txt")
    }
    after = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert after.added == (str((reports / "new.txt").resolve()),)


def test_unreadable_file_is_reported_and_the_rest_indexed(reports, settings, fake_embeddings):
    (reports / "broken.txt").write_bytes(b"\xff\xfe\x00\xd8" + bytes(range(128, 256)) * 3)
    report = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert [f.source for f in report.failed] == [str((reports / "broken.txt").resolve())]
    assert report.failed[0].reason and report.failed[0].reason_zh
    assert len(report.added) == 2


def test_missing_path_is_a_failure_not_a_crash(tmp_path, settings, fake_embeddings):
    report = build_index([tmp_path / "nope.txt"], settings=settings, embeddings=fake_embeddings)
    assert report.failed and report.chunks == 0


def test_deleted_file_is_removed_and_remove_by_id(reports, settings, fake_embeddings):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    (reports / "demo.txt").unlink()
    report = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert report.removed == (str((reports / "demo.txt").resolve()),)
    (doc,) = list_documents(settings)
    remove_document(doc.doc_id, settings=settings, embeddings=fake_embeddings)
    assert list_documents(settings) == []


def test_second_build_at_once_gets_a_clear_message(reports, settings, fake_embeddings):
    with build_lock(IndexStore(settings), wait=0), pytest.raises(IndexBusyError) as err:
        build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert "another build" in str(err.value)
    assert "索引" in err.value.message_zh


def test_build_report_json_shape(reports, settings, fake_embeddings):
    data = build_index([reports], settings=settings, embeddings=fake_embeddings).to_json()
    assert set(data) >= {"added", "updated", "unchanged", "removed", "failed", "chunks", "seconds"}
    json.dumps(data)


def test_rebuild_reembeds_everything_and_drops_other_files(reports, settings, fake_embeddings):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    fake_embeddings.calls.clear()
    report = build_index(
        [reports / "demo.txt"], settings=settings, embeddings=fake_embeddings, rebuild=True
    )
    assert report.removed == (str((reports / "taiyuan.txt").resolve()),)
    assert report.embedded == report.chunks > 0


_KILLED_BUILD = """
import sys, time
from langchain_core.embeddings import DeterministicFakeEmbedding
from index import build_index, Settings

class Slow(DeterministicFakeEmbedding):
    model_id: str = "fake-64"
    def embed_documents(self, texts):
        print("embedding", flush=True)
        time.sleep(60)

build_index([sys.argv[1]], settings=Settings.from_env(), embeddings=Slow(size=64))
"""


def test_killed_build_keeps_previous_index(reports, settings, fake_embeddings, tmp_path):
    import os
    import subprocess
    import sys

    from assistant import answer

    build_index([reports / "taiyuan.txt"], settings=settings, embeddings=fake_embeddings)
    before = IndexStore(settings).manifest_path.read_text(encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_BUILD, str(reports)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "REPORTQA_HOME": str(settings.home)},
    )
    try:
        assert proc.stdout.readline().strip() == "embedding"
    finally:
        proc.kill()
        proc.wait()
    assert IndexStore(settings).manifest_path.read_text(encoding="utf-8") == before
    result = answer(
        "今年新增多少养老床位",
        settings=settings,
        embeddings=fake_embeddings,
        answer_model=lenient_answer_model(),
    )
    assert result.found and "2000张" in result.text
    after = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert after.added == (str((reports / "demo.txt").resolve()),)


def test_repeated_text_is_embedded_once(settings, fake_embeddings, tmp_path):
    paragraph = "推进老旧小区改造，新增养老床位2000张，建设城市公园20个。"
    other = "新建高标准农田3.6万亩以上，城镇新增就业8万人。"
    report = tmp_path / "2025年某市政府工作报告.txt"
    report.write_text(
        "2025年某市政府工作报告\n\n一、工作安排\n" + f"{paragraph}\n{other}\n" * 50,
        encoding="utf-8",
    )
    built = build_index([report], settings=settings, embeddings=fake_embeddings)
    embedded = [t for call in fake_embeddings.calls for t in call]
    assert built.chunks > built.embedded  # the repeats are passages of their own …
    assert len(embedded) == len(set(embedded))  # … but each distinct text is embedded once
    assert {paragraph, other} <= set(embedded)


def _segment_ids(settings) -> dict[str, int]:
    """Passage id -> 1, over every segment folder of the home (each holds its vectors)."""
    from index.segments import PASSAGE_VECTORS_FILE, open_segment

    store = IndexStore(settings)
    out: dict[str, int] = {}
    for folder in store.segment_folder(".").iterdir():
        vectors = np.load(folder / PASSAGE_VECTORS_FILE, mmap_mode="r")
        assert len(vectors) == open_segment(folder).size
        out.update(dict.fromkeys(open_segment(folder).ids, 1))
    return out


def test_a_change_writes_only_what_changed(reports, settings, fake_embeddings, monkeypatch):
    import index.store

    monkeypatch.setattr(index.store, "RETIRED_GRACE_SECONDS", 0.0)
    demo = reports / "demo.txt"
    demo_id = doc_id_for(demo.resolve())
    demo.rename(reports / "demo.later")
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    before = set(_segment_ids(settings))
    written = []
    original = IndexStore._write_files

    def counting(self, generation, passages, *args, **kwargs):
        written.append([p for p, _ in passages])
        return original(self, generation, passages, *args, **kwargs)

    monkeypatch.setattr(IndexStore, "_write_files", counting)
    (reports / "demo.later").rename(demo)
    report = build_index([reports], settings=settings, embeddings=fake_embeddings)
    (new,) = written
    assert len(new) == report.chunks - len(before)  # only the new report's passages
    assert {p.doc_id for p in new} == {demo_id}
    after = set(_segment_ids(settings))
    assert before <= after and len(after) == report.chunks
    # Removed: its segment stays while the generation before may still be read, then goes.
    remove_document(str(demo), settings=settings, embeddings=fake_embeddings)
    assert set(_segment_ids(settings)) == after
    (reports / "demo.txt").unlink()
    (reports / "other.txt").write_text("某县2026年政府工作报告\n\n今年修路30公里。", "utf-8")
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert not {i for i in _segment_ids(settings) if i.startswith(f"{demo_id}:")}
    assert before <= set(_segment_ids(settings))


def _generation_by_passage(settings) -> dict[str, tuple]:
    """Passage id -> (passage, tokens, its sentence vectors) of the live generation."""
    store = IndexStore(settings)
    gen = store.read_manifest().generation
    stored = store.read_passages(gen)
    vectors = store.read_sentence_vectors(gen)
    out, row = {}, 0
    for (p, tokens), pid in zip(stored, store.read_ids(gen), strict=True):
        n = len(p.sentences)
        out[pid] = (p, tokens, vectors[row : row + n].tolist())
        row += n
    assert row == len(vectors)
    return out


def test_adding_and_removing_carry_the_rest_over_as_a_fresh_build_would(
    reports, settings, fake_embeddings, tmp_path, monkeypatch
):
    """A generation extended from the live one holds what a build from nothing holds:
    the same passages, each with its own sentence vectors and the same keyword scores."""
    import dataclasses

    from index import parse

    build_index([reports], settings=settings, embeddings=fake_embeddings)
    (reports / "park.txt").write_text(
        "示例县2026年政府工作报告\n\n一、工作安排\n\n今年将新建口袋公园30个，城市书房5座。\n",
        encoding="utf-8",
    )
    parsed = []
    original = parse.parse_file
    monkeypatch.setattr(
        parse, "parse_file", lambda p, *a, **k: parsed.append(p) or original(p, *a, **k)
    )
    added = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert [p.name for p in parsed] == ["park.txt"]  # the unchanged reports were not parsed
    assert len(added.added) == 1 and len(added.unchanged) == 2
    remove_document(str(reports / "demo.txt"), settings=settings, embeddings=fake_embeddings)

    (reports / "demo.txt").unlink()
    fresh = dataclasses.replace(settings, home=tmp_path / "fresh-home")
    build_index([reports], settings=fresh, embeddings=fake_embeddings)
    extended, scratch = _generation_by_passage(settings), _generation_by_passage(fresh)
    assert extended.keys() == scratch.keys()
    for pid, (passage, tokens, vectors) in extended.items():
        assert (passage, tokens) == scratch[pid][:2]
        np.testing.assert_allclose(vectors, scratch[pid][2], atol=1e-3)  # float16 on disk
    query = ["口袋", "公园", "养老", "床位"]
    assert _keyword_scores(settings, query) == pytest.approx(_keyword_scores(fresh, query))


def _keyword_scores(settings, query: list[str]) -> dict[str, float]:
    """Passage id -> the BM25 score a retriever of the live generation gives ``query``."""
    from assistant.retrieval import Retriever

    retriever = Retriever(settings, None, IndexStore(settings).read_manifest())
    scores = retriever.bm25.scores(query)
    assert not scores[retriever.index.doc_code < 0].any()  # removed passages score nothing
    return {pid: float(scores[row]) for pid, row in retriever.index.row_of.items()}


def _as_earlier_layout(store: IndexStore, generation: str, *, keyword_files: bool) -> None:
    """Turn a generation of one segment into what builds before segments wrote: its files
    in the generation's folder (float16 sentence vectors, no offsets nor parts), without
    the per-passage ids and keyword arrays when not ``keyword_files`` (older still), and
    the passage vectors in the home's Chroma collection."""
    from index import segments

    ((segment, _),) = store.segments_of(generation)
    opened = segments.open_segment(segment)
    collection = store.collection(store.read_manifest().collection, create=True)
    collection.add(ids=opened.ids, embeddings=np.array(opened.passage_vectors()))
    folder = store.generations / generation
    names = [segments.PASSAGES_FILE, segments.COUNTS_FILE]
    if keyword_files:
        names.append(segments.IDS_FILE)
        shutil.copytree(segment / segments.BM25_FOLDER, folder / segments.BM25_FOLDER)
    for name in names:
        shutil.copy(segment / name, folder / name)
    vectors = np.load(segment / segments.VECTORS_FILE).astype(np.float16)
    np.save(folder / segments.OLD_VECTORS_FILE, vectors)
    (folder / segments.SEGMENTS_FILE).unlink()
    shutil.rmtree(store.home / "segments")


@pytest.mark.parametrize("keyword_files", [True, False])
def test_an_index_of_an_earlier_layout_answers_and_is_rewritten_once(
    reports, settings, fake_embeddings, keyword_files
):
    """A home built before segments still answers as it did; it cannot be extended, so
    the next build writes the whole index anew (from the cache), then extends it."""
    from assistant.retrieval import Retriever

    def found(query: str) -> list[tuple]:
        retriever = Retriever(settings, fake_embeddings, store.read_manifest())
        hits = retriever.search(query, None, k=8, per_doc=2)
        return [(h.passage, h.part, h.keyword, h.sentence_sims) for h in hits]

    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    old = store.read_manifest().generation
    before = found("今年新增多少养老床位")
    _as_earlier_layout(store, old, keyword_files=keyword_files)
    assert not store.can_extend(store.read_manifest(), fake_embeddings.model_id)
    assert found("今年新增多少养老床位") == before
    again = build_index([reports], settings=settings, embeddings=fake_embeddings)
    new = store.read_manifest().generation
    assert new != old and again.embedded == 0 and len(again.unchanged) == 2
    assert store.can_extend(store.read_manifest(), fake_embeddings.model_id)
    assert found("今年新增多少养老床位") == before
    third = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert store.read_manifest().generation == new and len(third.unchanged) == 2


_NO_CHROMA = """
import sys
from langchain_core.embeddings import DeterministicFakeEmbedding
from index import build_index, Settings
from assistant import answer

class Fake(DeterministicFakeEmbedding):
    model_id: str = "fake-64"

settings, fake = Settings.from_env(), Fake(size=64)
build_index([sys.argv[1]], settings=settings, embeddings=fake)
answer("今年新增多少养老床位", settings=settings, embeddings=fake)
print("chromadb" in sys.modules)
"""


def test_an_embedded_home_builds_and_answers_without_importing_chromadb(reports, settings):
    # Importing chromadb took 1-2.6 s of every build and start-up, and its collection
    # loaded every vector: an embedded home keeps its vectors in its segments.
    import os
    import subprocess
    import sys

    env = {**os.environ, "REPORTQA_HOME": str(settings.home)}
    env.pop("REPORTQA_CHROMA_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _NO_CHROMA, str(reports)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "False"
