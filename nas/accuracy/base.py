"""The interface every accuracy estimator implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from search_spaces.arch import Arch


@runtime_checkable
class AccuracyEstimator(Protocol):
    """Scores archs, higher is better. Scores must be comparable across calls within one search."""

    name: str
    version: str  # bump when scores change, so a resumed run never mixes two scorings

    def estimate(self, archs: Sequence[Arch]) -> np.ndarray:
        """One float per arch."""
        ...
