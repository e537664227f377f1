"""TFLite on this machine: 60 random archs of the default space converted to `.tflite` and timed with the
LiteRT interpreter (XNNPACK), calibrate `host-tflite` on 20 (cost parameters and the fused-or-not
`[lowering]` switches, `fusion_fit.py`), report MAPE / within ±10 % / Spearman on the other 40 beside a
FLOPs-linear fit on the same split, and the measured vs predicted ratio mobilebert-no-opt / mobilebert.

    python -m benchmarks.latency_tflite_host [--threads 1] [--n 60] [--stage convert|measure|all]

Conversion is the slow part (litert-torch: 46-450 s a model on this 2-core machine under load 8-10), so
`--converted-only` measures and evaluates the archs converted so far (a random subset: the sample's order),
calibrating on 20 of them while 10 remain held out, else on half; the JSON says how many (`n_measured`, `complete`).

Resumable: conversions are cached (`tflite_backend.cached_model`), measurements are appended to
`benchmarks/measurements/latency_tflite_host_t{threads}_{cpu}.jsonl` (one file per CPU model: the machine
behind this workplace changes between sessions, and rows of two CPUs must not share a calibration) a group at a
time and a re-run skips archs already
measured. Measurement protocol: `measure.measure_many` (warm-up until stable, interleaved rounds, median,
re-measured while the spread is above 10 %), in strided groups (group g holds archs g, g + k, ...) so that a
drift of the shared machine's load spreads over the whole list; 1 thread uses the thread's CPU time
(XNNPACK runs every op on the calling thread), more threads wall time. `uptime` is recorded before and after.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time
from pathlib import Path

import numpy as np

from benchmarks.latency_common import MEASUREMENTS, repeatability_stats, table, write_result
from device_profiles.host import cpu_model, host_tflite_profile
from latency_models.calibrate import calibrated_profile, fit_params
from latency_models.fusion_fit import fit_lowering, with_fitted_lowering
from latency_models.measure import measure_many
from latency_models.measurements import append_measurements, read_measurements
from latency_models.predictor import load_predictor
from latency_models.tflite_backend import cached_model
from latency_models.validate import flops_baseline, metrics
from search_spaces.presets import resolve_arch
from search_spaces.space import SearchSpace

SEED = 2026
RATIO = ("mobilebert-no-opt", "mobilebert")
MIN_HELD_OUT = 10  # a partial run keeps the 20 calibration points while at least this many remain held out
GROUP = 8  # archs timed interleaved at once (their interpreters are held in memory together)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def archs_to_measure(n: int) -> list:
    return SearchSpace.default().sample_many(n, np.random.default_rng(SEED)) + [resolve_arch(a) for a in RATIO]


def convert_all(archs: list, seq_len: int) -> float:
    start = time.perf_counter()
    for k, arch in enumerate(archs):
        t = time.perf_counter()
        path = cached_model(arch, seq_len)
        print(f"[{k + 1}/{len(archs)}] {arch.num_hidden_layers} layers -> {path.name} "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
    return time.perf_counter() - start


def machine_slug() -> str:
    """Rows of different CPUs never mix in one calibration: the measurements file is named after the CPU."""
    return re.sub(r"[^a-z0-9]+", "-", cpu_model().lower().replace("(r)", "")).strip("-")


def measure_missing(path: Path, archs: list, seq_len: int, threads: int, statistic: str) -> None:
    done = {r.arch.to_json() for r in read_measurements(path)} if path.exists() else set()
    todo = [a for a in archs if a.to_json() not in done]
    if not todo:
        return
    groups = max(1, -(-len(todo) // GROUP))
    profile = host_tflite_profile(threads)
    clock = "thread" if threads == 1 else "wall"
    for g in range(groups):
        group = todo[g::groups]
        print(f"group {g + 1}/{groups}: {len(group)} archs ({uptime()})", flush=True)
        rows = measure_many(group, "tflite", profile, seq_len, 1, threads, repeat=10, clock=clock, chunk=GROUP,
                            statistic=statistic)
        append_measurements(path, rows)


def converted(archs: list, seq_len: int) -> list:
    """The archs whose conversion is already cached (a partial run: conversion is the slow part here)."""
    from latency_models.tflite_backend import cache_dir, model_key

    return [a for a in archs if (cache_dir() / f"{model_key(a, seq_len, 1)}.tflite").exists()]


def repeatability(first: dict, second: dict) -> dict:
    """Two passes over the same archs (the second in reverse order): how far two measurements of one arch lie
    apart, the ceiling of any predictor's within-±10 % share."""
    keys = [k for k in first if k in second]
    return repeatability_stats([first[k].latency_ms for k in keys], [second[k].latency_ms for k in keys])


def fastest_of(passes: list[dict]) -> dict:
    """Per arch the fastest of its pass measurements (the one other work disturbed least)."""
    return {k: min((p[k] for p in passes if k in p), key=lambda r: r.latency_ms) for k in passes[0]}


def rows_of(path: Path) -> dict:
    return {r.arch.to_json(): r for r in read_measurements(path)} if path.exists() else {}


def suggested_archs(n_cal: int) -> list:
    """`nas calibrate --suggest N --from host-tflite` on the default space: the calibration set our tool proposes."""
    from latency_models.design import suggest

    return [p.arch for p in suggest(load_predictor(host_tflite_profile(1)), SearchSpace.default(), n_cal, seed=SEED)]


def evaluate(by_arch: dict, archs: list, n: int, n_cal: int, threads: int, suggested: list | None = None) -> dict:
    """Calibrate on the first n_cal random archs and validate on the rest; with `suggested`, calibrate on those
    (measured like the others) and validate on all n random archs."""
    sampled = [by_arch[a.to_json()] for a in archs[:n] if a.to_json() in by_arch]
    ratio_rows = [by_arch[a.to_json()] for a in archs[n:n + len(RATIO)]]
    if suggested is not None:
        train, test = [by_arch[a.to_json()] for a in suggested], sampled
        return split_metrics(train, test, ratio_rows, threads)
    if len(sampled) < n_cal + MIN_HELD_OUT:  # a partial run: calibrate on half of what was measured
        n_cal = len(sampled) // 2
    return split_metrics(sampled[:n_cal], sampled[n_cal:], ratio_rows, threads)


def split_metrics(train: list, test: list, ratio_rows: list, threads: int) -> dict:
    rows = train + test + ratio_rows
    n_cal = len(train)
    base = host_tflite_profile(threads)
    fusion = fit_lowering(base, train)
    fitted, residuals = calibrated_profile(with_fitted_lowering(base, fusion), train, "host-tflite-bench")
    measured = np.array([r.latency_ms for r in test])
    pred = load_predictor(fitted).predict([r.arch for r in test], [r.seq_len for r in test])
    ours = metrics(pred, measured)
    flops = metrics(flops_baseline(train, test), measured)
    prior_lowering = load_predictor(base, fit_params(base, train)).predict([r.arch for r in test], 128)
    unfitted = metrics(prior_lowering, measured)
    ratio_pred = load_predictor(fitted).predict([r.arch for r in ratio_rows], 128)
    ratio = {"measured_ms": {name: r.latency_ms for name, r in zip(RATIO, ratio_rows, strict=True)},
             "predicted_ms": {name: round(float(p), 3) for name, p in zip(RATIO, ratio_pred, strict=True)},
             "measured_ratio": ratio_rows[0].latency_ms / ratio_rows[1].latency_ms,
             "predicted_ratio": float(ratio_pred[0] / ratio_pred[1])}
    ratio["ratio_error_pct"] = 100 * (ratio["predicted_ratio"] / ratio["measured_ratio"] - 1)
    out = [{"model": "ours (fitted lowering)", **ours}, {"model": "ours (prior lowering)", **unfitted},
           {"model": "FLOPs-only linear fit", **flops}]
    print(table(out, ["model", "n", "mape", "within_10pct", "spearman"]))
    print("fusion:", fusion.summary())
    for a in fusion.alternatives:
        print(f"  {a.label():80} objective {a.objective:9.2f}  rms {a.rms_pct:5.1f}%")
    print("ratio no-opt/opt:", json.dumps(ratio))
    return {"n_measured": len(train) + len(test), "n_calibration": n_cal, "n_held_out": len(test),
            "ours": ours, "ours_prior_lowering": unfitted, "flops_baseline": flops, "fitted": fitted.cost,
            "fusion": fusion.to_toml(), "lowering": {k: v for k, v in fitted.lowering.items() if k != "fit"},
            "calibration_residuals_pct": [round(r["error_pct"], 2) for r in residuals],
            "held_out_errors_pct": [round(100 * float(p / m - 1), 2) for p, m in zip(pred, measured, strict=True)],
            "spread_median": float(np.median([r.spread or 0 for r in rows])),
            "no_opt_over_opt": ratio,
            "peaks": {"fp32_gflops": base.fp32_gflops, "memory_gbs": base.memory_gbs, "threads": base.threads}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--n-cal", type=int, default=20)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--stage", choices=("convert", "measure", "all"), default="all")
    ap.add_argument("--statistic", default="min", help="min (default: steadiest on a shared host, see "
                    "latency_models/timing.py) or median of the 10 interleaved runs")
    ap.add_argument("--passes", type=int, default=3, help="measure every arch this many times, alternately "
                    "in reverse order (repeatability of passes 1 and 2, and a fit on the fastest of all)")
    ap.add_argument("--suggested", action="store_true", help="also measure the --n-cal archs `nas calibrate "
                    "--suggest` proposes, calibrate on them and validate on all --n random archs")
    ap.add_argument("--converted-only", action="store_true", help="measure and evaluate only the archs whose "
                    "conversion is cached (a partial run), converting nothing")
    args = ap.parse_args()
    archs = archs_to_measure(args.n)
    suggested = suggested_archs(args.n_cal) if args.suggested else None
    if suggested:
        archs = archs + [a for a in suggested if a not in archs]
    start_uptime = uptime()
    convert_s = 0.0 if args.converted_only else convert_all(archs, args.seq_len)
    if args.stage == "convert":
        return
    todo = converted(archs, args.seq_len) if args.converted_only else archs
    results = {}
    for threads in args.threads:
        path = MEASUREMENTS / f"latency_tflite_host_t{threads}_{machine_slug()}.jsonl"
        more = [path.with_name(f"{path.stem}_pass{k}.jsonl") for k in range(2, args.passes + 1)]
        t = time.perf_counter()
        measure_missing(path, todo, args.seq_len, threads, args.statistic)
        for k, again in enumerate(more):
            measure_missing(again, todo[::-1] if k % 2 == 0 else todo, args.seq_len, threads, args.statistic)
        measure_s = time.perf_counter() - t
        if args.stage == "measure":
            continue
        print(f"--- {threads} thread(s)")
        passes = [rows_of(path)] + [rows_of(f) for f in more]
        block = {**evaluate(passes[0], archs, args.n, args.n_cal, threads),
                 "measurements": str(path.relative_to(MEASUREMENTS.parent.parent)),
                 "measure_seconds_this_run": round(measure_s, 1)}
        if len(passes) > 1:
            block["repeatability"] = repeatability(passes[0], passes[1])
            print("passes 1 and 2:", json.dumps(block["repeatability"]))
            print(f"--- calibrated and validated on the fastest of the {len(passes)} passes")
            block["fastest_of_passes"] = {"passes": len(passes),
                                          **evaluate(fastest_of(passes), archs, args.n, args.n_cal, threads)}
        if suggested:
            print(f"--- calibrated on the {args.n_cal} suggested archs, validated on all {args.n} random ones")
            block["suggested_calibration"] = {
                "how": f"nas calibrate --suggest {args.n_cal} --from host-tflite (latency_models/design.py), seed "
                       f"{SEED}; validated on the {args.n} random archs",
                "one_pass": evaluate(passes[0], archs, args.n, args.n_cal, threads, suggested),
                "fastest_of_passes": evaluate(fastest_of(passes), archs, args.n, args.n_cal, threads, suggested)}
        results[f"threads_{threads}"] = block
    if args.stage == "measure":
        return
    result = write_result("tflite_host", {
        "setup": {"n": args.n, "n_calibration": args.n_cal, "seq_len": args.seq_len, "space": "mobilebert-family",
                  "seed": SEED, "ratio_archs": list(RATIO), "backend": "tflite (LiteRT XNNPACK, litert-torch fp32)",
                  "protocol": f"measure_many: warm-up until stable, 10 interleaved rounds, {args.statistic}, "
                              "re-measured above 10 % spread; strided groups of 8; 1 thread: thread CPU time",
                  "convert_seconds_this_run": round(convert_s, 1)},
        "complete": all(r["n_measured"] == args.n for r in results.values()),
        "uptime_start": start_uptime, "uptime_end": uptime(), **results,
        "goal": {"within_10pct": 0.9, "spearman": 0.97, "ratio_error_pct": 10}})
    print("wrote", result)


if __name__ == "__main__":
    main()
