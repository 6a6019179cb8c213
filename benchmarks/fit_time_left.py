"""Fit the cost of embedding a text for the build's time-left estimate (index.cache.TimeLeft).

Embeds batches of 64 real report sentences cut to one length (10 to 320 characters), in
the build's precision, and fits seconds per batch = a * characters + b * texts by least
squares: ``b / a`` is what one text costs beyond its characters, in characters (its
prompt, its [CLS]/[SEP] tokens, the per-text work), TEXT_COST in index/cache.py.

Usage: python benchmarks/fit_time_left.py [REPORT.txt]   (default the bundled sample)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from index import Settings, sample_report
from index.embeddings import load_embeddings
from index.parse import parse_file
from index.write import sentence_texts

LENGTHS = (10, 20, 40, 80, 160, 320)
REPEATS = 3


def main() -> None:
    report = Path(sys.argv[1]) if len(sys.argv) > 1 else sample_report()
    text = "".join(sentence_texts(parse_file(report).passages))
    model = load_embeddings(Settings.from_env())
    model.embed_documents([text[:320]] * 64)  # warm-up
    rows, seconds = [], []
    for _ in range(REPEATS):
        for n in LENGTHS:
            batch = [text[i * n : (i + 1) * n] for i in range(64)]
            started = time.perf_counter()
            model.embed_documents(batch)
            seconds.append(time.perf_counter() - started)
            rows.append((sum(map(len, batch)), len(batch)))
    (a, b), *_ = np.linalg.lstsq(np.array(rows, float), np.array(seconds), rcond=None)
    for (chars, texts), s in zip(rows, seconds, strict=True):
        print(f"{chars // texts:4d} chars x {texts}: {s:.2f} s (fit {a * chars + b * texts:.2f})")
    print(f"per character {a * 1000:.3f} ms, per text {b * 1000:.2f} ms: TEXT_COST = {b / a:.0f}")


if __name__ == "__main__":
    main()
