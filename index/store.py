"""One index home: the live manifest, the Chroma client, the reports' keyword shards.

Chroma holds the index's records (see :mod:`index.records`); a build adds the records of
the reports that are new or changed and only then makes a new manifest live: on an
embedded home ``manifest.json``, replaced atomically; with a Chroma server its ``live``
record, so every machine sees the new index at its next question. A build that dies
half-way leaves the old manifest, and so the old index, untouched, and records no manifest
names, which the next build deletes. The manifest before the live one is kept whole, so
that a question that read it moments ago can finish.

The home also keeps the live reports' keyword shards (see :mod:`index.shards`) as a cache:
a home that lacks one makes it from the report's record, so a chat server on a new home
answers from the Chroma server without copying any vector.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from index.errors import (
    IndexCorruptError,
    IndexMissingError,
    ReportQAError,
    StorageError,
    chroma_errors,
    store_unavailable,
)
from index.keyword import Keywords, open_keywords
from index.manifest import Manifest, manifest_text, parse_manifest
from index.model import Document
from index.records import Records
from index.settings import Settings
from index.shards import (
    SHARD_SUFFIX,
    OpenIndex,
    ShardKeys,
    shard_name,
    shard_sum,
    write_shard,
)

CHROMA_FOLDER = "chroma"
SHARDS_FOLDER = "shards"
# A question reads its index for about a second (an LLM's answer reads no index); a
# minute leaves ample room before a replaced report's shard is removed from a home.
RETIRED_GRACE_SECONDS = 60.0


class IndexOutdatedError(IndexMissingError):
    """The home was built by an earlier version; its next build brings it up to date."""

    def __init__(self, home: Path) -> None:
        super().__init__(
            f"the index at {home} was built by an earlier version of reportqa; run "
            "`reportqa index build` once to bring it up to date (no vector is computed again)",
            "索引由旧版本建立，请运行一次 reportqa index build 升级"
            "（沿用已算好的向量，无需重新计算）。",
        )


class IndexStore:
    """Reads and writes one index home (``Settings.home``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home
        if self.home.exists() and not self.home.is_dir():
            raise StorageError(
                f"the index folder {self.home} is a file; set REPORTQA_HOME to a folder",
                f"索引目录（{self.home}）是一个文件，请把 REPORTQA_HOME 设为一个文件夹。",
            )
        self.manifest_path = self.home / "manifest.json"
        self.shards = self.home / SHARDS_FOLDER

    @property
    def lock_path(self) -> Path:
        return self.home / "build.lock"

    def cache_path(self, model_id: str) -> Path:
        """The embedding cache of ``model_id``: the user's, shared by all their homes (a
        second home indexing the same reports embeds nothing)."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_id).strip("-")[:60]
        digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:12]
        return self.settings.embedding_cache_dir() / f"{slug}-{digest}.sqlite"

    def records(self, model_id: str, client=None) -> Records:
        """The index's Chroma records of ``model_id``, through ``client`` (default: the
        server's shared client, or a new embedded one: see :func:`open_client`)."""
        return Records(client or open_client(self.settings), self.settings.index_name, model_id)

    def _meta(self) -> Records:
        """The server's records of this index's manifest and lock, opened once a process:
        every question reads the live manifest."""
        key = (self.settings.chroma_url, self.settings.index_name)
        with _OPEN_LOCK:
            found = _METAS.get(key)
        if found is None:
            found = self.records("")
            found.meta  # noqa: B018 (opens the collection now, outside the lock)
            with _OPEN_LOCK:
                found = _METAS.setdefault(key, found)
        return found

    def read_manifest(self) -> Manifest | None:
        """The live manifest, or ``None`` when nothing was built yet."""
        if self.settings.chroma_url:
            with chroma_errors(self.settings):
                live = self._meta().read_live() or _earlier_live(self.settings)
            if live is None:
                return None
            key = (self.settings.chroma_url, self.settings.index_name)
            known = _MANIFESTS.get(key)
            if known is None or known[0] != live:  # parsed once per version, as below
                known = (live, parse_manifest(live, "live"))
                _MANIFESTS[key] = known
            return known[1]
        # Read once per version: every question checks it, and at 10^5 passages (a
        # thousand reports) parsing it took 20-50 ms. A new manifest is a new file.
        try:
            stat = self.manifest_path.stat()
            version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            known = _MANIFESTS.get(self.manifest_path)
            if known is not None and known[0] == version:
                return known[1]
            manifest = parse_manifest(
                self.manifest_path.read_text("utf-8"), self.manifest_path.name
            )
        except FileNotFoundError:
            return None
        _MANIFESTS[self.manifest_path] = (version, manifest)
        return manifest

    @property
    def backup_path(self) -> Path:
        """The manifest before the live one: its records are kept until the next build, so
        it is a whole index to go back to when the live one is damaged."""
        return self.home / "manifest.previous.json"

    def publish(self, manifest: Manifest, records: Records) -> None:
        """Make ``manifest`` the live one."""
        text = manifest_text(manifest)
        if self.settings.chroma_url:
            with chroma_errors(self.settings):
                records.publish(text)
        else:
            with contextlib.suppress(FileNotFoundError):
                _atomic_write(self.backup_path, self.manifest_path.read_text("utf-8"))
            _atomic_write(self.manifest_path, text)

    def drop_earlier_layout(self, client) -> None:
        """Remove what an index of format 1 kept: its segment files, and its collections
        (on a server, those of this index; embedded, every other one of the home)."""
        for name in ("generations", "segments"):
            shutil.rmtree(self.home / name, ignore_errors=True)
        index = self.settings.index_name
        for col in client.list_collections():
            name = getattr(col, "name", col)
            if self.settings.chroma_url:
                earlier = name.startswith(f"{_EARLIER_PREFIX}{index}-")
            else:
                earlier = not name.startswith(f"rq-{index}-")
            if earlier:
                client.delete_collection(name)

    def shard_path(self, doc: Document) -> Path:
        return self.shards / f"{shard_name(doc)}{SHARD_SUFFIX}"

    def figures_path(self, doc: Document) -> Path:
        """Where the key figures of ``doc``'s version are kept (:mod:`index.keyfigures`)."""
        from index.keyfigures import FIGURES_SUFFIX

        return self.shards / f"{shard_name(doc)}{FIGURES_SUFFIX}"

    def with_shards(self, manifest: Manifest, documents: list[Document]) -> None:
        """Make sure this home has the shards of ``documents`` (live reports of ``manifest``):
        a home that serves another's index (a Chroma server) fetches what it lacks.

        Raises:
            StoreUnavailableError: The Chroma server does not answer.
        """
        if all(self.shard_path(d).is_file() for d in documents):
            return
        client = open_client(self.settings)
        try:
            with chroma_errors(self.settings):
                self.open_index(manifest, self.records(manifest.model_id, client))
        finally:
            close_client(self.settings, client)

    def open_index(self, manifest: Manifest, records: Records) -> OpenIndex:
        """The live reports' keyword shards opened as one index; a shard this home lacks
        is its report's record's document, written as it comes.

        Raises:
            IndexChangedError: A report's record is gone (builds replaced it meanwhile).
        """
        from index.errors import IndexChangedError

        missing = {shard_name(d): d for d in manifest.documents if not self.shard_path(d).is_file()}
        known: dict[str, ShardKeys] = {}
        if missing:
            with (
                chroma_errors(self.settings),
                records.warming(),
                ThreadPoolExecutor(1, thread_name_prefix="shard-writer") as writer,
            ):
                # Each shard is written (by a thread: the writes wait on the disk) as its
                # batch comes, while the next ones are fetched, its keys are read here and
                # the server loads its vector indexes for the first question.
                written = []
                for name, text in records.report_texts(list(missing)):
                    if text is None:
                        raise IndexChangedError(ReportQAError(f"report {name} is gone"))
                    path, stated = self.shard_path(missing[name]), manifest.shard_sums.get(name)
                    written.append(writer.submit(_write_checked, path, text, stated))
                    known[name] = ShardKeys.from_line(text[text.rfind("\n") + 1 :])
                for done in written:
                    done.result()
        try:
            keywords = self.keywords(manifest, known)
        except _DAMAGED as exc:  # a truncated shard or keyword file
            raise IndexCorruptError(f"{exc.__class__.__name__}: {exc}") from exc
        paths = {shard_name(d): self.shard_path(d) for d in manifest.documents}
        return OpenIndex(keywords, [paths[n] for n in keywords.names], manifest.documents)

    def keywords(self, manifest: Manifest, known: dict[str, ShardKeys] | None = None) -> Keywords:
        """The keyword index of ``manifest`` (whose shards this home has), made now if this
        home lacks it; ``known``: the keys of shards just written."""
        previous = frozenset({manifest.previous} if manifest.previous else ())
        return open_keywords(
            self.home,
            manifest.generation,
            manifest.documents,
            self.shard_path,
            keep=previous,
            grace=RETIRED_GRACE_SECONDS,
            known=known,
        )

    def collect_garbage(self, keep: list[Manifest], records: Records) -> None:
        """Delete the records of the pending report versions (see
        :meth:`~index.records.Records.mark_pending`) that none of ``keep`` (the live manifest
        and the one before) names, the collections of other models, and the shards of this
        home that ``keep`` does not use."""
        # Each home kept its own embedding cache before the user's was shared by all.
        for suffix in ("", "-journal", "-wal", "-shm"):
            (self.home / f"embeddings.sqlite{suffix}").unlink(missing_ok=True)
        wanted = {shard_name(d) for m in keep for d in m.documents}
        with chroma_errors(self.settings):
            records.drop_reports(sorted(records.pending_reports() - wanted))
            records.drop_other_models()
        if self.shards.is_dir():
            now = time.time()
            from index.keyfigures import FIGURES_SUFFIX

            files = {
                f"{name}{suffix}" for name in wanted for suffix in (SHARD_SUFFIX, FIGURES_SUFFIX)
            }
            for entry in self.shards.iterdir():
                if entry.name in files or now - entry.stat().st_mtime < RETIRED_GRACE_SECONDS:
                    continue
                if entry.is_dir():  # a shard of format 2
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


# Format 1 kept an index's records on a server in collections named ``rqs-INDEX-…``.
_EARLIER_PREFIX = "rqs-"


def _earlier_live(settings: Settings) -> str | None:
    """The live manifest of an index of format 1 on the server: its documents are what its
    first build of this format writes again."""
    client = open_client(settings)
    name = f"{_EARLIER_PREFIX}{settings.index_name}-meta"
    if name not in {getattr(c, "name", c) for c in client.list_collections()}:
        return None
    found = client.get_collection(name, embedding_function=None).get(
        ids=["live"], include=["documents"]
    )
    return found["documents"][0] if found["ids"] else None


# What reading a damaged file raises: orjson's and json's errors are ValueErrors, numpy's
# on a truncated array ValueError or EOFError, zlib's its own.
_DAMAGED = (ValueError, KeyError, EOFError, zlib.error)


def _write_checked(path: Path, text: str, stated: str | None) -> None:
    """Write a fetched record as its shard, once it is what the manifest says it is."""
    if stated is not None and shard_sum(text) != stated:
        raise IndexCorruptError(f"向量库中报告 {path.stem} 的记录校验和不符", rebuild=True)
    write_shard(path, text)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a half-written manifest must not take up the disk
        raise


# The last manifest read from each home, with the file's (inode, mtime, size) then, and
# from each index on a Chroma server, with its text.
_MANIFESTS: dict[Path | tuple[str, str], tuple[object, Manifest]] = {}
# One HTTP client per server and process: a client costs two TLS contexts (90 ms), and
# every question asks the server for the live manifest.
_SERVERS: dict[str, object] = {}
_METAS: dict[tuple[str, str], Records] = {}
_OPEN_LOCK = threading.Lock()
# Embedded clients of one path share a chromadb System, counted by reference; chromadb finds
# the System and counts the new client in two steps, so a close between them stopped the
# System under the new client (a soak run: "Could not connect to tenant", then KeyError
# and AttributeError in chromadb's clean-up, a failed upload and a 500). Opening and closing
# take turns in this process.
_EMBEDDED_LOCK = threading.Lock()


def open_client(settings: Settings):
    """A Chroma client: the process's client of the server when ``chroma_url`` is set,
    else a new embedded one on ``home/chroma`` (close it when done).

    An embedded client of another process's build does not see its new vectors until it
    is reopened: a reader opens one per generation (see ``assistant.retrieval``).

    Raises:
        StoreUnavailableError: The Chroma server does not answer. The failure is not
            remembered: the next call tries again, so a restarted server is picked up.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if not settings.chroma_url:
        settings.home.mkdir(parents=True, exist_ok=True)
        path = str(settings.home / CHROMA_FOLDER)
        with _EMBEDDED_LOCK:
            return chromadb.PersistentClient(path=path, settings=chroma_settings)
    with _OPEN_LOCK:
        client = _SERVERS.get(settings.chroma_url)
    if client is not None:
        return client
    from urllib.parse import urlparse

    import httpx
    from chromadb.errors import ChromaError

    url = urlparse(settings.chroma_url)
    try:
        client = chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    # chromadb reports a refused connection as ValueError("Could not connect ...").
    except (ValueError, httpx.HTTPError, ChromaError) as exc:
        raise store_unavailable(settings, exc) from exc
    with _OPEN_LOCK:
        return _SERVERS.setdefault(settings.chroma_url, client)


def close_client(settings: Settings, client) -> None:
    """Release an embedded client of :func:`open_client` (a server's stays open)."""
    if not settings.chroma_url:
        with _EMBEDDED_LOCK, contextlib.suppress(Exception):
            client.close()
