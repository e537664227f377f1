"""`evolution`: regularized (aging) evolution, Real et al., "Regularized Evolution for Image Classifier
Architecture Search", AAAI 2019: tournament selection from a queue population, the oldest member dies.

Two objectives become one per tournament: fitness = accuracy − w · latency/budget with a fresh random weight
w each time (log-uniform), so successive tournaments pull toward different parts of the front. Over-budget
archs always lose to feasible ones.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from nas.strategies.base import Strategy
from search_spaces.arch import Arch

WEIGHT_RANGE = (0.01, 3.0)
INFEASIBLE = -10.0


class EvolutionStrategy(Strategy):
    name = "evolution"
    default_batch_size = 32

    def __init__(self, *args, population_size: int = 64, sample_size: int = 16,
                 crossover_rate: float = 0.3, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.population_size = population_size
        self.sample_size = sample_size
        self.crossover_rate = crossover_rate
        # (arch, latency / budget, accuracy or NaN)
        self.population: deque[tuple[Arch, float, float]] = deque(maxlen=population_size)

    def _fitness(self, members: list[tuple[Arch, float, float]], weight: float) -> np.ndarray:
        rel = np.array([m[1] for m in members])
        acc = np.array([m[2] for m in members])
        return np.where(rel <= 1.0, np.nan_to_num(acc, nan=0.0) - weight * rel, INFEASIBLE - rel)

    def _select(self) -> Arch:
        members = list(self.population)
        picks = self.rng.choice(len(members), size=min(self.sample_size, len(members)), replace=False)
        weight = float(np.exp(self.rng.uniform(*np.log(WEIGHT_RANGE))))
        tournament = [members[i] for i in picks]
        return tournament[int(np.argmax(self._fitness(tournament, weight)))][0]

    def ask(self, n: int) -> list[Arch]:
        if len(self.population) < self.population_size:
            return [self.fresh_sample() for _ in range(n)]
        children = []
        for _ in range(n):
            parent = self._select()
            other = self._select() if self.rng.random() < self.crossover_rate else None
            children.append(self.fresh_child(parent, other))
        return children

    def tell(self, archs: Sequence[Arch], latency_ms: np.ndarray, accuracy: np.ndarray) -> None:
        for arch, lat, acc in zip(archs, latency_ms, accuracy, strict=True):
            self.population.append((arch, float(lat) / self.budget_ms, float(acc)))  # the oldest drops out
