"""Scores archs: predicted latency on the device, then (within the budget only) the accuracy estimate.

The latency model is anything with `predict(archs, seq_len) -> ms`; `nas search` uses
`latency_models.load_predictor`. Accuracy is estimated only for archs within the budget: the budget is a
hard constraint and an expensive estimator (distillation) must not be spent on archs that cannot be used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nas.accuracy.base import AccuracyEstimator
from search_spaces.arch import Arch


class LatencyModel(Protocol):
    def predict(self, archs: Sequence[Arch], seq_len: int = 128) -> np.ndarray: ...


@dataclass(frozen=True)
class Scores:
    latency_ms: np.ndarray
    accuracy: np.ndarray  # NaN where the latency exceeds the budget

    @property
    def feasible(self) -> np.ndarray:
        return ~np.isnan(self.accuracy)


class Evaluator:
    def __init__(self, latency: LatencyModel, accuracy: AccuracyEstimator, budget_ms: float,
                 seq_len: int = 128) -> None:
        self.latency = latency
        self.accuracy = accuracy
        self.budget_ms = budget_ms
        self.seq_len = seq_len

    def evaluate(self, archs: Sequence[Arch], wanted: np.ndarray | None = None) -> Scores:
        """Scores for `archs`; with `wanted`, accuracy only where it is True (NaN elsewhere).

        Latency is always predicted for the whole batch: a vectorised predictor may differ in the last bits
        with the batch's composition, and a resumed run must see exactly what the uninterrupted one saw.
        """
        archs = list(archs)
        if not archs:
            return Scores(np.zeros(0), np.zeros(0))
        latency = np.asarray(self.latency.predict(archs, seq_len=self.seq_len), dtype=float)
        accuracy = np.full(len(archs), np.nan)
        within = np.flatnonzero((latency <= self.budget_ms) & (True if wanted is None else np.asarray(wanted)))
        if len(within):
            accuracy[within] = self.accuracy.estimate([archs[i] for i in within])
        return Scores(latency, accuracy)


def load_latency_model(device: object) -> LatencyModel:
    """The device's calibrated predictor (a name, a profile path or a `DeviceProfile`)."""
    from latency_models import load_predictor

    return load_predictor(device)
