"""Per-stage wall time, CPU time and peak memory of one process (used by bench/bench_run.py).

    meter = StageMeter(); meter.start("land"); …; meter.start("check"); …; figures = meter.stop()

CPU is the process's user+system time (DuckDB's and Polars' threads included) plus that of children it
waited for; peak memory is the largest resident set of the process and its children seen by a sampler
thread every 20 ms during the stage (so a spike shorter than that can be missed; the process's overall
ru_maxrss is reported beside it as the exact peak of the whole run).
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from dataclasses import asdict, dataclass

import psutil

SAMPLE_SECONDS = 0.02


@dataclass
class StageFigures:
    stage: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class StageMeter:
    def __init__(self) -> None:
        self._process = psutil.Process(os.getpid())
        self._peak = 0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self._current: tuple[str, float, float] | None = None
        self.stages: list[StageFigures] = []

    def _rss(self) -> int:
        total = self._process.memory_info().rss
        for child in self._process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            rss = self._rss()
            with self._lock:
                self._peak = max(self._peak, rss)

    def start(self, stage: str) -> None:
        """End the current stage (if any) and start `stage`."""
        self._close()
        with self._lock:
            self._peak = self._rss()
        self._current = (stage, time.perf_counter(), _cpu_seconds())

    def _close(self) -> None:
        if self._current is None:
            return
        stage, wall0, cpu0 = self._current
        with self._lock:
            peak = max(self._peak, self._rss())
        self.stages.append(
            StageFigures(
                stage, round(time.perf_counter() - wall0, 2), round(_cpu_seconds() - cpu0, 2), round(peak / 2**20, 1)
            )
        )
        self._current = None

    def stop(self) -> list[dict]:
        self._close()
        self._done.set()
        return [asdict(s) for s in self.stages]


def process_peak_mib() -> float:
    """The exact peak resident set of this process (ru_maxrss, KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
