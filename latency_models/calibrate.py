"""Fit the cost model's parameters to measurements: robust log-space least squares with priors.

Residuals: (log predicted − log measured) / σ_meas for each row (soft-L1 loss, so one outlier does not
drag the fit), and (log θ − log θ_prior) / σ_prior for each parameter. σ_meas = 5 % (run-to-run spread of
medians is 2–6 %, stack-facts); σ_prior = ln 3 (a prior is trusted to a factor of three). With three
points the two dominant directions (matmul efficiency, element-wise bandwidth) are set by the data and
the rest (bmm efficiency, the matmul operand-traffic rate `mm_gbs`, launch and constant costs) stay near
their priors; with twenty the data decides everything.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from device_profiles.measurement import Measurement
from device_profiles.schema import DeviceProfile
from latency_models.cost_model import PARAMS, flatten, prior_params, total_ms
from latency_models.predictor import load_predictor
from nas_common.errors import UserInputError

SIGMA_MEAS = 0.05
SIGMA_PRIOR = math.log(3.0)


def fit_params(profile: DeviceProfile, rows: list[Measurement], priors: dict[str, float] | None = None,
               free: tuple[str, ...] = PARAMS, start: dict[str, float] | None = None) -> dict[str, float]:
    """Fitted cost parameters for `profile` from `rows` (those not in `free` stay at their priors:
    ablations, e.g. `mm_gbs` held at a huge value is the plain max-roofline). `start`: where the optimiser
    starts (the priors stay the priors; a leave-one-out refit starts from the fit on all rows)."""
    return fit_with_objective(profile, rows, priors, free, start)[0]


def fit_with_objective(profile: DeviceProfile, rows: list[Measurement], priors: dict[str, float] | None = None,
                       free: tuple[str, ...] = PARAMS,
                       start: dict[str, float] | None = None) -> tuple[dict[str, float], float]:
    """`fit_params` and the fit's final objective (robust data misfit + prior penalty): the same scale for
    every lowering of the same rows, so `fusion_fit.py` compares lowerings by it."""
    from scipy.optimize import least_squares

    if not rows:
        raise UserInputError("calibration needs at least one measurement")
    priors = priors or prior_params(profile)
    predictor = load_predictor(profile, priors)
    blocks, n, scale = predictor.features([r.arch for r in rows], [r.seq_len for r in rows],
                                          [r.batch for r in rows])
    flat = flatten(blocks)
    measured = np.log([r.latency_ms for r in rows])
    theta0 = np.log([priors[p] for p in free])

    def residuals(theta: np.ndarray) -> np.ndarray:
        params = {**priors, **dict(zip(free, np.exp(theta), strict=True))}
        pred = total_ms(flat, n, params, profile.fp32_gflops, profile.memory_gbs) * scale
        return np.concatenate([(np.log(pred) - measured) / SIGMA_MEAS, (theta - theta0) / SIGMA_PRIOR])

    # No hard bound at efficiency 1: a measured host peak (numpy, machine shared) can be below what the
    # measured runtime reaches; the prior already penalises implausible values.
    x0 = np.log([start[p] for p in free]) if start else theta0
    result = least_squares(residuals, x0, loss="soft_l1", f_scale=2.0, x_scale=1.0)
    fitted = {**priors, **dict(zip(free, np.exp(result.x), strict=True))}
    return {p: float(f"{fitted[p]:.6g}") for p in PARAMS}, float(result.cost)


def residual_table(profile: DeviceProfile, params: dict[str, float],
                   rows: list[Measurement]) -> list[dict[str, Any]]:
    pred = load_predictor(profile, params).predict([r.arch for r in rows], [r.seq_len for r in rows],
                                              [r.batch for r in rows])
    return [{"line": r.line, "measured_ms": r.latency_ms, "predicted_ms": float(p),
             "error_pct": 100.0 * (float(p) / r.latency_ms - 1.0), "source": r.source}
            for r, p in zip(rows, pred, strict=True)]


def calibrated_profile(base: DeviceProfile, rows: list[Measurement], name: str,
                       keep_points: bool = False) -> tuple[DeviceProfile, list[dict[str, Any]]]:
    """`base` with fitted `[cost]` parameters (and, optionally, the rows as its calibration points)."""
    params = fit_params(base, rows)
    cost = dict(params)
    cost["fitted_on"] = f"{len(rows)} measurements"
    points = tuple(rows) if keep_points else base.calibration
    profile = dataclasses.replace(base, name=name, cost=cost, calibration=points, path=None, content_hash="")
    return profile, residual_table(profile, params, rows)


# ---------------------------------------------------------------------- how much to trust a fit
SUSPECT_Z = 4.0  # a row is suspect when its leave-one-out residual is this many tolerances away
SUSPECT_FLOOR = 0.02  # the smallest residual scale (log) the check assumes: 2 %
MIN_ROWS_FOR_SUSPECTS = 5


def loo_log_errors(profile: DeviceProfile, rows: list[Measurement],
                   start: dict[str, float] | None = None) -> np.ndarray:
    """Leave-one-out error of each row, log(predicted / measured), predicted by the fit on all the other rows
    (each refit starts from `start`, e.g. the fit on all rows: same optimum, fewer iterations)."""
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        params = fit_params(profile, rows[:i] + rows[i + 1:], start=start)
        pred = float(load_predictor(profile, params).predict([row.arch], row.seq_len, row.batch)[0])
        out[i] = math.log(pred / row.latency_ms)
    return out


def loo_errors(profile: DeviceProfile, rows: list[Measurement]) -> np.ndarray:
    """Leave-one-out error of each row in % (predicted by the fit on all the other rows)."""
    return 100.0 * np.expm1(loo_log_errors(profile, rows))


def suspects(rows: list[Measurement], loo_pct: np.ndarray) -> list[dict[str, Any]]:
    """Rows whose leave-one-out residual is far beyond what the other rows and the row's own measured spread
    allow: |log(pred/measured)| > SUSPECT_Z · sqrt(s² + spread²), s the robust scale (1.4826 · median absolute
    deviation) of all rows' leave-one-out residuals, at least SUSPECT_FLOOR. Leave-one-out, so that a bad row
    cannot hide by pulling the fit towards itself; a median, so that it cannot widen the tolerance either."""
    if len(rows) < MIN_ROWS_FOR_SUSPECTS:
        return []
    resid = np.log1p(loo_pct / 100.0)
    scale = max(1.4826 * float(np.median(np.abs(resid - np.median(resid)))), SUSPECT_FLOOR)
    out = []
    for row, r, pct in zip(rows, resid, loo_pct, strict=True):
        tolerance = float(np.sqrt(scale**2 + (row.spread or 0.0) ** 2))
        if abs(r) > SUSPECT_Z * tolerance:
            out.append({"line": row.line, "measured_ms": row.latency_ms, "loo_error_pct": float(pct),
                        "tolerance_pct": 100 * tolerance, "spread": row.spread})
    return out
