"""A runtime's fusion choices fitted as data: which `[lowering]` switches make the measurements fit best.

How a runtime fuses is a property of the runtime version, not a constant: today's LiteRT/XNNPACK runs a
6-layer MobileBERT with LayerNorm + GELU at 1.07x the NoNorm + ReLU one on this machine
(stack-facts "LiteRT / TFLite"), while the 2020 TFLite of the MobileBERT paper ran it 3.1x slower on a
Pixel 4 (Sun et al., ACL 2020, Table 4: 192 ms vs 62 ms). So `nas calibrate` fits, for every combination
of the switches the measurements can tell apart, the cost parameters (`calibrate.fit_with_objective`) and
keeps the combination with the smallest objective (robust misfit + prior penalty; every alternative has
the same parameters, so the objectives compare directly).

A switch is fitted only when the measurements contrast it: `fuse_layer_norm` needs LayerNorm and NoNorm
archs, `fuse_gelu` GELU and ReLU archs (otherwise the choice changes no row, or changes every row alike and
is confounded with the cost parameters); `fuse_epilogue` and `fuse_bias` change every arch's graph, so they
are fitted from `MIN_ROWS_GLOBAL` rows on. The others keep the base profile's value.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from device_profiles.measurement import Measurement
from device_profiles.schema import DeviceProfile
from latency_models.calibrate import fit_with_objective
from latency_models.predictor import Predictor

SWITCHES = ("fuse_layer_norm", "fuse_gelu", "fuse_epilogue", "fuse_bias")
MIN_ROWS_GLOBAL = 8  # switches that change every arch's graph: fitted from this many rows on
DECISIVE = 2.0  # objective gap (in the fit's units: half squared 5 % residuals) below which a choice is weak


@dataclass(frozen=True)
class Alternative:
    lowering: dict[str, bool]  # the fitted switches' values
    params: dict[str, float]
    objective: float
    residuals_pct: tuple[float, ...]  # predicted / measured - 1 of each row, in %

    @property
    def rms_pct(self) -> float:
        return float(np.sqrt(np.mean(np.square(self.residuals_pct))))

    def label(self) -> str:
        return ", ".join(f"{k}={'true' if v else 'false'}" for k, v in self.lowering.items()) or "(base)"


@dataclass
class FusionFit:
    switches: tuple[str, ...]  # fitted switches
    skipped: dict[str, str]  # switch -> why it was not fitted
    alternatives: list[Alternative]  # best (smallest objective) first
    confounded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def best(self) -> Alternative:
        return self.alternatives[0]

    def margin(self, switch: str) -> float:
        """How much worse the best fit with `switch` flipped is (objective units)."""
        flipped = [a.objective for a in self.alternatives if a.lowering[switch] != self.best.lowering[switch]]
        return min(flipped) - self.best.objective if flipped else float("inf")

    def summary(self) -> str:
        parts = [f"{s}={'true' if self.best.lowering[s] else 'false'} (margin {self.margin(s):.1f}"
                 + (", weak" if self.margin(s) < DECISIVE else "") + ")" for s in self.switches]
        return "; ".join(parts) if parts else "no switch fitted"

    def to_toml(self) -> dict[str, Any]:
        """What a profile's `[lowering.fit]` keeps: the choice, why, and every alternative's residuals."""
        return {
            "criterion": "smallest calibration objective (robust misfit + prior penalty) over the fitted switches",
            "chosen": self.summary(),
            "skipped": dict(self.skipped),
            "confounded": [f"{a} with {b}" for a, b in self.confounded],
            "alternatives": [{**a.lowering, "objective": round(a.objective, 4), "rms_pct": round(a.rms_pct, 2),
                              "residuals_pct": [round(r, 2) for r in a.residuals_pct]} for a in self.alternatives],
        }


def _contrast(rows: list[Measurement], has: Any) -> bool:
    flags = {bool(has(r.arch)) for r in rows}
    return flags == {True, False}


def fittable(rows: list[Measurement]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The switches the rows can tell apart, and why each other one is not fitted."""
    chosen: list[str] = []
    skipped: dict[str, str] = {}
    if _contrast(rows, lambda a: a.normalization_type == "layer_norm"):
        chosen.append("fuse_layer_norm")
    else:
        skipped["fuse_layer_norm"] = "the measurements need both LayerNorm and NoNorm archs"
    if _contrast(rows, lambda a: a.hidden_act == "gelu"):
        chosen.append("fuse_gelu")
    else:
        skipped["fuse_gelu"] = "the measurements need both GELU and ReLU archs"
    for switch in ("fuse_epilogue", "fuse_bias"):
        if len(rows) >= MIN_ROWS_GLOBAL:
            chosen.append(switch)
        else:
            skipped[switch] = f"changes every arch alike: fitted from {MIN_ROWS_GLOBAL} measurements on"
    return tuple(chosen), skipped


def confounded_pairs(rows: list[Measurement], switches: tuple[str, ...]) -> list[tuple[str, str]]:
    """LayerNorm and GELU fusion cannot be told apart when every row has both or neither."""
    if {"fuse_layer_norm", "fuse_gelu"} <= set(switches):
        same = all((r.arch.normalization_type == "layer_norm") == (r.arch.hidden_act == "gelu") for r in rows)
        if same:
            return [("fuse_layer_norm", "fuse_gelu")]
    return []


def fit_lowering(base: DeviceProfile, rows: list[Measurement],
                 switches: tuple[str, ...] | None = None) -> FusionFit:
    """Fit the cost parameters under every combination of `switches` (default: `fittable(rows)`), best first."""
    skipped: dict[str, str] = {}
    if switches is None:
        switches, skipped = fittable(rows)
    alternatives = []
    for values in itertools.product((True, False), repeat=len(switches)):
        choice = dict(zip(switches, values, strict=True))
        profile = dataclasses.replace(base, lowering={**base.lowering, **choice})
        params, objective = fit_with_objective(profile, rows)
        pred = Predictor(profile, params).predict([r.arch for r in rows], [r.seq_len for r in rows],
                                                  [r.batch for r in rows])
        residuals = tuple(float(100.0 * (p / r.latency_ms - 1.0)) for p, r in zip(pred, rows, strict=True))
        alternatives.append(Alternative(choice, params, objective, residuals))
    alternatives.sort(key=lambda a: a.objective)
    return FusionFit(tuple(switches), skipped, alternatives, confounded_pairs(rows, tuple(switches)))


def with_fitted_lowering(base: DeviceProfile, fit: FusionFit) -> DeviceProfile:
    """`base` whose `[lowering]` holds the fitted switches and the record of the fit (`[lowering.fit]`)."""
    import dataclasses

    lowering = {k: v for k, v in base.lowering.items() if k != "fit"}
    return dataclasses.replace(base, lowering={**lowering, **fit.best.lowering, "fit": fit.to_toml()})


def report_lines(fit: FusionFit) -> list[str]:
    """What `nas calibrate` prints: the choice, each alternative's objective and residuals, the caveats."""
    lines = [f"lowering fitted ({len(fit.alternatives)} alternatives): {fit.summary()}"]
    for a in fit.alternatives:
        residuals = " ".join(f"{r:+.1f}" for r in a.residuals_pct[:12]) + (" ..." if len(a.residuals_pct) > 12 else "")
        lines.append(f"  {a.label():72} objective {a.objective:8.2f}  RMS {a.rms_pct:5.1f}%  residuals % {residuals}")
    for a, b in fit.confounded:
        lines.append(f"  note: {a} and {b} are confounded (every row has both or neither); measure an arch "
                     "with one of them only to separate them")
    for switch, why in fit.skipped.items():
        lines.append(f"  {switch} kept from the base profile: {why}")
    return lines
