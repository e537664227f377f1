"""How well an estimator ranks trained students: Spearman with a bootstrap interval over archs.

One implementation for the product (`nas supernet quality --shipped`) and the proof's tables
(benchmarks/proof/table.py), so that a shipped quality record and the proof's README quote the same interval.
Scores and truths are oriented alike (higher = better) by the caller.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

RESAMPLES, SEED = 10_000, 0


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman ρ; None for fewer than 3 points or a constant side."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(stats.spearmanr(x, y).statistic)


def resampled_spearman(score: np.ndarray, truth: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Spearman of every resample (rows of `draws` index archs), vectorised: Pearson of the average ranks; NaN
    where a resample is constant on either side."""
    x = stats.rankdata(score[draws], axis=1)
    y = stats.rankdata(truth[draws], axis=1)
    x -= x.mean(axis=1, keepdims=True)
    y -= y.mean(axis=1, keepdims=True)
    norm = np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (x * y).sum(axis=1) / norm, np.nan)


def bootstrap_draws(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """(resamples, n) arch indices drawn with replacement: share them to pair two estimators' bootstraps."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def spearman_interval(score: np.ndarray, truth: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile bootstrap interval of Spearman ρ over archs (RESAMPLES resamples, seed SEED)."""
    boot = resampled_spearman(np.asarray(score, float), np.asarray(truth, float), bootstrap_draws(len(truth)))
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(boot, [tail, 100 - tail])
    return float(low), float(high)
