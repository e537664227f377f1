"""Is a calibration good every time? Independent rounds of "measure as a user would, calibrate, validate".

    python -m benchmarks.calibration_stability --backend torch             # 5 rounds (resumable)
    python -m benchmarks.calibration_stability --backend tflite --max-minutes 20
    python -m benchmarks.calibration_stability --backend torch --evaluate-only   # refit on the recorded rows
    # the sequential rounds of {torch,tflite}-quiet: add --protocol sequential --max-spread 0.1 (their settings)
    python -m benchmarks.calibration_stability --rounds 1 --n-val 6 --random 5 --suggest 5 --repeat 3 \\
        --work /tmp/cs-work --out /tmp/cs.json                                # a smoke run (not for the record)

Each round (its own seed) draws --n-val validation archs, one random calibration set whose first 10, 15 and
20 archs are the random-10/15/20 sets (nested: one set of measurements serves the three), and the
`nas calibrate --suggest 10` set (`latency_models/design.py`, at the base profile's prior parameters,
presets included). How the archs are measured (`--protocol`):
- `interleaved` (default; what `nas measure --archs FILE` does with a list): the round's archs, in a shuffled
  order, go to `measure.measure_many` in groups of --chunk (8): each group's models are warmed up until stable
  and timed in rounds of one run each, the order rotated every round, the latency the median of --repeat
  runs, and a model whose runs spread more than --max-spread is timed again (at most 2 retries). A burst of
  foreign load shorter than half the group's timing then lands in a minority of every model's runs instead
  of in all of one model's.
- `sequential`: one `measure()` call after another (what `nas measure --arch A` run once per arch does); the
  protocol of the rounds in `measurements/calibration_stability/{torch,tflite}-quiet`.
Either way a reference model (`--reference`) is re-timed before each group (sequential: every
--reference-every archs), so each round records the drift (`latency_models/drift.py`). Then, for each set, the
base profile is calibrated on the set's rows exactly as `nas calibrate` does (`calibrate.calibrate`: lowering
switches by leave-one-out, FLOPs fallback or blend, intervals with the model error) and the validation
archs are predicted with 90 % intervals: share within ±10 %, MAPE, Spearman (with n), coverage of the
intervals; and the FLOPs-linear fit on the same rows beside it. Round K draws its archs with seed
2026 + 1000 (K − 1); `--first-round` starts a work folder at a later round, so its archs are fresh.

Self-agreement: after each round the first --n-repeat validation archs are measured again (by the same
protocol): how far two measurements of one arch lie apart, printed next to the fit's error (the one that is larger
limits the within-±10 % share).

Resumable: rows are appended to WORK/BACKEND/round-K.jsonl as they are measured and a restart measures only
the missing archs; `--max-minutes` stops measuring after that long (for runs in several sittings); the
host peaks are measured once (WORK/BACKEND/peaks.json) so that every round calibrates the same base profile.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.latency_common import MEASUREMENTS, RESULTS, command, machine_info, repeatability_stats, table
from device_profiles.host import host_profile, host_tflite_profile
from latency_models.calibration import calibrate
from latency_models.design import suggest
from latency_models.measure import measure, measure_many
from latency_models.measurements import append_measurements, read_measurements
from latency_models.predictor import load_predictor
from latency_models.timing import MAX_SPREAD
from latency_models.validate import coverage, flops_baseline, metrics
from search_spaces.presets import resolve_arch
from search_spaces.space import SearchSpace

LEVEL = 0.9
MEASUREMENT = {
    "sequential": "latency_models.measure.measure per arch, sequential, shuffled order (warm-up until stable, "
                  "re-measured above {spread:g} % spread), reference re-timed every {every} archs",
    "interleaved": "latency_models.measure.measure_many in groups of {chunk} archs, shuffled order (each group "
                   "warmed up until stable, then timed in rounds of one run each, order rotated; re-measured "
                   "above {spread:g} % spread), reference re-timed before each group"}


def lscpu() -> dict[str, Any]:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    keys = ("Model name", "Vendor ID", "CPU(s)", "Core(s) per socket", "Thread(s) per core", "L2 cache", "L3 cache",
            "Hypervisor vendor", "Flags")
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keys:
            value = value.strip()
            out[key.strip()] = (" ".join(f for f in value.split() if f.startswith("avx")) if key.strip() == "Flags"
                                else value)
    return out


def base_profile(work: Path, backend: str, threads: int) -> Any:
    """The host (or host-tflite) profile with peaks measured once per benchmark (WORK/peaks.json)."""
    path = work / "peaks.json"
    host = (host_tflite_profile if backend == "tflite" else host_profile)(threads)
    if path.exists():
        peaks = json.loads(path.read_text())
        return dataclasses.replace(host, fp32_gflops=peaks["fp32_gflops"], memory_gbs=peaks["memory_gbs"])
    path.write_text(json.dumps({"fp32_gflops": host.fp32_gflops, "memory_gbs": host.memory_gbs}) + "\n")
    return host


def round_sets(space: SearchSpace, base: Any, seed: int, n_val: int, random_sizes: list[int],
               n_suggest: int) -> dict[str, list]:
    """Validation archs, nested random calibration sets (disjoint from them) and the suggested set."""
    rng = np.random.default_rng(seed)
    val: list = []
    while len(val) < n_val:
        a = space.sample(rng)
        if a.is_uniform and a not in val:
            val.append(a)
    pool: list = []
    while len(pool) < max(random_sizes, default=0):
        a = space.sample(rng)
        if a.is_uniform and a not in val and a not in pool:
            pool.append(a)
    sets: dict[str, list] = {"validation": val}
    sets.update({f"random-{n}": pool[:n] for n in random_sizes})
    if n_suggest:
        sets[f"suggest-{n_suggest}"] = [p.arch for p in suggest(load_predictor(base), space, n_suggest, seed=seed)]
    return sets


class Budget:
    def __init__(self, minutes: float | None) -> None:
        self.deadline = time.monotonic() + 60 * minutes if minutes else None

    def left(self) -> bool:
        return self.deadline is None or time.monotonic() < self.deadline


def _measure(arch: Any, base: Any, args: argparse.Namespace) -> Any:
    return measure(arch, args.backend, base, args.seq_len, 1, args.threads, args.repeat, clock=args.clock,
                   max_spread=args.max_spread, statistic=args.statistic)


def _measure_group(archs: list, base: Any, args: argparse.Namespace) -> list:
    """One group timed together, interleaved (`measure_many` with the whole group as one chunk)."""
    return measure_many(archs, args.backend, base, args.seq_len, 1, args.threads, args.repeat, clock=args.clock,
                        max_spread=args.max_spread, chunk=len(archs), statistic=args.statistic)


def measure_round(path: Path, archs: list, base: Any, args: argparse.Namespace, seed: int,
                  budget: Budget) -> dict:
    """Rows of every arch (measured now unless the file holds them), one after another, in a shuffled order,
    the reference re-timed every --reference-every archs (its timings in PATH.reference.jsonl)."""
    done = {r.arch: r for r in read_measurements(path)} if path.exists() and path.stat().st_size else {}
    todo = [a for a in dict.fromkeys(archs) if a not in done]
    order = np.random.default_rng(seed + 1).permutation(len(todo))
    ref_path = path.with_suffix(".reference.jsonl")
    reference = resolve_arch(args.reference)
    if todo and budget.left():
        with path.with_suffix(".load.jsonl").open("a") as f:  # the machine while this sitting measured
            f.write(json.dumps({"time": time.time(), "load_average": os.getloadavg(), "background_training_paused":
                                Path.home().joinpath("proof", "paused").exists(), "archs_to_measure": len(todo)})
                    + "\n")
    if args.protocol == "interleaved":
        shuffled = [todo[i] for i in order]
        for start in range(0, len(shuffled), args.chunk):
            if not budget.left():
                break
            group = shuffled[start:start + args.chunk]
            append_measurements(ref_path, [_measure(reference, base, args)])
            timed = _measure_group(group, base, args)
            append_measurements(path, timed)
            done.update({row.arch: row for row in timed})
            print(f"  measured {start + len(group)}/{len(todo)}: "
                  + ", ".join(f"{row.latency_ms:.1f} ms ({100 * (row.spread or 0):.1f}%)" for row in timed), flush=True)
    else:
        for k, i in enumerate(order):
            if not budget.left():
                break
            if k % args.reference_every == 0:
                append_measurements(ref_path, [_measure(reference, base, args)])
            row = _measure(todo[i], base, args)
            append_measurements(path, [row])
            done[row.arch] = row
            print(f"  measured {k + 1}/{len(todo)}: {row.latency_ms:.2f} ms (spread {100 * (row.spread or 0):.1f}%)",
                  flush=True)
    if todo and budget.left():
        append_measurements(ref_path, [_measure(reference, base, args)])
    return done


def prepare(archs: list, args: argparse.Namespace) -> None:
    """Convert each arch's LiteRT model into the cache the timing reads (torch builds in memory: nothing to do)."""
    if args.backend != "tflite":
        return
    from latency_models.tflite_backend import cached_model

    for k, arch in enumerate(archs):
        cached_model(arch, args.seq_len, 1)
        print(f"  converted {k + 1}/{len(archs)}", flush=True)


def load_records(path: Path) -> list[dict]:
    """The load average at the start of each sitting that measured this round (WORK/round-K.load.jsonl)."""
    load = path.with_suffix(".load.jsonl")
    return [json.loads(line) for line in load.read_text().splitlines() if line.strip()] if load.exists() else []


def frozen_sets(path: Path, sets: dict[str, list], rows: dict) -> dict[str, list]:
    """The round's sets as they were measured (WORK/round-K.sets.json, written on the first complete round):
    a later change of the cost model changes what `suggest` proposes, but not what was measured. A round
    measured before sets were recorded takes as its suggested set the measured archs in no other set."""
    from search_spaces.arch import Arch

    frozen = path.with_suffix(".sets.json")
    if frozen.exists():
        data = json.loads(frozen.read_text())
        return {name: [Arch.from_dict(a) for a in archs] for name, archs in data.items()}
    out = dict(sets)
    for name in [n for n in sets if n.startswith("suggest-")]:
        if any(a not in rows for a in sets[name]):
            others = {a for n, archs in sets.items() if not n.startswith("suggest-") for a in archs}
            out[name] = [a for a in rows if a not in others]
    if all(a in rows for archs in out.values() for a in archs):
        frozen.write_text(json.dumps({n: [a.to_dict() for a in archs] for n, archs in out.items()}) + "\n")
    return out


def drift_summary(path: Path) -> dict[str, Any]:
    ref_path = path.with_suffix(".reference.jsonl")
    if not ref_path.exists():
        return {}
    ms = [r.latency_ms for r in read_measurements(ref_path)]
    rel = [100 * (m / ms[0] - 1) for m in ms]
    return {"reference_timings": len(ms), "reference_ms_first": ms[0], "drift_pct_last": rel[-1],
            "drift_pct_max_abs": max(abs(r) for r in rel)}


def repeatability(path: Path, archs: list, rows: dict, base: Any, args: argparse.Namespace,
                  budget: Budget) -> dict | None:
    again = {r.arch: r for r in read_measurements(path)} if path.exists() and path.stat().st_size else {}
    todo = [a for a in archs if a not in again]
    if args.protocol == "interleaved":
        for start in range(0, len(todo), args.chunk):
            if budget.left():
                timed = _measure_group(todo[start:start + args.chunk], base, args)
                append_measurements(path, timed)
                again.update({row.arch: row for row in timed})
    else:
        for arch in todo:
            if budget.left():
                row = _measure(arch, base, args)
                append_measurements(path, [row])
                again[arch] = row
    if any(a not in again for a in archs):
        return None
    return repeatability_stats([rows[a].latency_ms for a in archs], [again[a].latency_ms for a in archs])


def evaluate(base: Any, rows: dict, sets: dict[str, list]) -> dict[str, dict]:
    val = [rows[a] for a in sets["validation"]]
    measured = np.array([r.latency_ms for r in val])
    out = {}
    for name, archs in sets.items():
        if name == "validation":
            continue
        cal = [rows[a] for a in archs]
        result = calibrate(base, cal, "bench")
        band = load_predictor(result.profile).predict([r.arch for r in val], [r.seq_len for r in val], interval=LEVEL)
        m = metrics(band.ms, measured)
        m["coverage_90"] = coverage(band.lower, band.upper, measured)
        m["median_interval_halfwidth_pct"] = float(50 * np.median(band.upper / band.lower - 1))
        m["abs_error_pct"] = [round(float(x), 2) for x in 100 * (band.ms / measured - 1)]
        m["flops_linear"] = metrics(flops_baseline(cal, val), measured)
        m["calibration"] = result.summary()
        out[name] = m
    return out


def summarise(rounds: list[dict[str, Any]]) -> list[dict]:
    out = []
    names = [n for n in rounds[0]["sets"]]
    for name in names:
        per = [r["sets"][name] for r in rounds]
        within = [p["within_10pct"] for p in per]
        n_val = [p["n"] for p in per]
        covered = sum(p["coverage_90"] * n for p, n in zip(per, n_val, strict=True))
        out.append({"set": name, "rounds": len(per), "within10_median": float(np.median(within)),
                    "within10_worst": float(np.min(within)), "mape_median": float(np.median([p["mape"] for p in per])),
                    "spearman_median": float(np.median([p["spearman"] for p in per])),
                    "coverage90_pooled": covered / sum(n_val),
                    "coverage90_worst": float(min(p["coverage_90"] for p in per)),
                    "coverage90_best": float(max(p["coverage_90"] for p in per)), "n_val_per_round": int(n_val[0]),
                    "flops_within10_median": float(np.median([p["flops_linear"]["within_10pct"] for p in per])),
                    "flops_mape_median": float(np.median([p["flops_linear"]["mape"] for p in per]))})
    return out


def fresh_summary(rounds: list[dict[str, Any]], first: int | None) -> dict[str, Any]:
    """The summary of rounds `first`.. alone (those no design choice has seen), when asked for and measured."""
    fresh = [r for r in rounds if first is not None and r["round"] >= first]
    if not fresh:
        return {}
    summary = summarise(fresh)
    print(f"rounds {first}-{fresh[-1]['round']} alone (measured after the method was chosen):")
    print(table(summary, ["set", "rounds", "within10_median", "within10_worst", "coverage90_pooled",
                          "coverage90_worst"]))
    return {"fresh_from_round": first, "summary_fresh": summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", default="torch", choices=("torch", "tflite"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--random", type=int, nargs="*", default=[10, 15, 20], help="random calibration set sizes")
    ap.add_argument("--suggest", type=int, default=10, help="size of the suggested set (0: none)")
    ap.add_argument("--n-val", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", default="thread", help="thread (one thread: its CPU time) or wall")
    ap.add_argument("--statistic", default="median", help="median (as `nas measure` by default) or min")
    ap.add_argument("--protocol", default="interleaved", choices=("interleaved", "sequential"),
                    help="how a round's archs are timed (see above)")
    ap.add_argument("--chunk", type=int, default=8, help="archs timed together (interleaved protocol)")
    ap.add_argument("--max-spread", type=float, default=MAX_SPREAD, help="re-time an arch whose runs' std/median "
                    "is above this (as `nas measure --max-spread`)")
    ap.add_argument("--first-round", type=int, default=1, help="number of this folder's first round: round K "
                    "draws with seed 2026 + 1000 (K - 1), so a new folder starting at K measures fresh archs")
    ap.add_argument("--n-repeat", type=int, default=10, help="validation archs measured twice (self-agreement)")
    ap.add_argument("--reference", default="mobilebert-tiny", help="the arch re-timed to record drift")
    ap.add_argument("--reference-every", type=int, default=10)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--space", default="mobilebert-family")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop measuring after this long (resume later)")
    ap.add_argument("--prepare-only", action="store_true", help="time nothing: convert every round's models now "
                    "(tflite; each conversion is cached), so that the quiet sitting only times; rounds 11-15 (286 "
                    "models) took 37 GB: raise NAS_TFLITE_CACHE_GB (default 20) or they evict each other")
    ap.add_argument("--evaluate-only", action="store_true", help="measure nothing: evaluate the complete rounds")
    ap.add_argument("--fresh-from", type=int, default=None, help="rounds from this one on were measured after the "
                    "method was chosen on the earlier ones: summarised apart as well (summary_fresh)")
    ap.add_argument("--note", default="", help="measurement conditions not recorded by the run (kept in the JSON)")
    ap.add_argument("--work", default=None, help="measurements (resumable); default measurements/calibration_stability/"
                    "BACKEND")
    ap.add_argument("--out", default=None, help="default results/latency_calibration_stability_BACKEND.json")
    args = ap.parse_args()
    work = Path(args.work or MEASUREMENTS / "calibration_stability" / args.backend)
    out_path = Path(args.out or RESULTS / f"latency_calibration_stability_{args.backend}.json")
    work.mkdir(parents=True, exist_ok=True)
    space = SearchSpace.load(args.space)
    base = base_profile(work, args.backend, args.threads)
    budget = Budget(0.0 if args.evaluate_only else args.max_minutes)
    if args.evaluate_only:
        budget.deadline = time.monotonic()
    started = time.perf_counter()
    results = []
    for k in range(args.first_round - 1, args.first_round - 1 + args.rounds):
        seed = 2026 + 1000 * k
        sets = round_sets(space, base, seed, args.n_val, args.random, args.suggest)
        distinct = list(dict.fromkeys(a for archs in sets.values() for a in archs))
        path = work / f"round-{k + 1}.jsonl"
        if path.with_suffix(".sets.json").exists() or args.evaluate_only:
            done = {r.arch: r for r in read_measurements(path)} if path.exists() else {}
            sets = frozen_sets(path, sets, done)
            distinct = list(dict.fromkeys(a for archs in sets.values() for a in archs))
        if args.prepare_only:
            prepare(distinct + [resolve_arch(args.reference)], args)
            continue
        rows = measure_round(path, distinct, base, args, seed, budget)
        if all(a in rows for a in distinct):
            sets = frozen_sets(path, sets, rows)
        if any(a not in rows for a in distinct):
            print(f"round {k + 1}: {sum(a in rows for a in distinct)}/{len(distinct)} archs measured; stopping "
                  "(resume to measure the rest)", flush=True)
            break
        again = repeatability(work / f"round-{k + 1}-again.jsonl", sets["validation"][: args.n_repeat], rows, base,
                              args, budget)
        result = {"round": k + 1, "seed": seed, "sets": evaluate(base, rows, sets), "self_agreement": again,
                  "drift": drift_summary(path), "load_while_measuring": load_records(path),
                  "archs": len(distinct)}
        s10 = result["sets"].get(f"suggest-{args.suggest}", {})
        print(f"round {k + 1}: suggest within ±10 % {s10.get('within_10pct')}, coverage {s10.get('coverage_90')}; "
              f"self-agreement {again}; drift {result['drift']}", flush=True)
        results.append(result)
    if not results:
        print("no complete round yet")
        return
    summary = summarise(results)
    print(table(summary, ["set", "rounds", "within10_median", "within10_worst", "mape_median", "spearman_median",
                          "coverage90_pooled", "coverage90_worst", "flops_within10_median", "flops_mape_median"]))
    agree = [r["self_agreement"] for r in results if r["self_agreement"]]
    self_agreement = {"n_per_round": args.n_repeat,
                      "abs_diff_pct_median": float(np.median([a["abs_diff_pct_median"] for a in agree])),
                      "abs_diff_pct_p90_median": float(np.median([a["abs_diff_pct_p90"] for a in agree])),
                      "share_over_10pct_median": float(np.median([a["share_over_10pct"] for a in agree]))
                      } if agree else {}
    fit_error = {s["set"]: s["mape_median"] for s in summary}
    print("self-agreement (one arch measured twice, |diff| %):", self_agreement)
    print("fit error (held-out MAPE %, median round):", {k: round(v, 2) for k, v in fit_error.items()})
    payload = {"benchmark": "calibration_stability", "backend": args.backend,
               "produced_by": command(), "machine": {**machine_info(), "lscpu": lscpu(), "background_training_paused":
                           Path.home().joinpath("proof", "paused").exists()},
               "setup": {k: v for k, v in vars(args).items() if k not in ("work", "out", "evaluate_only",
                                                                           "max_minutes", "note")} | {
                   "interval_level": LEVEL, "work": str(work.relative_to(MEASUREMENTS.parent) if work.is_relative_to(
                       MEASUREMENTS.parent) else work),
                   "measurement": MEASUREMENT[args.protocol].format(chunk=args.chunk, spread=100 * args.max_spread,
                                                                    every=args.reference_every),
                   "peaks": {"fp32_gflops": base.fp32_gflops, "memory_gbs": base.memory_gbs}},
               "note": args.note, "summary": summary, **fresh_summary(results, args.fresh_from),
               "self_agreement": self_agreement,
               "self_agreement_vs_fit": {
                   "self_agreement_abs_diff_pct_median": self_agreement.get("abs_diff_pct_median"),
                   "fit_mape_pct_median_round": fit_error},
               "rounds": results, "seconds_evaluating": round(time.perf_counter() - started, 1),
               "goal": {"suggest-10": {"within10_worst": 0.9, "within10_median": 0.95},
                        "random-15": {"within10_median": 0.9}, "coverage90": [0.85, 0.95]}}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(payload, indent=2) + "\n")
    print("wrote", out_path)


if __name__ == "__main__":
    main()
