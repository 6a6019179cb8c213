"""Segment files through the Chroma server's files collection, against an in-memory one."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from index.errors import IndexChangedError
from index.shared import SharedIndex


class MemoryCollection:
    """What SharedIndex uses of a Chroma collection: upsert and get by id, thread-safe."""

    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.lock = threading.Lock()

    def upsert(self, ids, metadatas, embeddings=None, documents=None):
        with self.lock:
            self.records.update(zip(ids, metadatas, strict=True))

    def get(self, ids, include=()):
        with self.lock:
            found = [i for i in ids if i in self.records]
            return {"ids": found, "metadatas": [self.records[i] for i in found]}


class MemoryClient:
    def __init__(self) -> None:
        self.collections: dict[str, MemoryCollection] = {}

    def get_or_create_collection(self, name, embedding_function=None):
        return self.collections.setdefault(name, MemoryCollection())


def _segment(folder):
    folder.mkdir()
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 16)).astype(np.float16).astype(np.float32)
    np.save(folder / "sentences-f32.npy", vectors)
    (folder / "passages.jsonl").write_text("今年新增养老床位2000张。\n" * 500, "utf-8")
    (folder / "sentences-pq4.faiss").write_bytes(rng.bytes(5000))
    (folder / "bm25").mkdir()
    (folder / "bm25" / "empty.npy").write_bytes(b"")
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_segment_arrives_whole_in_pieces(tmp_path, small_pieces):
    index = SharedIndex(MemoryClient(), "rqs-test")
    sent = _segment(tmp_path / "seg-1")
    index.send_segment(tmp_path / "seg-1")
    index.fetch_segment("seg-1", tmp_path / "copy")
    copy = tmp_path / "copy"
    assert {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()} == sent


def test_a_piece_gone_meanwhile_voids_the_copy_and_leaves_nothing(tmp_path, small_pieces):
    index = SharedIndex(MemoryClient(), "rqs-test")
    _segment(tmp_path / "seg-1")
    index.send_segment(tmp_path / "seg-1")
    records = index.files.records
    del records[next(i for i in records if i.startswith("seg-1/sentences-f32.npy/"))]
    with pytest.raises(IndexChangedError):
        index.fetch_segment("seg-1", tmp_path / "copy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seg-1"]  # no copy, no leftovers
