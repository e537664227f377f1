"""Drift of a long measurement run: a reference model re-timed at intervals, recorded in every row.

A long run on a shared machine (a co-runner starts, the CPU clocks down) or on a warm phone (thermal
throttling) gets slower or faster while it runs, and rows measured late are then off against rows measured
early: a calibration on some and a validation on others sees the drift as model error. `nas measure
--reference ARCH --reference-every N` times the reference arch before the first arch, after every N archs and
after the last one, with the same settings as the archs (backend, threads, clock, repeats, statistic).

Each row then carries
- `reference_ms`: the reference's latency at the row's time, linearly interpolated between the reference
  timings before and after the row's batch (by the row's position in the batch);
- `drift`: `reference_ms / first reference timing - 1` (0 for the first batch's first row; +0.05: the machine
  is 5 % slower at that row than at the start of the run);
- with `--correct-drift`, `latency_ms` divided by `1 + drift` (the run's latencies at the machine's speed at
  its start) and the timed value kept as `raw_latency_ms`.

The correction assumes that a slowdown scales every model alike (a clock change does; cache contention from a
co-runner hits memory-bound models harder), so it is opt-in; the recorded `drift` shows whether it is needed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device_profiles.measurement import Measurement
from nas_common.errors import UserInputError

Measure = Callable[[list[Any]], list[Measurement]]  # measures a list of archs, one row each


@dataclass(frozen=True)
class DriftRecord:
    reference_ms: tuple[float, ...]  # the reference's timings, in run order (batches + 1 of them)
    every: int

    @property
    def drift(self) -> float:
        """Last reference timing against the first, relative."""
        return self.reference_ms[-1] / self.reference_ms[0] - 1.0

    @property
    def max_abs_drift(self) -> float:
        return max(abs(r / self.reference_ms[0] - 1.0) for r in self.reference_ms)


def interpolated(reference_ms: list[float], index: int, every: int) -> float:
    """The reference's latency at the row `index` (0-based) of a run timed in batches of `every` rows, the
    reference timed before batch 0 and after each batch."""
    batch, pos = divmod(index, every)
    before = reference_ms[batch]
    after = reference_ms[min(batch + 1, len(reference_ms) - 1)]
    frac = (pos + 0.5) / every
    return before + (after - before) * frac


def annotate(rows: list[Measurement], reference_ms: list[float], every: int, correct: bool) -> list[Measurement]:
    """Rows with `reference_ms` and `drift` (and, when `correct`, drift-corrected `latency_ms`)."""
    if not reference_ms or reference_ms[0] <= 0:
        raise ValueError("the reference must have been timed at least once")
    out = []
    for i, row in enumerate(rows):
        ref = interpolated(reference_ms, i, every)
        drift = ref / reference_ms[0] - 1.0
        fields: dict[str, Any] = {"reference_ms": ref, "drift": drift}
        if correct:
            fields.update(raw_latency_ms=row.latency_ms, latency_ms=row.latency_ms / (1.0 + drift))
        out.append(dataclasses.replace(row, **fields))
    return out


def measure_with_reference(archs: list[Any], reference: Any, every: int, measure: Measure,
                           correct: bool = False) -> tuple[list[Measurement], DriftRecord]:
    """Rows of `archs`, measured in batches of `every` with `reference` timed before, between and after them."""
    if every < 1:
        raise UserInputError(f"--reference-every must be at least 1, got {every}")
    reference_ms = [measure([reference])[0].latency_ms]
    rows: list[Measurement] = []
    for start in range(0, len(archs), every):
        rows.extend(measure(archs[start:start + every]))
        reference_ms.append(measure([reference])[0].latency_ms)
    return annotate(rows, reference_ms, every, correct), DriftRecord(tuple(reference_ms), every)
