"""Guard against super-linear work without timing the clock: compare the work at n and at 4n.

`growth(work, n)` runs `work(n)` and `work(4 * n)` and answers how many times
longer the second took, in this process's CPU time, so other processes on a
busy machine do not count. Each size runs at least `repeat` times and until
0.2 s of CPU is spent, and the fastest run counts, so neither a first run's
warm-up nor the timer's grain on very quick work decides. Linear work is
about 4, quadratic about 16: tests assert `< LINEAR`, with room for noise.
Absolute times live in bench/ (docs/benchmarks.md), never in a test.
"""

import gc
import time
from collections.abc import Callable

LINEAR = 8.0


def growth(work: Callable[[int], object], n: int, *, repeat: int = 2) -> float:
    def best(size: int) -> float:
        spent: list[float] = []
        gc.collect()
        gc.disable()  # a collection falling in one run and not the other is noise, not growth
        try:
            while len(spent) < repeat or sum(spent) < 0.2:
                started = time.process_time()
                work(size)
                spent.append(time.process_time() - started)
        finally:
            gc.enable()
        return min(spent)

    return best(4 * n) / max(best(n), 1e-3)
