"""Scores archs: predicted latency on the device, then (within the budget only) the accuracy estimate.

The latency model is anything with `predict(archs, seq_len) -> ms`; `nas search` uses
`latency_models.load_predictor`. Accuracy is estimated only for archs within the budget: the budget is a
hard constraint and an expensive estimator (distillation) must not be spent on archs that cannot be used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from nas.accuracy import get_estimator
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


@dataclass(frozen=True)
class EvaluationJob:
    """An `Evaluator` as an executor job (`nas/search/executor.py`): plain settings a worker rebuilds it from.

    Items are `(arch, wanted)` pairs, results `(latency_ms, accuracy)` pairs (accuracy NaN where not scored).
    In this process the already built evaluator (`built`) is used as is; it is never pickled.
    """

    profile_hash: str  # identifies the device profile (the job's identity: workers cache one evaluator per job)
    estimator: str
    estimator_options: tuple[tuple[str, Any], ...]
    budget_ms: float
    seq_len: int
    profile: Any = field(default=None, compare=False, hash=False, repr=False)  # DeviceProfile, name or path;
    # carried by value, so a worker on another machine needs no copy of the profile file
    built: Evaluator | None = field(default=None, compare=False, hash=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "built"} | {"built": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def setup(self) -> Evaluator:
        if self.built is not None:
            return self.built
        return Evaluator(load_latency_model(self.profile), get_estimator(self.estimator,
                                                                         **dict(self.estimator_options)),
                         self.budget_ms, self.seq_len)

    def run(self, evaluator: Evaluator, items: list[tuple[Arch, bool]]) -> list[tuple[float, float]]:
        scores = evaluator.evaluate([arch for arch, _ in items], np.array([wanted for _, wanted in items]))
        return list(zip(scores.latency_ms.tolist(), scores.accuracy.tolist(), strict=True))


def load_latency_model(device: object) -> LatencyModel:
    """The device's calibrated predictor (a name, a profile path or a `DeviceProfile`)."""
    from latency_models import load_predictor

    return load_predictor(device)
