"""Calibration rounds resampled from recorded measurements (when measuring afresh costs too much, e.g. LiteRT).

    python -m benchmarks.calibration_recorded --backend tflite \\
        --measurements benchmarks/measurements/latency_tflite_host_t1_amd-epyc.jsonl \\
        --again benchmarks/measurements/latency_tflite_host_t1_amd-epyc_pass2.jsonl

Each round (its own seed) splits the recorded rows into --n-val validation rows and nested random calibration
sets (random-10/15/20 by default), calibrates the base profile (`host` or `host-tflite` at the recorded peaks,
else measured here) exactly as `nas calibrate` does (`calibration.calibrate`) and scores the validation rows:
within ±10 %, MAPE, Spearman (with n), 90 % interval coverage, and the FLOPs-linear fit on the same rows.
Self-agreement: with --again (a second pass over the same archs), how far the two passes lie apart.
The rounds share rows, so they are not independent measurements: they show the calibration's spread over
which rows were measured, not the machine's drift (`calibration_stability.py` does that).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from benchmarks.calibration_stability import LEVEL, lscpu, summarise
from benchmarks.latency_common import RESULTS, machine_info, repeatability_stats, table
from device_profiles.host import host_profile, host_tflite_profile
from latency_models.calibration import calibrate
from latency_models.measurements import read_measurements
from latency_models.predictor import load_predictor
from latency_models.validate import coverage, flops_baseline, metrics


def score(base, cal, val) -> dict:
    measured = np.array([r.latency_ms for r in val])
    result = calibrate(base, cal, "bench")
    band = load_predictor(result.profile).predict([r.arch for r in val], [r.seq_len for r in val], interval=LEVEL)
    return {**metrics(band.ms, measured), "coverage_90": coverage(band.lower, band.upper, measured),
            "median_interval_halfwidth_pct": float(50 * np.median(band.upper / band.lower - 1)),
            "flops_linear": metrics(flops_baseline(cal, val), measured), "calibration": result.summary()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--measurements", required=True)
    ap.add_argument("--again", default=None, help="a second pass over the same archs (self-agreement)")
    ap.add_argument("--backend", default="tflite", choices=("torch", "tflite"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--random", type=int, nargs="+", default=[10, 15, 20])
    ap.add_argument("--n-val", type=int, default=30)
    ap.add_argument("--fp32-gflops", type=float, default=None, help="the recorded machine's peaks (default: here)")
    ap.add_argument("--memory-gbs", type=float, default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows = read_measurements(args.measurements)
    base = (host_tflite_profile if args.backend == "tflite" else host_profile)(1)
    if args.fp32_gflops and args.memory_gbs:
        base = dataclasses.replace(base, fp32_gflops=args.fp32_gflops, memory_gbs=args.memory_gbs)
    rounds = []
    for k in range(args.rounds):
        order = np.random.default_rng(2026 + 1000 * k).permutation(len(rows))
        val = [rows[i] for i in order[: args.n_val]]
        pool = [rows[i] for i in order[args.n_val:]]
        sets = {f"random-{n}": score(base, pool[:n], val) for n in args.random}
        rounds.append({"round": k + 1, "sets": sets})
        print(f"round {k + 1}: " + ", ".join(f"{n} within ±10 % {s['within_10pct']:.2f} cover {s['coverage_90']:.2f}"
                                             for n, s in sets.items()), flush=True)
    summary = summarise(rounds)
    print(table(summary, ["set", "rounds", "within10_median", "within10_worst", "mape_median", "spearman_median",
                          "coverage90_pooled", "flops_within10_median", "flops_mape_median"]))
    agreement = None
    if args.again:
        again = {r.arch: r.latency_ms for r in read_measurements(args.again)}
        both = [r for r in rows if r.arch in again]
        agreement = repeatability_stats([r.latency_ms for r in both], [again[r.arch] for r in both])
        print("self-agreement (two passes):", agreement)
    out = Path(args.out or RESULTS / f"latency_calibration_recorded_{args.backend}.json")
    out.write_text(json.dumps({
        "benchmark": "calibration_recorded", "backend": args.backend,
        "machine_evaluated_on": {**machine_info(), "lscpu": lscpu()},
        "measurements": args.measurements, "measurements_source": rows[0].source, "again": args.again,
        "setup": {k: v for k, v in vars(args).items() if k != "out"} | {
            "interval_level": LEVEL, "peaks": {"fp32_gflops": base.fp32_gflops, "memory_gbs": base.memory_gbs},
            "note": "rounds resampled from one recorded set: they share rows (not independent measurements)"},
        "summary": summary, "self_agreement": agreement, "rounds": rounds}, indent=2) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
