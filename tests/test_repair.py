"""A damaged index says so, names the repair, and `reportqa index repair` makes it whole."""

from __future__ import annotations

import pytest

from index import (
    IndexCorruptError,
    build_index,
    check_index,
    repair_index,
)
from index.shards import open_shard
from index.store import IndexStore, close_client, open_client
from index.write import model_id_for
from ui.cli import main


def _open(settings, embeddings):
    """The live index opened afresh (no shard of an earlier test kept open)."""
    open_shard.cache_clear()
    store = IndexStore(settings)
    manifest = store.read_manifest()
    client = open_client(settings)
    try:
        records = store.records(model_id_for(settings, embeddings), client)
        index = store.open_index(manifest, records)
        return [index.passage(row).text for row in range(index.rows)]
    finally:
        close_client(settings, client)


def _two_builds(reports, settings, embeddings) -> None:
    build_index([reports], settings=settings, embeddings=embeddings)
    (reports / "park.txt").write_text(
        "示例县2026年政府工作报告\n\n一、工作安排\n\n今年将新建口袋公园30个。\n", "utf-8"
    )
    build_index([reports], settings=settings, embeddings=embeddings)


def test_a_damaged_manifest_is_named_and_restored_from_the_one_before(
    reports, settings, fake_embeddings, capsys, monkeypatch
):
    _two_builds(reports, settings, fake_embeddings)
    store = IndexStore(settings)
    store.manifest_path.write_text('{"format": 4, "generation": "2026', "utf-8")
    with pytest.raises(IndexCorruptError) as err:
        store.read_manifest()
    assert "reportqa index repair" in err.value.message_zh
    assert check_index(settings) == ["索引清单 manifest.json 无法读取"]
    monkeypatch.setenv("REPORTQA_HOME", str(settings.home))
    assert main(["index", "check"]) == 1
    assert "reportqa index repair" in capsys.readouterr().out
    done = repair_index(settings, fake_embeddings)
    assert done and "恢复" in done[0]
    assert check_index(settings) == []
    texts = _open(settings, fake_embeddings)  # the index before the last build, whole
    assert any("新增养老床位2000张" in t for t in texts)
    again = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert again.added  # the report of the lost build is indexed again


def test_a_manifest_with_no_good_one_before_asks_for_a_rebuild(reports, settings, fake_embeddings):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    store.manifest_path.write_text("garbage", "utf-8")
    with pytest.raises(IndexCorruptError) as err:
        repair_index(settings, fake_embeddings)
    assert "--rebuild" in err.value.message_zh
    rebuilt = build_index([reports], settings=settings, embeddings=fake_embeddings, rebuild=True)
    assert rebuilt.added and check_index(settings) == []


@pytest.mark.parametrize("damage", ["shard", "keywords"])
def test_a_truncated_file_is_named_and_made_again(reports, settings, fake_embeddings, damage):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    before = _open(settings, fake_embeddings)
    store = IndexStore(settings)
    manifest = store.read_manifest()
    if damage == "shard":
        path = store.shard_path(manifest.documents[0])
    else:
        path = settings.home / "keyword" / manifest.generation / "bm25" / "indptr.npy"
    data = path.read_bytes()
    path.unlink()  # a new file: the one a reader may have mapped stays whole for it
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError) as err:
        _open(settings, fake_embeddings)
    assert "reportqa index repair" in err.value.message_zh
    (problem,) = check_index(settings)
    assert ("段落文件" if damage == "shard" else "关键词索引") in problem
    assert repair_index(settings, fake_embeddings)
    assert check_index(settings) == [] and _open(settings, fake_embeddings) == before


def _changed_in_place(path, old: bytes, new: bytes) -> None:
    """A byte changed that still parses: what no read-back finds, only a checksum."""
    data = path.read_bytes()
    assert old in data and len(old) == len(new)
    path.unlink()  # a new file: the one a reader may have mapped stays whole for it
    path.write_bytes(data.replace(old, new, 1))


@pytest.mark.parametrize("damage", ["shard", "keywords"])
def test_a_changed_byte_that_still_parses_is_found_by_its_checksum(
    reports, settings, fake_embeddings, damage
):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    before = _open(settings, fake_embeddings)
    store = IndexStore(settings)
    manifest = store.read_manifest()
    if damage == "shard":
        doc = next(d for d in manifest.documents if b"2000" in store.shard_path(d).read_bytes())
        _changed_in_place(store.shard_path(doc), b"2000", b"9000")
        assert any("9000" in t for t in _open(settings, fake_embeddings))  # it still reads
    else:
        counts = settings.home / "keyword" / manifest.generation / "sentence_counts.npy"
        data = counts.read_bytes()
        _changed_in_place(counts, data[-4:], bytes([data[-4] ^ 1]) + data[-3:])
    (problem,) = check_index(settings)
    assert ("段落文件" if damage == "shard" else "关键词索引") in problem
    assert repair_index(settings, fake_embeddings)
    assert check_index(settings) == [] and _open(settings, fake_embeddings) == before


def test_a_manifest_changed_in_place_is_refused_and_restored(reports, settings, fake_embeddings):
    _two_builds(reports, settings, fake_embeddings)
    store = IndexStore(settings)
    text = store.manifest_path.read_text("utf-8")
    store.manifest_path.write_text(text.replace('"passages": ', '"passages": 1', 1), "utf-8")
    with pytest.raises(IndexCorruptError) as err:
        IndexStore(settings).read_manifest()
    assert "校验和不符" in err.value.message_zh
    assert check_index(settings) == ["索引清单 manifest.json 无法读取"]
    assert repair_index(settings, fake_embeddings) and check_index(settings) == []


def test_a_fetched_record_unlike_the_manifest_asks_for_a_rebuild(
    reports, settings, fake_embeddings
):
    build_index([reports], settings=settings, embeddings=fake_embeddings)
    store = IndexStore(settings)
    manifest = store.read_manifest()
    client = open_client(settings)
    try:
        records = store.records(manifest.model_id, client)
        got = records.reports.get(include=["documents", "embeddings"])
        name, text, vector = got["ids"][0], got["documents"][0], got["embeddings"][0]
        records.reports.upsert(ids=[name], embeddings=[vector], documents=[text + " "])
    finally:
        close_client(settings, client)
    for doc in manifest.documents:  # a new home: every shard comes from the records
        store.shard_path(doc).unlink()
    with pytest.raises(IndexCorruptError) as err:
        _open(settings, fake_embeddings)
    assert "校验和不符" in err.value.message_zh and "--rebuild" in err.value.message_zh


@pytest.mark.parametrize("kind", ["passages", "units"])
def test_zeroed_vectors_are_named_not_refused_in_silence(reports, settings, fake_embeddings, kind):
    import numpy as np

    from assistant import answer

    build_index([reports], settings=settings, embeddings=fake_embeddings)
    client = open_client(settings)
    try:
        for collection in client.list_collections():
            if kind in collection.name:
                got = collection.get(include=["embeddings"])
                if got["ids"]:
                    zeros = np.zeros((len(got["ids"]), len(got["embeddings"][0])), np.float32)
                    collection.update(ids=got["ids"], embeddings=zeros)
    finally:
        close_client(settings, client)
    with pytest.raises(IndexCorruptError) as err:
        answer("今年新增多少养老床位", settings=settings, embeddings=fake_embeddings)
    assert "全零向量" in err.value.message_zh and "--rebuild" in err.value.message_zh
    build_index([reports], settings=settings, embeddings=fake_embeddings, rebuild=True)
    again = answer("今年新增多少养老床位", settings=settings, embeddings=fake_embeddings)
    assert again.found and "2000张" in again.text
