"""Where the cost model under-priced LayerNorm and GELU on PyTorch eager (issue 32), and what fixed it.

    python -m benchmarks.latency_norm_ablation [--work benchmarks/measurements/calibration_stability/torch]

1. **Ops in isolation** (1 thread, thread CPU time, best of 5 × 2000 calls, T = 128): `nn.LayerNorm` against
   the NoNorm it replaces (`x * w + b`, two ATen ops), GELU against ReLU, at several widths. PyTorch eager's
   LayerNorm is one kernel, but it sweeps each row three times (sum, variance, output: what TVM's legalized
   `layer_norm` shows as two reduction blocks and an output block), and GELU evaluates erf per element.
2. **Four cost-model forms** fitted to the host measurements of `calibration_stability.py` (all rounds'
   rows): the old one (one sweep per element-wise kernel, bytes only), + sweeps (`passes`), + arithmetic
   (`flops / ew_gflops`, transcendental calls at the float ops of their polynomial approximation), + both
   (the model now). Reported: the residuals' RMS and mean by LayerNorm/NoNorm and GELU/ReLU (a structural
   miss shows as a gap between the two means), and 20 random 15-row calibrations scored on the other rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

import latency_models.predictor as predictor_module
from benchmarks.latency_common import MEASUREMENTS, ROOT, table, write_result
from device_profiles.host import host_profile
from latency_models.calibrate import fit_params
from latency_models.cost_model import PARAMS, prior_params
from latency_models.measurements import read_measurements

WIDTHS = (64, 128, 256, 512, 1024)


def ops_in_isolation() -> list[dict]:
    import torch

    torch.set_num_threads(1)

    def best_us(fn, n: int = 2000) -> float:
        for _ in range(50):
            fn()
        runs = []
        for _ in range(5):
            start = time.thread_time()
            for _ in range(n):
                fn()
            runs.append((time.thread_time() - start) / n * 1e6)
        return min(runs)

    out = []
    for width in WIDTHS:
        x, g, b = torch.randn(1, 128, width), torch.randn(width), torch.randn(width)
        ln = torch.nn.LayerNorm(width, eps=1e-12)
        ops = {"layer_norm_us": lambda x=x, ln=ln: ln(x), "nonorm_mul_add_us": lambda x=x, g=g, b=b: x * g + b,
               "add_us": lambda x=x: x + x, "relu_us": lambda x=x: torch.relu(x),
               "gelu_us": lambda x=x: torch.nn.functional.gelu(x)}
        with torch.inference_mode():
            out.append({"width": width, **{name: best_us(fn) for name, fn in ops.items()}})
    return out


def model_forms(rows: list, base) -> list[dict]:
    original = predictor_module._Part.block
    y = np.array([r.latency_ms for r in rows])
    ln = np.array([r.arch.normalization_type == "layer_norm" for r in rows])
    gelu = np.array([r.arch.hidden_act == "gelu" for r in rows])
    out = []
    for label, passes, arithmetic in (("old: one sweep, bytes only", False, False), ("+ sweeps", True, False),
                                      ("+ arithmetic", False, True), ("+ sweeps + arithmetic (now)", True, True)):
        predictor_module._Part.block = original if passes else (
            lambda self, *a: dataclasses.replace(original(self, *a), passes=None))
        priors, free = prior_params(base), PARAMS
        if not arithmetic:
            priors, free = {**priors, "ew_gflops": 1e9}, tuple(p for p in PARAMS if p != "ew_gflops")
        params = fit_params(base, rows, priors, free)
        res = 100 * (predictor_module.load_predictor(base, params).predict([r.arch for r in rows]) / y - 1)
        rng = np.random.default_rng(0)
        scores = []
        for _ in range(20):
            order = rng.permutation(len(rows))
            cal, test = [rows[i] for i in order[:15]], order[15:]
            fitted = fit_params(base, cal, priors, free)
            predicted = predictor_module.load_predictor(base, fitted).predict([rows[i].arch for i in test])
            err = 100 * (predicted / y[test] - 1)
            scores.append((np.mean(np.abs(err) <= 10), np.mean(np.abs(err))))
        s = np.array(scores)
        out.append({"model": label, "n_rows": len(rows), "rms_pct": float(np.sqrt(np.mean(res ** 2))),
                    "mean_layer_norm_pct": float(res[ln].mean()), "mean_no_norm_pct": float(res[~ln].mean()),
                    "mean_gelu_pct": float(res[gelu].mean()), "mean_relu_pct": float(res[~gelu].mean()),
                    "cal15_within10_mean": float(s[:, 0].mean()), "cal15_mape_mean": float(s[:, 1].mean())})
    predictor_module._Part.block = original
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=str(MEASUREMENTS / "calibration_stability" / "torch"))
    args = ap.parse_args()
    work = Path(args.work)
    peaks = json.loads((work / "peaks.json").read_text())
    base = dataclasses.replace(host_profile(1), **peaks)
    rows = [r for p in sorted(work.glob("round-[0-9].jsonl")) for r in read_measurements(p)]
    isolated = ops_in_isolation()
    print(table(isolated, ["width", "layer_norm_us", "nonorm_mul_add_us", "add_us", "relu_us", "gelu_us"]))
    forms = model_forms(rows, base)
    print(table(forms, ["model", "n_rows", "rms_pct", "mean_layer_norm_pct", "mean_no_norm_pct", "mean_gelu_pct",
                        "mean_relu_pct", "cal15_within10_mean", "cal15_mape_mean"]))
    print("wrote", write_result("norm_ablation", {"ops_in_isolation": isolated, "model_forms": forms,
                                                  "rows_from": str(work.resolve().relative_to(ROOT))
                                                  if work.resolve().is_relative_to(ROOT) else str(work),
                                                  "peaks": peaks}))


if __name__ == "__main__":
    main()
