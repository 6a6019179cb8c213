"""The vectors a reader searches: Chroma's nearest over the whole index, exact scans over the
asked reports, and the vectors read kept at hand (one owner for both caches).

A question about some reports (a region, a year) scans their passage and sentence vectors
exactly, as read whole from Chroma once per report: faster than Chroma's filtered search and
exact. A question about all reports asks Chroma's vector indexes for the nearest.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable

import numpy as np

from index.errors import IndexChangedError, ReportQAError
from index.records import Records
from index.shards import OpenIndex, top

_UNIT_CACHE = 4096  # sentence vectors of passages read lately (of reports not at hand)
# Reports' vectors kept at hand (a report's ~1 MB): the 34 reports take 33 MB; at 10^5
# passages a question reads a few reports of a thousand.
_REPORT_CACHE_BYTES = 512 * 2**20
# Reports whose vectors a reader reads at once, in the background: a report takes 10-30 ms
# to read, so 50 are read in about a second. At 34 reports, reading them as questions came
# doubled the median answer time (60 -> 139 ms); at 100 reading them all at once slowed
# the first questions more than it saved.
_PREFETCH = 50


class Vectors:
    """The vectors of one index's live reports.

    Args:
        records: The index's Chroma records.
        index: The live reports' rows.
    """

    def __init__(self, records: Records, index: OpenIndex) -> None:
        self.records = records
        self.index = index
        # report code -> its passage and sentence vectors, the most recently used last
        self._reports: collections.OrderedDict[int, tuple[np.ndarray, np.ndarray]] = (
            collections.OrderedDict()
        )
        self._report_bytes = 0
        self._units: dict[int, np.ndarray] = {}  # row -> its sentence vectors (hits only)
        self._lock = threading.Lock()

    def best_by_sentence(
        self, vector: np.ndarray, codes: Iterable[int] | None, n: int
    ) -> list[int]:
        """The ``n`` rows whose sentence is most similar to ``vector``, best first, among the
        reports ``codes`` (all: ``None``); ``3 * n`` sentences are looked at."""
        if codes is None:
            found = self.records.nearest_units(vector, n * 3)
            rows = (self.index.row_of(pid) for pid, _ in found)
            return list(dict.fromkeys(r for r in rows if r is not None))[:n]
        sims, rows = [], []
        for code in sorted(codes):
            _, units = self.report(code)
            first, end = int(self.index.first_row[code]), int(self.index.first_row[code + 1])
            sims.append(units @ vector)
            rows.append(np.repeat(np.arange(first, end), self.index.counts[first:end]))
        if not sims:
            return []
        best = np.concatenate(rows)[top(np.concatenate(sims), n * 3)]
        return list(dict.fromkeys(int(r) for r in best))[:n]

    def best_passages(
        self, vector: np.ndarray, codes: Iterable[int] | None, n: int
    ) -> dict[int, float]:
        """Row -> cosine similarity of the ``n`` passages nearest ``vector``, best first,
        among the reports ``codes`` (all: ``None``)."""
        if codes is None:
            found = self.records.nearest_passages(vector, n)
            rows = ((self.index.row_of(pid), sim) for pid, sim in found)
            return {row: sim for row, sim in rows if row is not None}
        sims, rows = [], []
        for code in sorted(codes):
            passages, _ = self.report(code)
            sims.append(passages @ vector)
            rows.append(np.arange(self.index.first_row[code], self.index.first_row[code + 1]))
        if not sims:
            return {}
        sims, rows = np.concatenate(sims), np.concatenate(rows)
        return {int(rows[i]): float(sims[i]) for i in top(sims, n)}

    def prefetch(self, stop: threading.Event) -> None:
        """Read every report's vectors, for an index of a few reports (see ``_PREFETCH``):
        its questions then read no vector from Chroma. Stops when ``stop`` is set."""
        if len(self.index.names) > _PREFETCH:
            return  # its reports are read as questions ask for them
        try:
            for code in range(len(self.index.names)):
                if stop.is_set():
                    return
                self.report(code)
        except Exception:  # the index moved on, or the server went: questions read them
            return

    def units_of(self, row: int) -> np.ndarray:
        """The sentence vectors of passage ``row``."""
        code = int(self.index.doc_code[row])
        cached = self._reports.get(code)
        if cached is not None:
            first = self.index.first_sentence
            base = int(first[self.index.first_row[code]])
            return cached[1][int(first[row]) - base : int(first[row + 1]) - base]
        if row not in self._units:
            self.fetch_units([row])
        return self._units[row]

    def fetch_units(self, rows: list[int]) -> None:
        """Read the sentence vectors of ``rows`` not at hand, in one request per collection.

        Raises:
            IndexChangedError: They are gone (builds replaced their reports meanwhile).
        """
        wanted = {
            self.index.record_id(r): r
            for r in rows
            if r not in self._units and int(self.index.doc_code[r]) not in self._reports
        }
        if not wanted:
            return
        counts = {pid: int(self.index.counts[r]) for pid, r in wanted.items()}
        found = self.records.unit_vectors(counts)
        if len(found) < len(wanted):
            raise IndexChangedError(ReportQAError("sentence vectors of the index are gone"))
        with self._lock:
            for pid, units in found.items():
                if len(self._units) >= _UNIT_CACHE:
                    self._units.pop(next(iter(self._units)))
                self._units[wanted[pid]] = units

    def report(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        """The passage and sentence vectors of report ``code``, read once and kept while
        the cache has room.

        Raises:
            IndexChangedError: They are gone (builds replaced the report meanwhile).
        """
        found = self._reports.get(code)
        if found is not None:
            self._reports.move_to_end(code)
            return found
        name = self.index.names[code]
        first, end = int(self.index.first_row[code]), int(self.index.first_row[code + 1])
        found = self.records.report_vectors(name, [int(c) for c in self.index.counts[first:end]])
        if len(found[0]) != end - first or len(found[1]) != int(self.index.counts[first:end].sum()):
            raise IndexChangedError(ReportQAError(f"vectors of {name} are gone"))
        with self._lock:
            if code in self._reports:  # read meanwhile by another thread
                return self._reports[code]
            self._reports[code] = found
            self._report_bytes += found[0].nbytes + found[1].nbytes
            while self._report_bytes > _REPORT_CACHE_BYTES and len(self._reports) > 1:
                _, (a, b) = self._reports.popitem(last=False)
                self._report_bytes -= a.nbytes + b.nbytes
        return found
