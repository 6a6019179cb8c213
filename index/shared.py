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

import pybase64

from index.errors import IndexBusyError, IndexChangedError, ReportQAError
from index.segments import (
    PASSAGE_QUANTIZED_FILE,
    PASSAGE_VECTORS_FILE,
    QUANTIZED_FILE,
    VECTORS_FILE,
    SegmentRef,
)

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
# Requests in flight while copying a segment: the server prepares one answer while this
# process decodes another.
_FETCHES = 4
# How a file travels: after a header of ``head`` bytes (kept in the segment's record), in
# pieces of ``piece`` bytes of the file, each encoded on its own, so that a reader decodes
# and writes each piece where it belongs as it arrives, in several threads at once.
# Vectors hold float16 values as float32 (see index.segments): they travel as float16,
# half the bytes. Quantized codes do not compress; text and keyword arrays do.
_RAW = "raw"
_ZLIB = "zlib-pieces"
_HALF = "half-pieces"
_PIECE_BYTES = {_RAW: CHUNK_BYTES, _ZLIB: 2 * CHUNK_BYTES, _HALF: 2 * CHUNK_BYTES}
# Segments sent before pieces travelled as one stream, coded as a whole.
_OLD_HALF, _OLD_ZLIB = "half", "zlib"


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
        listing, batch = [], []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            file = path.relative_to(folder).as_posix()
            codec = _codec(path)
            piece = _PIECE_BYTES[codec]
            with path.open("rb") as fh:
                head = _npy_header(fh) if codec == _HALF else b""
                parts = 0
                while data := fh.read(piece):
                    batch.append((_chunk_id(folder.name, file, parts), _encode(codec, data)))
                    parts += 1
                    if len(batch) == _CHUNKS_PER_CALL:
                        self._send_chunks(folder.name, batch)
                        batch = []
            entry = {"file": file, "codec": codec, "parts": parts, "piece": piece}
            listing.append({**entry, "head": pybase64.b64encode(head).decode("ascii")})
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
                {"segment": segment, "data": pybase64.b64encode(piece).decode("ascii")}
                for _, piece in batch
            ],
            embeddings=[_NOWHERE] * len(batch),
        )

    def fetch_segment(self, name: str, folder: Path) -> None:
        """Copy segment ``name`` into ``folder`` (which must not exist), whole or not at all.

        Raises:
            IndexChangedError: The segment was dropped from the server meanwhile.
        """
        from concurrent.futures import ThreadPoolExecutor

        found = self.files.get(ids=[segment_record(name)], include=["metadatas"])
        if not found["ids"]:
            raise IndexChangedError(KeyError(f"segment {name} is gone from the server"))
        tmp = folder.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        entries = json.loads(found["metadatas"][0]["files"])
        try:
            # The files close only after the pool has stopped: no fetch writes to a closed
            # (or reused) descriptor when another one failed.
            with contextlib.ExitStack() as files, ThreadPoolExecutor(_FETCHES) as pool:
                tasks = []
                for entry in entries:
                    file, codec, piece, head = _pieces(entry)
                    target = tmp / file
                    target.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    files.callback(os.close, fd)
                    os.pwrite(fd, head, 0)
                    for start in range(0, entry["parts"], _CHUNKS_PER_CALL):
                        parts = range(start, min(start + _CHUNKS_PER_CALL, entry["parts"]))
                        ids = [_chunk_id(name, entry["file"], k) for k in parts]
                        at = [len(head) + k * piece for k in parts]
                        tasks.append(pool.submit(self._fetch_chunks, ids, at, codec, fd))
                try:
                    for task in tasks:
                        task.result()  # raises the first failure
                except BaseException:
                    pool.shutdown(cancel_futures=True)  # the copy is void: fetch no more
                    raise
            for entry in entries:
                if _fetched_whole(entry):
                    _decode_stream(entry["codec"], tmp / (entry["file"] + ".part"))
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _fetch_chunks(self, ids: list[str], offsets: list[int], codec: str, fd: int) -> None:
        """Decode the chunks ``ids`` and write each at its offset of ``fd``."""
        got = self.files.get(ids=ids, include=["metadatas"])
        by_id = dict(zip(got["ids"], got["metadatas"], strict=True))
        for i, offset in zip(ids, offsets, strict=True):
            if i not in by_id:
                raise IndexChangedError(KeyError(f"{i} is gone from the server"))
            data = pybase64.b64decode(by_id[i]["data"], validate=True)
            os.pwrite(fd, _decode(codec, data), offset)

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


def _codec(path: Path) -> str:
    if path.name in (VECTORS_FILE, PASSAGE_VECTORS_FILE):
        return _HALF
    return _RAW if path.name in (QUANTIZED_FILE, PASSAGE_QUANTIZED_FILE) else _ZLIB


def _fetched_whole(entry: dict) -> bool:
    """Whether a file of a segment's record was sent as one stream coded as a whole
    (before pieces): it is fetched into ``FILE.part`` and decoded once there."""
    return "piece" not in entry and entry["codec"] in (_OLD_HALF, _OLD_ZLIB)


def _pieces(entry: dict) -> tuple[str, str, int, bytes]:
    """(file to write, the codec of its pieces, bytes of the file a piece holds, its
    header) of one file of a segment's record. A file sent as one stream travelled in
    chunks of CHUNK_BYTES of that stream, as they are."""
    if "piece" in entry:
        head = pybase64.b64decode(entry["head"], validate=True)
        return entry["file"], entry["codec"], entry["piece"], head
    return entry["file"] + (".part" if _fetched_whole(entry) else ""), _RAW, CHUNK_BYTES, b""


def _npy_header(fh) -> bytes:
    """The header of the .npy file open in ``fh``, which is left at the first value."""
    start = fh.read(8)  # b"\x93NUMPY", then the format's major and minor version
    width = 2 if start[6] == 1 else 4  # bytes that give the header's length
    size = fh.read(width)
    return start + size + fh.read(int.from_bytes(size, "little"))


def _encode(codec: str, data: bytes) -> bytes:
    import numpy as np

    if codec == _HALF:
        return np.frombuffer(data, "<f4").astype("<f2").tobytes()
    return zlib.compress(data, 1) if codec == _ZLIB else data


def _decode(codec: str, data: bytes) -> bytes:
    import numpy as np

    if codec == _HALF:
        return np.frombuffer(data, "<f2").astype("<f4").tobytes()
    return zlib.decompress(data) if codec == _ZLIB else data


def _decode_stream(codec: str, received: Path) -> None:
    """Decode a file of a segment sent as one stream into its own name."""
    import numpy as np

    target = received.with_name(received.name.removesuffix(".part"))
    if codec == _OLD_ZLIB:
        target.write_bytes(zlib.decompress(received.read_bytes()))
    else:
        with target.open("wb") as fh:
            np.save(fh, np.load(received).astype(np.float32))
    received.unlink()
