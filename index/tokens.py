"""Chinese word tokens for keyword search (jieba), shared by indexing and querying."""

from __future__ import annotations

import re
import threading

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
            jieba.initialize()
            _READY = True
    return jieba


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
