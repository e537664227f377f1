"""GLUE dev metrics: MRPC accuracy + F1, SST-2 and RTE accuracy, STS-B Pearson + Spearman."""

from __future__ import annotations

import numpy as np
from scipy import stats


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    return float((predictions == labels).mean())


def f1_positive(predictions: np.ndarray, labels: np.ndarray) -> float:
    """F1 of the positive class (1 = paraphrase for MRPC)."""
    tp = float(((predictions == 1) & (labels == 1)).sum())
    fp = float(((predictions == 1) & (labels == 0)).sum())
    fn = float(((predictions == 0) & (labels == 1)).sum())
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def task_metrics(task: str, outputs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """`outputs` are logits (classification) or scores (STS-B)."""
    if task == "stsb":
        scores = outputs.reshape(-1)
        if np.std(scores) == 0:
            return {"pearson": 0.0, "spearman": 0.0}
        return {"pearson": float(stats.pearsonr(scores, labels)[0]),
                "spearman": float(stats.spearmanr(scores, labels)[0])}
    predictions = outputs.argmax(-1)
    labels = labels.astype(int)
    out = {"accuracy": accuracy(predictions, labels)}
    if task == "mrpc":
        out["f1"] = f1_positive(predictions, labels)
    return out
