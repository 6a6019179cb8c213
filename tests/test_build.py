"""Index builds: incremental sync, re-embedding only what changed, crash safety, locking."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time

import numpy as np
import pytest

from index import IndexBusyError, build_index, list_documents, remove_document, sample_report
from index.build import build_lock
from index.parse import doc_id_for
from index.store import RETIRED_GRACE_SECONDS, IndexStore
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
    # one batch: the passage (the longest text, first), then its changed sentences
    ((passage, *sentences),) = fake_embeddings.calls
    assert "2500张" in passage and passage in text.replace("2000张", "2500张")
    assert sentences and all("2500张" in s and s in passage and s != passage for s in sentences)


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


def _record_ids(settings, model_id: str) -> dict[str, set[str]]:
    """Per collection kind, the ids of the index's records in Chroma."""
    from index.store import close_client, open_client

    client = open_client(settings)
    try:
        records = IndexStore(settings).records(model_id, client)
        units = {i for c in records.unit_collections() for i in c.get(include=[])["ids"]}
        stored = {
            k: set(getattr(records, k).get(include=[])["ids"]) for k in ("passages", "reports")
        }
        return {**stored, "units": units}
    finally:
        close_client(settings, client)


def test_a_change_writes_only_what_changed(reports, settings, fake_embeddings, monkeypatch):
    from index.records import Records

    demo = reports / "demo.txt"
    demo_id = doc_id_for(demo.resolve())
    demo.rename(reports / "demo.later")
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    model = fake_embeddings.model_id
    before = _record_ids(settings, model)
    written = []
    original = Records.add_report
    monkeypatch.setattr(
        Records,
        "add_report",
        lambda self, doc, *a, **k: written.append(doc) or original(self, doc, *a, **k),
    )
    (reports / "demo.later").rename(demo)
    report = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert [d.doc_id for d in written] == [demo_id]  # only the new report's records
    after = _record_ids(settings, model)
    assert all(before[k] <= after[k] for k in before)
    assert len(after["passages"]) == report.chunks and len(after["reports"]) == 2
    assert {i.partition("@")[0] for i in after["passages"] - before["passages"]} == {demo_id}
    # Removed: its records stay while the manifest before may still be read, then go.
    remove_document(str(demo), settings=settings, embeddings=fake_embeddings)
    assert _record_ids(settings, model) == after
    (reports / "demo.txt").unlink()
    (reports / "other.txt").write_text("某县2026年政府工作报告\n\n今年修路30公里。", "utf-8")
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    final = _record_ids(settings, model)
    assert not {i for k in final for i in final[k] if i.startswith(f"{demo_id}@")}
    assert all(before[k] <= final[k] for k in before)


def _index_by_passage(settings, embeddings) -> dict[str, tuple]:
    """Record id -> (passage, part, its sentence vectors) of the live index."""
    from assistant.retrieval import Retriever

    retriever = Retriever(settings, embeddings, IndexStore(settings).read_manifest())
    try:
        out = {}
        for row in range(retriever.index.rows):
            units = retriever.vectors.units_of(row).tolist()
            part = retriever.index.parts[row]
            out[retriever.index.record_id(row)] = (retriever.passage(row), part, units)
        return out
    finally:
        retriever.close()


def test_adding_and_removing_keep_the_rest_as_a_fresh_build_would(
    reports, settings, fake_embeddings, tmp_path, monkeypatch
):
    """An index changed report by report holds what a build from nothing holds: the same
    passages, each with its own sentence vectors and the same keyword scores."""
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
    changed = _index_by_passage(settings, fake_embeddings)
    scratch = _index_by_passage(fresh, fake_embeddings)
    assert changed.keys() == scratch.keys()
    for pid, (passage, part, vectors) in changed.items():
        assert (passage, part) == scratch[pid][:2]
        np.testing.assert_allclose(vectors, scratch[pid][2], atol=1e-3)
    query = ["口袋", "公园", "养老", "床位"]
    assert _keyword_scores(settings, query) == pytest.approx(_keyword_scores(fresh, query))


def _keyword_scores(settings, query: list[str]) -> dict[str, float]:
    """Record id -> the BM25 score a retriever of the live index gives ``query``."""
    from assistant.retrieval import Retriever

    retriever = Retriever(settings, None, IndexStore(settings).read_manifest())
    scores = retriever.bm25.scores(query)
    retriever.close()
    return {retriever.index.record_id(row): float(scores[row]) for row in range(len(scores))}


def _earlier_manifest(store: IndexStore) -> dict:
    """The live manifest as an earlier version wrote it: no checksum, no shard sums."""
    manifest = json.loads(store.manifest_path.read_text("utf-8"))
    del manifest["checksum"]
    for entry in manifest["documents"]:
        del entry["shard_sha256"]
    return manifest


def _as_format_one(store: IndexStore) -> None:
    """Make the home look as the previous layout left it: a manifest of format 1, its
    segment and generation folders, its vectors not in this layout's collections (the
    embedding cache is kept, as it was)."""
    manifest = _earlier_manifest(store)
    manifest |= {"format": 1, "collection": "rqs-0a1b2c3d-5e6f7a8b"}
    store.manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    from index.store import close_client, open_client

    client = open_client(store.settings)
    for collection in client.list_collections():
        client.delete_collection(collection.name)
    client.create_collection("rqs-0a1b2c3d-5e6f7a8b", embedding_function=None)
    close_client(store.settings, client)
    shutil.rmtree(store.shards)
    for name in ("generations", "segments"):
        (store.home / name / "20260101T000000-00000000").mkdir(parents=True)


def _as_format_two(store: IndexStore) -> None:
    """Make the home look as format 2 left it: a manifest of format 2, a folder per shard,
    and report records whose documents are passage lines with their tokens (no counts)."""
    manifest = _earlier_manifest(store)
    manifest["format"] = 2
    store.manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    from index.store import close_client, open_client

    client = open_client(store.settings)
    records = store.records(manifest["model_id"], client)
    got = records.reports.get(include=["documents"])
    for name, text in zip(got["ids"], got["documents"], strict=True):
        lines = text.split("\n")[:-1]
        records.reports.upsert(ids=[name], embeddings=[[0.0]], documents=["\n".join(lines)])
    close_client(store.settings, client)
    for shard in list(store.shards.iterdir()):
        folder = shard.with_suffix("")
        folder.mkdir()
        shard.rename(folder / "passages.jsonl")


def _as_format_two_elsewhere(store: IndexStore) -> None:
    """Format 2 with the sentence vectors in a collection this layout does not read (as a
    development layout kept them): an upgrade must write them again."""
    _as_format_two(store)
    from index.store import close_client, open_client

    model_id = json.loads(store.manifest_path.read_text("utf-8"))["model_id"]
    client = open_client(store.settings)
    for collection in store.records(model_id, client).unit_collections():
        ids = collection.get(include=[])["ids"]
        if ids:
            collection.delete(ids=ids)
    close_client(store.settings, client)


@pytest.mark.parametrize("earlier", [_as_format_one, _as_format_two, _as_format_two_elsewhere])
def test_a_home_of_an_earlier_layout_is_upgraded_once_from_the_cache(
    reports, settings, fake_embeddings, earlier, monkeypatch
):
    """A home of an earlier format asks for a build rather than answering from files this
    version no longer reads; its first build writes every report again without computing
    a vector, says so, and then answers as before."""
    from assistant import answer
    from index.store import IndexOutdatedError

    def asked() -> tuple:
        found = answer(
            "今年新增多少养老床位",
            settings=settings,
            embeddings=fake_embeddings,
            answer_model=lenient_answer_model(),
        )
        # The answer and what it cites; not the fused search scores: the sentence vectors
        # written again make a new approximate (HNSW) graph, whose ranks of near ties may
        # differ by one place (0.04918 once became 0.04866 in a full run).
        return found.text, tuple(dataclasses.replace(c, score=0.0) for c in found.citations)

    build_index([reports], settings=settings, embeddings=fake_embeddings)
    before = asked()
    store = IndexStore(settings)
    earlier(store)
    with pytest.raises(IndexOutdatedError):
        asked()
    assert len(list_documents(settings)) == 2  # still listed as indexed
    fake_embeddings.calls.clear()
    import index.records

    written = []
    original = index.records._upsert
    monkeypatch.setattr(index.records, "_upsert", lambda *a: written.append(a) or original(*a))
    again = build_index([reports / "demo.txt"], settings=settings, embeddings=fake_embeddings)
    assert again.upgraded and again.embedded == 0 and not fake_embeddings.calls
    # Vectors a format-2 home holds are kept: only the report records are written again.
    assert bool(written) == (earlier is not _as_format_two)
    assert len(list_documents(settings)) == 2 and not again.removed
    assert (
        not (settings.home / "segments").exists() and not (settings.home / "generations").exists()
    )
    assert asked() == before
    third = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert not third.upgraded and len(third.unchanged) == 2
    # What the earlier layout kept of the shards goes at a build once no reader can use it.
    aged = time.time() - RETIRED_GRACE_SECONDS - 1
    for entry in store.shards.iterdir():
        os.utime(entry, (aged, aged))
    (reports / "more.txt").write_text("示例区2026年政府工作报告\n\n新建公园3个。\n", "utf-8")
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    kept = sorted(e.name.partition(".")[2] for e in store.shards.iterdir())
    assert kept == ["figures.json"] * 3 + ["jsonl"] * 3  # each report's shard and figures
