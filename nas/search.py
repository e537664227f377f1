"""`nas search` end to end, without the CLI: set up the run, run the controller, write the results."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas import run_dir
from nas.accuracy import get_estimator
from nas.budget import format_ms
from nas.controller import Controller, ProgressFn
from nas.evaluator import Evaluator, LatencyModel, load_latency_model
from nas.journal import Journal
from nas.pareto import hypervolume
from nas.results import front
from nas.strategies import make_strategy
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

# Default trials per strategy: where the strategy reaches ≥ 99 % of the reference hypervolume at 62 ms on
# pixel4 (benchmarks/results/search_quality.json), with margin.
DEFAULT_TRIALS = 2000
_FASTEST_SAMPLE = 5000


@dataclass(frozen=True)
class SearchOptions:
    budget_ms: float
    strategy: str
    trials: int
    seed: int
    space: str
    device: str
    profile_hash: str
    estimator: str = "proxy"
    estimator_version: str = "1"
    seq_len: int = 128
    batch_size: int | None = None


def fastest_arch(space: SearchSpace, latency: LatencyModel, seq_len: int = 128) -> tuple[Arch, float]:
    """The fastest arch found cheaply: every 'all ordered dimensions at their smallest' combination of the
    unordered choices, plus a random sample."""
    import itertools

    ordered = {k: c for k, c in space.dimensions.items() if all(isinstance(x, int) and not isinstance(x, bool)
                                                                  for x in c)}
    other = {k: c for k, c in space.dimensions.items() if k not in ordered}
    candidates = []
    for combo in itertools.product(*other.values()):
        point = {k: min(c) for k, c in ordered.items()} | dict(zip(other, combo, strict=True))
        try:
            candidates.append(space.to_arch(point))
        except ValueError:
            continue
    candidates += space.sample_many(_FASTEST_SAMPLE, np.random.default_rng(0))
    predicted = np.asarray(latency.predict(candidates, seq_len=seq_len), dtype=float)
    best = int(np.argmin(predicted))
    return candidates[best], float(predicted[best])


def check_budget(space: SearchSpace, latency: LatencyModel, budget_ms: float, device: str, seq_len: int) -> None:
    arch, millis = fastest_arch(space, latency, seq_len)
    if budget_ms < millis:
        raise UserInputError(
            f"budget {budget_ms:g} ms is below the fastest architecture of search space {space.name!r} on "
            f"{device}: {millis:.1f} ms predicted ({arch.num_hidden_layers} layers, hidden {arch.hidden_size}); "
            f"raise --budget to at least {np.ceil(millis * 10) / 10:g}ms")


def run_search(options: SearchOptions, space: SearchSpace, profile: Any, out: Path, resume: bool,
               progress: ProgressFn | None = None, ray_address: str | None = None,
               latency: LatencyModel | None = None,
               on_start: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Runs (or resumes) the search in `out` and writes every result file; returns the summary."""
    started = time.perf_counter()
    latency = latency or load_latency_model(profile)
    check_budget(space, latency, options.budget_ms, options.device, options.seq_len)
    estimator = get_estimator(options.estimator)
    opts = asdict(options)
    run = run_dir.prepare(out, opts, options.seed, resume)
    evaluator = Evaluator(latency, estimator, options.budget_ms, options.seq_len)
    strategy = make_strategy(options.strategy, space, options.budget_ms, options.seed, options.batch_size)
    executor = None
    evaluate = evaluator.evaluate
    if options.strategy == "ray":
        from nas.strategies.ray_tune import RayTuneExecutor

        setup = {"profile": str(profile.path), "estimator": options.estimator, "budget_ms": options.budget_ms,
                 "seq_len": options.seq_len}
        executor = RayTuneExecutor(out, setup, address=ray_address)
        evaluate = executor
    if on_start is not None:
        on_start(options.trials)
    try:
        records = Controller(strategy, evaluate, Journal(out)).run(options.trials, progress)
    finally:
        strategy.close()
        if executor is not None:
            executor.close()
    return write_results(out, run, records, options, profile, latency, estimator, time.perf_counter() - started)


def write_results(out: Path, run: dict[str, Any], records: list[dict[str, Any]], options: SearchOptions,
                  profile: Any, latency: LatencyModel, estimator: Any, seconds: float) -> dict[str, Any]:
    from nas.export import export_config
    from nas.report import reference_points, write_report

    run_dir.write_trials_csv(out, records)
    points = front(records, options.budget_ms)
    hv = hypervolume(np.array([r["latency_ms"] for r in points]), np.array([r["accuracy"] for r in points]),
                     options.budget_ms)
    summary: dict[str, Any] = {
        "trials": len(records), "within_budget": sum(r["feasible"] for r in records), "front_size": len(points),
        "hypervolume": hv, "hypervolume_reference_point": "(latency/budget = 1, accuracy = 0)",
        "seconds": round(seconds, 2), "best": None,
    }
    if points:
        best = points[0]
        summary["best"] = {k: best[k] for k in ("id", "latency_ms", "accuracy", "params")}
        export_config(Arch.from_dict(best["arch"]), out / "best", {
            "trial": best["id"], "run": out, "latency": best["latency_ms"], "device": options.device,
            "budget": options.budget_ms, "accuracy": best["accuracy"], "estimator": options.estimator,
            "params": best["params"]})
    references = reference_points(latency, estimator, options.seq_len)
    title = (f"{options.device}, budget {format_ms(options.budget_ms)}: {len(records)} trials "
             f"({options.strategy}, seed {options.seed}), front of {len(points)}")
    write_report(out / "pareto.html", records, points, options.budget_ms, references, title)
    run["summary"] = summary
    run["references"] = [{k: p[k] for k in ("name", "latency_ms", "accuracy")} for p in references]
    run["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    run_dir.write_run(out, run)
    return summary
