"""Trials as Ray Tune trials: each batch a strategy asks for runs as one `Tuner.fit` (one trial per arch,
`reuse_actors=True`), on a local Ray (2 CPUs by default) or a cluster (`--ray-address`). This is how expensive
evaluations (distillation) fan out; with the proxy the overhead (about 1 s per batch) dominates.

Workers rebuild the evaluator from plain settings (profile path, estimator name, budget) once per actor.
Ray's temp and storage directories live inside the run directory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nas.evaluator import Scores
from search_spaces.arch import Arch

_WORKER_EVALUATORS: dict[tuple, Any] = {}
_MAX_SOCKET_DIR = 60  # Ray's unix socket paths break past ~107 characters


def _evaluate_trial(config: dict[str, Any], archs: list[dict[str, Any]], setup: dict[str, Any]) -> dict[str, Any]:
    from nas.accuracy import get_estimator
    from nas.evaluator import Evaluator, load_latency_model

    key = tuple(sorted(setup.items()))
    if key not in _WORKER_EVALUATORS:
        _WORKER_EVALUATORS[key] = Evaluator(load_latency_model(setup["profile"]), get_estimator(setup["estimator"]),
                                            setup["budget_ms"], setup["seq_len"])
    scores = _WORKER_EVALUATORS[key].evaluate([Arch.from_dict(archs[config["index"]])])
    accuracy = float(scores.accuracy[0])
    return {"latency_ms": float(scores.latency_ms[0]), "feasible": bool(scores.feasible[0]),
            "accuracy": -1.0 if np.isnan(accuracy) else accuracy}


class RayTuneExecutor:
    def __init__(self, run_dir: Path, setup: dict[str, Any], address: str | None = None, num_cpus: int = 2) -> None:
        import ray

        self.setup = setup
        self.storage = (Path(run_dir) / "ray" / "results").resolve()
        temp = (Path(run_dir) / "ray" / "tmp").resolve()
        if len(str(temp)) > _MAX_SOCKET_DIR:
            temp = Path(tempfile.mkdtemp(prefix="nas-ray-"))
        temp.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, _temp_dir=str(temp), log_to_driver=False,
                     configure_logging=False)
        self.batches = 0

    def __call__(self, archs: Sequence[Arch], wanted: np.ndarray | None = None) -> Scores:
        """Runs one Tune trial per wanted arch (one arch per trial, so scores do not depend on the batch)."""
        from ray import tune

        index = np.flatnonzero(np.ones(len(archs), dtype=bool) if wanted is None else wanted)
        dicts = [archs[i].to_dict() for i in index]
        trainable = tune.with_parameters(_evaluate_trial, archs=dicts, setup=self.setup)
        tuner = tune.Tuner(
            trainable,
            param_space={"index": tune.grid_search(list(range(len(dicts))))},
            tune_config=tune.TuneConfig(reuse_actors=True),
            run_config=tune.RunConfig(storage_path=str(self.storage), name=f"batch-{self.batches:05d}", verbose=0),
        )
        self.batches += 1
        results = tuner.fit()
        latency = np.full(len(archs), np.nan)
        accuracy = np.full(len(archs), np.nan)
        for result in results:
            if result.error is not None:
                raise RuntimeError(f"a Ray Tune trial failed: {result.error}")
            i = index[result.config["index"]]
            latency[i] = result.metrics["latency_ms"]
            if result.metrics["feasible"]:
                accuracy[i] = result.metrics["accuracy"]
        return Scores(latency, accuracy)

    def close(self) -> None:
        import ray

        ray.shutdown()
