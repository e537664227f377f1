"""`nsga2`: NSGA-II (Deb et al., IEEE TEVC 2002) with constrained domination, vectorised over the population.

Genes are choice indices per dimension (an integer matrix, one row per arch): tournament selection, uniform
crossover and mutation (±1 step for ordered numeric dimensions, any other choice otherwise) run as numpy
array operations; only decoding rows into validated `Arch`es is per arch. Objectives: latency/budget (min)
and accuracy (max); an over-budget arch is dominated by every feasible one and ranked by its overshoot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nas.search.pareto import non_dominated_ranks
from nas.strategies.base import Strategy
from search_spaces.arch import Arch

_INFEASIBLE_OFFSET = 1e3


def crowding_distance(objectives: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Per point, the normalised perimeter of the box spanned by its neighbours on its own front."""
    distance = np.zeros(len(objectives))
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        if len(members) <= 2:
            distance[members] = np.inf
            continue
        for column in objectives[members].T:
            order = np.argsort(column, kind="stable")
            ordered = column[order]
            distance[members[order[[0, -1]]]] = np.inf
            span = ordered[-1] - ordered[0]
            if span > 0:
                distance[members[order[1:-1]]] += (ordered[2:] - ordered[:-2]) / span
    return distance


class NSGA2Strategy(Strategy):
    name = "nsga2"
    default_batch_size = 64

    def __init__(self, *args, crossover_rate: float = 0.9, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.population_size = self.batch_size
        self.crossover_rate = crossover_rate
        self.choices = list(self.space.dimensions.values())
        self.keys = list(self.space.dimensions)
        self.n_choices = np.array([len(c) for c in self.choices])
        self.ordered = np.array([self.space.is_ordered(k) for k in self.keys])
        self.archs: list[Arch] = []
        self.genes = np.zeros((0, len(self.choices)), dtype=int)
        self.objectives = np.zeros((0, 2))
        self.ranks = np.zeros(0, dtype=int)
        self.crowding = np.zeros(0)

    # ------------------------------------------------------------------ variation
    def _tournament(self, n: int) -> np.ndarray:
        a, b = self.rng.integers(len(self.archs), size=(2, n))
        a_wins = (self.ranks[a] < self.ranks[b]) | ((self.ranks[a] == self.ranks[b]) &
                                                    (self.crowding[a] >= self.crowding[b]))
        return np.where(a_wins, a, b)

    def _offspring_genes(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        first, second = self._tournament(n), self._tournament(n)
        genes = self.genes[first].copy()
        cross = (self.rng.random((n, genes.shape[1])) < 0.5) & (self.rng.random((n, 1)) < self.crossover_rate)
        genes[cross] = self.genes[second][cross]
        mutate = self.rng.random(genes.shape) < 1.0 / genes.shape[1]
        mutate[np.arange(n), self.rng.integers(genes.shape[1], size=n)] |= ~mutate.any(axis=1)
        step = np.where(self.rng.random(genes.shape) < 0.5, -1, 1)
        stepped = np.clip(genes + step, 0, self.n_choices - 1)
        stepped = np.clip(np.where(stepped == genes, genes - step, stepped), 0, self.n_choices - 1)  # bounce
        jumped = (genes + 1 + self.rng.integers(0, 1 << 30, size=genes.shape) % np.maximum(self.n_choices - 1, 1)) \
            % self.n_choices
        use_step = self.ordered[None, :] & (self.rng.random(genes.shape) < 0.7)
        genes = np.where(mutate, np.where(use_step, stepped, jumped), genes)
        return genes, first

    def _decode(self, row: np.ndarray) -> Arch | None:
        point = {key: self.choices[d][int(i)] for d, (key, i) in enumerate(zip(self.keys, row, strict=True))}
        try:
            return self.space.to_arch(point)
        except ValueError:
            return None

    def ask(self, n: int) -> list[Arch]:
        if not self.archs:
            return [self.fresh_sample() for _ in range(n)]
        genes, parents = self._offspring_genes(n)
        children = []
        for row, parent in zip(genes, parents, strict=True):
            child = self._decode(row)
            if child is None or child in self.seen:
                child = self.fresh_child(self.archs[parent])  # repair: an invalid or repeated child
            self.seen.add(child)
            children.append(child)
        return children

    # ------------------------------------------------------------------ selection
    def _objectives(self, latency_ms: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
        rel = np.asarray(latency_ms, dtype=float) / self.budget_ms
        feasible = rel <= 1.0
        over = _INFEASIBLE_OFFSET + rel
        return np.column_stack([np.where(feasible, rel, over),
                                np.where(feasible, -np.nan_to_num(accuracy, nan=0.0), over)])

    def tell(self, archs: Sequence[Arch], latency_ms: np.ndarray, accuracy: np.ndarray) -> None:
        all_archs = self.archs + list(archs)
        genes = np.vstack([self.genes, np.array([self.space.indices(a) for a in archs], dtype=int)])
        objectives = np.vstack([self.objectives, self._objectives(latency_ms, accuracy)])
        ranks = non_dominated_ranks(objectives)
        crowding = crowding_distance(objectives, ranks)
        keep = np.lexsort((-crowding, ranks))[: self.population_size]
        self.archs = [all_archs[i] for i in keep]
        self.genes, self.objectives = genes[keep], objectives[keep]
        self.ranks = non_dominated_ranks(self.objectives)
        self.crowding = crowding_distance(self.objectives, self.ranks)
