"""The Strategy interface: propose archs (`ask`), learn from their scores (`tell`).

A strategy is deterministic given its seed and the results it is told: the controller relies on this to
resume a killed run by replaying the journal (same asks, journaled results told back).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

_DEDUP_TRIES = 50


class Strategy(ABC):
    name: str = "strategy"
    default_batch_size: int = 64

    def __init__(self, space: SearchSpace, budget_ms: float, seed: int, batch_size: int | None = None) -> None:
        self.space = space
        self.budget_ms = budget_ms
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.batch_size = batch_size or self.default_batch_size
        self.seen: set[Arch] = set()

    @abstractmethod
    def ask(self, n: int) -> list[Arch]:
        """`n` archs to evaluate next."""

    @abstractmethod
    def tell(self, archs: Sequence[Arch], latency_ms: np.ndarray, accuracy: np.ndarray) -> None:
        """Results of the last `ask`, in the same order; accuracy is NaN where the budget was exceeded."""

    def close(self) -> None:  # noqa: B027 - optional hook, most strategies hold nothing
        """Release resources (processes, temp dirs)."""

    # ------------------------------------------------------------------ helpers for subclasses
    def fresh_sample(self) -> Arch:
        """A random arch not proposed before (when the space still has one within a few tries)."""
        for _ in range(_DEDUP_TRIES):
            arch = self.space.sample(self.rng)
            if arch not in self.seen:
                break
        self.seen.add(arch)
        return arch

    def fresh_child(self, parent: Arch, other: Arch | None = None) -> Arch:
        """A mutated (and, with `other`, crossed-over) child not proposed before."""
        for attempt in range(_DEDUP_TRIES):
            child = parent if other is None else self.space.crossover(parent, other, self.rng)
            child = self.space.mutate(child, self.rng, n_changes=1 + attempt // 10)
            if child not in self.seen:
                break
        else:
            child = self.fresh_sample()
        self.seen.add(child)
        return child
