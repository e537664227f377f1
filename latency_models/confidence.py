"""A budget met with a given confidence: the latency model a search uses when `--confidence` is given.

`with_confidence(profile, 0.9)` marks a device profile; `load_predictor` then gives an `UpperBoundPredictor`,
whose `predict()` returns the upper bound of the two-sided `level` prediction interval
(`uncertainty.py`) instead of the point prediction. A search that keeps archs whose latency is within the
budget then keeps those whose upper bound is. The mark travels with the profile (an executor worker gets it
by value) and changes its `content_hash`, which a run records: a run resumed with another confidence is a
different run.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np

from device_profiles.schema import DeviceProfile
from nas_common.errors import UserInputError


@dataclasses.dataclass(frozen=True)
class ConfidentProfile(DeviceProfile):
    confidence: float = 0.9


# The highest level asked of an interval: beyond it the tails are the t distribution's guess, not anything a
# calibration of a few rows can tell, and 0.9999999999999999 made its quantile infinite ("100% interval 0.0-inf").
MAX_LEVEL = 0.999


def check_level(level: float, what: str = "--confidence") -> float:
    if not isinstance(level, (int, float)) or not 0 < level < 1:
        raise UserInputError(f"{what} must be a probability between 0 and 1 (e.g. 0.9), got {level!r}")
    if level > MAX_LEVEL:
        raise UserInputError(f"{what} must be a probability between 0 and {MAX_LEVEL:g} (e.g. 0.9), got {level!r}: "
                             "the interval's bounds are not finite, or not meaningful, that close to 1")
    return float(level)


def with_confidence(profile: DeviceProfile, level: float) -> ConfidentProfile:
    check_level(level)
    fields = {f.name: getattr(profile, f.name) for f in dataclasses.fields(DeviceProfile)}
    marked = hashlib.sha256(f"{profile.content_hash}|upper bound at confidence {level:g}".encode()).hexdigest()
    return ConfidentProfile(**{**fields, "content_hash": marked}, confidence=float(level))


class UpperBoundPredictor:
    """`predict()` gives the upper bound of the `level` interval; the point predictor stays at `.point`."""

    def __init__(self, point: Any, level: float) -> None:
        self.point = point
        self.level = check_level(level)
        self.profile = point.profile

    def predict(self, archs: Any, seq_len: int | Iterable[int] = 128, batch: int | Iterable[int] = 1) -> np.ndarray:
        return self.point.predict(archs, seq_len, batch, interval=self.level).upper

    def breakdown(self, arch: Any, seq_len: int = 128) -> list[dict[str, Any]]:
        return self.point.breakdown(arch, seq_len)
