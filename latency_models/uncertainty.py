"""How sure a calibrated predictor is: the fit's parameter covariance and prediction intervals.

Method: the **parameter covariance** of the fit (a Laplace approximation at the fitted parameters), not a
bootstrap over calibration rows. Why: a user calibrates on 3-20 rows and the model has six parameters,
which the fit pins with priors (`calibrate.py`). Resampling three rows gives at most ten distinct sets,
most of them degenerate, and the bootstrap spread then mostly measures which rows happened to be drawn;
the covariance uses the same priors as the fit, needs no refit (one Jacobian: `log_jacobian`), is
deterministic, and goes smoothly from "priors only" (an uncalibrated profile) to "the data decides".
Its limit: it linearises the model around the fit (log-latency is close to linear in log-parameters
here) and uses the plain least-squares curvature, not the soft-L1 loss's.

- Jacobian J (rows × parameters): d log t / d log θ of each calibration row (forward differences).
- Residual scale s: the model's and the measurement's error in log space together, estimated from the
  calibration residuals with `NU0` pseudo-rows at `SIGMA_MEAS` (a conjugate prior on s, so that three rows
  do not claim a 1 % error): s² = (ν0·σ0² + Σ r²) / (ν0 + n − p_eff), p_eff the trace of the hat matrix.
- Covariance Σ = (JᵀJ / s² + I / σ_prior²)⁻¹ (the fit's priors are the second term).
- Interval of a new arch with gradient g: log t̂ ± t_q(ν0 + n − p_eff) · sqrt(gᵀΣg + s²), Student's t.
- **Model error** (issue 32: intervals from the parameters alone held under half of the held-out archs): a
  profile calibrated by `calibration.calibrate` keeps each calibration row's leave-one-out log error e_(i)
  (`loo_log`) and their RMS (`loo_sigma`). A left-out row's error holds the model's own error *and* the
  parameters' uncertainty at that row, which is large where the row has high leverage h_i (an arch at the edge
  of the calibration set, such as those `nas calibrate --suggest` proposes): for a linear fit
  E e_(i)² = s_m²/(1 − h_i). So the residual scale is the same conjugate update as `posterior`'s with the
  out-of-sample errors, net of leverage, in place of the in-sample residuals:
  s_m² = (ν0·σ0² + Σ_i e_(i)²·(1 − h_i)) / (ν0 + n), h_i = g_iᵀΣg_i / s_m² the hat diagonal of the
  prior-regularised fit (Σ depends on s_m: a few fixed-point steps); the interval uses s_m (and Σ with it) and
  ν0 + n − 1 degrees of freedom. The in-sample residuals alone are optimistic (the fit bends towards its own
  rows; a structural miss shows only out of sample); the plain leave-one-out RMS, or the larger of it and the
  in-sample scale, is pessimistic: it counts the extrapolation to high-leverage rows as model error, and with
  10 calibration archs the intervals held 96–98 % instead of 90 % (measured: benchmarks/results/
  latency_calibration_stability_torch.json; docs/history.md has the rule before this one). A profile with only
  `loo_sigma` (no per-row errors) uses s_m² = max(loo_sigma² − mean_i g_iᵀΣg_i, s²). Approximations: the leverage
  is the cost model's, linearised (a FLOPs blend's line adds leverage this ignores, which widens the interval),
  and the leave-one-out refits keep the lowering switches chosen on all rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from device_profiles.schema import LOO_LOG
from latency_models.cost_model import PARAMS, PartBlock, flatten, total_ms

SIGMA_MEAS = 0.05  # as calibrate.py: run-to-run spread of medians is 2-6 % (stack-facts)
SIGMA_PRIOR = float(np.log(3.0))
NU0 = 2.0
STEP = 1e-3
FIXED_POINT_STEPS = 10  # s_m and the leverages depend on each other; they settle well within this


@dataclass(frozen=True)
class Posterior:
    cov: np.ndarray  # (p, p) covariance of the log-parameters
    sigma: float  # residual scale (log space)
    dof: float  # degrees of freedom of the t quantile (inf: priors only)
    n_rows: int

    def quantile(self, level: float) -> float:
        from scipy.stats import norm, t

        q = 0.5 + level / 2
        return float(norm.ppf(q) if not np.isfinite(self.dof) else t.ppf(q, self.dof))


@dataclass(frozen=True)
class PredictionInterval:
    """Point prediction and the bounds of a `level` interval, in ms (arrays, one value per arch)."""

    ms: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float


def log_jacobian(blocks: list[PartBlock], n: int, scale: np.ndarray, params: dict[str, float], peak_gflops: float,
                 memory_gbs: float, free: tuple[str, ...] = PARAMS) -> tuple[np.ndarray, np.ndarray]:
    """(log t̂ (n,), d log t / d log θ (n, p)) by forward differences in log θ."""
    blocks = flatten(blocks)
    base = np.log(total_ms(blocks, n, params, peak_gflops, memory_gbs) * scale)
    jac = np.empty((n, len(free)))
    for k, name in enumerate(free):
        moved = {**params, name: params[name] * float(np.exp(STEP))}
        jac[:, k] = (np.log(total_ms(blocks, n, moved, peak_gflops, memory_gbs) * scale) - base) / STEP
    return base, jac


def posterior(jac: np.ndarray, residuals: np.ndarray) -> Posterior:
    """The fit's uncertainty from the calibration rows' Jacobian and log residuals (predicted − measured)."""
    n, p = jac.shape
    prior_precision = np.eye(p) / SIGMA_PRIOR**2
    if n == 0:
        return Posterior(np.linalg.inv(prior_precision), SIGMA_MEAS, float("inf"), 0)
    s2 = SIGMA_MEAS**2
    dof = NU0 + n
    for _ in range(3):  # s depends on p_eff, which depends on s: a few fixed-point steps settle it
        precision = jac.T @ jac / s2 + prior_precision
        p_eff = float(np.trace(jac @ np.linalg.solve(precision, jac.T)) / s2)
        dof = max(NU0 + n - p_eff, 1.0)
        s2 = (NU0 * SIGMA_MEAS**2 + float(np.sum(residuals**2))) / dof
    cov = np.linalg.inv(jac.T @ jac / s2 + prior_precision)
    return Posterior(cov, float(np.sqrt(s2)), dof, n)


def interval(log_pred: np.ndarray, jac: np.ndarray, post: Posterior, level: float) -> PredictionInterval:
    """The `level` prediction interval of archs with log-predictions `log_pred` and gradients `jac`."""
    sd = np.sqrt(np.einsum("ij,jk,ik->i", jac, post.cov, jac) + post.sigma**2)
    half = post.quantile(level) * sd
    with np.errstate(over="ignore"):  # an unbounded interval is inf, not a RuntimeWarning line (see `nas latency`)
        return PredictionInterval(np.exp(log_pred), np.exp(log_pred - half), np.exp(log_pred + half), level)


def with_model_error(post: Posterior, jac: np.ndarray, loo_sigma: float, loo_rows: int,
                     loo_log: Sequence[float] | None = None) -> Posterior:
    """`post` whose residual scale is the model error in the calibration rows' leave-one-out errors (module
    docstring): each row's error net of its leverage when `loo_log` (one per row of `jac`) is given, else the RMS
    `loo_sigma` net of the mean parameter variance; `jac`: the calibration rows' gradients (as they enter the
    prediction)."""
    p = jac.shape[1]
    prior_precision = np.eye(p) / SIGMA_PRIOR**2
    errors = np.asarray(loo_log, dtype=float) if loo_log is not None and len(loo_log) == len(jac) > 0 else None
    s2 = max(post.sigma**2, loo_sigma**2)
    for _ in range(FIXED_POINT_STEPS):
        cov = np.linalg.inv(jac.T @ jac / s2 + prior_precision)
        param_var = np.einsum("ij,jk,ik->i", jac, cov, jac) if len(jac) else np.zeros(0)
        if errors is not None:
            leverage = np.clip(param_var / s2, 0.0, 1.0)
            s2 = (NU0 * SIGMA_MEAS**2 + float(np.sum(errors**2 * (1.0 - leverage)))) / (NU0 + len(errors))
        else:
            s2 = max(loo_sigma**2 - (float(np.mean(param_var)) if len(param_var) else 0.0), post.sigma**2)
    cov = np.linalg.inv(jac.T @ jac / s2 + prior_precision)
    return Posterior(cov, float(np.sqrt(s2)), max(NU0 + loo_rows - 1.0, 1.0), post.n_rows)


def profile_posterior(predictor: Any) -> Posterior:
    """The uncertainty of a predictor's parameters from its profile's calibration points (none: priors), with
    the model error its calibration measured out of sample (`loo_sigma`) when the profile has it."""
    rows = list(predictor.profile.calibration)
    if not rows:
        return posterior(np.zeros((0, len(PARAMS))), np.zeros(0))
    blocks, n, scale = predictor.features([r.arch for r in rows], [r.seq_len for r in rows],
                                          [r.batch for r in rows])
    log_pred, jac = log_jacobian(blocks, n, scale, predictor.params, predictor.profile.fp32_gflops,
                                 predictor.profile.memory_gbs)
    post = posterior(jac, log_pred - np.log([r.latency_ms for r in rows]))
    cost = predictor.profile.cost
    if "loo_sigma" in cost:
        weight = float(cost.get("flops_weight", 1.0))
        post = with_model_error(post, jac * weight, float(cost["loo_sigma"]), int(cost.get("loo_rows", n)),
                                cost.get(LOO_LOG))
    return post
