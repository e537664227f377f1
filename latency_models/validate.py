"""Accuracy of predictions against measurements: MAPE, share within ±10 %, Spearman ρ, worst rows, and how
many measurements fall inside their prediction interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from latency_models.measurements import Measurement


def metrics(predicted: np.ndarray, measured: np.ndarray) -> dict[str, float | int]:
    from scipy.stats import spearmanr

    predicted, measured = np.asarray(predicted, float), np.asarray(measured, float)
    rel = predicted / measured - 1.0
    rho = float(spearmanr(predicted, measured).statistic) if len(measured) > 2 else float("nan")
    return {"mape": float(np.mean(np.abs(rel)) * 100), "within_10pct": float(np.mean(np.abs(rel) <= 0.10)),
            "spearman": rho, "n": int(len(measured))}


def coverage(lower: np.ndarray, upper: np.ndarray, measured: np.ndarray) -> float:
    """Share of measured latencies inside their prediction interval."""
    measured = np.asarray(measured, float)
    return float(np.mean((np.asarray(lower) <= measured) & (measured <= np.asarray(upper))))


def worst_rows(rows: list[Measurement], predicted: np.ndarray, k: int = 5) -> list[dict[str, Any]]:
    out = []
    for r, p in zip(rows, predicted, strict=True):
        out.append({"line": r.line, "measured_ms": r.latency_ms, "predicted_ms": float(p),
                    "error_pct": 100.0 * (float(p) / r.latency_ms - 1.0)})
    return sorted(out, key=lambda x: -abs(x["error_pct"]))[:k]


def flops_baseline(train: list[Measurement], test: list[Measurement]) -> np.ndarray:
    """The baseline every latency tool must beat: latency = a·FLOPs + b, least squares on `train`."""
    x = np.array([r.arch.flops(r.seq_len) * r.batch for r in train], float)
    y = np.array([r.latency_ms for r in train], float)
    a, b = np.polyfit(x, y, 1)
    xt = np.array([r.arch.flops(r.seq_len) * r.batch for r in test], float)
    return np.maximum(a * xt + b, 1e-6)


def plot_html(rows: list[Measurement], predicted: np.ndarray, path: str | Path, title: str) -> Path:
    import plotly.graph_objects as go

    measured = [r.latency_ms for r in rows]
    hi = max(max(measured), float(np.max(predicted))) * 1.05
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=measured, y=list(map(float, predicted)), mode="markers", name="rows",
                             text=[f"line {r.line}" for r in rows]))
    for factor, name in ((1.0, "exact"), (1.1, "+10 %"), (0.9, "-10 %")):
        fig.add_trace(go.Scatter(x=[0, hi], y=[0, hi * factor], mode="lines", name=name,
                                 line={"dash": "solid" if factor == 1.0 else "dot"}))
    fig.update_layout(title=title, xaxis_title="measured ms", yaxis_title="predicted ms")
    path = Path(path)
    fig.write_html(str(path), include_plotlyjs=True)
    return path
