"""`pareto.html`: every trial, the front, the budget line and the paper's reference models (plotly)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from search_spaces.arch import Arch

REFERENCE_MODELS = ("bert-base", "mobilebert", "mobilebert-tiny")  # MobileBERT paper, Table 1
_KEY_FIELDS = ("num_hidden_layers", "hidden_size", "intra_bottleneck_size", "use_bottleneck", "num_attention_heads",
               "intermediate_size", "num_feedforward_networks", "embedding_size", "trigram_input",
               "key_query_shared_bottleneck", "use_bottleneck_attention", "normalization_type", "hidden_act")


def arch_hover(arch: dict[str, Any]) -> str:
    return "<br>".join(f"{k}={arch[k]}" for k in _KEY_FIELDS if k in arch)


def reference_points(latency_model: Any, estimator: Any, seq_len: int = 128) -> list[dict[str, Any]]:
    from search_spaces.presets import PRESETS

    archs = [PRESETS[name].arch for name in REFERENCE_MODELS]
    latency = latency_model.predict(archs, seq_len=seq_len)
    accuracy = estimator.estimate(archs)
    return [{"name": name, "latency_ms": float(lat), "accuracy": float(acc), "arch": arch.to_dict()}
            for name, arch, lat, acc in zip(REFERENCE_MODELS, archs, latency, accuracy, strict=True)]


def write_report(path: Path, records: list[dict[str, Any]], front: list[dict[str, Any]], budget_ms: float,
                 references: list[dict[str, Any]], title: str) -> Path:
    import plotly.graph_objects as go

    from nas.accuracy.proxy import proxy_score

    fig = go.Figure()
    feasible = [r for r in records if r["feasible"]]
    over = [r for r in records if not r["feasible"]]
    over_scores = [proxy_score(Arch.from_dict(r["arch"])) for r in over] if len(over) <= 20_000 else []
    if over_scores:
        fig.add_trace(go.Scattergl(
            x=[r["latency_ms"] for r in over], y=over_scores, mode="markers", name="over budget (not scored)",
            marker={"color": "rgba(214,39,40,0.25)", "size": 4},
            text=[f"trial {r['id']}<br>{arch_hover(r['arch'])}" for r in over], hoverinfo="text+x"))
    fig.add_trace(go.Scattergl(
        x=[r["latency_ms"] for r in feasible], y=[r["accuracy"] for r in feasible], mode="markers",
        name="trials within budget", marker={"color": "rgba(31,119,180,0.35)", "size": 5},
        text=[f"trial {r['id']}<br>{arch_hover(r['arch'])}" for r in feasible], hoverinfo="text+x+y"))
    ordered = sorted(front, key=lambda r: r["latency_ms"])
    fig.add_trace(go.Scatter(
        x=[r["latency_ms"] for r in ordered], y=[r["accuracy"] for r in ordered], mode="lines+markers",
        line={"shape": "hv", "color": "black"}, marker={"size": 8, "color": "orange", "line": {"width": 1}},
        name=f"Pareto front ({len(front)})",
        text=[f"front pick {front.index(r)} · trial {r['id']}<br>{arch_hover(r['arch'])}" for r in ordered],
        hoverinfo="text+x+y"))
    fig.add_trace(go.Scatter(
        x=[p["latency_ms"] for p in references], y=[p["accuracy"] for p in references], mode="markers+text",
        marker={"symbol": "star", "size": 14, "color": "green"}, text=[p["name"] for p in references],
        textposition="top center", name="paper models (predicted latency)",
        hovertext=[f"{p['name']}<br>{arch_hover(p['arch'])}" for p in references], hoverinfo="text+x+y"))
    fig.add_vline(x=budget_ms, line={"dash": "dash", "color": "red"})
    # On a log axis plotly places annotations in log10 units (shapes take data units).
    fig.add_annotation(x=math.log10(budget_ms), y=1.0, yref="paper", text=f"budget {budget_ms:g} ms",
                       showarrow=False, xanchor="left", font={"color": "red"})
    fig.update_layout(title=title, xaxis_title="predicted latency (ms, log scale)", xaxis_type="log",
                      yaxis_title="accuracy estimate (higher is better)", template="plotly_white",
                      hoverlabel={"align": "left"})
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)  # self-contained: opens offline
    return path
