"""The server's heap: a few malloc arenas, not one per thread.

glibc gives threads that allocate at the same time arenas of their own (up to eight per
core) and keeps what is freed in each for reuse by that arena only. A server whose request
threads embed questions while builds go live every second grew 0.9 MB a build that way
(+332 MB in the 5-minute soak); with two arenas, +54 MB at the same latency
(``benchmarks/soak.py``, figures in docs/benchmarks.md). This is what
``MALLOC_ARENA_MAX=2`` does, which only takes effect when set before the process starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# glibc's mallopt parameter for the most arenas (malloc.h: M_ARENA_MAX).
M_ARENA_MAX = -8
# Two: the soak's growth from warm went from +332 MB to +54 MB, its p50 from 0.62 s to
# 0.59 s (the same within noise).
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Ask the C library for at most ``arenas`` malloc arenas from now on; ``False`` where
    it is not glibc (macOS, musl), which keeps its own allocator's ways."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return False
    return bool(mallopt) and mallopt(M_ARENA_MAX, arenas) == 1
