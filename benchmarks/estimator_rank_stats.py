"""Statistics of `estimator_rank.py`: rank correlations within a data seed, equal-size pairs, paired noise."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np


def correlations(estimate: dict[str, float], truth: dict[str, float], higher_is_better: bool) -> dict[str, Any]:
    """Spearman and Kendall (scipy) of an estimate (higher = better) against a ground truth on the common archs;
    a loss ground truth (`higher_is_better=False`) is negated, so +1 always means a perfect ranking."""
    from scipy.stats import kendalltau, spearmanr

    keys = sorted(set(estimate) & set(truth))
    if len(keys) < 3:
        return {"n": len(keys), "spearman": None, "kendall": None}
    x = np.array([estimate[k] for k in keys])
    y = np.array([truth[k] if higher_is_better else -truth[k] for k in keys])
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"n": len(keys), "spearman": None, "kendall": None}
    return {"n": len(keys), "spearman": round(float(spearmanr(x, y).statistic), 4),
            "kendall": round(float(kendalltau(x, y).statistic), 4)}


def pairs_ordered(estimate: dict[str, float], truth: dict[str, float], pairs: list[tuple[str, str, str]],
                  ) -> dict[str, Any]:
    """Equal-size pairs whose order (by a loss ground truth, lower = better) the estimate gets right; a tie in
    the estimate counts as wrong (a size-only score ties every pair)."""
    rows = []
    for a, b, what in pairs:
        if a not in truth or b not in truth or a not in estimate or b not in estimate:
            continue
        better = a if truth[a] < truth[b] else b
        other = b if better == a else a
        correct = estimate[better] > estimate[other]
        rows.append({"pair": [a, b], "what": what, "better": better, "gap": round(abs(truth[a] - truth[b]), 5),
                     "correct": bool(correct)})
    return {"correct": sum(r["correct"] for r in rows), "of": len(rows), "pairs": rows}


def paired_noise(by_seed: dict[int, dict[str, float]]) -> dict[str, Any]:
    """Noise of the ground truth, from archs distilled on two data seeds.

    paired_sd: sd of a within-seed difference between two archs, (Δ_ab(s1) − Δ_ab(s0)) / √2 over arch pairs;
    unpaired_sd: sd of one arch's loss between two separately seeded runs, (L_a(s1) − L_a(s0)) / √2 after
    removing nothing (what comparing runs of different seeds would suffer)."""
    seeds = sorted(by_seed)
    if len(seeds) < 2:
        return {"archs": 0}
    s0, s1 = seeds[0], seeds[1]
    common = sorted(set(by_seed[s0]) & set(by_seed[s1]))
    if len(common) < 2:
        return {"archs": len(common)}
    diffs = [(by_seed[s1][a] - by_seed[s1][b]) - (by_seed[s0][a] - by_seed[s0][b])
             for a, b in itertools.combinations(common, 2)]
    single = [by_seed[s1][a] - by_seed[s0][a] for a in common]
    return {"archs": len(common), "seeds": [s0, s1],
            "paired_sd": round(float(np.sqrt(np.mean(np.square(diffs)) / 2)), 5),
            "unpaired_sd": round(float(np.sqrt(np.mean(np.square(single)) / 2)), 5),
            "rank_stable": _same_order(by_seed[s0], by_seed[s1], common)}


def seed_mean(by_seed: dict[int, dict[str, float]]) -> dict[str, float]:
    """GT averaged over the data seeds, on the archs that have every seed (each seed paired: same batches for
    all archs), so that one estimate meets a ground truth with √(seeds) less seed noise."""
    seeds = sorted(by_seed)
    common = set.intersection(*(set(by_seed[s]) for s in seeds)) if seeds else set()
    return {a: float(np.mean([by_seed[s][a] for s in seeds])) for a in sorted(common)}


def seed_agreement(by_seed: dict[int, dict[str, float]]) -> dict[str, Any]:
    """Spearman and Kendall of GT1 on one data seed against another (the common archs): how well the ground
    truth predicts itself, a ceiling for any estimate scored against one seed."""
    seeds = sorted(by_seed)
    if len(seeds) < 2:
        return {"n": 0}
    return {"seeds": seeds[:2], **correlations({a: -v for a, v in by_seed[seeds[0]].items()}, by_seed[seeds[1]],
                                               higher_is_better=False)}


def _same_order(a: dict[str, float], b: dict[str, float], keys: list[str]) -> float:
    """Share of arch pairs ordered the same on both seeds."""
    pairs = list(itertools.combinations(keys, 2))
    same = sum((a[x] < a[y]) == (b[x] < b[y]) for x, y in pairs)
    return round(same / len(pairs), 4) if pairs else math.nan


def neighbour_gaps(truth: dict[str, float]) -> dict[str, Any]:
    values = sorted(truth.values())
    gaps = np.diff(values)
    if not len(gaps):
        return {"n": len(values)}
    return {"n": len(values), "min": round(float(gaps.min()), 5), "median": round(float(np.median(gaps)), 5),
            "max": round(float(gaps.max()), 5), "range": round(values[-1] - values[0], 5)}
