"""Timing a model until it is stable: warm-up to a steady state, repeats with their spread, re-measurement.

A backend gives a *runner*: a callable that runs the model once and returns the seconds it took. This
module does the rest, the same way for every backend:

- **warm-up until stable** (`warm_up`): first calls pay allocation, lazy initialisation and cold caches
  (issue 12: one 2-layer model measured 8.56 ms where a near-identical one measured 4.57 ms). Runs go on
  until the median of the last `window` runs is within `tol` of the median of the `window` before them,
  at least `min_runs` and at most `max_runs` runs or `max_seconds` (bounded: a machine that never settles
  still gets measured; `Timing.warmup_settled` says whether it did).
- **spread**: the latency is the median of `repeat` runs (or their minimum, `statistic="min"`), its spread
  the std/median of those runs.
- **statistic**: the median is the typical run; the minimum is the run least disturbed by the rest of the
  machine. On a shared host whose speed varies from run to run, the minimum is the statistic that other
  work disturbs least, as Python's `timeit` documentation advises for the same reason; how far two
  measurements of one arch still differ is what `benchmarks/calibration_stability.py` reports
  (`repeatability`).
- **re-measurement**: an attempt whose spread is above `max_spread` is timed again (after a new warm-up),
  up to `retries` more times; the attempt with the smallest spread is kept.
- **interleaving** (`time_interleaved`): many runners are warmed up, then timed in rounds (one run of each
  per round, the order rotated every round), so that a drift of the machine's speed hits every model alike
  instead of separating those measured early from those measured late.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Runner = Callable[[], float]  # runs the model once, returns seconds

WARMUP_WINDOW = 3
WARMUP_TOL = 0.05
WARMUP_MIN = 2
WARMUP_MAX = 50
WARMUP_MAX_SECONDS = 60.0
# std/median above which a row is re-measured. A quiet machine gives 1-5 % for ms-scale models; in the 10
# sequential torch calibration rounds (benchmarks/measurements/calibration_stability/torch-quiet, 300 held-out
# rows) rows above 5 % missed their prediction by more than 10 % 3.5x as often as the rest (11.8 % vs 3.4 %).
MAX_SPREAD = 0.05
RETRIES = 2


@dataclass(frozen=True)
class Timing:
    median_ms: float
    spread: float  # std/median of the timed runs
    repeats: int  # timed runs
    warmup_runs: int
    warmup_settled: bool
    attempts: int = 1
    min_ms: float | None = None  # the fastest timed run: interference only slows a run down (see the module docstring)


def spread_of(times: Sequence[float]) -> float:
    """std/median of run times (0 for a single run)."""
    if len(times) < 2:
        return 0.0
    return statistics.pstdev(times) / statistics.median(times)


def warm_up(run: Runner, window: int = WARMUP_WINDOW, tol: float = WARMUP_TOL, min_runs: int = WARMUP_MIN,
            max_runs: int = WARMUP_MAX, max_seconds: float = WARMUP_MAX_SECONDS) -> tuple[int, bool]:
    """Run until two consecutive windows of runs agree within `tol` (relative, medians). Returns (runs, settled)."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_runs:
        times.append(run())
        if len(times) >= max(min_runs, 2 * window):
            last, before = statistics.median(times[-window:]), statistics.median(times[-2 * window:-window])
            if abs(last / before - 1.0) <= tol:
                return len(times), True
        if time.perf_counter() - start > max_seconds:
            break
    return len(times), False


def time_runs(run: Runner, repeat: int) -> list[float]:
    return [run() for _ in range(repeat)]


def _timing(times: list[float], warmup: tuple[int, bool], attempts: int) -> Timing:
    return Timing(statistics.median(times) * 1e3, spread_of(times), len(times), warmup[0], warmup[1], attempts,
                  min(times) * 1e3)


def time_stable(run: Runner, repeat: int, max_spread: float = MAX_SPREAD, retries: int = RETRIES,
                **warmup: float) -> Timing:
    """Warm up until stable, time `repeat` runs; re-measure (warm-up and runs) while the spread is above
    `max_spread`, at most `retries` times; the attempt with the smallest spread is kept."""
    best: Timing | None = None
    for attempt in range(1, retries + 2):
        settled = warm_up(run, **warmup)  # type: ignore[arg-type]
        timing = _timing(time_runs(run, repeat), settled, attempt)
        if best is None or timing.spread < best.spread:
            best = timing
        if timing.spread <= max_spread:
            break
    assert best is not None
    return dataclasses.replace(best, attempts=attempt)


def time_interleaved(runners: Sequence[Runner], repeat: int, max_spread: float = MAX_SPREAD,
                     retries: int = RETRIES, **warmup: float) -> list[Timing]:
    """Each runner warmed up until stable, then `repeat` rounds of one run of each (order rotated each round).
    Runners whose spread is above `max_spread` are timed again together (interleaved), at most `retries`
    times; each keeps its attempt with the smallest spread."""
    best: list[Timing | None] = [None] * len(runners)
    todo = list(range(len(runners)))
    for attempt in range(1, retries + 2):
        settled = {i: warm_up(runners[i], **warmup) for i in todo}  # type: ignore[arg-type]
        times: dict[int, list[float]] = {i: [] for i in todo}
        for r in range(repeat):
            shift = r % len(todo)
            for i in todo[shift:] + todo[:shift]:
                times[i].append(runners[i]())
        for i in todo:
            timing = _timing(times[i], settled[i], attempt)
            previous = best[i]
            if previous is None or timing.spread < previous.spread:
                best[i] = timing
            else:
                best[i] = dataclasses.replace(previous, attempts=attempt)
        todo = [i for i in todo if times[i] and spread_of(times[i]) > max_spread]
        if not todo:
            break
    return [t for t in best if t is not None]
