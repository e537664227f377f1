"""The difference of two models' dev metrics on the same examples, with a 95 % interval that uses the pairing.

Accuracy: the mean of per-example differences (1 − 0, 0 − 1 or 0) ± 1.96 standard errors of that mean, and
McNemar's exact test on the examples where exactly one model is right (McNemar 1947; Dietterich 1998 recommends it
for comparing two classifiers on one test set). Other metrics (F1, Pearson, Spearman): a paired bootstrap — both
models' outputs resampled with the same example indices — and its 2.5/97.5 percentiles (Efron & Tibshirani 1993).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from nas.distill.metrics import task_metrics

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
RESAMPLES = 2000


def compare(task: str, reference: np.ndarray, other: np.ndarray, labels: np.ndarray,
            resamples: int = RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """`other` − `reference` per dev metric (in metric units: 0.01 = one point), each with its 95 % interval;
    how often the two predict the same, and their largest output difference."""
    ref_metrics, other_metrics = task_metrics(task, reference, labels), task_metrics(task, other, labels)
    result: dict[str, Any] = {"examples": len(labels),
                              "max_abs_output_difference": float(np.abs(other - reference).max())}
    if task != "stsb":
        same = reference.argmax(-1) == other.argmax(-1)
        result["same_prediction"] = float(same.mean())
        result["predictions_differ"] = int((~same).sum())
    differences = {}
    for name in ref_metrics:
        difference = other_metrics[name] - ref_metrics[name]
        if name == "accuracy":
            differences[name] = {"difference": difference, **_accuracy_interval(task, reference, other, labels)}
        else:
            differences[name] = {"difference": difference,
                                 **_bootstrap(task, name, reference, other, labels, resamples, seed)}
    result["metrics"] = differences
    return result


def _accuracy_interval(task: str, reference: np.ndarray, other: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    right_ref = reference.argmax(-1) == labels.astype(int)
    right_other = other.argmax(-1) == labels.astype(int)
    per_example = right_other.astype(float) - right_ref.astype(float)
    n = len(per_example)
    se = float(per_example.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    mean = float(per_example.mean())
    only_other, only_ref = int((right_other & ~right_ref).sum()), int((right_ref & ~right_other).sum())
    discordant = only_other + only_ref
    p = 1.0 if discordant == 0 else float(min(1.0, 2 * stats.binom.cdf(min(only_other, only_ref), discordant, 0.5)))
    return {"interval95": [mean - Z95 * se, mean + Z95 * se], "method": "paired normal (per-example differences)",
            "only_this_right": only_other, "only_reference_right": only_ref, "mcnemar_p": p}


def _bootstrap(task: str, name: str, reference: np.ndarray, other: np.ndarray, labels: np.ndarray,
               resamples: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n = len(labels)
    draws = []
    for _ in range(resamples):
        index = rng.integers(0, n, n)
        draws.append(task_metrics(task, other[index], labels[index])[name]
                     - task_metrics(task, reference[index], labels[index])[name])
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"interval95": [float(low), float(high)], "method": f"paired bootstrap ({resamples} resamples)"}
