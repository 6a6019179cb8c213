"""Sync report files into the index: add new, update changed, skip unchanged, drop removed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from index.errors import IndexBusyError, IndexMissingError, ReadError, ReportQAError
from index.model import (
    BuildReport,
    Document,
    Failure,
    IndexedDocument,
    ParsedDocument,
    Passage,
)
from index.settings import Settings
from index.store import IndexStore, Manifest, chroma_errors, storage_errors
from index.tokens import tokenize

Stage = Literal["reading", "embedding", "sentences", "storing"]
# (done, total, stage): files read, passages embedded, sentences embedded, passages stored;
# each stage is heard with done=0 before its work starts (loading the model, the first
# batch), so that a progress bar never sits on the previous stage's "all done".
Progress = Callable[[int, int, Stage], None]


def model_id_for(settings: Settings, embeddings=None) -> str:
    """Key that ties vectors to the model that made them."""
    if embeddings is not None:
        return getattr(embeddings, "model_id", type(embeddings).__name__)
    from index.embeddings import embedding_model_id

    return embedding_model_id(settings)


@contextmanager
def build_lock(store: IndexStore, wait: float):
    """Hold the index's build lock, or raise :class:`IndexBusyError`.

    Raises:
        IndexBusyError: Another build kept the lock for ``wait`` seconds.
        StorageError: The index folder cannot be written.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(store.lock_path))
    try:
        with storage_errors(store.home):
            store.home.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=wait)
    except Timeout:
        raise IndexBusyError(
            f"another build is running on {store.home}; try again when it has finished",
            "另一个索引任务正在进行，请稍后再试。",
        ) from None
    try:
        if store.shared is None:
            yield
        else:  # builds on other machines share the index: the server holds its lock
            with chroma_errors(store.settings), store.shared.lock(wait):
                yield
    finally:
        lock.release()


def build_index(
    paths: Iterable[Path | str],
    *,
    settings: Settings | None = None,
    embeddings=None,
    rebuild: bool = False,
    override: dict | None = None,
    progress: Progress | None = None,
    wait: float = 0.0,
) -> BuildReport:
    """Sync report files into the index.

    Args:
        paths: Report files or directories (read recursively).
        settings: Where the index lives and which model embeds; default from the environment.
        embeddings: A langchain ``Embeddings``; default the model named in ``settings``.
        rebuild: Start from nothing: re-read and re-embed every file, drop all others.
        override: ``title``/``year``/``region`` that win over inferred metadata.
        progress: Called with ``(done, total, stage)`` as files are read (``reading``),
            passages embedded (``embedding``), sentences embedded (``sentences``) and
            passages stored (``storing``). Texts already in the embedding cache are not
            counted.
        wait: Seconds to wait for another build to finish before giving up.

    Returns:
        What was added, updated, unchanged, removed and failed.

    Raises:
        IndexBusyError: Another build holds the lock.
        StorageError: The disk is full or the index folder cannot be written; the build
            was undone and the previous index still answers.
        StoreUnavailableError: The Chroma server does not answer.
    """
    settings = settings or Settings.from_env()
    store = IndexStore(settings)
    started = time.perf_counter()
    with build_lock(store, wait):
        previous = store.read_manifest()
        if previous is not None and not rebuild:
            store.ensure_local(previous)  # the live index may come from another machine
        base = None if rebuild else previous
        model_id = model_id_for(settings, embeddings)
        extend = base is not None and store.can_extend(base, model_id)
        # A report whose bytes and metadata did not change is not read again, when the
        # new generation can take its passages from the live one as they are.
        known = {d.doc_id: d.sha256 for d in base.documents} if extend else {}
        # Nor is it hashed when its file stamp is the one recorded when it was.
        stamped = base.stamps if extend else {}
        found, same, failed, stamps = _read_files(
            paths, override, settings, progress, known, stamped
        )
        before = {d.doc_id: d for d in previous.documents} if previous else {}
        old = before if base else {}
        changed = {
            k: v for k, v in found.items() if k not in old or old[k].sha256 != v.document.sha256
        }
        removed = [
            d
            for d in before.values()
            if d.doc_id not in found
            and d.doc_id not in same
            and (rebuild or not Path(d.source).exists())
        ]
        kept = [d for d in old.values() if d.doc_id not in changed and d not in removed]
        manifest, embedded = previous, 0
        # A home whose passage vectors are in Chroma is written again even if nothing
        # changed: until then every question and build would need Chroma.
        stale = extend and store.uses_chroma(base.generation)
        if changed or removed or not extend or stale:
            if extend:  # the kept reports' passages are carried over from the live files
                carried, to_write = kept, changed
            else:  # every report read now is written anew; others come from the old file
                carried, to_write = [d for d in kept if d.doc_id not in found], found
            # A report not looked at now keeps its stamp: it is the same document.
            kept_stamps = (previous.stamps if previous else {}).items()
            stamps = {k: v for k, v in kept_stamps if k not in found and k not in same} | stamps
            plan = _Plan(base, extend, previous, carried, to_write, stamps)
            manifest, embedded = _write(store, plan, embeddings, settings, rebuild, progress)
        unchanged = [v.document for k, v in found.items() if k not in changed]
        return BuildReport(
            added=_sources(v.document for k, v in changed.items() if k not in before),
            updated=_sources(v.document for k, v in changed.items() if k in before),
            unchanged=_sources([*unchanged, *(before[k] for k in same)]),
            removed=_sources(removed),
            failed=tuple(failed),
            chunks=sum(manifest.passage_counts.values()) if manifest else 0,
            embedded=embedded,
            seconds=time.perf_counter() - started,
        )


def _sources(docs: Iterable[Document]) -> tuple[str, ...]:
    return tuple(sorted(d.source for d in docs))


def _read_files(
    paths,
    override,
    settings: Settings,
    progress: Progress | None,
    known: dict[str, str],
    stamped: dict[str, tuple[int, ...]],
) -> tuple[dict[str, ParsedDocument], set[str], list[Failure], dict[str, tuple[int, ...]]]:
    """Parse every file (each within ``settings.max_file_mb``) whose id and hash are not
    the pair in ``known``, and hash only those whose stamp is not the one in ``stamped``;
    return ``{doc_id: ParsedDocument}``, the ids of those skipped as unchanged, the
    failures, and the stamps of the files read or skipped (see ``index.parse.file_stamp``).
    """
    from index.parse import doc_id_for, file_stamp, identify, iter_report_files, parse_file
    from index.readers import max_file_bytes

    found: dict[str, ParsedDocument] = {}
    same: set[str] = set()
    failed: list[Failure] = []
    stamps: dict[str, tuple[int, ...]] = {}
    files: list[Path] = []
    for path in paths:
        try:
            files += iter_report_files([Path(path)])
        except ReadError as exc:
            failed.append(_failure(exc))
    limit = max_file_bytes(settings)
    files = list(dict.fromkeys(files))
    for done, file in enumerate(files):
        if progress:
            progress(done, len(files), "reading")
        # Taken before the file is read, so that a change while it is read shows next time;
        # none with an override, whose values are part of the hash a stamp stands for.
        stamp = None if override else file_stamp(file)
        try:
            if known:
                doc_id = doc_id_for(file)
                if stamp is not None and stamped.get(doc_id) == stamp and doc_id in known:
                    same.add(doc_id)
                    stamps[doc_id] = stamp
                    continue
                doc_id, sha256 = identify(file, override, max_bytes=limit)
                if known.get(doc_id) == sha256:
                    same.add(doc_id)
                    if stamp is not None:
                        stamps[doc_id] = stamp
                    continue
            parsed = parse_file(file, override, max_bytes=limit)
        except ReadError as exc:
            failed.append(_failure(exc))
            continue
        except Exception as exc:  # a bug in one file's parse must not stop the others
            failed.append(Failure(str(file), f"unexpected error: {exc!r}", "无法读取这个文件。"))
            continue
        found[parsed.document.doc_id] = parsed
        if stamp is not None:
            stamps[parsed.document.doc_id] = stamp
    return found, same, failed, stamps


def _failure(exc: ReadError) -> Failure:
    return Failure(exc.path, exc.reason, exc.message_zh.removeprefix(f"{Path(exc.path).name}："))


@dataclass(frozen=True)
class _Plan:
    """What a build writes: ``carried`` documents from ``base``, ``to_write`` ones parsed now.

    When ``extend``, the carried documents stay in ``base``'s segments, shared with the
    new generation (nothing of them is read or copied); otherwise (no base, another
    model, a generation written before segments, a rebuild) they are read back and
    embedded again (through the cache).
    """

    base: Manifest | None
    extend: bool
    previous: Manifest | None
    carried: list[Document]
    to_write: dict[str, ParsedDocument]
    stamps: dict[str, tuple[int, ...]]  # the file stamps of the new generation's documents


def _write(store, plan: _Plan, embeddings, settings, rebuild, progress):
    """Embed what is new and make a new generation live; on failure the old one stays."""
    # write_generation has removed its partial generation by the time an error gets out.
    with storage_errors(store.home):
        manifest, embedded = _write_generation(store, plan, embeddings, settings, rebuild, progress)
    store.collect_garbage(manifest)
    return manifest, embedded


def _write_generation(store, plan: _Plan, embeddings, settings, rebuild, progress):
    """The new generation of ``plan``, and how many passages were embedded."""
    import numpy as np

    from index.cache import CachedEmbeddings

    base, extend, carried, to_write = plan.base, plan.extend, plan.carried, plan.to_write

    if settings.chroma_url:  # a server that is down fails the build before minutes of embedding
        store.client()
    passages: list[tuple[Passage, list[str]]] = []
    if base is not None and not extend and carried:
        ids = {d.doc_id for d in carried}
        passages += [pt for pt in store.read_passages(base.generation) if pt[0].doc_id in ids]
    tokens: dict[str, list[str]] = {}  # a repeated passage is tokenised once, shares its list
    for item in to_write.values():
        for p in item.passages:
            if p.text not in tokens:
                tokens[p.text] = tokenize(p.text)
            passages.append((p, tokens[p.text]))
    documents = sorted([*carried, *(c.document for c in to_write.values())], key=lambda d: d.source)
    model_id = model_id_for(settings, embeddings)
    if embeddings is None:
        from index.embeddings import load_embeddings

        embeddings = partial(load_embeddings, settings)  # loaded only if the cache misses
    cached = CachedEmbeddings(embeddings, store.cache_path, model_id, use_cache=not rebuild)
    if progress:
        cached.progress = lambda done, total: progress(done, total, "embedding")
    try:
        cached.fill([p.text for p, _ in passages])
        embedded = cached.embedded  # the report counts passages; sentences follow them
        if progress:
            cached.progress = lambda done, total: progress(done, total, "sentences")
        # Sentence vectors let the answerer judge meaning clause by clause (see
        # assistant.extract); the cache keeps rebuilds incremental for them too.
        sentences = cached.embed_array(sentence_texts(p for p, _ in passages))
        cached.use_cache = True  # everything is fresh now: reading it back must not embed again
        vectors = cached.embed_array([p.text for p, _ in passages], np.float32)
        manifest = store.write_generation(
            documents,
            passages,
            vectors,
            model_id,
            plan.previous,
            sentences,
            progress=progress,
            base=base if extend and base.documents else None,
            kept=frozenset(d.doc_id for d in carried),
            stamps=plan.stamps,
        )
    finally:
        cached.close()
    return manifest, embedded


def sentence_texts(passages: Iterable[Passage]) -> list[str]:
    """Every sentence of ``passages``, in passage then sentence order (the stored order)."""
    return [p.text[a:b].strip() or p.text for p in passages for a, b in p.sentences]


def list_documents(settings: Settings | None = None) -> list[IndexedDocument]:
    """The documents in the live index, each with its passage count."""
    manifest = IndexStore(settings or Settings.from_env()).read_manifest()
    if manifest is None:
        return []
    return [_indexed(d, manifest) for d in manifest.documents]


def _indexed(doc: Document, manifest: Manifest) -> IndexedDocument:
    return IndexedDocument(**doc.__dict__, passages=manifest.passage_counts.get(doc.doc_id, 0))


def remove_document(
    doc_or_path: str, *, settings: Settings | None = None, embeddings=None, wait: float = 0.0
) -> BuildReport:
    """Drop one document, named by its id or its source path, from the index.

    Raises:
        IndexMissingError: There is no index.
        ReportQAError: No indexed document has that id or path.
    """
    settings = settings or Settings.from_env()
    store = IndexStore(settings)
    started = time.perf_counter()
    with build_lock(store, wait):
        manifest = store.read_manifest()
        if manifest is None:
            raise IndexMissingError("there is no index yet", "还没有建立索引。")
        store.ensure_local(manifest)
        target = _find(manifest, doc_or_path)
        kept = [d for d in manifest.documents if d.doc_id != target.doc_id]
        extend = store.can_extend(manifest, model_id_for(settings, embeddings))
        plan = _Plan(manifest, extend, manifest, kept, {}, manifest.stamps)
        new, _ = _write(store, plan, embeddings, settings, False, None)
    return BuildReport(
        removed=(target.source,),
        chunks=sum(new.passage_counts.values()),
        seconds=time.perf_counter() - started,
    )


def edit_document(
    doc_or_path: str,
    *,
    title: str | None = None,
    year: int | str | None = None,
    region: str | None = None,
    settings: Settings | None = None,
    embeddings=None,
    wait: float = 0.0,
) -> IndexedDocument:
    """Correct a report's title, year and region, and re-index it with them.

    The values are written to the ``NAME.meta.json`` beside the report file (as a person
    would write it), so every later build keeps them. An empty value drops the override:
    that field is inferred from the file again.

    Returns:
        The document as now indexed.

    Raises:
        IndexMissingError: There is no index.
        ReportQAError: No indexed document has that id or path, its file is gone, or a
            value is invalid.
        MetadataWriteError: The meta file cannot be written; nothing changed.
        IndexBusyError: Another build held the lock for ``wait`` seconds; nothing changed.
    """
    from index.metadata import restore_override, write_override

    settings = settings or Settings.from_env()
    manifest = IndexStore(settings).read_manifest()
    if manifest is None:
        raise IndexMissingError("there is no index yet", "还没有建立索引。")
    target = _find(manifest, doc_or_path)
    source = Path(target.source)
    if not source.is_file():
        raise ReportQAError(
            f"{source} no longer exists", f"报告文件 {source.name} 已不存在，无法修改。"
        )
    meta, previous = write_override(source, {"title": title, "year": year, "region": region})
    try:
        report = build_index([source], settings=settings, embeddings=embeddings, wait=wait)
        if report.failed:
            raise ReportQAError(report.failed[0].reason, report.failed[0].reason_zh)
    except BaseException:
        restore_override(meta, previous)  # the file and the index keep saying the same
        raise
    return next(d for d in list_documents(settings) if d.doc_id == target.doc_id)


def _find(manifest: Manifest, doc_or_path: str) -> Document:
    resolved = str(Path(doc_or_path).expanduser().resolve())
    for doc in manifest.documents:
        if doc_or_path in (doc.doc_id, doc.source) or resolved == doc.source:
            return doc
    raise ReportQAError(
        f"no indexed report matches {doc_or_path!r} (see `reportqa index list`)",
        f"索引中没有找到报告“{doc_or_path}”。",
    )
