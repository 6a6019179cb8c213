"""Sync report files into the index: add new, update changed, skip unchanged, drop removed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from index.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexMissingError,
    ReadError,
    ReportNotFoundError,
    ReportQAError,
    chroma_errors,
    storage_errors,
)
from index.manifest import Manifest
from index.model import (
    BuildReport,
    Document,
    Failure,
    IndexedDocument,
    ParsedDocument,
)
from index.serving import check_not_served
from index.settings import Settings
from index.store import IndexStore
from index.write import BuildStep, Progress, commit, model_id_for


@contextmanager
def build_lock(store: IndexStore, wait: float, waiting: Callable[[], None] | None = None):
    """Hold the index's build lock, or raise :class:`IndexBusyError`; ``waiting`` is called
    once when another build holds it and this one waits.

    Raises:
        IndexBusyError: Another build kept the lock for ``wait`` seconds.
        IndexServedError: A server in another process serves this embedded home.
        StorageError: The index folder cannot be written.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(store.lock_path))
    try:
        with storage_errors(store.home):
            store.home.mkdir(parents=True, exist_ok=True)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if waiting and wait > 0:
                    waiting()
                lock.acquire(timeout=wait)
    except Timeout:
        raise IndexBusyError(
            f"another build is running on {store.home}; try again when it has finished",
            "另一个索引任务正在进行，请稍后再试。",
        ) from None
    try:
        if not store.settings.chroma_url:
            check_not_served(store.settings)
            yield
        else:  # builds on other machines share the index: the server holds its lock
            with chroma_errors(store.settings), store.records("").lock(wait):
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
        progress: Called with a :class:`~index.write.BuildStep` as files are read, texts
            embedded (passages and sentences the embedding cache lacks) and passages
            stored, and when another build holds the index and this one waits for it.
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
    waiting = partial(progress, BuildStep("waiting", 0, 0)) if progress else None
    with build_lock(store, wait, waiting):
        previous = _previous(store, rebuild)
        model_id = model_id_for(settings, embeddings)
        # Reports are written again, from their files and the embedding cache, when the
        # index was built by an earlier version or with another model.
        renew = previous is not None and (previous.outdated or previous.model_id != model_id)
        base = None if rebuild or renew else previous
        known = {d.doc_id: d.sha256 for d in base.documents} if base else {}
        # A report whose file stamp is the one recorded when it was hashed is not read.
        stamped = base.stamps if base else {}
        found, same, failed, stamps = _read_files(
            paths, override, settings, progress, known, stamped
        )
        if renew and not rebuild:  # the reports not named now come from their own files
            others = [d.source for d in previous.documents if d.doc_id not in found]
            more, _, lost, more_stamps = _read_files(others, None, settings, None, {}, {})
            found, failed, stamps = {**more, **found}, failed + lost, {**more_stamps, **stamps}
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
            and (rebuild or renew or not Path(d.source).exists())
        ]
        kept = [d for d in old.values() if d.doc_id not in changed and d not in removed]
        manifest, embedded = previous, 0
        if changed or removed or renew or base is None:
            # A report not looked at now keeps its stamp: it is the same document.
            kept_stamps = (previous.stamps if previous else {}).items()
            stamps = {k: v for k, v in kept_stamps if k not in found and k not in same} | stamps
            manifest, embedded = commit(
                store, previous, kept, changed, stamps, embeddings, settings, rebuild, progress
            )
        # Written again only because the index was of another version or model.
        same_text = {
            k for k, v in changed.items() if k in before and before[k].sha256 == v.document.sha256
        }
        unchanged = [v.document for k, v in found.items() if k not in changed or k in same_text]
        return BuildReport(
            added=_sources(v.document for k, v in changed.items() if k not in before),
            updated=_sources(
                v.document for k, v in changed.items() if k in before and k not in same_text
            ),
            unchanged=_sources([*unchanged, *(before[k] for k in same)]),
            removed=_sources(removed),
            failed=tuple(failed),
            chunks=sum(manifest.passage_counts.values()) if manifest else 0,
            embedded=embedded,
            seconds=time.perf_counter() - started,
            upgraded=bool(previous and previous.outdated),
        )


def _previous(store: IndexStore, rebuild: bool) -> Manifest | None:
    """The live manifest; a damaged one is no obstacle to a rebuild, which replaces it."""
    try:
        return store.read_manifest()
    except IndexCorruptError:
        if rebuild:
            return None
        raise


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
            progress(BuildStep("reading", done, len(files)))
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
            parsed = parse_file(file, override, max_bytes=limit, max_passages=settings.max_passages)
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


def list_documents(settings: Settings | None = None) -> list[IndexedDocument]:
    """The documents in the live index, each with its passage count."""
    manifest = IndexStore(settings or Settings.from_env()).read_manifest()
    if manifest is None:
        return []
    return [_indexed(d, manifest) for d in manifest.documents]


def needs_upgrade(settings: Settings | None = None) -> bool:
    """Whether the index was built by an earlier version: its next build (of any files, or
    none) writes its reports again from their files and the embedding cache."""
    manifest = IndexStore(settings or Settings.from_env()).read_manifest()
    return bool(manifest and manifest.outdated)


def _indexed(doc: Document, manifest: Manifest) -> IndexedDocument:
    return IndexedDocument(**doc.__dict__, passages=manifest.passage_counts.get(doc.doc_id, 0))


def remove_document(
    doc_or_path: str, *, settings: Settings | None = None, embeddings=None, wait: float = 0.0
) -> BuildReport:
    """Drop one document, named by its id or its source path, from the index.

    Raises:
        IndexMissingError: There is no index.
        ReportNotFoundError: No indexed document has that id or path.
    """
    settings = settings or Settings.from_env()
    store = IndexStore(settings)
    started = time.perf_counter()
    with build_lock(store, wait):
        manifest = store.read_manifest()
        if manifest is None:
            raise IndexMissingError("there is no index yet", "还没有建立索引。")
        target = _find(manifest, doc_or_path)
        kept = [d for d in manifest.documents if d.doc_id != target.doc_id]
        new, _ = commit(
            store, manifest, kept, {}, manifest.stamps, embeddings, settings, False, None
        )
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
    raise ReportNotFoundError(
        f"no indexed report matches {doc_or_path!r} (see `reportqa index list`)",
        f"索引中没有找到报告“{doc_or_path}”。",
    )
