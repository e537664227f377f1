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
_CROWDED_TRIES = 10  # a dedup search this long in a small space: draw from the archs left (see Strategy.unseen)
_ENUMERABLE = 20_000  # grid points up to which a space counts as small


class _Proposed(set):
    """The archs proposed so far; once a small space is crowded, also those of it left (`left`, in enumeration
    order), kept up to date as archs are added, so that drawing from them costs no scan of the space."""

    left: dict[Arch, None] | None = None

    def add(self, arch: Arch) -> None:
        super().add(arch)
        if self.left is not None:
            self.left.pop(arch, None)


class Strategy(ABC):
    name: str = "strategy"
    default_batch_size: int = 64

    def __init__(self, space: SearchSpace, budget_ms: float, seed: int, batch_size: int | None = None) -> None:
        self.space = space
        self.budget_ms = budget_ms
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.batch_size = batch_size or self.default_batch_size
        self.seen: set[Arch] = _Proposed()
        self._crowded = False
        self._large_space = False

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
        left = self.unseen()
        if left is not None:
            arch = left[int(self.rng.integers(len(left)))] if left else self.space.sample(self.rng)
            self.seen.add(arch)
            return arch
        for attempt in range(_DEDUP_TRIES):
            arch = self.space.sample(self.rng)
            if arch not in self.seen:
                break
            self._note_repeat(attempt)
        self.seen.add(arch)
        return arch

    def fresh_child(self, parent: Arch, other: Arch | None = None) -> Arch:
        """A mutated (and, with `other`, crossed-over) child not proposed before."""
        for attempt in range(1 if self.unseen_left() is not None else _DEDUP_TRIES):
            child = parent if other is None else self.space.crossover(parent, other, self.rng)
            child = self.space.mutate(child, self.rng, n_changes=1 + attempt // 10)
            if child not in self.seen:
                break
            self._note_repeat(attempt)
        else:
            child = self.fresh_sample()
        self.seen.add(child)
        return child

    def _note_repeat(self, attempt: int) -> None:
        if attempt + 1 >= _CROWDED_TRIES:
            self._crowded = True

    def unseen(self) -> list[Arch] | None:
        """`unseen_left()` as a list (a copy: for drawing one by index)."""
        left = self.unseen_left()
        return None if left is None else list(left)

    def unseen_left(self) -> dict[Arch, None] | None:
        """The archs not yet proposed, once a small space is crowded (a dedup search needed _CROWDED_TRIES tries);
        None before, and always for large spaces. A search may ask for about as many trials as such a space
        holds (the supernet's: 1600 archs, 2000 trials), and then mutating until an unseen arch turns up burns
        time (10 s of a 90 s search); from then on a child is one mutation, else an arch drawn from what is
        left. Runs that never crowd their space propose exactly what they did before."""
        if not self._crowded or self._large_space:
            return None
        seen = self.seen
        assert isinstance(seen, _Proposed)
        if seen.left is None:
            if self.space.size() > _ENUMERABLE:
                self._large_space = True
                return None
            seen.left = {arch: None for arch in self.space.enumerate() if arch not in seen}
        return seen.left
