"""The contract every accuracy estimator fulfils: `AccuracyEstimator`, a base class that lists every member the
search, the report and the run files use, with a documented default for the optional ones. A new estimator
subclasses it, sets the four identity attributes, implements `estimate`, and overrides a default only where it
has something better (the proxy keeps `restrict_space` and `refine_front`; the supernet overrides both)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from search_spaces.arch import Arch

if TYPE_CHECKING:
    from nas.search.trial import Trial
    from search_spaces.space import SearchSpace

UNMEASURED = "rank correlation not measured"
GENERIC_QUANTITY = "predicted held-out loss"


class AccuracyEstimator(ABC):
    """Scores archs, higher is better: a score is exp(−L), L a held-out loss in nats the estimator predicts.

    What a person reads is L (`resolution.Estimate`), never the bare score. Scores must be comparable across
    calls within one search. Identity (class or instance attributes, or properties; all required):

    - `name`: the estimator's name in `--estimator`, the plot's caption and run.json.
    - `version`: changes whenever the scores change (new fit, new weights), so a resumed run never mixes two
      scorings; recorded in run.json and in every journal entry's evaluation job.
    - `quality`: how well the scores are known to rank trained models, as measured by a committed benchmark
      (e.g. "Spearman 0.62 vs distilled students, n=16"), or `UNMEASURED`; never a figure nobody measured.
    - `quantity`: what L is, for a person ("predicted held-out distillation loss").

    Measured resolution (optional: None when not measured; then tables keep four significant figures):

    - `scatter`: the sd of the scores (exp(−L) units) about the trained students' trend (`resolution.scatter`);
      `scatter_source` says what it was measured against.
    - `loss_scatter`: the same in nats of L, what tables and the plot show; `loss_scatter_source` likewise.
    """

    name: str
    version: str
    quality: str
    quantity: str = GENERIC_QUANTITY
    scatter: float | None = None
    scatter_source: str | None = None
    loss_scatter: float | None = None
    loss_scatter_source: str | None = None

    @abstractmethod
    def estimate(self, archs: Sequence[Arch]) -> np.ndarray:
        """One float per arch, exp(−L) in (0, 1], higher is better; called with batches of archs during a search
        (it should be fast: a search scores thousands)."""

    def restrict_space(self, space: SearchSpace, explicit: bool) -> SearchSpace:
        """The search space a run with this estimator searches, given the `--space` one (`explicit`: the user
        named it, rather than the default). Default: `space` unchanged. An estimator that can score only part of
        the archs (a supernet: its sub-networks) returns its own space, or checks an explicit one lies within it
        (a one-line `UserInputError` otherwise)."""
        return space

    def covers(self, arch: Arch) -> bool:
        """Whether this estimator's scores mean anything for `arch`. Default: every arch; a supernet (or its shipped
        predictor) covers its sub-networks only: elsewhere it extrapolates, so reports leave such archs unscored."""
        return True

    def refine_front(self, trials: list[Trial], budget_ms: float) -> list[Trial]:
        """Called once after the search with every trial: returns the trials with any re-scored (same ids; a
        re-scored trial's `accuracy` replaced, e.g. by a slower, better measurement of the front's points; run.json
        records what changed). Default: `trials` unchanged."""
        return trials


def quality_of(estimator: AccuracyEstimator) -> str:
    """The estimator's measured ranking quality, or a plain statement that none was measured."""
    return estimator.quality or UNMEASURED


def describe(estimator: AccuracyEstimator) -> str:
    """`proxy (Spearman −0.46 vs …)`: the estimator's name and its measured quality, for labels."""
    return f"{estimator.name} ({quality_of(estimator)})"
