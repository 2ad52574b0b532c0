"""The one timer every benchmark uses: median wall time of ``repeat`` calls."""
from __future__ import annotations

import statistics
import time


def timed(fn, repeat: int = 1) -> float:
    """Median seconds of ``repeat`` calls of ``fn()``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
