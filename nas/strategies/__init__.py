"""Search strategies by name: *what* is tried. *Where* trials run is the executor's business (`nas/search/executor.py`):
any strategy runs locally or on Ray."""

from __future__ import annotations

from nas.strategies.base import Strategy
from nas_common.errors import UserInputError
from search_spaces.space import SearchSpace

STRATEGIES = ("nsga2", "evolution", "random", "nni", "nni-tpe")
DEFAULT_STRATEGY = "nsga2"
# Default trials: where the default strategy reaches ≥ 99 % of the reference hypervolume at 62 ms on pixel4
# (benchmarks/results/search_quality.json), with margin.
DEFAULT_TRIALS = 2000


def make_strategy(name: str, space: SearchSpace, budget_ms: float, seed: int,
                  batch_size: int | None = None) -> Strategy:
    if name == "random":
        from nas.strategies.random_search import RandomStrategy

        return RandomStrategy(space, budget_ms, seed, batch_size)
    if name == "evolution":
        from nas.strategies.evolution import EvolutionStrategy

        return EvolutionStrategy(space, budget_ms, seed, batch_size)
    if name == "nsga2":
        from nas.strategies.nsga2 import NSGA2Strategy

        return NSGA2Strategy(space, budget_ms, seed, batch_size)
    if name in ("nni", "nni-tpe"):
        from nas.strategies.nni_tuners import NniStrategy

        return NniStrategy(space, budget_ms, seed, batch_size, tuner="tpe" if name == "nni-tpe" else "evolution")
    raise UserInputError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


__all__ = ["DEFAULT_STRATEGY", "DEFAULT_TRIALS", "STRATEGIES", "Strategy", "make_strategy"]
