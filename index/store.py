"""On-disk layout of an index: manifest, passage generations and the Chroma collections.

Every build writes a new *generation* (a passages file and a Chroma collection) and only
then swaps ``manifest.json`` atomically; a build that dies half-way leaves the old
manifest, and so the old index, untouched. The generation before the current one is kept
so that readers which opened it moments ago can finish their query.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from index.model import Document, Passage
from index.settings import Settings

MANIFEST_FORMAT = 1
_ADD_BATCH = 256


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` says: the live generation and its documents."""

    generation: str
    collection: str
    model_id: str
    documents: tuple[Document, ...]
    passage_counts: dict[str, int]
    previous: str | None = None

    def to_json(self) -> dict:
        return {
            "format": MANIFEST_FORMAT,
            "generation": self.generation,
            "collection": self.collection,
            "model_id": self.model_id,
            "previous": self.previous,
            "documents": [
                {**asdict(d), "passages": self.passage_counts.get(d.doc_id, 0)}
                for d in self.documents
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        docs, counts = [], {}
        for raw in data["documents"]:
            counts[raw["doc_id"]] = raw.pop("passages", 0)
            docs.append(Document(**raw))
        return cls(
            generation=data["generation"],
            collection=data["collection"],
            model_id=data["model_id"],
            documents=tuple(docs),
            passage_counts=counts,
            previous=data.get("previous"),
        )


def _passage_to_json(p: Passage, tokens: list[str]) -> dict:
    return {**asdict(p), "tokens": tokens}


def passage_from_json(raw: dict) -> tuple[Passage, list[str]]:
    """Inverse of the passages-file line format: the passage and its BM25 tokens."""
    tokens = raw.pop("tokens")
    raw["sentences"] = tuple(tuple(s) for s in raw["sentences"])
    return Passage(**raw), tokens


def passage_id(p: Passage) -> str:
    """Chroma id of a passage: unique within a generation and stable across builds."""
    return f"{p.doc_id}:{p.paragraph}:{p.start}"


class IndexStore:
    """Reads and writes one index home (``Settings.home``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home
        self.manifest_path = self.home / "manifest.json"
        self.generations = self.home / "generations"
        self._client = None

    @property
    def lock_path(self) -> Path:
        return self.home / "build.lock"

    @property
    def cache_path(self) -> Path:
        return self.home / "embeddings.sqlite"

    def read_manifest(self) -> Manifest | None:
        """The live manifest, or ``None`` when nothing was built yet."""
        try:
            data = json.loads(self.manifest_path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        return Manifest.from_json(data)

    def passages_path(self, generation: str) -> Path:
        return self.generations / generation / "passages.jsonl"

    def sentences_path(self, generation: str) -> Path:
        return self.generations / generation / "sentences.npy"

    def read_sentence_vectors(self, generation: str):
        """The generation's sentence vectors (memory-mapped), or ``None`` if it has none."""
        import numpy as np

        path = self.sentences_path(generation)
        return np.load(path, mmap_mode="r") if path.exists() else None

    def read_passages(self, generation: str) -> list[tuple[Passage, list[str]]]:
        """All passages of a generation with their tokens, in stored order."""
        with self.passages_path(generation).open(encoding="utf-8") as fh:
            return [passage_from_json(json.loads(line)) for line in fh]

    def client(self):
        """The Chroma client: a server when ``chroma_url`` is set, else embedded on disk."""
        if self._client is None:
            self._client = _open_client(self.settings)
        return self._client

    def vectorstore(self, collection: str, embeddings, create: bool = False):
        """A langchain Chroma store over ``collection`` with our embedding function."""
        from langchain_chroma import Chroma

        return Chroma(
            collection_name=collection,
            embedding_function=embeddings,
            client=self.client(),
            collection_configuration={"hnsw": {"space": "cosine"}},
            create_collection_if_not_exists=create,
        )

    def write_generation(
        self,
        documents: Iterable[Document],
        passages: list[tuple[Passage, list[str]]],
        embeddings,
        previous: Manifest | None,
        sentence_vectors: list[list[float]] | None = None,
    ) -> Manifest:
        """Write passages and vectors as a new generation, then make it live.

        ``sentence_vectors`` holds one vector per sentence of ``passages`` in stored order;
        they are kept as float16 (half the size, and cosine ranks do not change).
        """
        documents = tuple(documents)
        generation = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        path = self.passages_path(generation)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for p, tokens in passages:
                fh.write(json.dumps(_passage_to_json(p, tokens), ensure_ascii=False) + "\n")
        if sentence_vectors:
            import numpy as np

            with self.sentences_path(generation).open("wb") as fh:
                np.save(fh, np.asarray(sentence_vectors, dtype=np.float16))
        collection = f"rq-{_home_tag(self.home)}-{generation}"
        self._fill_collection(collection, documents, [p for p, _ in passages], embeddings)
        counts: dict[str, int] = {}
        for p, _ in passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        manifest = Manifest(
            generation=generation,
            collection=collection,
            model_id=embeddings.model_id,
            documents=documents,
            passage_counts=counts,
            previous=previous.generation if previous else None,
        )
        _atomic_write(self.manifest_path, json.dumps(manifest.to_json(), ensure_ascii=False))
        return manifest

    def _fill_collection(self, name, documents, passages, embeddings) -> None:
        by_id = {d.doc_id: d for d in documents}
        store = self.vectorstore(name, embeddings, create=True)
        for i in range(0, len(passages), _ADD_BATCH):
            batch = passages[i : i + _ADD_BATCH]
            store.add_texts(
                [p.text for p in batch],
                metadatas=[_chroma_metadata(p, by_id[p.doc_id]) for p in batch],
                ids=[passage_id(p) for p in batch],
            )

    def collect_garbage(self, manifest: Manifest | None) -> None:
        """Drop generations and collections that neither the live nor the previous one use."""
        keep = {manifest.generation, manifest.previous} if manifest else set()
        tag = f"rq-{_home_tag(self.home)}-"
        with contextlib.suppress(Exception):
            for col in self.client().list_collections():
                name = getattr(col, "name", col)
                if name.startswith(tag) and name[len(tag) :] not in keep:
                    self.client().delete_collection(name)
        if self.generations.is_dir():
            for gen in self.generations.iterdir():
                if gen.name not in keep:
                    shutil.rmtree(gen, ignore_errors=True)


def _chroma_metadata(p: Passage, doc: Document) -> dict:
    return {
        "doc_id": p.doc_id,
        "region": doc.region,
        "year": doc.year or 0,
        "section": p.section,
        "paragraph": p.paragraph,
    }


def _home_tag(home: Path) -> str:
    return hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _open_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.home.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.home / "chroma"), settings=chroma_settings)
