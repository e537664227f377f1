"""`pareto.html`: every trial, the front, the budget line and the paper's reference models (plotly).

Over-budget trials were never scored (the budget is a hard constraint), so they are drawn on a band below
every scored point, not at a score. The y axis names the estimator and its measured ranking quality; the
recommended pick (front pick 0, exported to `best/`) is marked, and every front point's hover gives the pick
number `nas pareto` and `nas export --pick` use. Points confirmed by `nas confirm` (RUN/confirmed.csv) are
ringed, with the measured metric written beside the estimate; `best/` is then the confirmed winner.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from nas.accuracy.base import describe
from nas.accuracy.resolution import decimals, format_estimate, scatter_of
from nas.trial import Trial
from search_spaces.arch import Arch

REFERENCE_MODELS = ("bert-base", "mobilebert", "mobilebert-tiny")  # MobileBERT paper, Table 1
# Label positions that keep the two MobileBERT labels apart (they sit close together on both axes).
_LABEL_POSITION = {"bert-base": "top center", "mobilebert": "top left", "mobilebert-tiny": "bottom right"}
_KEY_FIELDS = ("num_hidden_layers", "hidden_size", "intra_bottleneck_size", "use_bottleneck", "num_attention_heads",
               "intermediate_size", "num_feedforward_networks", "embedding_size", "trigram_input",
               "key_query_shared_bottleneck", "use_bottleneck_attention", "normalization_type", "hidden_act")
_MAX_OVER_DRAWN = 20_000


def arch_hover(arch: Arch | dict[str, Any]) -> str:
    fields = arch.to_dict() if isinstance(arch, Arch) else arch
    return "<br>".join(f"{k}={fields[k]}" for k in _KEY_FIELDS if k in fields)


def reference_points(latency_model: Any, estimator: Any, seq_len: int = 128) -> list[dict[str, Any]]:
    from search_spaces.presets import PRESETS

    archs = [PRESETS[name].arch for name in REFERENCE_MODELS]
    latency = latency_model.predict(archs, seq_len=seq_len)
    accuracy = estimator.estimate(archs)
    return [{"name": name, "latency_ms": float(lat), "accuracy": float(acc), "arch": arch}
            for name, arch, lat, acc in zip(REFERENCE_MODELS, archs, latency, accuracy, strict=True)]


def over_budget_band(scored: list[float]) -> float:
    """A y value below every scored point, for the trials that were never scored."""
    low, high = (min(scored), max(scored)) if scored else (0.0, 1.0)
    return low - 0.08 * max(high - low, 1e-3)


def write_report(path: Path, trials: list[Trial], front: list[Trial], budget_ms: float,
                 references: list[dict[str, Any]], title: str, estimator: Any = None) -> Path:
    """Also marks the run's confirmed points (RUN/confirmed.csv beside `path`), when there are any."""
    from nas.confirm import table

    rows = table.read(Path(path).parent)
    figure = build_figure(trials, front, budget_ms, references, title, estimator, rows)
    figure.write_html(str(path), include_plotlyjs=True, full_html=True)  # self-contained: opens offline
    return path


def rewrite_report(run: Path) -> Path:
    """Redraw RUN/pareto.html from the run's files (run.json, the journal, confirmed.csv), e.g. after
    `nas confirm`; the paper models are redrawn from the latencies and estimates run.json recorded."""
    from types import SimpleNamespace

    from nas.results import front, load_trials
    from nas.run_dir import read_run, recorded_options
    from search_spaces.presets import PRESETS

    record = read_run(run)
    options = recorded_options(record, run)
    trials = load_trials(run)
    points = front(trials, options["budget_ms"])
    references = [{**r, "arch": PRESETS[r["name"]].arch} for r in record.get("references", []) if r["name"] in PRESETS]
    recorded = record.get("estimator") or {}
    estimator = SimpleNamespace(**{k: recorded[k] for k in ("name", "quality", "scatter", "scatter_source")
                                   if k in recorded})
    title = (f"{options.get('device')}, budget {options['budget_ms']:g} ms: {len(trials)} trials "
             f"({options.get('strategy')}, seed {record.get('seed')}), front of {len(points)}")
    return write_report(Path(run) / "pareto.html", trials, points, options["budget_ms"], references, title, estimator)


def _confirmed_traces(fig: Any, trials: list[Trial], rows: list[dict[str, Any]], spread: float | None) -> None:
    """Ring each confirmed point (at its estimate) and write the measured metric beside it."""
    import plotly.graph_objects as go

    from nas.confirm.table import measured

    by_id = {t.id: t for t in trials}
    shown = [(by_id[int(r["arch_id"])], r) for r in rows if int(r["arch_id"]) in by_id
             and by_id[int(r["arch_id"])].accuracy is not None]
    if not shown:
        return
    fig.add_trace(go.Scatter(
        x=[t.latency_ms for t, _ in shown], y=[t.accuracy for t, _ in shown], mode="markers+text",
        name=f"confirmed by nas confirm ({len(shown)}; measured beside the estimate)",
        marker={"symbol": "circle-open", "size": 18, "color": "purple", "line": {"width": 2}},
        text=[f"{measured(r)} ({r['status']})" for _, r in shown], textposition="middle right",
        textfont={"color": "purple", "size": 11},
        hovertext=[f"trial {t.id}: estimate {format_estimate(t.accuracy, spread)}, measured {measured(r)} "
                   f"({r['status']} at {int(r['steps'])} steps)" for t, r in shown], hoverinfo="text+x"))


def build_figure(trials: list[Trial], front: list[Trial], budget_ms: float, references: list[dict[str, Any]],
                 title: str, estimator: Any = None, confirmed: list[dict[str, Any]] | None = None) -> Any:
    import plotly.graph_objects as go

    from nas.confirm.table import winner

    fig = go.Figure()
    spread = scatter_of(estimator)
    feasible = [t for t in trials if t.accuracy is not None]
    over = [t for t in trials if t.accuracy is None][:_MAX_OVER_DRAWN]
    band = over_budget_band([t.accuracy for t in feasible] + [p["accuracy"] for p in references])
    if over:
        fig.add_trace(go.Scattergl(
            x=[t.latency_ms for t in over], y=[band] * len(over), mode="markers",
            name="over budget (never scored)", marker={"color": "rgba(214,39,40,0.25)", "size": 4},
            text=[f"trial {t.id} (over budget, not scored)<br>{arch_hover(t.arch)}" for t in over],
            hoverinfo="text+x"))
        fig.add_annotation(x=0.0, xref="paper", y=band, text="over budget: not scored", showarrow=False,
                           xanchor="left", yanchor="bottom", font={"color": "rgb(214,39,40)", "size": 11})
    fig.add_trace(go.Scattergl(
        x=[t.latency_ms for t in feasible], y=[t.accuracy for t in feasible], mode="markers",
        name="trials within budget", marker={"color": "rgba(31,119,180,0.35)", "size": 5},
        text=[f"trial {t.id}<br>{arch_hover(t.arch)}" for t in feasible], hoverinfo="text+x+y"))
    pick = {t.id: k for k, t in enumerate(front)}
    ordered = sorted(front, key=lambda t: t.latency_ms)
    fig.add_trace(go.Scatter(
        x=[t.latency_ms for t in ordered], y=[t.accuracy for t in ordered], mode="lines+markers",
        line={"shape": "hv", "color": "black"}, marker={"size": 8, "color": "orange", "line": {"width": 1}},
        name=f"Pareto front ({len(front)}; hover for the pick number)" + (", ± its scatter" if spread else ""),
        error_y={"type": "constant", "value": spread, "thickness": 1, "width": 0, "color": "rgba(255,127,14,0.45)"}
        if spread else None,
        text=[f"pick {pick[t.id]} (nas export --pick {pick[t.id]}) · trial {t.id}<br>{arch_hover(t.arch)}"
              for t in ordered], hoverinfo="text+x+y"))
    _confirmed_traces(fig, trials, confirmed or [], spread)
    chosen = winner(confirmed or [])
    best = next((t for t in front if chosen is not None and t.id == int(chosen["arch_id"])), None)
    recommended = f"pick {pick[best.id]}, confirmed best" if best is not None else "pick 0"
    best = best or (front[0] if front else None)
    if best is not None:
        fig.add_trace(go.Scatter(
            x=[best.latency_ms], y=[best.accuracy], mode="markers+text", name=f"recommended: {recommended} (in best/)",
            marker={"symbol": "diamond", "size": 16, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "red"}},
            text=[f"{recommended} → best/"], textposition="middle left", textfont={"color": "red"},
            hovertext=[f"recommended: {recommended} · trial {best.id} (exported to best/)<br>{arch_hover(best.arch)}"],
            hoverinfo="text+x+y"))
    fig.add_trace(go.Scatter(
        x=[p["latency_ms"] for p in references], y=[p["accuracy"] for p in references], mode="markers+text",
        marker={"symbol": "star", "size": 14, "color": "green"}, text=[p["name"] for p in references],
        textposition=[_LABEL_POSITION.get(p["name"], "top center") for p in references],
        textfont={"size": 13, "color": "darkgreen"}, name="paper models (predicted latency)",
        hovertext=[f"{p['name']}<br>{arch_hover(p['arch'])}" for p in references], hoverinfo="text+x+y"))
    fig.add_vline(x=budget_ms, line={"dash": "dash", "color": "red"})
    # On a log axis plotly places annotations in log10 units (shapes take data units).
    fig.add_annotation(x=math.log10(budget_ms), y=1.0, yref="paper", text=f"budget {budget_ms:g} ms",
                       showarrow=False, xanchor="left", font={"color": "red"})
    label = describe(estimator) if estimator is not None else "estimator"
    if spread:  # the scores' measured scatter: a second line of the axis title, and no hover digit finer than it
        source = getattr(estimator, "scatter_source", None) or "measured scatter"
        label += f"<br>scores ±{spread:.{decimals(spread)}f}: {source}"
        fig.update_yaxes(hoverformat=f".{decimals(spread)}f")
    fig.update_layout(title=title, xaxis_title="predicted latency (ms, log scale)", xaxis_type="log",
                      yaxis_title=f"estimated quality: {label}", template="plotly_white",
                      hoverlabel={"align": "left"})
    return fig
