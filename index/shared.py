"""An index kept in a Chroma server, so that every machine pointed at it shares it.

With ``REPORTQA_CHROMA_URL`` set, the server holds everything a reader needs, and a home
(``REPORTQA_HOME``) is only a local copy of the live generation. Segments (see
:mod:`index.segments`: written once, never changed) travel to the server as their files,
cut into records of the files collection (``rqs-INDEX-files``): a reader copies the
segments its home lacks, file by file, and searches them as an embedded home does. The
meta collection (``rqs-INDEX-meta``) holds ``live``, the live manifest (one record, so a
new generation goes live for every reader at once); ``gen:GENERATION``, the segments of a
generation; and ``lock``, the build lock.

Files, not a record per passage: copying 10^5 passage records (text, tokens, sentence
vectors) to a new home took 104 s, their chunks take a fraction of it, and a build sends
its new segment (a few requests) instead of a record per passage and a list of every id.
A segment's own record, naming its files and their chunks, is written after them, so a
segment is on the server whole or not at all.

Builds on different machines exclude each other through the ``lock`` record: Chroma
ignores an ``add`` of an id it holds, so the first writer of ``lock`` owns it, and a
delete conditioned on its owner's token cannot remove another build's lock.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import shutil
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

from index.errors import IndexBusyError, IndexChangedError, ReportQAError
from index.segments import VECTORS_FILE, SegmentRef

LIVE = "live"
LOCK = "lock"
# A build refreshes its lock every LOCK_TTL / 3 seconds; a killed build's lock is taken
# over once it has not been refreshed for LOCK_TTL.
LOCK_TTL = 60.0
_NOWHERE = [0.0]  # records need a vector; these are never searched
# Bytes of a file per record, and records per request: measured against `chroma run` on
# loopback, records of 4 MB went up at 3 MB/s and down at 19 MB/s, of 64 KB at 8-9 and
# 45 MB/s (the server indexes every metadata string).
CHUNK_BYTES = 64 * 1024
_CHUNKS_PER_CALL = 100
# The sentence vectors hold float16 values as float32 (see index.segments): they travel
# as float16, half the bytes. Text and keyword arrays travel compressed; vectors do not
# compress.
_HALF = "half"
_ZLIB = "zlib"


def generation_record(generation: str) -> str:
    return f"gen:{generation}"


def segment_record(name: str) -> str:
    return f"seg:{name}"


def _chunk_id(segment: str, file: str, part: int) -> str:
    return f"{segment}/{file}/{part}"


class OldServerIndexError(ReportQAError):
    """The index on the Chroma server was written by a version before segments travelled."""


class SharedIndex:
    """The meta collection of one index on a Chroma server.

    Args:
        client: A chromadb ``HttpClient``.
        name: The collection name prefix of this index (``rqs-INDEX``).
    """

    def __init__(self, client, name: str) -> None:
        self.client = client
        self.name = name

    def _collection(self, kind: str):
        # No embedding function: Chroma's default would download an English model.
        return self.client.get_or_create_collection(f"{self.name}-{kind}", embedding_function=None)

    @functools.cached_property
    def meta(self):
        """The records of the index: live generation, generations, lock, segments."""
        return self._collection("meta")

    def read_live(self) -> str | None:
        """The live manifest's JSON text, or ``None`` before the first build."""
        found = self.meta.get(ids=[LIVE], include=["documents"])
        return found["documents"][0] if found["ids"] else None

    @functools.cached_property
    def files(self):
        """The segments' files, in chunks."""
        return self._collection("files")

    def record_generation(self, generation: str, refs: list[SegmentRef]) -> None:
        """Record a generation's segments (before they are sent, so that the clean-up after
        a build killed half-way knows them)."""
        data = json.dumps([r.to_json() for r in refs], ensure_ascii=False)
        self.meta.upsert(
            ids=[generation_record(generation)], metadatas=[{"refs": data}], embeddings=[_NOWHERE]
        )

    def publish(self, manifest: dict) -> None:
        """Make ``manifest``, whose generation was recorded, the live one."""
        doc = json.dumps(manifest, ensure_ascii=False)
        self.meta.upsert(ids=[LIVE], documents=[doc], embeddings=[_NOWHERE])

    def generations(self) -> list[str]:
        """Every generation with a recorded list of segments."""
        return [r[4:] for r in self.meta.get(include=[])["ids"] if r.startswith("gen:")]

    def generation_refs(self, generation: str) -> list[SegmentRef] | None:
        """The segments of ``generation``, ``None`` once it has been dropped.

        Raises:
            OldServerIndexError: The generation was written before segments travelled.
        """
        found = self.meta.get(ids=[generation_record(generation)], include=["metadatas"])
        if not found["ids"]:
            return None
        meta = found["metadatas"][0] or {}
        if "refs" not in meta:
            raise OldServerIndexError(
                f"the index {self.name} on the Chroma server was written by an earlier "
                "version of reportqa; rebuild it: reportqa index build --rebuild REPORTS",
                "向量库服务器上的索引由旧版本写入，请重建：reportqa index build --rebuild 报告目录",
            )
        return [SegmentRef.from_json(r) for r in json.loads(meta["refs"])]

    def send_segment(self, folder: Path) -> None:
        """Send the files of the segment in ``folder``, then its record."""
        import numpy as np

        listing, batch = [], []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            file = path.relative_to(folder).as_posix()
            if file == VECTORS_FILE:
                codec, data = _HALF, _npy_bytes(np.load(path).astype("<f2"))
            elif path.suffix == ".npy" and "f32" in path.name:
                codec, data = "", path.read_bytes()
            else:
                codec, data = _ZLIB, zlib.compress(path.read_bytes(), 1)
            parts = max(1, -(-len(data) // CHUNK_BYTES))
            listing.append({"file": file, "codec": codec, "parts": parts})
            for part in range(parts):
                piece = data[part * CHUNK_BYTES : (part + 1) * CHUNK_BYTES]
                batch.append((_chunk_id(folder.name, file, part), piece))
                if len(batch) == _CHUNKS_PER_CALL:
                    self._send_chunks(folder.name, batch)
                    batch = []
        if batch:
            self._send_chunks(folder.name, batch)
        record = {"segment": folder.name, "files": json.dumps(listing)}
        self.files.upsert(
            ids=[segment_record(folder.name)], metadatas=[record], embeddings=[_NOWHERE]
        )

    def _send_chunks(self, segment: str, batch: list[tuple[str, bytes]]) -> None:
        self.files.upsert(
            ids=[i for i, _ in batch],
            metadatas=[
                {"segment": segment, "data": base64.b64encode(piece).decode("ascii")}
                for _, piece in batch
            ],
            embeddings=[_NOWHERE] * len(batch),
        )

    def fetch_segment(self, name: str, folder: Path) -> None:
        """Copy segment ``name`` into ``folder`` (which must not exist), whole or not at all.

        Raises:
            IndexChangedError: The segment was dropped from the server meanwhile.
        """
        import numpy as np

        found = self.files.get(ids=[segment_record(name)], include=["metadatas"])
        if not found["ids"]:
            raise IndexChangedError(KeyError(f"segment {name} is gone from the server"))
        tmp = folder.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            for entry in json.loads(found["metadatas"][0]["files"]):
                target = tmp / entry["file"]
                target.parent.mkdir(parents=True, exist_ok=True)
                ids = [_chunk_id(name, entry["file"], k) for k in range(entry["parts"])]
                received = target.with_name(target.name + ".part")
                with received.open("wb") as fh:
                    for start in range(0, len(ids), _CHUNKS_PER_CALL):
                        got = self.files.get(
                            ids=ids[start : start + _CHUNKS_PER_CALL], include=["metadatas"]
                        )
                        by_id = dict(zip(got["ids"], got["metadatas"], strict=True))
                        for i in ids[start : start + _CHUNKS_PER_CALL]:
                            if i not in by_id:
                                raise IndexChangedError(KeyError(f"{i} is gone from the server"))
                            fh.write(base64.b64decode(by_id[i]["data"]))
                if entry["codec"] == _ZLIB:
                    target.write_bytes(zlib.decompress(received.read_bytes()))
                    received.unlink()
                elif entry["codec"] == _HALF:
                    with target.open("wb") as fh:
                        np.save(fh, np.load(received).astype(np.float32))
                    received.unlink()
                else:
                    received.rename(target)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def drop(self, generations: list[str], segments: set[str]) -> None:
        """Delete the records of ``segments`` and of ``generations``' lists."""
        for name in sorted(segments):
            self.files.delete(where={"segment": name})
        if generations:
            self.meta.delete(ids=[generation_record(g) for g in generations])

    @contextlib.contextmanager
    def lock(self, wait: float) -> Iterator[None]:
        """Hold the index's build lock across machines, or raise :class:`IndexBusyError`."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        while not self._take(token):
            if time.monotonic() >= deadline:
                raise IndexBusyError(
                    f"another build is running on the Chroma server's index {self.name}",
                    "另一个索引任务正在进行（共享的向量库），请稍后再试。",
                )
            time.sleep(0.2)
        done = threading.Event()
        beat = threading.Thread(target=self._refresh, args=(token, done), daemon=True)
        beat.start()
        try:
            yield
        finally:
            done.set()
            beat.join()
            with contextlib.suppress(Exception):  # a lost server's lock expires by itself
                self.meta.delete(ids=[LOCK], where={"token": token})

    def _take(self, token: str) -> bool:
        now = time.time()
        mine = {"token": token, "expires": now + LOCK_TTL}
        self.meta.add(ids=[LOCK], documents=[token], metadatas=[mine], embeddings=[_NOWHERE])
        held = self.meta.get(ids=[LOCK], include=["metadatas"])
        if not held["ids"]:
            return False  # released between the two calls: try again
        owner = held["metadatas"][0]
        if owner["token"] == token:
            return True
        if owner["expires"] < now:  # a killed build's: remove that one only, try again
            self.meta.delete(ids=[LOCK], where={"token": owner["token"]})
            return self._take(token)
        return False

    def _refresh(self, token: str, done: threading.Event) -> None:
        while not done.wait(LOCK_TTL / 3):
            with contextlib.suppress(Exception):
                held = self.meta.get(ids=[LOCK], include=["metadatas"])
                if held["ids"] and held["metadatas"][0]["token"] == token:
                    meta = {"token": token, "expires": time.time() + LOCK_TTL}
                    self.meta.update(ids=[LOCK], metadatas=[meta])


def _npy_bytes(array) -> bytes:
    import io

    import numpy as np

    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()
