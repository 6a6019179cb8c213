"""Chinese word tokens for keyword search (jieba), shared by indexing and querying."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from pathlib import Path

_LOCK = threading.Lock()
_READY = False
_KEEP = re.compile(r"[\w%％.]+", re.UNICODE)
_STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 是 为 对 把 将 要 有 我们 今年 "
    "多少 什么 哪些 怎么 如何 是否 几 吗 呢 个 方面 目标 工作 安排 "
    "进一步 全面 推进 推动 加快 坚持 以上 左右 一 二 三".split()
)


def _jieba():
    global _READY
    import jieba

    with _LOCK:
        if not _READY:
            jieba.setLogLevel(60)
            _load_dictionary(jieba)
            _READY = True
    return jieba


def _load_dictionary(jieba) -> None:
    """Give jieba its default dictionary from our cache, or let it load and then cache it.

    jieba's own cache is a marshal file that takes 1.5 s to read on a 2-core laptop, a fifth
    of a cold ``reportqa ask``; the same dictionary as a word list and a frequency array
    loads in 0.4 s. (Not pickle: a shared temp folder must not hold code we would run.)
    """
    import numpy as np

    from index.settings import Settings

    folder = Settings.from_env().cache_dir / f"jieba-{jieba.__version__}"
    words_path, freqs_path = folder / "words.txt", folder / "freqs.npy"
    try:
        words = words_path.read_text("utf-8").split("\n")
        freqs = np.load(freqs_path).tolist()  # the total first, then one per word
    except (OSError, ValueError):
        pass
    else:
        if len(freqs) == len(words) + 1:
            jieba.dt.FREQ, jieba.dt.total = dict(zip(words, freqs[1:], strict=True)), freqs[0]
            jieba.dt.initialized = True
            return
    jieba.initialize()
    with contextlib.suppress(OSError):  # a read-only cache only costs the next start a second
        _write_dictionary(folder, jieba.dt.FREQ, jieba.dt.total)


def _write_dictionary(folder: Path, freq: dict[str, int], total: int) -> None:
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    # The array goes last: a reader that finds it finds the word list complete.
    tmp = folder / f"words.txt.{os.getpid()}"
    tmp.write_text("\n".join(freq), "utf-8")
    os.replace(tmp, folder / "words.txt")
    tmp = folder / f"freqs.{os.getpid()}.npy"
    np.save(tmp, np.array([total, *freq.values()], dtype=np.int64))
    os.replace(tmp, folder / "freqs.npy")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lowercase search tokens, dropping punctuation and stopwords.

    Args:
        text: Any Chinese (or mixed) text.

    Returns:
        Tokens in order, repeats kept (BM25 counts them).
    """
    words = _jieba().lcut_for_search(text)
    return [
        w.lower()
        for w in words
        if _KEEP.fullmatch(w) and w not in _STOPWORDS and not (len(w) == 1 and w.isascii())
    ]
