"""`proxy`: a training-free accuracy estimate in (0, 1] from the architecture alone, fitted to measured students.

The proxy predicts the held-out pre-training-distillation loss L of the arch distilled standalone (the ground
truth of benchmarks/estimator_rank.py) and scores exp(−L):

    L = c − a·log10(body parameters) − d·log2(layers) + r·ratio_distance² + h·head_halvings + o·(NoNorm, ReLU)

- Size (a): quality grows roughly log-linearly with the non-embedding ("body") parameters (Kaplan et al. 2020,
  "Scaling laws for neural language models", §3).
- Depth (d): at equal size MobileBERT found thin-and-deep better (Sun et al., ACL 2020, §4.1, Table 2), so the
  proxy sees depth, not only size: 8 × 768 and 24 × 512 no longer score alike.
- Balance (r): at a fixed size accuracy peaks at an MHA:FFN parameter ratio of 0.4–0.6 (same paper, §4.1);
  `ratio_distance` is the distance of ln(ratio) from [ln 0.4, ln 0.6].
- Heads (h): heads add no parameters; `head_halvings` is the mean over layers of log2(4 / heads) below 4
  heads (MobileBERT and IB-BERT use 4, paper Table 1).
- Operators (o): not in the ground truth (every student there is LayerNorm + GELU), so taken from the paper:
  "w/o OPT" (LayerNorm + GELU) scores 0.8 GLUE points above NoNorm + ReLU (Table 4) and MobileBERT-TINY at
  0.6× the parameters 1.9 points below (75.8 vs 77.7), so one GLUE point ≈ 0.117 decades of parameters and
  NoNorm and ReLU each cost OPERATOR_DECADES = 0.047 decades: o = a·0.047.

d comes from the ground truth's equal-size depth pairs when it has any (`depth_pairs`; see `fit` for why), and
a, r, h (and d when there are no pairs) are a least-squares fit with each coefficient constrained ≥ 0 (the sign
the literature gives; scipy.optimize.nnls on standardised, centred data; c is then the intercept), made
by `fit(...)` and stored in proxy_fit.json with the data it used, its size, and the fit's leave-one-out rank
correlation — which is the `quality` a run reports. `nas accuracy fit-proxy` refits it
(`python -m benchmarks.estimator_rank --refit-proxy` calls it with the ground truth's losses).
With fewer than FULL_FIT_MIN students only a and d are fitted, and r and h keep the earlier hand-set proxy's
weights relative to size (PRIOR_DECADES: a ratio of 0.1 costs as much as 1.7× fewer parameters; a halving of
the heads below 4 as much as 1.15× fewer), converted to loss units with the fitted a.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nas.accuracy.base import AccuracyEstimator
from nas_common.io import read_json
from search_spaces.arch import Arch

FIT_FILE = Path(__file__).with_name("proxy_fit.json")
RATIO_BAND = (0.4, 0.6)  # MobileBERT paper §4.1
FULL_HEADS = 4  # MobileBERT and IB-BERT use 4 heads (paper Table 1)
OPERATOR_DECADES = 0.047  # 0.8 GLUE points (Table 4) × log10(1/0.6) / 1.9 points ÷ 2 operators, see above
TERMS = ("log10_body_params", "log2_layers", "neg_ratio_distance_sq", "neg_head_halvings")
FULL_FIT_MIN = 8
# The earlier hand-set proxy's ratio (0.03) and heads (0.015) penalties were in units of 1/4 decade of
# parameters: 0.12 and 0.06 decades; used only while the ground truth is too small to fit them.
PRIOR_DECADES = {"neg_ratio_distance_sq": 0.12, "neg_head_halvings": 0.06}


def body_params(arch: Arch) -> int:
    """Parameters outside the embedding table and the pooler."""
    parts = arch.params_breakdown(include_pooler=False)
    return sum(count for part, count in parts.items() if part not in ("embedding", "pooler"))


def ratio_distance(ratio: float) -> float:
    """Distance of ln(ratio) from the band [ln 0.4, ln 0.6]; 0 inside it."""
    low, high = (math.log(b) for b in RATIO_BAND)
    value = math.log(max(ratio, 1e-9))
    return max(low - value, 0.0, value - high)


def head_halvings(arch: Arch) -> float:
    layers = range(arch.num_hidden_layers)
    return sum(max(math.log2(FULL_HEADS / arch.layer_value("num_attention_heads", i)), 0.0) for i in layers) / len(
        layers)


def terms(arch: Arch) -> np.ndarray:
    """The features, each oriented so that a larger value is expected to lower the loss."""
    return np.array([math.log10(max(body_params(arch), 1)), math.log2(arch.num_hidden_layers),
                     -ratio_distance(arch.mha_ffn_param_ratio()) ** 2, -head_halvings(arch)])


EQUAL_SIZE = 0.015  # two students within 1.5 % of each other's body parameters count as the same size


def depth_pairs(archs: Sequence[Arch]) -> list[tuple[int, int]]:
    """(deeper, shallower) index pairs that differ in depth but not in size, bottleneck, heads or operators: the
    controlled comparisons that isolate depth (in MobileBERT's Table 2 sense: thin-and-deep vs shallow-and-wide
    at equal size). The FFN shape is what gives the shallower one its parameters back."""
    def key(a: Arch) -> tuple[Any, ...]:
        return (a.use_bottleneck, a.intra_bottleneck_size if a.use_bottleneck else a.hidden_size, a.hidden_size,
                a.num_attention_heads, a.normalization_type, a.hidden_act)

    sizes = [body_params(a) for a in archs]
    return [(i, j) if archs[i].num_hidden_layers > archs[j].num_hidden_layers else (j, i)
            for i in range(len(archs)) for j in range(i + 1, len(archs))
            if key(archs[i]) == key(archs[j]) and archs[i].num_hidden_layers != archs[j].num_hidden_layers
            and abs(sizes[i] - sizes[j]) <= EQUAL_SIZE * max(sizes[i], sizes[j])]


def fit(archs: Sequence[Arch], losses: Sequence[float], note: str) -> dict[str, Any]:
    """The depth weight from the equal-size depth pairs in the data when there are any (the mean quality gain
    per doubling of depth, ≥ 0), else fitted with the rest; the other weights by non-negative least squares on
    what depth leaves. Why the pairs: across the whole ground truth depth is confounded with the bottleneck
    width (the deep students there are often the narrow ones), and least squares then sets depth to 0 — a proxy
    blind to depth, which is the failure the refit exists to fix. Leave-one-out Spearman/Kendall: every fold
    redoes both steps without the left-out student."""
    from scipy.optimize import nnls
    from scipy.stats import kendalltau, spearmanr

    from nas.accuracy.resolution import scatter

    full = np.array([terms(a) for a in archs])
    y = -np.asarray(losses, dtype=float)  # fit the quality (−loss) with non-negative weights
    fitted = list(TERMS) if len(y) >= FULL_FIT_MIN else list(TERMS[:2])
    prior = np.array([PRIOR_DECADES.get(t, 0.0) for t in TERMS])
    # with only size and depth fitted, the prior terms ride on the size column: a·(log10 P + Σ prior·term)
    x = full.copy()
    if len(fitted) == 2:
        x[:, 0] += full[:, 2:] @ prior[2:]
        x[:, 2:] = 0.0
    pairs = depth_pairs(archs)
    depth = TERMS.index("log2_layers")

    def pair_depth(rows: np.ndarray) -> float | None:
        kept = set(rows.tolist())
        gains = [(y[i] - y[j]) / (full[i, depth] - full[j, depth]) for i, j in pairs if i in kept and j in kept]
        return max(float(np.mean(gains)), 0.0) if gains else None

    def solve(rows: np.ndarray) -> tuple[np.ndarray, float]:
        d = pair_depth(rows)
        columns = [c for c in range(x.shape[1]) if d is None or c != depth]
        target = y[rows] - (0.0 if d is None else d * x[rows, depth])
        mean_x, mean_y = x[rows][:, columns].mean(0), target.mean()
        scale = x[rows][:, columns].std(0) + 1e-12  # nnls on standardised columns, then back to the raw units
        solved = nnls((x[rows][:, columns] - mean_x) / scale, target - mean_y)[0] / scale
        weights = np.zeros(x.shape[1])
        weights[columns] = solved
        if d is not None:
            weights[depth] = d
        # a shape term the data cannot support (fitted 0, or not fitted at all) keeps the literature's weight
        # relative to size (PRIOR_DECADES): e.g. no student of the ground truth has 1 head, so its silence on
        # heads below 2 is not evidence that they cost nothing
        weights[2:] = np.maximum(weights[2:], weights[0] * prior[2:])
        intercept = float(y[rows].mean() - weights @ full[rows].mean(0))
        return weights, intercept

    weights, intercept = solve(np.arange(len(y)))
    held_out = np.array([full[i] @ w + c for i in range(len(y))
                         for w, c in [solve(np.array([j for j in range(len(y)) if j != i]))]])
    return {"coefficients": dict(zip(TERMS, np.round(weights, 6).tolist(), strict=True)),
            "intercept": round(intercept, 6), "n": len(y), "target": "held-out PD loss of the distilled student",
            "fitted_terms": fitted,
            "depth_from": f"{len(pairs)} equal-size depth pair{'s' * (len(pairs) != 1)}" if pairs else "least squares",
            "loo_spearman": round(float(spearmanr(held_out, y).statistic), 4),
            "loo_kendall": round(float(kendalltau(held_out, y).statistic), 4),
            # the leave-one-out scores' scatter about the students' trend, in score units (exp(−loss))
            "loo_scatter": round(scatter(np.minimum(np.exp(held_out), 1.0), -y), 6),
            # the same in nats of the predicted loss, −ln(score): what tables and the plot show
            "loo_scatter_loss": round(scatter(np.maximum(-held_out, 0.0), -y), 6),
            "in_sample_spearman": round(float(spearmanr(full @ weights, y).statistic), 4), "note": note,
            "data": [{"arch": a.to_dict(), "loss": float(v)} for a, v in zip(archs, losses, strict=True)]}


@lru_cache(maxsize=1)
def _fit() -> dict[str, Any]:
    return read_json(FIT_FILE)


def predicted_loss(arch: Arch) -> float:
    fitted = _fit()
    weights = np.array([fitted["coefficients"][t] for t in TERMS])
    quality = float(terms(arch) @ weights + fitted["intercept"])
    operators = (arch.normalization_type != "layer_norm") + (arch.hidden_act != "gelu")
    return -quality + weights[0] * OPERATOR_DECADES * operators


@lru_cache(maxsize=1 << 18)
def proxy_score(arch: Arch) -> float:
    """exp(−predicted held-out loss), in (0, 1]."""
    return float(min(math.exp(-predicted_loss(arch)), 1.0))


def quality_text() -> str:
    fitted = _fit()
    return (f"Spearman {fitted['loo_spearman']:.2f} (leave-one-out) vs distilled students' held-out PD loss, "
            f"n={fitted['n']}{', ' + fitted['note'] if fitted['note'] else ''}")


class ProxyEstimator(AccuracyEstimator):
    """Scores from the arch's shape alone (microseconds an arch); searches any space (the default
    `restrict_space`) and re-scores nothing after the search (the default `refine_front`)."""

    name = "proxy"
    quantity = "predicted held-out distillation loss"  # `predicted_loss`: the PD loss of the student distilled alone

    def __init__(self) -> None:
        fitted = _fit()
        digest = hashlib.sha256(json.dumps(fitted["coefficients"], sort_keys=True).encode()).hexdigest()
        self.version = f"3-{digest[:8]}"
        self.quality = quality_text()
        self.scatter = fitted.get("loo_scatter")
        self.scatter_source = f"sd of its leave-one-out scores about {fitted['n']} distilled students' trend"
        self.loss_scatter = fitted.get("loo_scatter_loss")
        self.loss_scatter_source = f"sd of its leave-one-out predictions about {fitted['n']} distilled students' trend"

    def estimate(self, archs: Sequence[Arch]) -> np.ndarray:
        """exp(−predicted held-out distillation loss) per arch (`proxy_score`)."""
        return np.fromiter((proxy_score(a) for a in archs), dtype=float, count=len(archs))
