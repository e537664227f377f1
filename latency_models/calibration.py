"""`calibrate`: what `nas calibrate` does with measurements, so that the result generalises to archs it has not seen.

1. **Lowering switches** by leave-one-out (`fusion_fit.py`: the base profile's switches unless another
   combination is clearly better out of sample).
2. **Cost parameters** fitted on all rows (`calibrate.fit_params`).
3. **Never worse than FLOPs**: each row's leave-one-out prediction by the cost model and by a FLOPs-linear fit
   (latency = a·FLOPs + b, least squares on the other rows: the baseline every latency tool must beat) are
   blended in log space, log t = w·log t_model + (1 - w)·log t_flops, w in `WEIGHTS`. **The rule**: the w with
   the smallest leave-one-out mean squared log error (ties within `TIE` to the larger w) is used if it is
   *clearly* better than the FLOPs fit alone: its leave-one-out mean squared log error is at most `CLEAR_RATIO`
   (half) of the FLOPs fit's, or its per-row absolute leave-one-out errors are smaller, paired, by a one-sided
   Wilcoxon signed-rank test at `CLEAR_P` (a win on most rows that one large miss would hide from the mean);
   otherwise the FLOPs-linear fit is used (w = 0): a fit that cannot show it is better out of sample does not
   replace the baseline. (On HAT's Raspberry Pi set the two are within 1 % of each other on 20 rows: FLOPs; on the
   host, 10 suggested archs, the model's LOO MSE is 1/20 of the line's: the model.) Below `MIN_ROWS_FLOPS`
   rows a line through so few points is no baseline and the cost model is kept (w = 1). The profile keeps w and
   the FLOPs fit on all rows (`[cost]`: `flops_weight`, `flops_ms_per_gflop`, `flops_ms`, `flops_floor_ms`).
4. **Model error**: the leave-one-out root mean squared log error of the final (blended) predictor, `loo_sigma`,
   with the number of rows, `loo_rows`, and each row's leave-one-out log error, `loo_log` (in the order of the
   profile's calibration points): the intervals (`uncertainty.py`) take the model error from them, net of each
   row's leverage, and add it to the parameters' uncertainty.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from device_profiles.measurement import Measurement
from device_profiles.schema import LOO_LOG, DeviceProfile
from latency_models.calibrate import calibrated_profile, fit_params, loo_log_errors
from latency_models.fusion_fit import FusionFit, fit_lowering, fittable, with_fitted_lowering

WEIGHTS = (1.0, 0.75, 0.5, 0.25, 0.0)  # cost model's share of the log prediction, the model first
TIE = 0.02  # a blend must lower the LOO mean squared log error by this share to replace a larger w
CLEAR_RATIO = 0.5  # ... and beat the FLOPs fit alone: LOO MSE at most this share of the line's,
CLEAR_P = 0.05  # ... or row by row: one-sided Wilcoxon signed-rank p below this
MIN_ROWS = 3  # leave-one-out (model error) from this many rows on
MIN_ROWS_FLOPS = 5  # the FLOPs fit is judged (and may be used) from this many rows on


def flops_fit(rows: list[Measurement]) -> tuple[float, float]:
    """(ms per GFLOP, ms) of latency = a·FLOPs + b, least squares (one row: through the origin)."""
    x = np.array([r.arch.flops(r.seq_len) * r.batch / 1e9 for r in rows])
    y = np.array([r.latency_ms for r in rows])
    if len(rows) < 2 or np.ptp(x) == 0:
        return float(np.sum(x * y) / np.sum(x * x)), 0.0
    a, b = np.polyfit(x, y, 1)
    return float(a), float(b)


def flops_ms(a: float, b: float, gflops: np.ndarray, floor: float) -> np.ndarray:
    """The FLOPs fit's latency, kept above `floor` ms (a line may cross zero below the calibrated range)."""
    return np.maximum(a * gflops + b, floor)


def flops_loo_log_errors(rows: list[Measurement]) -> np.ndarray:
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        others = rows[:i] + rows[i + 1:]
        a, b = flops_fit(others)
        floor = 0.5 * min(r.latency_ms for r in others)
        pred = float(flops_ms(a, b, np.array([row.arch.flops(row.seq_len) * row.batch / 1e9]), floor)[0])
        out[i] = math.log(pred / row.latency_ms)
    return out


def choose_weight(model_loo: np.ndarray, flops_loo: np.ndarray) -> tuple[float, dict[float, float]]:
    """The blend weight of the cost model (module docstring, step 3) and each weight's LOO mean squared error."""
    mse = {w: float(np.mean(np.square(w * model_loo + (1 - w) * flops_loo))) for w in WEIGHTS}
    if len(model_loo) < MIN_ROWS_FLOPS:
        return 1.0, mse
    chosen = WEIGHTS[0]
    for w in WEIGHTS[1:]:
        if mse[w] < mse[chosen] * (1 - TIE):
            chosen = w
    if chosen == 0.0:
        return chosen, mse
    clear = mse[chosen] <= CLEAR_RATIO * mse[0.0] or clearly_smaller(chosen * model_loo + (1 - chosen) * flops_loo,
                                                                     flops_loo)
    return (chosen if clear else 0.0), mse


def clearly_smaller(errors: np.ndarray, baseline: np.ndarray) -> bool:
    """Whether `errors` are smaller in absolute value than `baseline`'s, row by row (Wilcoxon, `CLEAR_P`)."""
    from scipy.stats import wilcoxon

    diff = np.abs(baseline) - np.abs(errors)
    if not np.any(diff != 0):
        return False
    return float(wilcoxon(diff, alternative="greater").pvalue) < CLEAR_P


@dataclass
class Calibration:
    profile: DeviceProfile
    residuals: list[dict[str, Any]]
    fusion: FusionFit | None = None
    model_loo_log: np.ndarray | None = None
    flops_loo_log: np.ndarray | None = None
    weight_mse: dict[float, float] = field(default_factory=dict)

    @property
    def loo_log(self) -> np.ndarray | None:
        """Leave-one-out log errors of the final (blended) predictor, as the profile keeps them."""
        errors = self.profile.cost.get(LOO_LOG)
        return None if errors is None else np.array(errors)

    def summary(self) -> dict[str, Any]:
        cost = self.profile.cost
        out: dict[str, Any] = {"lowering": {k: v for k, v in self.profile.lowering.items() if k != "fit"},
                               "model_weight": float(cost.get("flops_weight", 1.0)),
                               "loo_sigma": cost.get("loo_sigma")}
        if self.model_loo_log is not None and self.flops_loo_log is not None:
            out["loo_rms_pct"] = {"cost_model": round(100 * float(np.sqrt(np.mean(self.model_loo_log ** 2))), 2),
                                  "flops_linear": round(100 * float(np.sqrt(np.mean(self.flops_loo_log ** 2))), 2)}
        if self.fusion is not None:
            out["switches_flipped"] = [s for s in self.fusion.switches
                                       if self.fusion.best.lowering[s] != self.fusion.base.lowering[s]]
        return out

    def report_lines(self) -> list[str]:
        """What `nas calibrate` prints about the FLOPs comparison and the model error."""
        if self.model_loo_log is None or self.flops_loo_log is None:
            return [f"FLOPs comparison and model error: need at least {MIN_ROWS} rows (intervals: parameters only)"]
        s = self.summary()
        w = s["model_weight"]
        verdict = ("the cost model alone (it beats or ties the FLOPs-linear fit out of sample)" if w == 1.0 else
                   "the FLOPs-linear fit alone (the cost model did not beat it out of sample)" if w == 0.0 else
                   f"a blend: {w:g} x log cost model + {1 - w:g} x log FLOPs-linear (lowest leave-one-out error)")
        return [f"leave-one-out RMS: cost model {s['loo_rms_pct']['cost_model']:.1f}%, FLOPs-linear "
                f"{s['loo_rms_pct']['flops_linear']:.1f}% on the same rows; predictions use {verdict}",
                f"leave-one-out RMS of the final predictor (log): {s['loo_sigma']:.4f} over {len(self.residuals)} "
                "rows; the intervals take the model error from each row's error net of its leverage"]


def calibrate(base: DeviceProfile, rows: list[Measurement], name: str, fit_switches: bool = True) -> Calibration:
    """A calibrated profile from `rows` (module docstring), with what decided it."""
    fusion = None
    if fit_switches and fittable(rows)[0]:
        fusion = fit_lowering(base, rows)
        base = with_fitted_lowering(base, fusion)
    profile, residuals = calibrated_profile(base, rows, name, keep_points=True)
    if len(rows) < MIN_ROWS:
        return Calibration(profile, residuals, fusion)
    model_loo = (np.array(fusion.best.loo_log) if fusion is not None and fusion.best.loo_log
                 else loo_log_errors(base, rows, start=fit_params(base, rows)))
    flops_loo = flops_loo_log_errors(rows)
    w, mse = choose_weight(model_loo, flops_loo)
    a, b = flops_fit(rows)
    final = w * model_loo + (1 - w) * flops_loo
    cost = {**profile.cost, "flops_weight": w, "loo_sigma": float(f"{math.sqrt(float(np.mean(final ** 2))):.6g}"),
            "loo_rows": len(rows), LOO_LOG: [float(f"{e:.6g}") for e in final]}
    if w < 1.0:
        cost.update(flops_ms_per_gflop=float(f"{a:.6g}"), flops_ms=float(f"{b:.6g}"),
                    flops_floor_ms=float(f"{0.5 * min(r.latency_ms for r in rows):.6g}"))
    profile = dataclasses.replace(profile, cost=cost)
    return Calibration(profile, residuals, fusion, model_loo, flops_loo, mse)
