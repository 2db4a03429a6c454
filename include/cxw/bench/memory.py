"""Peak memory of a piece of work: RSS sampled in a background thread (this process and its
children), because `ru_maxrss` only ever grows and cannot be scoped to one stage."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Measure:
    seconds: float = 0.0
    peak_rss_mb: float = 0.0


@contextmanager
def measured(interval: float = 0.1) -> Iterator[Measure]:
    import psutil

    proc = psutil.Process()
    out = Measure()
    stop = threading.Event()

    def rss() -> float:
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total / 2**20

    def sample() -> None:
        while not stop.is_set():
            out.peak_rss_mb = max(out.peak_rss_mb, rss())
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    thread.start()
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        out.peak_rss_mb = round(max(out.peak_rss_mb, rss()), 1)
        out.seconds = round(time.perf_counter() - started, 3)
