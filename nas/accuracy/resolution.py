"""How finely an estimator's scores can be read: their scatter about the trained students' trend.

A score printed as 0.09491 beside 0.09482 claims an order the estimator cannot know when, measured against
distilled students, its scores scatter about their trend by more than that difference (the proxy's scatter is
`loo_scatter` in nas/accuracy/proxy_fit.json). `scatter` is that measurement (the sd of the scores' residuals about
their least-squares line against the students' held-out losses, in the scores' own units); `format_estimate` prints
a score to the decimal that scatter resolves (the scatter to two significant figures, the value to the same decimal
place), and `within_scatter` counts the picks that lie within it of the best, which a user should treat as one
choice until `nas confirm` measures them.

What a score is, for a person: every estimator scores exp(−L), L a held-out loss in nats that it predicts
(`base.AccuracyEstimator`), so tables, the plot and the files show L itself — "predicted held-out distillation
loss 2.36 ±0.15 nats, lower is better" — never the bare score, which reads like an accuracy (0.0949 is not
9.5 %). `Estimate` carries what L is, its scatter in nats and the estimator's measured quality, from a live
estimator or from run.json.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas.accuracy.base import GENERIC_QUANTITY, UNMEASURED, AccuracyEstimator, quality_of

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


def scatter_of(estimator: AccuracyEstimator) -> float | None:
    """The estimator's measured scatter, or None when none was measured."""
    return measured_scatter(estimator.scatter)


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


def scatter_note(spread: float | None, source: str, values: Sequence[float] = (), unit: str = "") -> str:
    """`±0.014 (…); picks 0–9 lie within it of pick 0` for a table caption or a plot label."""
    if not spread:
        return "its scatter about trained students not measured"
    note = f"±{spread:.{decimals(spread)}f}{' ' + unit if unit else ''} ({source})"
    tied = within_scatter(values, spread)
    if tied > 1:
        note += f"; picks 0–{tied - 1} lie within it of pick 0: treat them as one choice until `nas confirm`"
    return note


def loss_of(score: float) -> float:
    """L (nats) of a score exp(−L)."""
    return -math.log(score)


@dataclass(frozen=True)
class Estimate:
    """How to read one estimator's scores: the loss they predict (`quantity`, nats, lower is better), its
    measured scatter in nats (`scatter`, None when none was measured or recorded) and where that comes from,
    and the estimator's measured ranking quality."""

    name: str
    quantity: str = GENERIC_QUANTITY
    scatter: float | None = None
    source: str = "measured"
    quality: str = UNMEASURED

    def loss(self, score: float) -> float:
        return loss_of(score)

    def value(self, score: float) -> str:
        """The loss of `score` to the decimal its scatter resolves: `2.36`."""
        return format_estimate(loss_of(score), self.scatter)

    def phrase(self, score: float) -> str:
        """`predicted held-out distillation loss 2.36 ±0.15 nats (proxy; lower is better)`."""
        spread = f" ±{self.spread_text()}" if self.scatter else ""
        return f"{self.quantity} {self.value(score)}{spread} nats ({self.name}; lower is better)"

    def spread_text(self) -> str:
        return f"{self.scatter:.{decimals(self.scatter)}f}" if self.scatter else "?"

    def axis_title(self) -> str:
        """One short line: the quantity, its unit and which way is better."""
        return f"{self.quantity} (nats) · lower is better"

    def caption(self, losses: Sequence[float] = ()) -> str:
        """The estimator, the scatter (with the picks it ties, `losses` best first) and the measured quality."""
        return (f"{self.quantity} (nats, lower is better) by the {self.name} estimator, "
                f"{scatter_note(self.scatter, self.source, losses, 'nats')}; measured quality: {self.quality}")

    def record(self) -> dict[str, Any]:
        """The fields run.json keeps (read back by `from_record`)."""
        return {"quantity": self.quantity, "loss_scatter": self.scatter, "loss_scatter_source": self.source}

    @classmethod
    def of(cls, estimator: AccuracyEstimator) -> Estimate:
        """From a live estimator (its `name`, `quantity`, `loss_scatter`, `loss_scatter_source`, `quality`)."""
        return cls(name=estimator.name, quantity=estimator.quantity or GENERIC_QUANTITY,
                   scatter=measured_scatter(estimator.loss_scatter),
                   source=estimator.loss_scatter_source or "measured", quality=quality_of(estimator))

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Estimate:
        """From run.json (`record` is the whole run record); a run recorded before the loss was named reads as
        a generic predicted loss with its scatter in nats not recorded."""
        estimator = record.get("estimator") or {}
        name = estimator.get("name") or (record.get("options") or {}).get("estimator") or "estimator"
        return cls(name=str(name), quantity=str(estimator.get("quantity") or GENERIC_QUANTITY),
                   scatter=measured_scatter(estimator.get("loss_scatter")),
                   source=str(estimator.get("loss_scatter_source") or "measured"),
                   quality=str(estimator.get("quality") or "not recorded in run.json"))
