"""Which residual-scale rule gives 90 % latency intervals that cover 85-95 %? Candidate rules on recorded rounds.

    python -m benchmarks.interval_rules                   # every recorded calibration_stability folder

Issue 32's last open point: with LiteRT's 10 suggested archs the 90 % intervals held 96.7 % of the held-out
archs (rounds 11-15), above the 85-95 % band, while every other configuration was inside it. This benchmark
asks whether another way of taking the model error from the calibration rows would fix that without breaking
the other configurations. It measures nothing: it re-calibrates each recorded round's sets exactly as
`calibration_stability` does (`calibration.calibrate`) and predicts the held-out archs, then replaces only the
interval's residual scale s (and its degrees of freedom) by each rule's and counts the coverage, pooled per
folder and set. Rules (e_i: row i's leave-one-out log error, h_i: its leverage, ν0·σ0²: the prior pseudo-rows
of `uncertainty.py`):
- `shipped`: `uncertainty.with_model_error`, s² = (ν0σ0² + Σ e_i²(1−h_i)) / (ν0 + n), t with ν0 + n − 1 dof;
- `in-sample`: `uncertainty.posterior` on the in-sample residuals, ν0 + n − p_eff dof;
- `normal-quantile`: `shipped` with the normal quantile instead of Student's t;
- `leverage-weighted`: each term weighted by (1 − h_i) (an interior row counts more; every term is unbiased
  for a linear model, so any weights are);
- `empirical-leverage`: h_i = 1 − r_i/e_i from the row's in-sample residual r_i (the term becomes e_i·r_i):
  catches what the linearised leverage misses (the roofline's max, the priors);
- `low-leverage-half`: only the rows with h_i at or below the median;
- `leverage-linear`: e_i²(1−h_i) regressed on h_i, evaluated at the median leverage of the archs predicted
  (model error that grows towards the edge of the calibration set);
- `distance-weighted`: model error whose variance grows with an arch's distance from the space's typical arch,
  s²·(1 + d)/2, d the Mahalanobis distance (over p) of the arch's gradient from the gradients of `POOL` archs
  sampled from the space (d ≈ 1 for a typical arch; `nas calibrate --suggest`'s rows sit at d ≈ 3.5); s² from
  the rows' e_i²(1−h_i) each divided by its own (1 + d_i)/2, the covariance weighted likewise (weighted least
  squares). Why: a design at the space's corners measures the model where it is worst, and judges typical archs
  by that;
- `distance-floored`: `distance-weighted` with the factor max(1, (1 + d)/2): typical archs keep the shipped error;
- `typical-rows`: the shipped scale from the rows with d at most the pool's 95th percentile only (the model error
  where the archs to predict lie);
- `latency-weighted`: a model-error variance s²·(1 + 5 ms / t̂) that grows for fast archs as a fixed jitter would;
- `presets-as-one`: the shipped scale with the MobileBERT presets among the rows (three in every suggested set, one
  shape) counted as one row: their terms averaged. Why: they share one pricing error, which the shipped rule
  counts three times as independent evidence of model error;
- `robust-scale`: the model-error scale from the median absolute leverage-netted leave-one-out error (× 1.4826), not
  the root mean square: with heavy-tailed errors an RMS scale covers more than 90 % (diagnostic
  `held_out_p90_over_rms`: 1.645 for normal errors).
Beside them, diagnostics per configuration: the calibration rows' latency range, the median leave-one-out
error of the interior rows (leverage at or below the median) against the held-out archs' errors, and the mean
signed leave-one-out error of rows slower than 150 ms against the others (does the model bend at the large
end?).
These rules were compared after rounds 1-15 were measured (`presets-as-one` added on 2026-12-08, later): this is
exploration on seen data, not a judgement.

It also prints how often a perfectly calibrated method (true coverage 90 %) would fall outside 85-95 % in at
least one of k configurations of n held-out archs each (independent binomials; archs of one round share a
fit, so the real chance is higher).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.calibration_stability import base_profile, frozen_sets
from benchmarks.latency_common import MEASUREMENTS, RESULTS, command, machine_info, table
from device_profiles.schema import LOO_LOG
from latency_models.calibrate import calibrated_profile
from latency_models.calibration import calibrate
from latency_models.design import candidate_pool, presets_in
from latency_models.design import gradients as design_gradients
from latency_models.measurements import read_measurements
from latency_models.predictor import load_predictor
from latency_models.uncertainty import (
    NU0,
    SIGMA_MEAS,
    SIGMA_PRIOR,
    Posterior,
    log_jacobian,
    posterior,
    with_model_error,
)
from search_spaces.space import SearchSpace

LEVEL = 0.9
BAND = (0.85, 0.95)
BIG_MS = 150.0  # calibration rows slower than this: the design's large end (diagnostics)
SETS = ("suggest-10", "random-10", "random-15", "random-20")
POOL = 500  # archs sampled from the space: where its typical gradients lie (distance-weighted)
TYPICAL_Q = 0.95  # typical-rows: rows up to this quantile of the pool's own distances
SMALL_MS = 5.0  # latency-weighted: the latency below which a fixed jitter dominates the relative error


def log_errors_and_gradients(predictor: Any, rows: list) -> tuple[np.ndarray, np.ndarray]:
    """(log predicted − log measured, gradients as they enter the interval) of measured rows."""
    archs, seqs = [r.arch for r in rows], [r.seq_len for r in rows]
    blocks, n, scale = predictor.features(archs, seqs, [r.batch for r in rows])
    log_model, jac = log_jacobian(blocks, n, scale, predictor.params, predictor.profile.fp32_gflops,
                                  predictor.profile.memory_gbs)
    _, log_final = predictor._blend(log_model, archs, seqs, scale)
    return log_final - np.log([r.latency_ms for r in rows]), jac * predictor.model_weight


def typical_distance(predictor: Any, space: SearchSpace) -> Callable[[list], np.ndarray]:
    """d(arch): the Mahalanobis distance (over p) of an arch's cost-model gradient from those of `POOL` archs
    sampled from `space` (a fixed seed), at `predictor`'s parameters."""

    def gradients(archs: list) -> np.ndarray:  # in units of SIGMA_MEAS: the distance does not change with them
        return design_gradients(predictor, archs, [predictor.params])[0]

    pool = gradients(candidate_pool(space, POOL, seed=7))
    mean, precision = pool.mean(axis=0), np.linalg.pinv(np.cov(pool.T))

    def distance(archs: list) -> np.ndarray:
        g = gradients(archs) - mean
        return np.einsum("ij,jk,ik->i", g, precision, g) / pool.shape[1]

    return distance


def typical_limit(predictor: Any, space: SearchSpace) -> float:
    """The 95th percentile of `typical_distance` over the pool itself: beyond it an arch is not typical of the space."""
    return float(np.quantile(typical_distance(predictor, space)(candidate_pool(space, POOL, seed=7)), TYPICAL_Q))


def round_records(folder: Path) -> list[dict[str, Any]]:
    """Per (round, set): the calibration rows' gradients, residuals and leave-one-out errors; the held-out archs'
    gradients and log errors (predicted − measured)."""
    backend = "tflite" if folder.name.startswith("tflite") else "torch"
    base = base_profile(folder, backend, 1)
    rounds = sorted((int(m.group(1)), p) for p in folder.glob("round-*.jsonl")
                    if (m := re.fullmatch(r"round-(\d+)", p.stem)) and p.with_suffix(".sets.json").exists())
    space = SearchSpace.load("mobilebert-family")
    presets = {arch for _, arch in presets_in(space)}
    out = []
    for number, path in rounds:
        rows = {r.arch: r for r in read_measurements(path)}
        sets = frozen_sets(path, {}, rows)
        held_out = [rows[a] for a in sets["validation"]]
        for name in [s for s in sets if s in SETS]:
            cal = [rows[a] for a in sets[name]]
            predictor = load_predictor(calibrate(base, cal, "bench").profile)
            cal_res, cal_jac = log_errors_and_gradients(predictor, cal)
            val_err, val_jac = log_errors_and_gradients(predictor, held_out)
            distance = typical_distance(predictor, space)
            out.append({"cal_d": distance([r.arch for r in cal]), "val_d": distance([r.arch for r in held_out]),
                        "d_limit": typical_limit(predictor, space),
                        "folder": folder.name, "round": number, "set": name, "cal_jac": cal_jac, "cal_res": cal_res,
                        "cal_ms": np.array([r.latency_ms for r in cal]),
                        "cal_preset": np.array([r.arch in presets for r in cal]),
                        "loo": np.array(predictor.profile.cost[LOO_LOG]), "val_jac": val_jac, "val_err": val_err,
                        "val_ms": np.array([r.latency_ms for r in held_out])})
        print(f"  {folder.name} round {number}: calibrated", flush=True)
    return out


def with_scale(rec: dict, s: float, dof: float) -> Posterior:
    jac = rec["cal_jac"]
    cov = np.linalg.inv(jac.T @ jac / s**2 + np.eye(jac.shape[1]) / SIGMA_PRIOR**2)
    return Posterior(cov, float(s), dof, len(jac))


def leverages(rec: dict, post: Posterior) -> np.ndarray:
    return np.clip(np.einsum("ij,jk,ik->i", rec["cal_jac"], post.cov, rec["cal_jac"]) / post.sigma**2, 0.0, 1.0)


def shipped(rec: dict) -> Posterior:
    loo = rec["loo"]
    return with_model_error(posterior(rec["cal_jac"], rec["cal_res"]), rec["cal_jac"],
                            float(np.sqrt(np.mean(loo**2))), len(loo), loo)


def in_sample(rec: dict) -> Posterior:
    return posterior(rec["cal_jac"], rec["cal_res"])


def normal_quantile(rec: dict) -> Posterior:
    post = shipped(rec)
    return Posterior(post.cov, post.sigma, float("inf"), post.n_rows)


def leverage_weighted(rec: dict) -> Posterior:
    post = shipped(rec)
    for _ in range(10):
        h = leverages(rec, post)
        w = 1.0 - h
        s2 = (NU0 * SIGMA_MEAS**2 + float(np.sum(w * rec["loo"]**2 * (1 - h)))) / (NU0 + float(np.sum(w)))
        post = with_scale(rec, float(np.sqrt(s2)), post.dof)
    return post


def low_leverage_half(rec: dict) -> Posterior:
    post = shipped(rec)
    h = leverages(rec, post)
    keep = h <= np.median(h)
    s2 = (NU0 * SIGMA_MEAS**2 + float(np.sum((rec["loo"]**2 * (1 - h))[keep]))) / (NU0 + int(keep.sum()))
    return with_scale(rec, float(np.sqrt(s2)), max(NU0 + int(keep.sum()) - 1.0, 1.0))


def leverage_linear(rec: dict) -> Posterior:
    post = shipped(rec)
    h = leverages(rec, post)
    terms = rec["loo"]**2 * (1 - h)
    if np.ptp(h) < 1e-6:  # the FLOPs line alone (no cost model gradient): no leverage to regress on
        return post
    slope, intercept = np.polyfit(h, terms, 1)
    h_new = np.median(np.einsum("ij,jk,ik->i", rec["val_jac"], post.cov, rec["val_jac"]) / post.sigma**2)
    n = len(h)
    s2 = (NU0 * SIGMA_MEAS**2 + n * max(intercept + slope * h_new, 1e-6)) / (NU0 + n)
    return with_scale(rec, float(np.sqrt(s2)), post.dof)


def empirical_leverage(rec: dict) -> Posterior:
    """Each row's leverage from its own residuals, 1 − r_i/e_i (in-sample over leave-one-out): the term
    e_i²(1−h_i) becomes e_i·r_i, which holds the fit's nonlinearity and priors that the linearised h_i does not."""
    post = shipped(rec)
    terms = np.maximum(rec["loo"] * rec["cal_res"], 0.0)
    s2 = (NU0 * SIGMA_MEAS**2 + float(np.sum(terms))) / (NU0 + len(terms))
    return with_scale(rec, float(np.sqrt(s2)), post.dof)


def distance_weighted(rec: dict) -> tuple[Posterior, np.ndarray]:
    """(posterior with the typical arch's model-error scale, each held-out arch's variance factor (1 + d)/2)."""
    return _variance_weighted(rec, (1.0 + np.maximum(rec["cal_d"], 0.0)) / 2), (1.0 + np.maximum(rec["val_d"], 0.0)) / 2


def _variance_weighted(rec: dict, cal_factor: np.ndarray) -> Posterior:
    """The shipped scale with each row's model-error variance s²·cal_factor_i (weighted least squares)."""
    jac, loo = rec["cal_jac"], rec["loo"]
    prior = np.eye(jac.shape[1]) / SIGMA_PRIOR**2
    s2 = shipped(rec).sigma**2
    for _ in range(10):
        cov = np.linalg.inv(jac.T @ (jac / cal_factor[:, None]) / s2 + prior)
        h = np.clip(np.einsum("ij,jk,ik->i", jac, cov, jac) / (s2 * cal_factor), 0.0, 1.0)
        s2 = (NU0 * SIGMA_MEAS**2 + float(np.sum(loo**2 * (1 - h) / cal_factor))) / (NU0 + len(loo))
    cov = np.linalg.inv(jac.T @ (jac / cal_factor[:, None]) / s2 + prior)
    return Posterior(cov, float(np.sqrt(s2)), max(NU0 + len(loo) - 1.0, 1.0), len(loo))


def distance_floored(rec: dict) -> tuple[Posterior, np.ndarray]:
    """`distance-weighted` whose factor never falls below 1: a typical arch keeps the shipped model error, only an
    arch beyond typical gets more (so a random set's rows, nearly all typical, are left as shipped)."""
    def factor(d: np.ndarray) -> np.ndarray:
        return np.maximum(1.0, (1.0 + np.maximum(d, 0.0)) / 2)

    return _variance_weighted(rec, factor(rec["cal_d"])), factor(rec["val_d"])


def typical_rows(rec: dict) -> Posterior:
    """The shipped scale from the rows typical of the space only (distance at most the pool's 95th percentile,
    `typical_limit`), all rows when fewer than 3 are: the model error where the archs to predict lie."""
    keep = rec["cal_d"] <= rec["d_limit"]
    post = shipped(rec)
    if keep.sum() < 3:
        return post
    for _ in range(10):
        h = leverages(rec, post)
        s2 = (NU0 * SIGMA_MEAS**2 + float(np.sum((rec["loo"]**2 * (1 - h))[keep]))) / (NU0 + int(keep.sum()))
        post = with_scale(rec, float(np.sqrt(s2)), max(NU0 + int(keep.sum()) - 1.0, 1.0))
    return post


def latency_weighted(rec: dict) -> tuple[Posterior, np.ndarray]:
    """Relative model error whose variance grows below `SMALL_MS` as a fixed jitter would, s²·(1 + SMALL_MS/t), t the
    predicted latency: archs under 10 ms scatter most in the pooled fits (`pooled_fit_by_latency`)."""
    predicted_cal = rec["cal_ms"] * np.exp(rec["cal_res"])
    predicted_val = rec["val_ms"] * np.exp(rec["val_err"])
    return _variance_weighted(rec, 1.0 + SMALL_MS / predicted_cal), 1.0 + SMALL_MS / predicted_val


MAD_TO_SD = 1.4826  # a normal variable's standard deviation over its median absolute value


def robust_scale(rec: dict) -> Posterior:
    """The model-error scale from the median of the rows' leverage-netted leave-one-out errors, not their mean
    square: s = 1.4826 · median(|e_i|·√(1−h_i)). Why: latency errors are heavy-tailed (a few archs miss by far
    more than the rest), and a root-mean-square scale times the normal 90 % quantile then covers more than 90 %
    of a typical set while still missing the tail."""
    post = shipped(rec)
    for _ in range(10):
        h = leverages(rec, post)
        s = MAD_TO_SD * float(np.median(np.abs(rec["loo"]) * np.sqrt(1 - h)))
        s = float(np.sqrt((NU0 * SIGMA_MEAS**2 + len(h) * s**2) / (NU0 + len(h))))  # the same prior pseudo-rows
        post = with_scale(rec, s, post.dof)
    return post


def presets_as_one(rec: dict) -> Posterior:
    """The shipped scale with the MobileBERT presets among the rows counted as one piece of evidence (their terms
    averaged, one row's weight): the three presets are one shape (24 layers of 512, bottleneck 128) and miss by
    one shared pricing error, which the shipped rule counts three times as independent model error. A set
    without presets (every random set so far) is left as shipped."""
    mask = rec["cal_preset"]
    post = shipped(rec)
    if mask.sum() < 2:
        return post
    units = int((~mask).sum()) + 1
    for _ in range(10):
        h = leverages(rec, post)
        terms = rec["loo"]**2 * (1 - h)
        s2 = (NU0 * SIGMA_MEAS**2 + float(terms[~mask].sum() + terms[mask].mean())) / (NU0 + units)
        post = with_scale(rec, float(np.sqrt(s2)), max(NU0 + units - 1.0, 1.0))
    return post


Rule = Callable[[dict], Posterior | tuple[Posterior, np.ndarray]]
RULES: dict[str, Rule] = {
    "shipped": shipped, "in-sample": in_sample, "normal-quantile": normal_quantile,
    "leverage-weighted": leverage_weighted, "empirical-leverage": empirical_leverage,
    "low-leverage-half": low_leverage_half, "leverage-linear": leverage_linear,
    "distance-weighted": distance_weighted, "distance-floored": distance_floored, "typical-rows": typical_rows,
    "latency-weighted": latency_weighted, "presets-as-one": presets_as_one, "robust-scale": robust_scale}


def covered(rec: dict, rule_out: Posterior | tuple[Posterior, np.ndarray]) -> np.ndarray:
    """Which held-out archs fall inside a rule's interval (a rule may scale each arch's model error)."""
    post, factor = rule_out if isinstance(rule_out, tuple) else (rule_out, 1.0)
    sd = np.sqrt(np.einsum("ij,jk,ik->i", rec["val_jac"], post.cov, rec["val_jac"]) + post.sigma**2 * factor)
    return np.abs(rec["val_err"]) <= post.quantile(LEVEL) * sd


def width_check(recs: list[dict]) -> dict[str, float]:
    """How far the shipped interval is from covering 90 % in this configuration, and how much of that a fit's luck
    can explain: `width_factor_for_90` scales the interval's half-width so that exactly 90 % of the held-out archs
    fall inside (1: right width, below 1: too wide); `round_coverage_sd` the spread of one round's coverage
    (its 30 archs share one fit, so rounds, not archs, are the independent draws); `chance_in_band_if_90` the
    chance that a method whose true coverage is 90 % and whose rounds spread like these pools to 85-95 % over
    this many rounds (normal approximation)."""
    from scipy.stats import norm

    ratios, per_round = [], []
    for rec in recs:
        post = shipped(rec)
        sd = np.sqrt(np.einsum("ij,jk,ik->i", rec["val_jac"], post.cov, rec["val_jac"]) + post.sigma**2)
        ratio = np.abs(rec["val_err"]) / (post.quantile(LEVEL) * sd)
        ratios += list(ratio)
        per_round.append(float(np.mean(ratio <= 1.0)))
    spread = float(np.std(per_round, ddof=1)) if len(per_round) > 1 else float("nan")
    pooled_sd = spread / np.sqrt(len(per_round))
    half_band = (BAND[1] - BAND[0]) / 2
    return {"width_factor_for_90": float(np.quantile(ratios, LEVEL)), "round_coverage_sd": spread,
            "chance_in_band_if_90": float(2 * norm.cdf(half_band / pooled_sd) - 1) if pooled_sd > 0 else 1.0}


def diagnostics(recs: list[dict]) -> dict[str, float]:
    """Why a configuration covers as it does: how far its calibration rows span, and how large the leave-one-out
    errors of its interior rows (leverage at or below the round's median) are against the held-out errors."""
    interior, big, rest = [], [], []
    for rec in recs:
        h = leverages(rec, shipped(rec))
        interior += list(np.abs(rec["loo"][h <= np.median(h)]))
        big += list(rec["loo"][rec["cal_ms"] > BIG_MS])
        rest += list(rec["loo"][rec["cal_ms"] <= BIG_MS])
    held_out = np.abs(np.concatenate([r["val_err"] for r in recs]))
    rms = float(np.sqrt(np.mean(held_out**2)))
    return {"held_out_p90_over_rms": float(np.quantile(held_out, 0.9) / rms) if rms > 0 else float("nan"),
            "calibration_ms_min": float(min(r["cal_ms"].min() for r in recs)),
            "calibration_ms_max": float(max(r["cal_ms"].max() for r in recs)),
            "interior_loo_abs_pct_median": float(100 * np.median(interior)),
            "held_out_abs_pct_median": float(100 * np.median(held_out)),
            "held_out_abs_pct_p90": float(100 * np.quantile(held_out, 0.9)),
            "loo_mean_pct_rows_over_150ms": float(100 * np.mean(big)) if big else float("nan"),
            "loo_mean_pct_other_rows": float(100 * np.mean(rest))}


BANDS_MS = (0, 10, 30, 60, 150, 400, float("inf"))


def pooled_residuals(folders: list[str]) -> dict[str, tuple[list, np.ndarray, np.ndarray]]:
    """The cost model fitted on every recorded row of a backend at once (no design, no extrapolation): per
    backend its rows, their measured latency (ms) and in-sample log residuals (log predicted/measured)."""
    out = {}
    for backend in ("torch", "tflite"):
        names = [f for f in folders if f.split("-")[0] == backend]
        if not names:
            continue
        rows = []
        for name in names:
            folder = MEASUREMENTS / "calibration_stability" / name
            for path in folder.glob("round-*.jsonl"):
                if re.fullmatch(r"round-\d+", path.stem):
                    rows += list({r.arch: r for r in read_measurements(path)}.values())
        base = base_profile(MEASUREMENTS / "calibration_stability" / names[0], backend, 1)
        profile, _ = calibrated_profile(base, rows, "pooled", keep_points=False)
        measured = np.array([r.latency_ms for r in rows])
        res = np.log(load_predictor(profile).predict([r.arch for r in rows], [r.seq_len for r in rows]) / measured)
        out[backend] = (rows, measured, res)
    return out


def _summary(res: np.ndarray) -> dict[str, Any]:
    return {"rows": int(len(res)), "mean_residual_pct": float(100 * res.mean()),
            "mean_residual_se_pct": float(100 * res.std(ddof=1) / np.sqrt(len(res))) if len(res) > 1 else None,
            "rms_residual_pct": float(100 * np.sqrt(np.mean(res**2)))}


def pooled_fit_by_latency(pooled: dict[str, tuple[list, np.ndarray, np.ndarray]]) -> list[dict[str, Any]]:
    """The pooled fit's residuals by latency band: does the model itself miss at one end of the range?"""
    out = []
    for backend, (_, measured, res) in pooled.items():
        for lo, hi in zip(BANDS_MS[:-1], BANDS_MS[1:], strict=True):
            inside = (measured > lo) & (measured <= hi)
            if inside.any():
                out.append({"backend": backend, "band_ms": f"{lo:g}-{hi:g}", **_summary(res[inside])})
    return out


def pooled_fit_by_heads(pooled: dict[str, tuple[list, np.ndarray, np.ndarray]]) -> list[dict[str, Any]]:
    """The pooled fit's residuals by attention-head count (archs with one count in every layer): a lead for the
    model, since the heads split the attention matmuls into smaller ones the roofline prices by FLOPs and bytes."""
    out = []
    for backend, (rows, _, res) in pooled.items():
        heads = np.array([r.arch.num_attention_heads if isinstance(r.arch.num_attention_heads, int) else 0
                          for r in rows])
        for count in sorted(set(heads) - {0}):
            out.append({"backend": backend, "heads": int(count), **_summary(res[heads == count])})
    return out


def pooled_fit_by_shape(pooled: dict[str, tuple[list, np.ndarray, np.ndarray]]) -> list[dict[str, Any]]:
    """The pooled fit's residuals by the shapes `nas calibrate --suggest` picks at the edges of the space: the
    MobileBERT presets (24 thin layers, four FFNs: many small kernels), wide dense archs (no bottleneck, hidden
    ≥ 640, FFN ≥ 3072: few large kernels) and archs under 6 ms; the rest is where random held-out archs lie."""
    out = []
    for backend, (rows, measured, res) in pooled.items():
        archs = [r.arch for r in rows]
        preset = np.array([a.num_hidden_layers == 24 and a.hidden_size == 512 and a.intra_bottleneck_size == 128
                           and a.intermediate_size == 512 for a in archs])
        wide = np.array([not a.use_bottleneck and a.hidden_size >= 640 and a.intermediate_size >= 3072
                         for a in archs])
        tiny = measured < 6.0
        for name, mask in (("mobilebert presets", preset), ("wide dense", wide), ("under 6 ms", tiny),
                           ("the rest", ~(preset | wide | tiny))):
            if mask.any():
                out.append({"backend": backend, "shape": name, **_summary(res[mask])})
    return out


def chance_outside(configs: int, n: int, level: float = LEVEL) -> float:
    from scipy.stats import binom

    inside = binom.cdf(np.floor(BAND[1] * n), n, level) - binom.cdf(np.ceil(BAND[0] * n) - 1, n, level)
    return float(1 - inside**configs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folders", nargs="*", default=["torch-quiet", "torch-interleaved", "tflite-quiet",
                                                     "tflite-interleaved"],
                    help="folders under measurements/calibration_stability (complete rounds are used)")
    ap.add_argument("--out", default=str(RESULTS / "latency_interval_rules.json"))
    args = ap.parse_args()
    started = time.perf_counter()
    records = [r for f in args.folders for r in round_records(MEASUREMENTS / "calibration_stability" / f)]
    rows = []
    for folder in args.folders:
        for name in SETS:
            recs = [r for r in records if r["folder"] == folder and r["set"] == name]
            if not recs:
                continue
            row: dict[str, Any] = {"folder": folder, "set": name, "rounds": f"{recs[0]['round']}-{recs[-1]['round']}",
                                   "held_out": int(sum(len(r["val_err"]) for r in recs))}
            row.update(diagnostics(recs))
            row.update(width_check(recs))
            for rule, fn in RULES.items():
                row[rule] = float(np.mean(np.concatenate([covered(r, fn(r)) for r in recs])))
            rows.append(row)
    print(table(rows, ["folder", "set", "rounds", "held_out", *RULES]))
    print(table(rows, ["folder", "set", "calibration_ms_min", "calibration_ms_max", "interior_loo_abs_pct_median",
                       "held_out_abs_pct_median", "held_out_abs_pct_p90", "loo_mean_pct_rows_over_150ms",
                       "loo_mean_pct_other_rows"]))
    print(table(rows, ["folder", "set", "shipped", "width_factor_for_90", "round_coverage_sd",
                       "chance_in_band_if_90"]))
    residuals = pooled_residuals(args.folders)
    pooled = pooled_fit_by_latency(residuals)
    by_heads = pooled_fit_by_heads(residuals)
    by_shape = pooled_fit_by_shape(residuals)
    print("one fit on every recorded row of a backend, in-sample residuals by latency band:")
    print(table(pooled, ["backend", "band_ms", "rows", "mean_residual_pct", "rms_residual_pct"]))
    print("the same residuals by attention-head count:")
    print(table(by_heads, ["backend", "heads", "rows", "mean_residual_pct", "mean_residual_se_pct",
                           "rms_residual_pct"]))
    print("the same residuals by the shapes a suggested set holds:")
    print(table(by_shape, ["backend", "shape", "rows", "mean_residual_pct", "mean_residual_se_pct",
                           "rms_residual_pct"]))
    in_band = {rule: int(sum(BAND[0] <= r[rule] <= BAND[1] for r in rows)) for rule in RULES}
    print(f"configurations inside {BAND[0]:.0%}-{BAND[1]:.0%} (of {len(rows)}):", in_band)
    chance = {f"{k} configs of {n}": round(chance_outside(k, n), 3) for k, n in ((8, 150), (8, 300), (1, 150))}
    print("chance that a method with true coverage 90 % falls outside the band somewhere:", chance)
    payload = {"benchmark": "interval_rules", "produced_by": command(), "machine": machine_info(),
               "level": LEVEL, "band": BAND, "note": "exploration on rounds already measured (not a judgement)",
               "rows": rows, "pooled_fit_by_latency": pooled, "pooled_fit_by_heads": by_heads,
               "pooled_fit_by_shape": by_shape,
               "configurations_in_band": in_band,
               "chance_outside_band_if_calibrated": chance,
               "seconds": round(time.perf_counter() - started, 1)}
    Path(args.out).write_text(json.dumps(payload, indent=2) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
