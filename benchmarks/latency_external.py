"""External latency sets: HAT's Raspberry Pi 4 encoder latencies and SuperShaper's i7 BERT set.

Each set is converted to a measurements file (under a temp dir, never into the repo), calibrated on 20 random
rows as `nas calibrate` does (`calibration.calibrate`: lowering switches by leave-one-out, the cost model
blended with a FLOPs-linear fit when that is better out of sample, 90 % intervals with the LOO model error) and
evaluated on the rest (MAPE, within ±10 %, Spearman with n, interval coverage), next to the cost model alone
(the base profile's switches) and the FLOPs-only linear fit on the same 20 rows.

HAT's Raspberry Pi encoder latencies are very noisy (latency_std_encoder / latency_mean_encoder up to
78 %): besides the full set, the same evaluation runs on its low-noise subset (std/mean < 2 %, ~940 rows;
calibration and evaluation rows both drawn from the subset). Both are reported, labelled.
SuperShaper's i7 latencies are 30.6 ± 0.6 ms whatever the widths: the set has no width signal (its
spread is run-to-run noise), which the JSON states as a finding next to the metrics.

    NAS_DATA_DIR=../shared/data python -m benchmarks.latency_external
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.latency_common import table, write_result
from device_profiles import DeviceProfile, Measurement
from latency_models.calibrate import calibrated_profile
from latency_models.calibration import calibrate
from latency_models.external import LOW_NOISE, hat_rows, supershaper_rows
from latency_models.measurements import append_measurements, read_measurements
from latency_models.predictor import load_predictor
from latency_models.validate import coverage, flops_baseline, metrics
from nas_common.paths import data_dir

LEVEL = 0.9
EAGER = {"fuse_layer_norm": True, "fuse_gelu": True, "fuse_epilogue": False}  # PyTorch eager, both sets
# Raspberry Pi 4: 4 x Cortex-A72 @ 1.5 GHz, 8 fp32 FLOP/cycle (one 128-bit NEON FMA pipe, 4 lanes x 2) -> 48 GFLOP/s;
# LPDDR4-3200 32-bit: 12.8 GB/s (Raspberry Pi 4 product brief). HAT measured PyTorch, batch 1 (HAT README).
RPI4 = DeviceProfile("rpi4-hat", "Raspberry Pi 4 (HAT data)", {"kind": "llvm", "mtriple": "aarch64-linux-gnu",
                     "mcpu": "cortex-a72", "mattr": ["+neon"]}, 4, 48.0, 12.8, "torch", lowering=EAGER)
# SuperShaper does not name its i7; a 4-core AVX2 desktop part (~200 GFLOP/s fp32, ~20 GB/s) as the prior.
I7 = DeviceProfile("i7-supershaper", "Intel i7 (SuperShaper data)", {"kind": "llvm"}, 4, 200.0, 20.0, "torch",
                   lowering=EAGER)


def evaluate(name: str, base: DeviceProfile, rows: list[Measurement], n_cal: int = 20) -> dict:
    with tempfile.TemporaryDirectory() as tmp:  # round-trip through the public file format
        path = append_measurements(Path(tmp) / f"{name}.jsonl", rows)
        rows = read_measurements(path)
    order = np.random.default_rng(0).permutation(len(rows))
    train, test = [rows[i] for i in order[:n_cal]], [rows[i] for i in order[n_cal:]]
    result = calibrate(base, train, base.name)  # what `nas calibrate` does (switches by LOO, FLOPs blend)
    band = load_predictor(result.profile).predict([r.arch for r in test], [r.seq_len for r in test], interval=LEVEL)
    measured = np.array([r.latency_ms for r in test])
    kept, _ = calibrated_profile(base, train, base.name)  # the cost model alone, the base profile's switches
    alone = load_predictor(kept).predict([r.arch for r in test], [r.seq_len for r in test])
    return {"ours": {**metrics(band.ms, measured), "coverage_90": coverage(band.lower, band.upper, measured),
                     "median_interval_halfwidth_pct": float(50 * np.median(band.upper / band.lower - 1))},
            "cost_model_alone": metrics(alone, measured),
            "flops_baseline": metrics(flops_baseline(train, test), measured),
            "calibration": result.summary(), "fitted": result.profile.cost, "n_calibration": n_cal}


def signal_check(rows: list[Measurement]) -> dict:
    """Is there anything to predict? Spread of the latencies and their rank correlation with FLOPs."""
    from scipy.stats import spearmanr

    y = np.array([r.latency_ms for r in rows])
    flops = np.array([r.arch.flops(r.seq_len) for r in rows])
    return {"latency_ms_mean": round(float(y.mean()), 3), "latency_ms_std": round(float(y.std()), 3),
            "latency_cv_pct": round(100 * float(y.std() / y.mean()), 2),
            "flops_max_over_min": round(float(flops.max() / flops.min()), 2),
            "spearman_latency_vs_flops": round(float(spearmanr(y, flops).statistic), 3)}


def main() -> None:
    found = data_dir()
    if found is None:
        raise SystemExit("error: no data folder: set NAS_DATA_DIR (the public data, e.g. ../shared/data)")
    root = found / "latency"
    if not root.is_dir():
        sys.exit(f"no latency data at {root}: set NAS_DATA_DIR to the shared data folder")
    hat_csv = root / "hat" / "wmt14ende_cpu_raspberrypi_all.csv"
    low = hat_rows(hat_csv, LOW_NOISE)
    shaper = supershaper_rows(root / "supershaper" / "i7_bs1.csv")
    shaper_signal = signal_check(shaper)
    results = {
        "hat_raspberrypi_encoder": evaluate("hat", RPI4, hat_rows(hat_csv)),
        "hat_raspberrypi_encoder_low_noise": {
            **evaluate("hat-low-noise", RPI4, low),
            "subset": f"rows with latency_std_encoder / latency_mean_encoder < {LOW_NOISE:.0%} ({len(low)} rows); "
                      "calibrated and evaluated within the subset"},
        # Diagnostic only: 33 low-noise rows take > 1 s, ~10x the subset's median (201 ms), with ordinary
        # archs; a run-level anomaly of HAT's measurements that no arch feature explains.
        "hat_raspberrypi_encoder_low_noise_without_1s_rows": {
            **evaluate("hat-low-noise-no-1s", RPI4, [r for r in low if r.latency_ms < 1000.0]),
            "subset": "diagnostic: the low-noise subset without its rows above 1000 ms (~10x its median)"},
        "supershaper_i7": {**evaluate("supershaper", I7, shaper), "signal": shaper_signal, "finding": (
            f"no width signal: latencies are {shaper_signal['latency_ms_mean']:.1f} ± "
            f"{shaper_signal['latency_ms_std']:.1f} ms (CV {shaper_signal['latency_cv_pct']:.1f} %) although FLOPs "
            f"vary {shaper_signal['flops_max_over_min']:.1f}x; Spearman(latency, FLOPs) = "
            f"{shaper_signal['spearman_latency_vs_flops']:.2f}. Any ranking metric on this set measures noise; "
            "a constant predicts it within ±10 %.")},
    }
    out = []
    for name, r in results.items():
        for model in ("ours", "cost_model_alone", "flops_baseline"):
            out.append({"set": name, "model": model, **r[model]})
    print(table(out, ["set", "model", "n", "mape", "within_10pct", "spearman", "coverage_90"]))
    print("SuperShaper:", results["supershaper_i7"]["finding"])
    print("wrote", write_result("external", {"results": results, "goal": {"spearman": 0.9}}))


if __name__ == "__main__":
    main()
