"""Is a calibration good every time? Independent rounds of "measure as a user would, calibrate, validate".

    python benchmarks/calibration_stability.py            # 5 rounds, N in 5 10 20, 40 validation archs
    python benchmarks/calibration_stability.py --rounds 1 --sizes 5 --n-val 8 --repeat 3 \\
        --work /tmp/cs-work --out /tmp/cs.json             # a smoke run (figures not for the record)

Each round (its own seed) draws 40 validation archs and, for each N, a random calibration set of N archs
and the `nas calibrate --suggest N` set (`latency_models/design.py`, at the host profile's prior
parameters, presets included). Every arch of the round is measured **sequentially, one after another**,
the way `nas measure --arch A` run once per arch does it (`latency_models.measure.measure`: warm-up until
stable, median of --repeat runs, re-measured while the spread is above 10 %), in a shuffled order. Then, for
each set, the host profile is calibrated on the set's rows (`calibrated_profile`) and the validation
archs are predicted with 90 % intervals: share within ±10 %, MAPE, Spearman, and the share of measured
latencies inside their interval (coverage).

After each round the first --n-repeat validation archs are measured a second time (`repeatability`): how far
two sequential measurements of one arch lie apart, the ceiling of any predictor's within-±10 % share.

Reported per (set kind, N): the median and the worst round of within-±10 % and MAPE, and the median
coverage. Resumable: each round's rows are appended to WORK/round-K.jsonl as they are measured, and a
restarted run measures only the archs missing there; the host peaks are measured once and kept in
WORK/peaks.json, so that every round calibrates the same base profile.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency_common import RESULTS, machine_info, repeatability_stats, table  # noqa: E402

from device_profiles.host import host_profile  # noqa: E402
from latency_models.calibrate import calibrated_profile  # noqa: E402
from latency_models.design import suggest  # noqa: E402
from latency_models.measure import measure  # noqa: E402
from latency_models.measurements import append_measurements, read_measurements  # noqa: E402
from latency_models.predictor import Predictor  # noqa: E402
from latency_models.validate import metrics  # noqa: E402
from search_spaces.space import SearchSpace  # noqa: E402

LEVEL = 0.9


def base_profile(work: Path, threads: int) -> Any:
    """The host profile with peaks measured once per benchmark (kept in WORK/peaks.json)."""
    path = work / "peaks.json"
    host = host_profile(threads)
    if path.exists():
        peaks = json.loads(path.read_text())
        return dataclasses.replace(host, fp32_gflops=peaks["fp32_gflops"], memory_gbs=peaks["memory_gbs"])
    path.write_text(json.dumps({"fp32_gflops": host.fp32_gflops, "memory_gbs": host.memory_gbs}) + "\n")
    return host


def round_sets(space: SearchSpace, base: Any, seed: int, sizes: list[int], n_val: int) -> dict[str, list]:
    """The round's archs: validation, and per N a random and a suggested calibration set (disjoint from it)."""
    rng = np.random.default_rng(seed)
    val: list = []
    while len(val) < n_val:
        a = space.sample(rng)
        if a not in val:
            val.append(a)
    sets: dict[str, list] = {"validation": val}
    for n in sizes:
        chosen: list = []
        while len(chosen) < n:
            a = space.sample(rng)
            if a not in val and a not in chosen:
                chosen.append(a)
        sets[f"random-{n}"] = chosen
        sets[f"suggest-{n}"] = [p.arch for p in suggest(Predictor(base), space, n, seed=seed)]
    return sets


def measure_round(path: Path, archs: list, base: Any, args: argparse.Namespace, seed: int) -> dict:
    """Rows of every arch (measured now unless the file holds them), one after another, in a shuffled order."""
    done = {r.arch: r for r in read_measurements(path)} if path.exists() and path.stat().st_size else {}
    todo = [a for a in dict.fromkeys(archs) if a not in done]
    order = np.random.default_rng(seed + 1).permutation(len(todo))
    for k, i in enumerate(order, start=1):
        row = measure(todo[i], "torch", base, args.seq_len, 1, args.threads, args.repeat, clock=args.clock,
                      statistic=args.statistic)
        append_measurements(path, [row])
        done[row.arch] = row
        print(f"  measured {k}/{len(todo)}: {row.latency_ms:.2f} ms (spread {100 * (row.spread or 0):.1f}%)",
              flush=True)
    return done


def repeatability(path: Path, archs: list, rows: dict, base: Any, args: argparse.Namespace) -> dict:
    """The same archs measured a second time, one after another, after the round: how far two measurements
    of one arch lie apart. The share above 10 % bounds what any predictor can score within ±10 %."""
    again = {r.arch: r for r in read_measurements(path)} if path.exists() and path.stat().st_size else {}
    for arch in archs:
        if arch not in again:
            row = measure(arch, "torch", base, args.seq_len, 1, args.threads, args.repeat, clock=args.clock,
                          statistic=args.statistic)
            append_measurements(path, [row])
            again[arch] = row
    return repeatability_stats([rows[a].latency_ms for a in archs], [again[a].latency_ms for a in archs])


def evaluate(base: Any, rows: dict, sets: dict[str, list]) -> dict[str, dict]:
    val = [rows[a] for a in sets["validation"]]
    measured = np.array([r.latency_ms for r in val])
    out = {}
    for name, archs in sets.items():
        if name == "validation":
            continue
        fitted, _ = calibrated_profile(base, [rows[a] for a in archs], "bench", keep_points=True)
        band = Predictor(fitted).predict([r.arch for r in val], [r.seq_len for r in val], interval=LEVEL)
        m = metrics(band.ms, measured)
        m["coverage_90"] = float(np.mean((band.lower <= measured) & (measured <= band.upper)))
        m["median_interval_width_pct"] = float(100 * np.median(band.upper / band.lower - 1))
        out[name] = m
    return out


def summarise(rounds: list[dict[str, dict]]) -> list[dict]:
    out = []
    for name in [n for n in rounds[0] if isinstance(rounds[0][n], dict) and "within_10pct" in rounds[0][n]]:
        within = [r[name]["within_10pct"] for r in rounds]
        mape = [r[name]["mape"] for r in rounds]
        out.append({"set": name, "rounds": len(rounds),
                    "within10_median": float(np.median(within)), "within10_worst": float(np.min(within)),
                    "mape_median": float(np.median(mape)), "mape_worst": float(np.max(mape)),
                    "coverage90_median": float(np.median([r[name]["coverage_90"] for r in rounds]))})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20])
    ap.add_argument("--n-val", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", default="wall", help="wall (as `nas measure` by default) or thread")
    ap.add_argument("--statistic", default="median", help="median (as `nas measure` by default) or min")
    ap.add_argument("--n-repeat", type=int, default=10, help="validation archs measured twice (repeatability)")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--space", default="mobilebert-family")
    ap.add_argument("--work", default=str(RESULTS / "calibration_stability"), help="measurements (resumable)")
    ap.add_argument("--out", default=str(RESULTS / "latency_calibration_stability.json"))
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    space = SearchSpace.load(args.space)
    base = base_profile(work, args.threads)
    started = time.perf_counter()
    results = []
    for k in range(args.rounds):
        seed = 2026 + 1000 * k
        sets = round_sets(space, base, seed, args.sizes, args.n_val)
        distinct = list(dict.fromkeys(a for archs in sets.values() for a in archs))
        print(f"round {k + 1}/{args.rounds}: {len(distinct)} archs", flush=True)
        load = os.getloadavg()
        rows = measure_round(work / f"round-{k + 1}.jsonl", distinct, base, args, seed)
        result = evaluate(base, rows, sets)
        result["repeatability"] = repeatability(work / f"round-{k + 1}-again.jsonl",
                                                sets["validation"][: args.n_repeat], rows, base, args)
        result["load_average_at_start"] = load
        print(f"  round {k + 1}: suggest-10 within ±10 % {result.get('suggest-10', {}).get('within_10pct')}; "
              f"repeatability {result['repeatability']}", flush=True)
        results.append(result)
    summary = summarise(results)
    print(table(summary, ["set", "rounds", "within10_median", "within10_worst", "mape_median", "mape_worst",
                          "coverage90_median"]))
    again = [r["repeatability"] for r in results]
    repeat_summary = {"share_over_10pct_median": float(np.median([a["share_over_10pct"] for a in again])),
                      "abs_diff_pct_median": float(np.median([a["abs_diff_pct_median"] for a in again]))}
    print("repeatability (one arch measured twice):", repeat_summary)
    payload = {"benchmark": "calibration_stability", "machine": machine_info(),
               "setup": {k: v for k, v in vars(args).items() if k not in ("work", "out")} | {
                   "interval_level": LEVEL, "measurement": "latency_models.measure.measure per arch, sequential, "
                   "shuffled order (warm-up until stable, re-measured above 10 % spread)",
                   "peaks": {"fp32_gflops": base.fp32_gflops, "memory_gbs": base.memory_gbs}},
               "summary": summary, "repeatability": repeat_summary, "rounds": results,
               "seconds": round(time.perf_counter() - started, 1),
               "goal": {"suggest-10": {"within10_worst": 0.9, "within10_median": 0.95, "coverage90": [0.85, 0.95]}}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(payload, indent=2) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
