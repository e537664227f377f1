"""Search quality: each strategy at equal evaluations against a reference front, next to Optuna's NSGA-II.

For pixel4 at 40, 62 and 100 ms (proxy accuracy, space mobilebert-family: 1.6 M grid points, too many to
enumerate) the reference front is the best of a 200,000-arch random sample. Hypervolume in
(latency/budget, accuracy) with reference point (1, 0) (nas/search/pareto.py); the ratio is a strategy's over the
reference's (above 1 means it beat the sample). Mean over seeds; wall time per search in-process (journal
included). Also: hypervolume of the default strategy by trial count, and the wall time of the default
`nas search --device pixel4 --budget 62ms` as a subprocess.

    python -m benchmarks.search_quality [--trials 2000] [--seeds 3] [--reference 200000] [--with-ray]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.latency_common import command as benchmark_command
from nas.accuracy import get_estimator
from nas.search.controller import Controller
from nas.search.evaluator import Evaluator, load_latency_model
from nas.search.journal import Journal
from nas.search.pareto import hypervolume
from nas.strategies import DEFAULT_STRATEGY, make_strategy
from search_spaces.space import SearchSpace

RESULTS = Path(__file__).parent / "results" / "search_quality.json"
BUDGETS = (40.0, 62.0, 100.0)
STRATEGIES = ("random", "evolution", "nsga2", "nni", "nni-tpe")
# The `nas` console script of the interpreter running this benchmark (works without an activated venv).
NAS = str(Path(sys.executable).with_name("nas"))


def hv_of(latency: np.ndarray, accuracy: np.ndarray, budget: float) -> float:
    ok = ~np.isnan(accuracy)
    return hypervolume(latency[ok], accuracy[ok], budget)


def reference_scores(space: SearchSpace, evaluator_for, n: int) -> tuple[np.ndarray, np.ndarray]:
    archs = list(dict.fromkeys(space.sample_many(n, np.random.default_rng(12345))))
    latency = evaluator_for(max(BUDGETS)).latency.predict(archs)
    accuracy = get_estimator("proxy").estimate(archs)
    return np.asarray(latency, dtype=float), accuracy


def run_ours(name: str, space: SearchSpace, evaluator: Evaluator, budget: float, trials: int, seed: int):
    with tempfile.TemporaryDirectory() as tmp:
        strategy = make_strategy(name, space, budget, seed)
        start = time.perf_counter()
        records = Controller(strategy, evaluator.evaluate, Journal(Path(tmp))).run(trials)
        seconds = time.perf_counter() - start
    latency = np.array([t.latency_ms for t in records])
    accuracy = np.array([np.nan if t.accuracy is None else t.accuracy for t in records])
    return latency, accuracy, seconds


def run_optuna(space: SearchSpace, evaluator: Evaluator, budget: float, trials: int, seed: int):
    import warnings

    import optuna

    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.NSGAIISampler(seed=seed, constraints_func=lambda t: [t.user_attrs["over"]])
    study = optuna.create_study(directions=["minimize", "maximize"], sampler=sampler)
    keys = list(space.dimensions)
    latency, accuracy = [], []
    start = time.perf_counter()
    while len(latency) < trials:
        batch = [study.ask() for _ in range(min(50, trials - len(latency)))]
        archs = []
        for trial in batch:
            point = {k: space.dimensions[k][trial.suggest_categorical(k, list(range(len(space.dimensions[k]))))]
                     for k in keys}
            try:
                archs.append(space.to_arch(point))
            except ValueError:
                archs.append(None)  # an invalid arch: Optuna spent the trial
        valid = [a for a in archs if a is not None]
        scores = evaluator.evaluate(valid)
        it = iter(zip(scores.latency_ms, scores.accuracy, strict=True))
        for trial, arch in zip(batch, archs, strict=True):
            lat, acc = next(it) if arch is not None else (10 * budget, np.nan)
            trial.set_user_attr("over", float(lat / budget - 1.0))
            study.tell(trial, [float(lat), 0.0 if np.isnan(acc) else float(acc)])
            latency.append(lat)
            accuracy.append(acc)
    return np.array(latency), np.array(accuracy), time.perf_counter() - start


DEFAULT_SEARCH = ("--device", "pixel4", "--budget", "62ms")


def default_search_wall_time(launcher: tuple[str, ...] = (NAS,), cwd: str | None = None,
                             search_args: tuple[str, ...] = DEFAULT_SEARCH) -> dict:
    """One `nas search SEARCH_ARGS` (default: the main job, `--device pixel4 --budget 62ms`) in a fresh process
    (`launcher` + `cwd`: another checkout's `python -m nas.cli`, run from its root)."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [*launcher, "search", *search_args, "--out", f"{tmp}/run", "--seed", "0"]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=cwd)
        seconds = time.perf_counter() - start
        run = json.loads(Path(f"{tmp}/run/run.json").read_text())
        listed = subprocess.run([*launcher, "pareto", f"{tmp}/run", "--json"], check=True, capture_output=True,
                                text=True, cwd=cwd).stdout
    front = json.loads(listed)
    front = front["front"] if isinstance(front, dict) else front
    return {"command": " ".join(command[:-4] + ["--out", "D", "--seed", "0"]), "seconds": round(seconds, 2),
            "trials": run["summary"]["trials"], "hypervolume": run["quality"]["hypervolume"],
            "front_top4": [{k: row[k] for k in ("arch", "latency_ms", "accuracy")} for row in front[:4]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--reference", type=int, default=200_000)
    parser.add_argument("--with-ray", action="store_true",
                        help=f"also time --strategy {DEFAULT_STRATEGY} --executor ray (62 ms, seed 0)")
    args = parser.parse_args()
    space = SearchSpace.default()
    latency_model = load_latency_model("pixel4")
    estimator = get_estimator("proxy")

    def evaluator_for(budget: float) -> Evaluator:
        return Evaluator(latency_model, estimator, budget)

    start = time.perf_counter()
    ref_latency, ref_accuracy = reference_scores(space, evaluator_for, args.reference)
    print(f"reference: {len(ref_latency)} distinct archs scored in {time.perf_counter() - start:.1f} s")
    rows = []
    for budget in BUDGETS:
        evaluator = evaluator_for(budget)
        ref_hv = hv_of(ref_latency, np.where(ref_latency <= budget, ref_accuracy, np.nan), budget)
        for name in (*STRATEGIES, "optuna-nsga2"):
            ratios, seconds = [], []
            for seed in range(args.seeds):
                if name == "optuna-nsga2":
                    lat, acc, sec = run_optuna(space, evaluator, budget, args.trials, seed)
                else:
                    lat, acc, sec = run_ours(name, space, evaluator, budget, args.trials, seed)
                ratios.append(hv_of(lat, acc, budget) / ref_hv)
                seconds.append(sec)
            rows.append({"budget_ms": budget, "strategy": name, "trials": args.trials, "seeds": args.seeds,
                         "reference_hv": ref_hv, "hv_ratio_mean": float(np.mean(ratios)),
                         "hv_ratio_min": float(np.min(ratios)), "seconds_mean": float(np.mean(seconds))})
            r = rows[-1]
            print(f"{budget:5.0f} ms  {name:13s} HV ratio {r['hv_ratio_mean']:.4f} (min {r['hv_ratio_min']:.4f})"
                  f"  {r['seconds_mean']:6.2f} s", flush=True)
    by_trials = []
    evaluator = evaluator_for(62.0)
    ref_hv = hv_of(ref_latency, np.where(ref_latency <= 62.0, ref_accuracy, np.nan), 62.0)
    for seed in range(args.seeds):
        lat, acc, _ = run_ours(DEFAULT_STRATEGY, space, evaluator, 62.0, 4000, seed)
        for n in (250, 500, 1000, 1500, 2000, 3000, 4000):  # a prefix of a run is the shorter run (same seed)
            by_trials.append({"seed": seed, "trials": n, "hv_ratio": hv_of(lat[:n], acc[:n], 62.0) / ref_hv})
    for n in sorted({b["trials"] for b in by_trials}):
        values = [b["hv_ratio"] for b in by_trials if b["trials"] == n]
        print(f"{DEFAULT_STRATEGY} at 62 ms, {n:5d} trials: HV ratio mean {np.mean(values):.4f} min {min(values):.4f}")
    ray = None
    if args.with_ray:
        with tempfile.TemporaryDirectory(dir=".") as tmp:
            command = [NAS, "search", "--device", "pixel4", "--budget", "62ms", "--executor", "ray", "--trials",
                       str(args.trials), "--out", f"{tmp}/r"]
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            ray = {"trials": args.trials, "seconds": round(time.perf_counter() - start, 2),
                   "note": f"{DEFAULT_STRATEGY} proposes, a pool of Ray actors evaluates (same trials as local)"}
        print(f"ray at 62 ms, {args.trials} trials: {ray['seconds']} s")
    default_run = default_search_wall_time()
    print(f"default `{default_run['command']}`: {default_run['seconds']} s wall, {default_run['trials']} trials")
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "produced_by": benchmark_command(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.platform()}",
        "python": sys.version.split()[0], "space": space.name, "device": "pixel4", "estimator": "proxy",
        "reference": {"kind": "random sample", "archs": int(len(ref_latency)), "seed": 12345},
        "hypervolume": "(latency/budget, accuracy estimate), reference point (1, 0)",
        "rows": rows, "default_by_trials": by_trials, "ray": ray, "default_search": default_run,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
