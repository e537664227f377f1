"""`nas search` end to end, without the CLI: set up the run, run the controller, write the results."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nas.accuracy import get_estimator, quality_of
from nas.accuracy.default import DEFAULT_ESTIMATOR
from nas.accuracy.resolution import Estimate, scatter_of
from nas.export.train_guide import export_pick
from nas.report import reference_points, write_report
from nas.search import run_dir
from nas.search.budget import format_ms
from nas.search.controller import Controller, EvaluateFn, ProgressFn
from nas.search.evaluator import EvaluationJob, Evaluator, LatencyModel, Scores, load_latency_model
from nas.search.executor import DEFAULT_EXECUTOR, Executor, make_executor
from nas.search.journal import Journal
from nas.search.pareto import hypervolume
from nas.search.results import front
from nas.search.trial import Trial
from nas.strategies import make_strategy
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace
from search_spaces.teacher_fit import read_teacher_shape, restrict_to_teacher

_FASTEST_SAMPLE = 5000


@dataclass(frozen=True)
class SearchOptions:
    """What a run searches; recorded in `run.json`, and a resumed run must give the same (but `trials`)."""

    budget_ms: float
    strategy: str
    trials: int
    seed: int
    space: str
    device: str
    profile_hash: str
    estimator: str = DEFAULT_ESTIMATOR
    estimator_version: str = "1"
    seq_len: int = 128
    batch_size: int | None = None
    estimator_options: dict[str, Any] = field(default_factory=dict)
    teacher: str | None = None  # a teacher directory: the student's hidden_size is fixed to its width


def option_defaults() -> dict[str, Any]:
    """Each option's default (what a run recorded before the option existed meant)."""
    fields = dataclasses.fields(SearchOptions)
    return {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            for f in fields if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING}


def fastest_arch(space: SearchSpace, latency: LatencyModel, seq_len: int = 128) -> tuple[Arch, float]:
    """The fastest arch found cheaply: every 'all ordered dimensions at their smallest' combination of the
    unordered choices, plus a random sample."""
    ordered = {k: c for k, c in space.dimensions.items() if space.is_ordered(k)}
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


def executor_evaluate(executor: Executor, job: EvaluationJob) -> EvaluateFn:
    """The controller's evaluation function, run by `executor`."""

    def evaluate(archs: list[Arch], wanted: np.ndarray) -> Scores:
        results = executor.map(job, [(arch, bool(w)) for arch, w in zip(archs, wanted, strict=True)])
        return Scores(np.array([r[0] for r in results], dtype=float), np.array([r[1] for r in results], dtype=float))

    return evaluate


def run_search(options: SearchOptions, space: SearchSpace, profile: Any, out: Path, resume: bool,
               progress: ProgressFn | None = None, latency: LatencyModel | None = None,
               on_start: Callable[[int], None] | None = None, executor: str = DEFAULT_EXECUTOR,
               ray_address: str | None = None) -> dict[str, Any]:
    """Runs (or resumes) the search in `out` and writes every result file; returns the summary."""
    started = time.perf_counter()
    latency = latency or load_latency_model(profile)
    if options.teacher is not None:
        space = restrict_to_teacher(space, read_teacher_shape(options.teacher))
    check_budget(space, latency, options.budget_ms, options.device, options.seq_len)
    estimator = get_estimator(options.estimator, **options.estimator_options)
    run = run_dir.prepare(out, asdict(options), options.seed, resume, defaults=option_defaults())
    run["executor"] = executor
    job = EvaluationJob(options.profile_hash, options.estimator, tuple(sorted(options.estimator_options.items())),
                        options.budget_ms, options.seq_len, profile=profile,
                        built=Evaluator(latency, estimator, options.budget_ms, options.seq_len))
    strategy = make_strategy(options.strategy, space, options.budget_ms, options.seed, options.batch_size)
    with ExitStack() as stack:
        try:
            runner = stack.enter_context(make_executor(executor, ray_address, temp_dir=out / "ray"))
        except UserInputError:
            if not resume:  # nothing ran: a new run's record must not block --out for the corrected command
                (out / run_dir.RUN_FILE).unlink(missing_ok=True)
            raise
        if on_start is not None:
            on_start(options.trials)
        try:
            trials = Controller(strategy, executor_evaluate(runner, job), Journal(out)).run(options.trials, progress)
        finally:
            strategy.close()
    before = {t.id: t.accuracy for t in trials}
    trials = estimator.refine_front(trials, options.budget_ms)  # e.g. the supernet re-scores the predictor's front
    run["rescored"] = {str(t.id): [before[t.id], t.accuracy] for t in trials if t.accuracy != before[t.id]}
    return write_results(out, run, trials, options, latency, estimator, time.perf_counter() - started)


def write_results(out: Path, run: dict[str, Any], trials: list[Trial], options: SearchOptions,
                  latency: LatencyModel, estimator: Any, seconds: float) -> dict[str, Any]:
    run_dir.write_trials_csv(out, trials)
    points = front(trials, options.budget_ms)
    hv = hypervolume(np.array([t.latency_ms for t in points]), np.array([t.accuracy for t in points]),
                     options.budget_ms)
    summary: dict[str, Any] = {
        "trials": len(trials), "within_budget": sum(t.feasible for t in trials), "front_size": len(points),
        "seconds": round(seconds, 2), "best": None,
    }
    confirmed_best = (run.get("confirmed") or {}).get("best")
    if points:
        best = points[0]
        summary["best"] = {"id": best.id, "latency_ms": best.latency_ms, "accuracy": best.accuracy,
                           "params": best.params}
        if confirmed_best is None:
            export_pick(best, out / run_dir.BEST, out, asdict(options), Estimate.of(estimator))
        else:  # a resumed run keeps the winner `nas confirm` measured; new front points are not measured yet
            summary["best_kept"] = confirmed_best
    references = reference_points(latency, estimator, options.seq_len)
    title = (f"{options.device}, budget {format_ms(options.budget_ms)}: {len(trials)} trials "
             f"({options.strategy}, seed {options.seed}), front of {len(points)}")
    write_report(out / run_dir.REPORT, trials, points, options.budget_ms, references, title, estimator)
    run["summary"] = summary
    run["quality"] = {  # how a run is judged (benchmarks/search_quality.py); not needed to use its results
        "hypervolume": hv,
        "hypervolume_definition": "area of (latency/budget, estimator score exp(−predicted loss)) dominated by "
                                  "the front, reference point (1, 0)",
    }
    run["estimator"] = {"name": estimator.name, "version": estimator.version, "quality": quality_of(estimator),
                        "scatter": scatter_of(estimator), "scatter_source": estimator.scatter_source,
                        **Estimate.of(estimator).record()}
    run["references"] = [{"name": p["name"], "latency_ms": p["latency_ms"], "accuracy": p["accuracy"]}
                         for p in references]
    run["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    run_dir.write_run(out, run)
    return summary
