"""`nni`: NNI's in-process HPO tuners (EvolutionTuner, TpeTuner) driven through `update_search_space`,
`generate_parameters(id)` and `receive_trial_result(id, params, value)` — no web portal, no experiment dir.

NNI tuners optimise one number, so the two objectives become reward = accuracy − 0.1 · latency/budget for an
arch within the budget, and −latency/budget (always lower) over it. Dimensions are given to NNI as choices of
indices (NNI does not mix strings and numbers well). A proposal that makes no valid arch (heads that do not
divide the width) is told a penalty and asked again; it does not count as a trial.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nas.strategies.base import Strategy
from search_spaces.arch import Arch

LATENCY_WEIGHT = 0.1
_MAX_INVALID = 200


@contextlib.contextmanager
def _private_random(state: random.Random) -> Iterator[None]:
    """NNI draws from the global `random` module; give it our seeded stream and restore the global one."""
    saved = random.getstate()
    random.setstate(state.getstate())
    try:
        yield
    finally:
        state.setstate(random.getstate())
        random.setstate(saved)


def _seeded_evolution_tuner(seed: int, population_size: int) -> Any:
    from nni.algorithms.hpo.evolution_tuner import EvolutionTuner, json2space

    class SeededEvolutionTuner(EvolutionTuner):
        """EvolutionTuner with a seeded RandomState (the original creates an unseeded one)."""

        def update_search_space(self, search_space: dict[str, Any]) -> None:
            self.searchspace_json = search_space
            self.space = json2space(search_space)
            self.random_state = np.random.RandomState(seed)
            self.population = []
            for _ in range(self.population_size):
                self._random_generate_individual()

    return SeededEvolutionTuner(optimize_mode="maximize", population_size=population_size)


class NniStrategy(Strategy):
    name = "nni"
    default_batch_size = 16

    def __init__(self, *args, tuner: str = "evolution", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tuner_name = tuner
        logging.getLogger("nni").setLevel(logging.WARNING)
        self.random_state = random.Random(self.seed)
        if tuner == "evolution":
            self.tuner = _seeded_evolution_tuner(self.seed, population_size=max(4 * self.batch_size, 32))
        elif tuner == "tpe":
            from nni.algorithms.hpo.tpe_tuner import TpeTuner

            self.tuner = TpeTuner(optimize_mode="maximize", seed=self.seed)
        else:
            raise ValueError(f"unknown NNI tuner {tuner!r}")
        self.keys = list(self.space.dimensions)
        with _private_random(self.random_state):
            self.tuner.update_search_space({k: {"_type": "choice", "_value": list(range(len(c)))}
                                            for k, c in self.space.dimensions.items()})
        self.next_id = 0
        self.pending: dict[Arch, tuple[int, dict[str, Any]]] = {}

    def _point(self, params: dict[str, Any]) -> dict[str, Any]:
        return {k: self.space.dimensions[k][int(params[k])] for k in self.keys}

    def _propose(self) -> tuple[int, dict[str, Any], Arch]:
        for _ in range(_MAX_INVALID):
            param_id, self.next_id = self.next_id, self.next_id + 1
            params = self.tuner.generate_parameters(param_id)
            try:
                return param_id, params, self.space.to_arch(self._point(params))
            except ValueError:
                self.tuner.receive_trial_result(param_id, params, -10.0)
        raise RuntimeError(f"NNI {self.tuner_name} proposed {_MAX_INVALID} invalid archs in a row")

    def ask(self, n: int) -> list[Arch]:
        archs: list[Arch] = []
        with _private_random(self.random_state):
            repeats = 0
            while len(archs) < n:
                param_id, params, arch = self._propose()
                if arch in self.pending or arch in archs or (arch in self.seen and repeats < _MAX_INVALID):
                    repeats += 1  # NNI repeats itself; a repeated evaluation is a wasted trial
                    self.tuner.receive_trial_result(param_id, params, -10.0)
                    continue
                self.seen.add(arch)
                self.pending[arch] = (param_id, params)
                archs.append(arch)
        return archs

    def tell(self, archs: Sequence[Arch], latency_ms: np.ndarray, accuracy: np.ndarray) -> None:
        with _private_random(self.random_state):
            for arch, lat, acc in zip(archs, latency_ms, accuracy, strict=True):
                param_id, params = self.pending.pop(arch)
                rel = float(lat) / self.budget_ms
                reward = float(acc) - LATENCY_WEIGHT * rel if rel <= 1.0 else -rel
                self.tuner.receive_trial_result(param_id, params, reward)
