"""Host accuracy: 60 random archs of the default space measured with PyTorch (1 thread), calibrate on 20,
report MAPE / within ±10 % / Spearman on the other 40, next to a FLOPs-only linear fit.

    python benchmarks/latency_host_accuracy.py [--measurements FILE.jsonl] [--n 60] [--seq-len 128]

Measurements are appended to FILE (default benchmarks/results/latency_host_measurements.jsonl) and reused
when it already holds n rows, so the fit can be re-run without re-measuring.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency_common import RESULTS, table, write_result  # noqa: E402

from device_profiles.host import host_profile  # noqa: E402
from latency_models.calibrate import calibrated_profile  # noqa: E402
from latency_models.measure import measure  # noqa: E402
from latency_models.measurements import append_measurements, read_measurements  # noqa: E402
from latency_models.predictor import Predictor  # noqa: E402
from latency_models.validate import flops_baseline, metrics  # noqa: E402
from search_spaces.space import SearchSpace  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--measurements", default=str(RESULTS / "latency_host_measurements.jsonl"))
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--n-cal", type=int, default=20)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    profile = dataclasses.replace(host_profile(), threads=args.threads)
    path = Path(args.measurements)
    done = read_measurements(path) if path.exists() else []
    archs = SearchSpace.default().sample_many(args.n, np.random.default_rng(2026))
    start = time.perf_counter()
    for i, arch in enumerate(archs[len(done):], start=len(done)):
        m = measure(arch, "torch", profile, args.seq_len, 1, args.threads, args.repeat)
        append_measurements(path, [m])
        print(f"measured {i + 1}/{args.n}: {m.latency_ms:.1f} ms ({arch.flops(args.seq_len) / 1e9:.2f} GFLOP)",
              flush=True)
    rows = read_measurements(path)[: args.n]
    measure_s = time.perf_counter() - start
    train, test = rows[: args.n_cal], rows[args.n_cal:]
    fitted, residuals = calibrated_profile(profile, train, "host-bench")
    pred = Predictor(fitted).predict([r.arch for r in test], [r.seq_len for r in test])
    measured = np.array([r.latency_ms for r in test])
    ours = metrics(pred, measured)
    base = metrics(flops_baseline(train, test), measured)
    out = [{"model": "ours (TVM kernels + roofline)", **ours}, {"model": "FLOPs-only linear fit", **base}]
    print(table(out, ["model", "n", "mape", "within_10pct", "spearman"]))
    print("fitted:", fitted.cost)
    result = write_result("host_accuracy", {
        "setup": {"n": args.n, "n_calibration": args.n_cal, "seq_len": args.seq_len, "threads": args.threads,
                  "repeat": args.repeat, "backend": "torch eager", "space": "mobilebert-family (default)",
                  "seed": 2026, "peaks": {"fp32_gflops": profile.fp32_gflops, "memory_gbs": profile.memory_gbs}},
        "ours": ours, "flops_baseline": base, "fitted": fitted.cost,
        "calibration_residuals_pct": [round(r["error_pct"], 2) for r in residuals],
        "measure_seconds": round(measure_s, 1), "goal": {"within_10pct": 0.9, "spearman": 0.95}})
    print("wrote", result)


if __name__ == "__main__":
    main()
