"""Checking an index home and repairing what can be made again.

Of a home's files only the manifest says something that is nowhere else; the shards are
their reports' records on Chroma as files, and the keyword index is made from the shards.
So a damaged shard or keyword index is removed and made again, and a damaged manifest is
replaced by the one before it (``manifest.previous.json``), whose records every build keeps
until the next one. Chroma's own files are Chroma's to keep; a damaged vector store asks for
``reportqa index build --rebuild``.
"""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

from index.errors import IndexCorruptError, chroma_errors
from index.keyword import KEYWORD_FOLDER, keywords_intact, load_keywords
from index.manifest import Manifest, parse_manifest
from index.settings import Settings
from index.shards import Shard, file_sum, shard_name
from index.store import IndexStore, close_client, open_client
from index.write import model_id_for


def check_index(settings: Settings | None = None) -> list[str]:
    """What is damaged in the home's index, in Chinese; empty when all of it reads back."""
    store = IndexStore(settings or Settings.from_env())
    try:
        manifest = store.read_manifest()
    except IndexCorruptError:
        return [f"索引清单 {store.manifest_path.name} 无法读取"]
    if manifest is None:
        return []
    problems = [
        f"报告 {shard_name(d)} 的段落文件损坏或缺失" for d in _damaged_shards(store, manifest)
    ]
    if not _keywords_ok(store, manifest):
        problems.append(f"关键词索引 {KEYWORD_FOLDER}/{manifest.generation} 损坏或缺失")
    return problems


def repair_index(settings: Settings | None = None, embeddings=None) -> list[str]:
    """Repair the home's index; what was done, in Chinese.

    Raises:
        IndexCorruptError: The manifest and the one before it are both damaged (or the
            index is on a Chroma server, whose manifest this home does not keep): only a
            rebuild from the report files makes the index again.
    """
    settings = settings or Settings.from_env()
    store = IndexStore(settings)
    done: list[str] = []
    try:
        manifest = store.read_manifest()
    except IndexCorruptError:
        manifest = _restore(store)
        done.append("索引清单已从上一版恢复（最近一次更新的报告需要再建一次索引）")
    if manifest is None:
        return done
    for doc in _damaged_shards(store, manifest):
        store.shard_path(doc).unlink(missing_ok=True)
        done.append(f"重新生成报告 {shard_name(doc)} 的段落文件")
    if not _keywords_ok(store, manifest):
        shutil.rmtree(store.home / KEYWORD_FOLDER / manifest.generation, ignore_errors=True)
        done.append("重新生成关键词索引")
    if done:  # made again from the records: the shards fetched, the keyword index merged
        client = open_client(settings)
        try:
            with chroma_errors(settings):
                store.open_index(
                    manifest, store.records(model_id_for(settings, embeddings), client)
                )
        finally:
            close_client(settings, client)
    return done


def _restore(store: IndexStore) -> Manifest:
    if store.settings.chroma_url:
        raise IndexCorruptError("live", rebuild=True)
    try:
        text = store.backup_path.read_text("utf-8")
        manifest = parse_manifest(text, store.backup_path.name)
    except (FileNotFoundError, IndexCorruptError):
        raise IndexCorruptError(store.manifest_path.name, rebuild=True) from None
    store.manifest_path.write_text(text, "utf-8")
    return manifest


def _damaged_shards(store: IndexStore, manifest: Manifest) -> list:
    damaged = []
    for doc in manifest.documents:
        path = store.shard_path(doc)
        if not path.is_file():
            continue  # not made on this home yet: the next question fetches it
        stated = manifest.shard_sums.get(shard_name(doc))
        try:
            if stated is not None:  # a changed byte that still parses is found too
                ok = file_sum(path) == stated
            else:  # a manifest written before sums: the shard must read back
                shard = Shard(path)
                ok = shard.keys().size == shard.size == manifest.passage_counts.get(doc.doc_id)
                for row in range(shard.size):
                    shard.passage(row)
        except (ValueError, KeyError, EOFError, zlib.error, IndexCorruptError, OSError):
            ok = False
        if not ok:
            damaged.append(doc)
    return damaged


def _keywords_ok(store: IndexStore, manifest: Manifest) -> bool:
    folder: Path = store.home / KEYWORD_FOLDER / manifest.generation
    if not folder.is_dir():
        return True  # made at the next question
    if keywords_intact(folder) is False:
        return False
    try:
        keywords = load_keywords(folder)
    except (ValueError, KeyError, EOFError, OSError):
        return False
    wanted = [shard_name(d) for d in manifest.documents]
    sizes = [manifest.passage_counts.get(d.doc_id, 0) for d in manifest.documents]
    return (
        keywords.bm25 is not None
        and sorted(zip(keywords.names, keywords.sizes, strict=True))
        == sorted(zip(wanted, sizes, strict=True))
        and keywords.bm25.size == sum(keywords.sizes)
    )
