"""An index kept in a Chroma server, so that every machine pointed at it shares it.

With ``REPORTQA_CHROMA_URL`` set, the server holds everything a reader needs, and a home
(``REPORTQA_HOME``) is only a local copy of the live generation:

- passage records (``rqs-INDEX-MODEL``): vector, text, and in their metadata the report,
  section, offsets, sentence offsets, keyword tokens and sentence vectors (float16, in
  base64: a record per sentence would make the server index vectors nobody searches);
- the meta collection (``rqs-INDEX-meta``): ``live``, the live manifest (one record, so a
  new generation goes live for every reader at once); ``gen:GENERATION``, the passage ids
  of a generation in order; ``lock``, the build lock.

A reader that finds a generation it has no copy of fetches only the passages its own
copy lacks and writes its copy locally (see :meth:`index.store.IndexStore.ensure_local`).
Builds on different machines exclude each other through the ``lock`` record: Chroma
ignores an ``add`` of an id it holds, so the first writer of ``lock`` owns it, and a
delete conditioned on its owner's token cannot remove another build's lock.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from index.errors import IndexBusyError
from index.model import Passage
from index.segments import passage_from_json, passage_to_json

if TYPE_CHECKING:
    import numpy as np

LIVE = "live"
LOCK = "lock"
# A build refreshes its lock every LOCK_TTL / 3 seconds; a killed build's lock is taken
# over once it has not been refreshed for LOCK_TTL.
LOCK_TTL = 60.0
_BATCH = 2000  # records per get: well under the server's request limits
_NOWHERE = [0.0]  # meta records need a vector; they are never searched


def generation_record(generation: str) -> str:
    return f"gen:{generation}"


def passage_metadata(p: Passage, tokens: list[str], sentence_vectors: np.ndarray) -> dict:
    """What a reader needs, beside the text (the record's document), to rebuild a passage,
    its keyword tokens and its sentence vectors: its line of ``passages.jsonl`` and the
    vectors."""
    import numpy as np

    line = passage_to_json(p, tokens)
    del line["text"]
    packed = np.ascontiguousarray(sentence_vectors, dtype="<f2").tobytes()
    return {
        "passage": json.dumps(line, ensure_ascii=False),
        "sentence_vectors": base64.b64encode(packed).decode("ascii"),
    }


def passage_from_record(text: str, meta: dict) -> tuple[Passage, list[str], np.ndarray]:
    """Inverse of the passage record: the passage, its keyword tokens, its sentence vectors."""
    import numpy as np

    passage, tokens = passage_from_json({**json.loads(meta["passage"]), "text": text})
    packed = np.frombuffer(base64.b64decode(meta["sentence_vectors"]), dtype="<f2")
    return passage, tokens, packed.reshape(len(passage.sentences), -1)


class SharedIndex:
    """The meta collection of one index on a Chroma server.

    Args:
        client: A chromadb ``HttpClient``.
        name: The collection name prefix of this index (``rqs-INDEX``).
    """

    def __init__(self, client, name: str) -> None:
        self.client = client
        self.name = name
        self._meta = None

    @property
    def meta(self):
        if self._meta is None:
            self._meta = self.client.get_or_create_collection(
                f"{self.name}-meta", embedding_function=None
            )
        return self._meta

    def read_live(self) -> str | None:
        """The live manifest's JSON text, or ``None`` before the first build."""
        found = self.meta.get(ids=[LIVE], include=["documents"])
        return found["documents"][0] if found["ids"] else None

    def record_generation(self, generation: str, ids: list[str]) -> None:
        """Record a generation's passage ids (before its vectors go in, so that the clean-up
        after a build killed half-way knows them)."""
        record = generation_record(generation)
        self.meta.upsert(ids=[record], documents=["\n".join(ids)], embeddings=[_NOWHERE])

    def publish(self, manifest: dict) -> None:
        """Make ``manifest``, whose generation was recorded, the live one."""
        doc = json.dumps(manifest, ensure_ascii=False)
        self.meta.upsert(ids=[LIVE], documents=[doc], embeddings=[_NOWHERE])

    def generations(self) -> list[str]:
        """Every generation with a recorded id list."""
        return [r[4:] for r in self.meta.get(include=[])["ids"] if r.startswith("gen:")]

    def generation_ids(self, generation: str) -> list[str] | None:
        """The passage ids of ``generation`` in order, ``None`` once it has been dropped."""
        found = self.meta.get(ids=[generation_record(generation)], include=["documents"])
        if not found["ids"]:
            return None
        text = found["documents"][0]
        return text.split("\n") if text else []

    def forget_generations(self, keep: set[str]) -> None:
        """Drop the id lists of every generation but ``keep``."""
        drop = [generation_record(g) for g in self.generations() if g not in keep]
        if drop:
            self.meta.delete(ids=drop)

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


def fetch_passages(collection, ids: list[str]):
    """The passages ``ids`` (with tokens) and their sentence vectors, from the server.

    Returns:
        ``(passages, vectors)``: one ``(Passage, tokens)`` per id in order, and their
        sentence vectors stacked in passage then sentence order.
    """
    import numpy as np

    out: list[tuple[Passage, list[str]]] = []
    rows: list[np.ndarray] = []
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        got = collection.get(ids=batch, include=["documents", "metadatas"])
        records = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        by_id = {i: passage_from_record(text, meta) for i, text, meta in records}
        for i in batch:
            passage, tokens, vectors = by_id[i]
            out.append((passage, tokens))
            rows.append(vectors)
    return out, (np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float16))
