"""`random`: uniform samples of the space, without repeats. The baseline every other strategy must beat."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nas.strategies.base import Strategy
from search_spaces.arch import Arch


class RandomStrategy(Strategy):
    name = "random"

    def ask(self, n: int) -> list[Arch]:
        return [self.fresh_sample() for _ in range(n)]

    def tell(self, archs: Sequence[Arch], latency_ms: np.ndarray, accuracy: np.ndarray) -> None:
        pass
