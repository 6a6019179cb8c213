"""Build the 52 national reports, then rebuild unchanged; print speed and peak memory.

Usage: python benchmarks/index_build.py [CORPUS_DIR]   (default ../shared/corpus/national)
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

from index import Settings, build_index


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/national")
    with tempfile.TemporaryDirectory() as home:
        settings = dataclasses.replace(Settings.from_env(), home=Path(home), chroma_url=None)
        started = time.perf_counter()
        full = build_index([corpus], settings=settings)
        full_seconds = time.perf_counter() - started
        again = build_index([corpus], settings=settings)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"documents:               {len(full.added)} ({len(full.failed)} failed)")
    print(f"passages:                {full.chunks}")
    print(f"full build seconds:      {full_seconds:.1f} (model load included)")
    print(f"passages/s:              {full.chunks / full_seconds:.1f}")
    print(f"unchanged rebuild s:     {again.seconds:.2f} (embedded {again.embedded})")
    print(f"peak RSS MB:             {peak_mb:.0f}")


if __name__ == "__main__":
    main()
