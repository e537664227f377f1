"""`Measurement`: one measured latency of one architecture. The one record for a profile's `[[calibration]]`
points and for a row of a measurements file (`latency_models/measurements.py` reads and writes those files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.presets import PRESETS

# A latency above this is a unit slip or a corrupted value, not one inference (and the log-space fit overflows).
MAX_LATENCY_MS = 86_400_000.0  # one day
# A batch or a thread count above these is a typo or a corrupted value, not one measured inference's: the
# predictor scales by the batch (a batch of 10^11 predicted 6 * 10^12 ms), and no CPU runs 4096 threads at once.
COUNT_LIMITS = {"batch": 65_536, "threads": 4_096}


def check_latency_ms(value: float, where: str) -> float:
    """`value` (already known positive) as a float, refused when above MAX_LATENCY_MS."""
    if value > MAX_LATENCY_MS:
        raise UserInputError(f"{where}: latency_ms {value!r} is more than a day: not one inference's latency in "
                             "milliseconds")
    return float(value)


def check_count(name: str, value: int, where: str) -> int:
    """`value` (already known a positive integer) when at most `COUNT_LIMITS[name]`."""
    limit = COUNT_LIMITS[name]
    if value > limit:
        raise UserInputError(f"{where}: {name} {value:,} is above this tool's limit of {limit:,}; is it a typo?")
    return value


@dataclass(frozen=True)
class Measurement:
    arch: Arch
    latency_ms: float
    seq_len: int = 128
    batch: int = 1
    threads: int | None = None
    source: str = ""
    line: int = 0  # where it was read from: a file's line number, or a profile's calibration point number
    spread: float | None = None  # std/median of the timed runs (latency_models/timing.py), when measured
    repeats: int | None = None  # how many timed runs the latency is the median of
    # Drift (latency_models/drift.py): the reference model's latency at this row's time, its change since the
    # run's start (relative), and the timed latency when `latency_ms` was corrected for it.
    reference_ms: float | None = None
    drift: float | None = None
    raw_latency_ms: float | None = None

    def to_row(self) -> dict[str, Any]:
        """The row of a measurements file: the Arch's fields, then the measurement's."""
        row: dict[str, Any] = dict(self.arch.to_dict())
        row.update(seq_len=self.seq_len, batch=self.batch, latency_ms=round(self.latency_ms, 4))
        if self.threads is not None:
            row["threads"] = self.threads
        if self.source:
            row["source"] = self.source
        if self.spread is not None:
            row.update(spread=round(self.spread, 4), repeats=self.repeats)
        for name in ("reference_ms", "drift", "raw_latency_ms"):
            value = getattr(self, name)
            if value is not None:
                row[name] = round(value, 4 if name != "drift" else 5)
        return row

    def to_toml(self) -> dict[str, Any]:
        """A profile's `[[calibration]]` table: the arch as its preset name when it is one, else its fields."""
        preset = next((name for name, p in PRESETS.items() if p.arch == self.arch), None)
        out: dict[str, Any] = {"arch": preset or self.arch.to_dict(), "latency_ms": self.latency_ms,
                               "seq_len": self.seq_len, "batch": self.batch}
        if self.threads is not None:
            out["threads"] = self.threads
        out["source"] = self.source
        return out
