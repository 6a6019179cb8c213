"""The manifest: which report versions make the live index, with what model, and the
sha256 of each of their shards; written with the sha256 of its own content."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from index.errors import IndexCorruptError
from index.model import Document
from index.shards import shard_name

# 4: vectors in Chroma, a shard file per report holding its BM25 counts, compressed (2
# kept tokens, which a new chat server counted again: 5 s at 10^5 passages). A home of an
# earlier format (1: our own segment files) is rebuilt by its next build from its
# embedding cache.
MANIFEST_FORMAT = 4


@dataclass(frozen=True)
class Manifest:
    """What the live manifest says: the generation, its model and its documents."""

    generation: str
    model_id: str
    documents: tuple[Document, ...]
    passage_counts: dict[str, int]
    previous: str | None = None
    # Each document's file stamp when it was hashed (see ``index.parse.file_stamp``): a
    # build does not read a file whose stamp is unchanged. Absent: hash it.
    stamps: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # Report versions the manifest before had and this one has not: their records stay
    # while that manifest may be read, and go at the next build.
    retired: tuple[str, ...] = ()
    # Written by an earlier version (its vectors are not in Chroma): rebuilt by a build.
    outdated: bool = False
    # The sha256 of each report version's shard, by shard name: `reportqa index check` and a
    # new home's fetched records are verified against it. A manifest written before these
    # has none; its next build adds them.
    shard_sums: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        documents = []
        for d in self.documents:
            entry = {**asdict(d), "passages": self.passage_counts.get(d.doc_id, 0)}
            if d.doc_id in self.stamps:
                entry["stamp"] = list(self.stamps[d.doc_id])
            if (shard := shard_name(d)) in self.shard_sums:
                entry["shard_sha256"] = self.shard_sums[shard]
            documents.append(entry)
        return {
            "format": MANIFEST_FORMAT,
            "generation": self.generation,
            "model_id": self.model_id,
            "previous": self.previous,
            "retired": list(self.retired),
            "documents": documents,
        }

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        docs, counts, stamps, sums = [], {}, {}, {}
        for raw in data["documents"]:
            raw = dict(raw)
            counts[raw["doc_id"]] = raw.pop("passages", 0)
            stamp = raw.pop("stamp", None)
            if stamp is not None:
                stamps[raw["doc_id"]] = tuple(stamp)
            shard_sum = raw.pop("shard_sha256", None)
            docs.append(Document(**raw))
            if shard_sum is not None:
                sums[shard_name(docs[-1])] = shard_sum
        return cls(
            generation=data["generation"],
            model_id=data["model_id"],
            documents=tuple(docs),
            passage_counts=counts,
            previous=data.get("previous"),
            stamps=stamps,
            retired=tuple(data.get("retired", ())),
            outdated=data.get("format", 1) != MANIFEST_FORMAT,
            shard_sums=sums,
        )


def manifest_text(manifest: Manifest) -> str:
    """The manifest as written: its JSON with the sha256 of the rest as ``checksum``."""
    data = manifest.to_json()
    return json.dumps({**data, "checksum": _checksum(data)}, ensure_ascii=False)


def _checksum(data: dict) -> str:
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def parse_manifest(text: str, what: str) -> Manifest:
    """The manifest ``text`` (named ``what`` in the error).

    Raises:
        IndexCorruptError: It does not parse, or its checksum does not match its content
            (a manifest written before checksums has none to match).
    """
    try:
        data = json.loads(text)
        stated = data.pop("checksum", None)
        if stated is not None and stated != _checksum(data):
            raise IndexCorruptError(f"{what}，校验和不符")
        return Manifest.from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IndexCorruptError(what) from exc
