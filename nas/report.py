"""`pareto.html`: every trial, the front, the budget line and the paper's reference models (plotly).

The y axis is what the estimator predicts, a held-out loss in nats (−ln of its score; lower is better, drawn
upwards), named on the axis; the estimator, its measured quality and its scatter are in the caption below the
plot, and the scatter is drawn once, as a band about the front. Over-budget trials were never scored (the
budget is a hard constraint), so they sit on a band below every scored point. The axes are zoomed to the
trials within the budget: paper models off that view are arrows at its edge and are listed in the caption.
The recommended pick (front pick 0, exported to `best/`) and the points `nas confirm` measured
(RUN/confirmed.csv: survived, stopped early, failed) are called out with labels stacked so that they never
overlap; every front point's hover gives the pick number `nas pareto` and `nas export --pick` use.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.accuracy.base import AccuracyEstimator
from nas.accuracy.resolution import Estimate, decimals, loss_of, scatter_note
from nas.search.trial import Trial
from nas_common.writing import write_text
from search_spaces.arch import Arch

REFERENCE_MODELS = ("bert-base", "mobilebert", "mobilebert-tiny")  # MobileBERT paper, Table 1
_KEY_FIELDS = ("num_hidden_layers", "hidden_size", "intra_bottleneck_size", "use_bottleneck", "num_attention_heads",
               "intermediate_size", "num_feedforward_networks", "embedding_size", "trigram_input",
               "key_query_shared_bottleneck", "use_bottleneck_attention", "normalization_type", "hidden_act")
_MAX_OVER_DRAWN = 20_000
# Within-budget trials drawn (the front is always drawn whole, as its own trace): each costs about 0.7 KB of HTML,
# so a million-trial search would write a report no browser opens; above this an even sample by trial id is drawn.
_MAX_SCORED_DRAWN = 50_000
# The view: from just below the fastest trial to past the budget (over-budget trials beyond it are off the
# view, the band says what they are), losses padded so that markers and labels stay inside the plot.
_X_BELOW, _X_ABOVE_BUDGET = 1.25, 1.6
_Y_PAD_TOP, _Y_PAD_BOTTOM = 0.12, 0.05  # room above the best points for their labels
# The plot area at the checked window (1400×900 less margins and legend), for placing labels in plot fractions.
_PLOT_PX = (960.0, 660.0)
_CHAR_PX, _LINE_PX = 7.0, 22.0  # a 12 px label: width per character, and the pitch of stacked labels
_CAPTION_CHARS, _CAPTION_LINE_PX, _CAPTION_GAP_PX = 220, 15, 62
_STATUS_STYLE = {  # how a confirmed trial is drawn, by its confirmed.csv status
    "survived": ("survived every rung", {"symbol": "circle-open", "size": 18, "color": "purple", "line": {"width": 2}}),
    "stopped": ("stopped early by ASHA", {"symbol": "circle-open", "size": 18, "color": "grey",
                                          "line": {"width": 2}}),
    "failed": ("failed (no result)", {"symbol": "x-thin-open", "size": 14, "color": "rgb(214,39,40)",
                                      "line": {"width": 3}}),
}
_CALLOUT_COLOR = {"survived": "purple", "stopped": "dimgrey", "failed": "rgb(214,39,40)", "best": "red"}


def arch_hover(arch: Arch | dict[str, Any]) -> str:
    fields = arch.to_dict() if isinstance(arch, Arch) else arch
    return "<br>".join(f"{k}={fields[k]}" for k in _KEY_FIELDS if k in fields)


def reference_points(latency_model: Any, estimator: AccuracyEstimator, seq_len: int = 128) -> list[dict[str, Any]]:
    from search_spaces.presets import PRESETS

    archs = [PRESETS[name].arch for name in REFERENCE_MODELS]
    latency = latency_model.predict(archs, seq_len=seq_len)
    accuracy = estimator.estimate(archs)
    # outside the estimator's space (a supernet's predictor on a 24-layer paper model) a score is an extrapolation:
    # the model is drawn by its latency alone
    return [{"name": name, "latency_ms": float(lat), "accuracy": float(acc) if estimator.covers(arch) else None,
             "arch": arch} for name, arch, lat, acc in zip(REFERENCE_MODELS, archs, latency, accuracy, strict=True)]


def over_budget_band(losses: list[float]) -> float:
    """A loss worse than every scored point, for the trials that were never scored."""
    low, high = (min(losses), max(losses)) if losses else (0.0, 1.0)
    return high + 0.08 * max(high - low, 1e-3)


def write_report(path: Path, trials: list[Trial], front: list[Trial], budget_ms: float,
                 references: list[dict[str, Any]], title: str,
                 estimator: AccuracyEstimator | Estimate | None = None) -> Path:
    """Also marks the run's confirmed points (RUN/confirmed.csv beside `path`), when there are any. `estimator`:
    the live estimator or its `Estimate` (as run.json recorded it)."""
    from nas.confirm import table

    rows = table.read(Path(path).parent)
    figure = build_figure(trials, front, budget_ms, references, title, estimator, rows)
    # the figure fills the window exactly: no page margin, no scrollbar; self-contained, so it opens offline
    html = figure.to_html(include_plotlyjs=True, full_html=True, default_width="100vw", default_height="100vh")
    html = html.replace("<head>", "<head><style>html, body {margin: 0; padding: 0; overflow: hidden;}</style>", 1)
    write_text(path, html)
    return path


def rewrite_report(run: Path) -> Path:
    """Redraw RUN/pareto.html from the run's files (run.json, the journal, confirmed.csv), e.g. after
    `nas confirm`; the paper models are redrawn from the latencies and estimates run.json recorded."""
    from nas.search.results import front, load_trials
    from nas.search.run_dir import read_run, recorded_options
    from search_spaces.presets import PRESETS

    record = read_run(run)
    options = recorded_options(record, run)
    trials = load_trials(run)
    points = front(trials, options["budget_ms"])
    references = [{**r, "arch": PRESETS[r["name"]].arch} for r in record.get("references", []) if r["name"] in PRESETS]
    title = (f"{options.get('device')}, budget {options['budget_ms']:g} ms: {len(trials)} trials "
             f"({options.get('strategy')}, seed {record.get('seed')}), front of {len(points)}")
    return write_report(Path(run) / "pareto.html", trials, points, options["budget_ms"], references, title,
                        Estimate.from_record(record))


@dataclass(frozen=True)
class View:
    """The axes' ranges: x in log10(ms), y in nats with the better (lower) loss on top."""

    x: tuple[float, float]
    y: tuple[float, float]  # (top, bottom): best loss first

    def u(self, ms: float) -> float:
        return (math.log10(ms) - self.x[0]) / (self.x[1] - self.x[0])

    def v(self, loss: float) -> float:
        """0 at the top of the plot, 1 at the bottom."""
        return (loss - self.y[0]) / (self.y[1] - self.y[0])

    def ms(self, u: float) -> float:
        return 10 ** (self.x[0] + u * (self.x[1] - self.x[0]))

    def loss(self, v: float) -> float:
        return self.y[0] + v * (self.y[1] - self.y[0])

    def holds(self, ms: float, loss: float) -> bool:
        return 0.0 <= self.u(ms) <= 1.0 and 0.0 <= self.v(loss) <= 1.0


def view_of(trials: list[Trial], budget_ms: float, band: float) -> View:
    """From just below the fastest trial to past the budget; from the best scored loss to the over-budget band."""
    times = [t.latency_ms for t in trials if t.latency_ms > 0 and t.latency_ms <= budget_ms] or [budget_ms / 10]
    left, right = math.log10(min(times) / _X_BELOW), math.log10(budget_ms * _X_ABOVE_BUDGET)
    losses = [loss_of(t.accuracy) for t in trials if t.accuracy is not None] or [band - 1.0]
    top, bottom = min(losses), band
    span = max(bottom - top, 1e-3)
    return View(x=(left, right), y=(top - _Y_PAD_TOP * span, bottom + _Y_PAD_BOTTOM * span))


@dataclass(frozen=True)
class Callout:
    """A label with an arrow to its point: the recommended pick, a confirmed point, a paper model off the view."""

    ms: float
    loss: float
    text: str
    color: str


def place_callouts(callouts: list[Callout], view: View,
                   avoid: list[tuple[float, float]]) -> list[tuple[float, float, str]]:
    """Label positions (u, v: plot fractions from the top left; the side of the label u is) that overlap neither
    one another nor the points in `avoid` (u, v): one label just left of and above its point when that is clear,
    else a stack in the top-left corner, which no front reaches (nothing is both the fastest and the best)."""
    pitch = _LINE_PX / _PLOT_PX[1]
    widths = [len(c.text) * _CHAR_PX / _PLOT_PX[0] for c in callouts]
    if len(callouts) == 1:
        c = callouts[0]
        u, v = view.u(c.ms) - 0.03, max(view.v(c.loss) - 0.07, pitch)
        if u - widths[0] > 0 and _clear((u - widths[0], v - pitch / 2, u, v + pitch / 2), avoid):
            return [(u, v, "right")]
    order = sorted(range(len(callouts)), key=lambda i: view.v(callouts[i].loss))
    slots: list[tuple[float, float, str]] = [(0.0, 0.0, "left")] * len(callouts)
    for row, i in enumerate(order):  # best first, top down: arrows fan out without crossing much
        slots[i] = (0.015, pitch * (row + 1), "left")
    return slots


def _clear(box: tuple[float, float, float, float], points: list[tuple[float, float]]) -> bool:
    left, top, right, bottom = box
    margin = 12.0 / _PLOT_PX[0]  # a marker's radius
    return not any(left - margin <= u <= right + margin and top - margin <= v <= bottom + margin for u, v in points)


def _add_callouts(fig: Any, callouts: list[Callout], view: View, avoid: list[tuple[float, float]]) -> None:
    for c, (u, v, anchor) in zip(callouts, place_callouts(callouts, view, avoid), strict=True):
        inside = view.holds(c.ms, c.loss)
        # a point off the view (a paper model) is pointed at from the label towards the nearest edge
        ms, loss = (c.ms, c.loss) if inside else (view.ms(min(max(view.u(c.ms), 0.0), 1.0)),
                                                   view.loss(min(max(view.v(c.loss), 0.0), 1.0)))
        fig.add_annotation(
            x=math.log10(ms), y=loss, ax=view.x[0] + u * (view.x[1] - view.x[0]), ay=view.loss(v), axref="x",
            ayref="y", text=c.text, showarrow=True, arrowhead=2 if inside else 3, arrowsize=1, arrowwidth=1.2,
            arrowcolor=c.color, font={"color": c.color, "size": 12},
            xanchor=anchor,
            bgcolor="rgba(255,255,255,0.85)", standoff=9 if inside else 0)


def _off_view_entries(fig: Any, off_view: list[dict[str, Any]], estimate: Estimate) -> None:
    """Paper models off the view (e.g. BERT-base at 5× the budget): a legend entry each, with the way to them
    (they are in the caption too), instead of stretching the axes to them."""
    import plotly.graph_objects as go

    for p in off_view:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", marker={"symbol": "star", "size": 14, "color": "green"},
            name=f"{p['name']}: {p['latency_ms']:.0f} ms, {estimate.value(p['accuracy'])} nats (off this view)"))


def _confirmed_traces(fig: Any, trials: list[Trial], rows: list[dict[str, Any]], estimate: Estimate,
                      pick: dict[int, int], winner_id: int | None) -> list[Callout]:
    """One trace per confirmation status (a failed trial is a red cross, not a ring); their callouts."""
    import plotly.graph_objects as go

    from nas.confirm.table import measured

    by_id = {t.id: t for t in trials}
    shown = [(by_id[int(r["arch_id"])], r) for r in rows if int(r["arch_id"]) in by_id
             and by_id[int(r["arch_id"])].accuracy is not None]
    callouts = []
    for status, (label, marker) in _STATUS_STYLE.items():
        group = [(t, r) for t, r in shown if r["status"] == status]
        if not group:
            continue
        fig.add_trace(go.Scatter(
            x=[t.latency_ms for t, _ in group], y=[loss_of(t.accuracy) for t, _ in group], mode="markers",
            name=f"nas confirm: {label} ({len(group)})", marker=marker,
            hovertext=[f"trial {t.id} (pick {pick.get(t.id, '?')}): estimate {estimate.value(t.accuracy)} nats, "
                       f"{_measured_text(r, measured, why=True)}" for t, r in group], hoverinfo="text+x"))
        for t, r in group:
            best = " → best/" if t.id == winner_id else ""
            callouts.append(Callout(t.latency_ms, loss_of(t.accuracy),
                                    f"pick {pick.get(t.id, '?')}: {_measured_text(r, measured)}{best}",
                                    _CALLOUT_COLOR["best" if best else status]))
    return callouts


def _measured_text(row: dict[str, Any], measured: Any, why: bool = False) -> str:
    """`sst2 0.750 @8`, `MLM 6.600 @2, stopped`, `failed` (`why`: with its one-line reason, for the hover)."""
    if row["status"] == "failed":
        return f"failed: {row['reason']}" if why and row.get("reason") else "failed"
    text = measured(row)
    return f"{text}, stopped" if row["status"] == "stopped" else text


def _scatter_band(fig: Any, ordered: list[Trial], spread: float) -> None:
    """The estimator's scatter once: a band of ±1 sd about the front (its staircase)."""
    import plotly.graph_objects as go

    xs = [t.latency_ms for t in ordered]
    losses = [loss_of(t.accuracy) for t in ordered]
    fig.add_trace(go.Scatter(x=xs, y=[v - spread for v in losses], mode="lines", line={"width": 0, "shape": "hv"},
                             hoverinfo="skip", showlegend=False, name="scatter band, upper edge"))
    fig.add_trace(go.Scatter(x=xs, y=[v + spread for v in losses], mode="lines", line={"width": 0, "shape": "hv"},
                             fill="tonexty", fillcolor="rgba(255,127,14,0.18)", hoverinfo="skip",
                             name=f"the estimate's scatter: front ±{spread:.{decimals(spread)}f} nats"))


def _unscored_marks(fig: Any, unscored: list[dict[str, Any]], view: View) -> None:
    """Paper models the estimator does not cover: a green triangle on the lower edge at their latency, labelled,
    with no loss (the caption says why)."""
    import plotly.graph_objects as go

    inside = [p for p in unscored if view.x[0] <= math.log10(p["latency_ms"]) <= view.x[1]]
    if inside:
        fig.add_trace(go.Scatter(
            x=[p["latency_ms"] for p in inside], y=[view.y[1]] * len(inside), mode="markers+text", cliponaxis=False,
            marker={"symbol": "triangle-up", "size": 12, "color": "green"}, text=[p["name"] for p in inside],
            textposition="top center", textfont={"size": 12, "color": "darkgreen"},
            name="paper models outside the estimator's space (latency only)",
            hovertext=[f"{p['name']}: {p['latency_ms']:.1f} ms predicted; not scored (outside the estimator's "
                       f"space)<br>{arch_hover(p['arch'])}" for p in inside], hoverinfo="text"))


def _caption(estimate: Estimate, front_losses: list[float], off_view: list[dict[str, Any]],
             unscored: Sequence[dict[str, Any]] = ()) -> str:
    lines = [f"y: {estimate.quantity} in nats, −ln of the {estimate.name} estimator's score; lower is better, "
             f"drawn upwards. Scatter: {scatter_note(estimate.scatter, estimate.source, front_losses, 'nats')}.",
             f"How well it ranks trained students, as measured: {estimate.quality}."]
    if off_view:
        lines.append("Off this view: " + "; ".join(f"{p['name']} ({p['latency_ms']:.0f} ms, "
                                                   f"{estimate.value(p['accuracy'])} nats)" for p in off_view) + ".")
    if unscored:
        lines.append("Outside the estimator's space, so not scored (predicted latency only): " + "; ".join(
            f"{p['name']} {p['latency_ms']:.0f} ms" for p in unscored) + ".")
    wrapped = [part for line in lines for part in textwrap.wrap(line, _CAPTION_CHARS)]
    return "<br>".join(wrapped)


def drawn_sample(trials: list[Trial], limit: int) -> list[Trial]:
    """At most `limit` of `trials`, evenly spaced in trial order (all of them when they fit)."""
    if len(trials) <= limit:
        return trials
    ordered = sorted(trials, key=lambda t: t.id)
    step = (len(ordered) - 1) / max(limit - 1, 1)
    return [ordered[round(k * step)] for k in range(limit)]


def build_figure(trials: list[Trial], front: list[Trial], budget_ms: float, references: list[dict[str, Any]],
                 title: str, estimator: AccuracyEstimator | Estimate | None = None,
                 confirmed: list[dict[str, Any]] | None = None) -> Any:
    import plotly.graph_objects as go

    from nas.confirm.table import winner

    estimate = estimator if isinstance(estimator, Estimate) else \
        Estimate("estimator") if estimator is None else Estimate.of(estimator)
    fig = go.Figure()
    feasible = [t for t in trials if t.accuracy is not None]
    over = [t for t in trials if t.accuracy is None][:_MAX_OVER_DRAWN]
    band = over_budget_band([loss_of(t.accuracy) for t in feasible])
    view = view_of(trials, budget_ms, band)
    if over:
        fig.add_trace(go.Scattergl(
            x=[t.latency_ms for t in over], y=[band] * len(over), mode="markers",
            name="over budget (never scored)", marker={"color": "rgba(214,39,40,0.25)", "size": 4},
            text=[f"trial {t.id} (over budget, not scored)<br>{arch_hover(t.arch)}" for t in over],
            hoverinfo="text+x"))
        fig.add_annotation(x=0.0, xref="paper", y=band, text=f"{len(over)} over budget: not scored", showarrow=False,
                           xanchor="left", yanchor="bottom", font={"color": "rgb(214,39,40)", "size": 11})
    drawn = drawn_sample(feasible, _MAX_SCORED_DRAWN)
    fig.add_trace(go.Scattergl(
        x=[t.latency_ms for t in drawn], y=[loss_of(t.accuracy) for t in drawn], mode="markers",
        name="trials within budget" + (f" (an even sample: {len(drawn):,} of {len(feasible):,} drawn)"
                                       if len(drawn) < len(feasible) else ""),
        marker={"color": "rgba(31,119,180,0.35)", "size": 5},
        text=[f"trial {t.id}<br>{arch_hover(t.arch)}" for t in drawn], hoverinfo="text+x+y"))
    pick = {t.id: k for k, t in enumerate(front)}
    ordered = sorted(front, key=lambda t: t.latency_ms)
    if estimate.scatter and ordered:
        _scatter_band(fig, ordered, estimate.scatter)
    fig.add_trace(go.Scatter(
        x=[t.latency_ms for t in ordered], y=[loss_of(t.accuracy) for t in ordered], mode="lines+markers",
        line={"shape": "hv", "color": "black"}, marker={"size": 8, "color": "orange", "line": {"width": 1}},
        name=f"Pareto front ({len(front)}; hover for the pick number)",
        text=[f"pick {pick[t.id]} (nas export --pick {pick[t.id]}) · trial {t.id}<br>{arch_hover(t.arch)}"
              for t in ordered], hoverinfo="text+x+y"))
    chosen = winner(confirmed or [])
    winner_id = int(chosen["arch_id"]) if chosen is not None else None
    callouts = _confirmed_traces(fig, trials, confirmed or [], estimate, pick, winner_id)
    best = next((t for t in front if t.id == winner_id), None)
    recommended = f"pick {pick[best.id]}, confirmed best" if best is not None else "pick 0"
    if best is None and front:
        best = front[0]
        callouts.append(Callout(best.latency_ms, loss_of(best.accuracy), "pick 0 → best/", _CALLOUT_COLOR["best"]))
    if best is not None:
        fig.add_trace(go.Scatter(
            x=[best.latency_ms], y=[loss_of(best.accuracy)], mode="markers",
            name=f"recommended: {recommended} (in best/)",
            marker={"symbol": "diamond", "size": 16, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "red"}},
            hovertext=[f"recommended: {recommended} · trial {best.id} (exported to best/)<br>{arch_hover(best.arch)}"],
            hoverinfo="text+x+y"))
    unscored = [p for p in references if p["accuracy"] is None]
    scored = [p for p in references if p["accuracy"] is not None]
    shown = [p for p in scored if view.holds(p["latency_ms"], loss_of(p["accuracy"]))]
    off_view = [p for p in scored if p not in shown]
    if shown:
        fig.add_trace(go.Scatter(
            x=[p["latency_ms"] for p in shown], y=[loss_of(p["accuracy"]) for p in shown], mode="markers+text",
            marker={"symbol": "star", "size": 14, "color": "green"}, text=[p["name"] for p in shown],
            textposition="middle right", textfont={"size": 12, "color": "darkgreen"},
            name="paper models (predicted latency)",
            hovertext=[f"{p['name']}<br>{arch_hover(p['arch'])}" for p in shown], hoverinfo="text+x+y"))
    _off_view_entries(fig, off_view, estimate)
    avoid = [(view.u(t.latency_ms), view.v(loss_of(t.accuracy))) for t in ordered]
    avoid += [(view.u(p["latency_ms"]), view.v(loss_of(p["accuracy"]))) for p in shown]
    _add_callouts(fig, callouts, view, avoid)
    fig.add_vline(x=budget_ms, line={"dash": "dash", "color": "red"})
    # On a log axis plotly places annotations in log10 units (shapes take data units); above the plot area,
    # where no point or label can be.
    fig.add_annotation(x=math.log10(budget_ms), y=1.0, yref="paper", text=f"budget {budget_ms:g} ms",
                       showarrow=False, xanchor="center", yanchor="bottom", font={"color": "red"})
    _unscored_marks(fig, unscored, view)
    caption = _caption(estimate, [loss_of(t.accuracy) for t in front], off_view, unscored)
    fig.add_annotation(x=0.0, xref="paper", y=0.0, yref="paper", yshift=-_CAPTION_GAP_PX, xanchor="left", yanchor="top",
                       align="left", showarrow=False, font={"size": 11, "color": "rgb(60,60,60)"},
                       text=caption)
    bottom = _CAPTION_GAP_PX + _CAPTION_LINE_PX * (caption.count("<br>") + 1) + 12
    if estimate.scatter:  # no hover digit finer than the scatter
        fig.update_yaxes(hoverformat=f".{decimals(estimate.scatter)}f")
    ticks = latency_ticks(view.x)
    fig.update_xaxes(type="log", range=list(view.x), title={"text": "predicted latency on the device (ms, log scale)",
                                                            "standoff": 8},
                     tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    fig.update_yaxes(range=[view.y[1], view.y[0]], title={"text": estimate.axis_title(), "standoff": 8})
    fig.update_layout(title={"text": title, "x": 0.0, "xanchor": "left", "xref": "paper"}, template="plotly_white",
                      hoverlabel={"align": "left"}, autosize=True, margin={"l": 70, "r": 20, "t": 60, "b": bottom},
                      legend={"x": 1.01, "y": 1.0, "xanchor": "left", "yanchor": "top", "font": {"size": 12},
                              "traceorder": "normal"})
    return fig


def latency_ticks(x_range: tuple[float, float] | list[float]) -> list[float]:
    """Whole milliseconds on a 1-2-3-5 ladder inside the log10 range: plotly's own log ticks label 20 ms as "2"."""
    low, high = 10 ** x_range[0], 10 ** x_range[1]
    ladder = [m * 10 ** e for e in range(-1, 5) for m in (1, 2, 3, 5)]
    return [t for t in ladder if low <= t <= high]
