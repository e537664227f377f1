"""The interface every accuracy estimator implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from search_spaces.arch import Arch

UNMEASURED = "rank correlation not measured"


@runtime_checkable
class AccuracyEstimator(Protocol):
    """Scores archs, higher is better. Scores must be comparable across calls within one search.

    A score is exp(−L), L a held-out loss in nats that the estimator predicts; `quantity` names L ("predicted
    held-out distillation loss"), and what a person reads is L (`resolution.Estimate`), not the score.
    `loss_scatter` is L's measured scatter about trained students (nats; None when not measured).

    `name` labels the plot's caption and `run.json`; `quality` says how well the scores are known to rank
    trained models, as measured (e.g. "Spearman 0.62 vs distilled students, n=16"), with no figure that was
    not measured by a committed benchmark.
    """

    name: str
    version: str  # bump when scores change, so a resumed run never mixes two scorings
    quality: str
    quantity: str
    loss_scatter: float | None

    def estimate(self, archs: Sequence[Arch]) -> np.ndarray:
        """One float per arch."""
        ...


def quality_of(estimator: object) -> str:
    """The estimator's measured ranking quality, or a plain statement that none was measured."""
    quality = getattr(estimator, "quality", None)
    return quality if isinstance(quality, str) and quality else UNMEASURED


def describe(estimator: object) -> str:
    """`proxy (Spearman −0.46 vs …)`: the estimator's name and its measured quality, for labels."""
    return f"{getattr(estimator, 'name', 'estimator')} ({quality_of(estimator)})"
