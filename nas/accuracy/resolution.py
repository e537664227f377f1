"""How finely an estimator's scores can be read: their scatter about the trained students' trend.

A score printed as 0.09491 beside 0.09482 claims an order the estimator cannot know when, measured against
distilled students, its scores scatter by ±0.0090 about their trend (the proxy, n = 18). `scatter` is that
measurement (the sd of the scores' residuals about their least-squares line against the students' held-out
losses, in the scores' own units); `format_estimate` prints a score to the decimal that scatter resolves (the
scatter to two significant figures, the value to the same decimal place), and `within_scatter` counts the picks
that lie within it of the best, which a user should treat as one choice until `nas confirm` measures them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

UNKNOWN_DIGITS = "#.4g"  # an estimator with no measured scatter keeps four significant figures


def scatter(scores: Sequence[float], losses: Sequence[float]) -> float:
    """Sd (n − 2 degrees of freedom) of `scores` about their least-squares line against `losses`."""
    x, y = np.asarray(losses, dtype=float), np.asarray(scores, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0:
        raise ValueError("scatter needs at least 3 students of different loss")
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (slope * x + intercept)
    return float(math.sqrt(residuals @ residuals / (len(x) - 2)))


def measured_scatter(value: object) -> float | None:
    """`value` as a scatter (a positive finite number, e.g. as run.json recorded it), or None when it is none."""
    return float(value) if isinstance(value, int | float) and math.isfinite(value) and value > 0 else None


def scatter_of(estimator: object) -> float | None:
    """The estimator's measured scatter, or None when none was measured."""
    return measured_scatter(getattr(estimator, "scatter", None))


def decimals(spread: float) -> int:
    """Decimal places that show `spread` to two significant figures."""
    return max(0, 1 - math.floor(math.log10(spread)))


def format_estimate(value: float, spread: float | None, unmeasured: str = UNKNOWN_DIGITS) -> str:
    """`value` to the decimal `spread` resolves; in the `unmeasured` format when no scatter was measured."""
    return f"{value:.{decimals(spread)}f}" if spread else f"{value:{unmeasured}}"


def within_scatter(values: Sequence[float], spread: float | None) -> int:
    """How many of `values` (best first) lie within `spread` of the first."""
    if not values or not spread:
        return 0
    return sum(1 for v in values if abs(v - values[0]) <= spread)


def scatter_note(spread: float | None, source: str, values: Sequence[float] = ()) -> str:
    """`±0.014 (…); picks 0–9 lie within it of pick 0` for a table caption or a plot label."""
    if not spread:
        return "its scatter about trained students not measured"
    note = f"±{spread:.{decimals(spread)}f} ({source})"
    tied = within_scatter(values, spread)
    if tied > 1:
        note += f"; picks 0–{tied - 1} lie within it of pick 0: treat them as one choice until `nas confirm`"
    return note
