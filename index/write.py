"""What a build writes: the new and changed reports' records and shards, then the manifest."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from typing import Literal

from index.errors import chroma_errors, storage_errors
from index.keyfigures import extract_figures, write_figures
from index.manifest import Manifest
from index.model import Document, ParsedDocument, Passage, content_hash
from index.settings import Settings
from index.shards import PARTS, file_sum, shard_keys, shard_name, shard_sum, shard_text, write_shard
from index.store import IndexStore, close_client, open_client
from index.tokens import tokenize

Stage = Literal["waiting", "reading", "embedding", "storing"]


@dataclasses.dataclass(frozen=True)
class BuildStep:
    """Where a build is, as heard by its ``progress`` callback.

    Each stage is heard with ``done=0`` before its work starts (loading the model, the
    first batch), so that a progress bar never sits on the previous stage's "all done";
    ``waiting`` (0 of 0) is heard when another build holds the index and this one waits.

    Attributes:
        stage: ``reading`` files, ``embedding`` texts (passages and their sentences, what
            the embedding cache lacks), ``storing`` passages, or ``waiting``.
        done: Files read, texts embedded or passages stored so far.
        total: Of how many.
        seconds_left: While embedding, the time its rest takes at the speed seen so far;
            ``None`` until measured (and in the other stages, which take seconds).
    """

    stage: Stage
    done: int
    total: int
    seconds_left: float | None = None


Progress = Callable[[BuildStep], None]


def model_id_for(settings: Settings, embeddings=None) -> str:
    """Key that ties vectors to the model that made them."""
    if embeddings is not None:
        return getattr(embeddings, "model_id", type(embeddings).__name__)
    from index.embeddings import embedding_model_id

    return embedding_model_id(settings)


def commit(
    store: IndexStore,
    previous: Manifest | None,
    kept: list[Document],
    to_write: dict[str, ParsedDocument],
    stamps: dict[str, tuple[int, ...]],
    embeddings,
    settings: Settings,
    rebuild: bool,
    progress: Progress | None,
) -> tuple[Manifest, int]:
    """Write the records of ``to_write``, make the manifest of them and ``kept`` live, and
    delete what neither it nor ``previous`` uses. On failure the records written are
    deleted again (a killed build's are, by the next build) and ``previous`` stays live."""
    model_id = model_id_for(settings, embeddings)
    documents = sorted([*kept, *(c.document for c in to_write.values())], key=lambda d: d.source)
    live = previous if previous and not previous.outdated else None
    names = {shard_name(d) for d in documents}
    counts = {d.doc_id: (previous.passage_counts.get(d.doc_id, 0) if previous else 0) for d in kept}
    counts |= {k: len(v.passages) for k, v in to_write.items()}
    manifest = Manifest(
        generation=time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8],
        model_id=model_id,
        documents=tuple(documents),
        passage_counts=counts,
        previous=live.generation if live else None,
        stamps={d.doc_id: stamps[d.doc_id] for d in documents if d.doc_id in stamps},
        retired=tuple(sorted({shard_name(d) for d in live.documents} - names)) if live else (),
    )
    new = [shard_name(v.document) for v in to_write.values()]
    # What the manifest before retired goes now, unless it is back: named before anything
    # changes, with what is written, so that a kill at any point leaves them findable.
    going = sorted(set(live.retired) - names) if live else []
    client = open_client(settings)
    try:
        with storage_errors(store.home), chroma_errors(settings):
            records = store.records(model_id, client)
            records.mark_pending(new + going)
            try:
                embedded, sums = _write_reports(
                    store, records, to_write, embeddings, settings, rebuild, progress
                )
                manifest = _with_sums(
                    store, manifest, (previous.shard_sums if previous else {}) | sums
                )
                # The keyword index is made here, not by the first question; from the
                # shards of the reports kept too, which a home on another machine than the
                # builds before fetches first (it failed with FileNotFoundError).
                store.open_index(manifest, records)
                store.publish(manifest, records)
            except BaseException:
                with contextlib.suppress(Exception):  # the disk gets its space back now
                    records.drop_reports(new)
                raise
            records.clear_pending(new)
            store.collect_garbage([manifest, *([live] if live else [])], records)
            if previous is not None and previous.outdated:
                store.drop_earlier_layout(client)
    finally:
        close_client(settings, client)
    return manifest, embedded


def _with_sums(store: IndexStore, manifest: Manifest, known: dict[str, str]) -> Manifest:
    """``manifest`` with the sha256 of each of its shards: known, or read from the file (a
    manifest written before sums); a shard this home lacks (a Chroma server's) has none."""
    sums = {}
    for doc in manifest.documents:
        name = shard_name(doc)
        with contextlib.suppress(FileNotFoundError):
            sums[name] = known.get(name) or file_sum(store.shard_path(doc))
    return dataclasses.replace(manifest, shard_sums=sums)


def _write_reports(
    store, records, to_write, embeddings, settings, rebuild, progress
) -> tuple[int, dict[str, str]]:
    """Embed the passages and sentences of ``to_write`` (through the cache) and write each
    report's records and shard; how many passages were embedded, and each shard's sha256."""
    import numpy as np

    from index.cache import CachedEmbeddings

    passages = [p for item in to_write.values() for p in item.passages]
    model_id = model_id_for(settings, embeddings)
    if embeddings is None:
        from index.embeddings import load_embeddings

        embeddings = partial(load_embeddings, settings)  # loaded only if the cache misses
    cached = CachedEmbeddings(
        embeddings, store.cache_path(model_id), model_id, use_cache=not rebuild
    )
    try:
        if progress:
            cached.progress = lambda done, total, left: progress(
                BuildStep("embedding", done, total, left)
            )
        # Sentence vectors let the answerer judge meaning clause by clause (see
        # assistant.extract); the cache keeps rebuilds incremental for them too. One fill
        # embeds both, longest first, and times them as one stage.
        texts = [p.text for p in passages]
        fresh = cached.fill(texts + sentence_texts(passages))
        embedded = len({h for h in map(content_hash, texts) if h in fresh})  # passages
        cached.use_cache = True  # everything is fresh now: reading it back must not embed again
        if progress:
            progress(BuildStep("storing", 0, len(passages)))
        done = 0
        sums: dict[str, str] = {}
        tokens: dict[str, list[str]] = {}  # a repeated passage is tokenised once
        for item in to_write.values():
            doc, own = item.document, list(item.passages)
            for p in own:
                if p.text not in tokens:
                    tokens[p.text] = tokenize(p.text)
            vectors = cached.embed_array([p.text for p in own], np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            # Unit length, then float16 values: what the index always kept (answers and
            # their ties do not change with the store).
            vectors = (vectors / np.where(norms > 0, norms, 1)).astype(np.float16)
            units = cached.embed_array(sentence_texts(own))  # float16
            keys = shard_keys(doc, own, [tokens[p.text] for p in own])
            text = shard_text(own, keys)
            records.add_report(
                doc,
                text,
                own,
                vectors.astype(np.float32),
                units.astype(np.float32),
                keys.parts,
                rewrite=rebuild,
            )
            write_shard(store.shard_path(doc), text)  # over one an earlier format wrote
            parts = [PARTS[c] for c in keys.parts]
            write_figures(store.figures_path(doc), extract_figures(doc, own, parts))
            sums[shard_name(doc)] = shard_sum(text)
            done += len(own)
            if progress:
                progress(BuildStep("storing", done, len(passages)))
    finally:
        cached.close()
    return embedded, sums


def sentence_texts(passages: Iterable[Passage]) -> list[str]:
    """Every sentence of ``passages``, in passage then sentence order (the stored order)."""
    return [p.text[a:b].strip() or p.text for p in passages for a, b in p.sentences]
