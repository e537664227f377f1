"""A runtime's fusion choices fitted as data: which `[lowering]` switches make the measurements fit best.

How a runtime fuses is a property of the runtime version, not a constant: today's LiteRT/XNNPACK runs a
6-layer MobileBERT with LayerNorm + GELU at 1.07x the NoNorm + ReLU one on this machine
(stack-facts "LiteRT / TFLite"), while the 2020 TFLite of the MobileBERT paper ran it 3.1x slower on a
Pixel 4 (Sun et al., ACL 2020, Table 4: 192 ms vs 62 ms). So `nas calibrate` fits, for every combination
of the switches the measurements can tell apart, the cost parameters (`calibrate.fit_with_objective`), and
judges each combination by its **leave-one-out** error (each row predicted by the fit on the others), not by
the in-sample objective: a switch that changes every arch's graph always lowers the in-sample misfit a little
(one more way to bend the model), which is how a margin of 0.1 once flipped two switches and made held-out
rows worse (issue 32).

**The rule** (`choose`): the base profile's switches are kept unless another combination's leave-one-out mean
squared log error is lower by more than `CLEAR_SE` (2) standard errors of the per-row paired differences and
by at least `CLEAR_REL` (10 %) of the base's; among those that clear it, the lowest leave-one-out error wins.
With fewer than `MIN_ROWS_LOO` rows nothing is flipped.

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
from device_profiles.schema import LOWERING_SWITCHES, DeviceProfile
from latency_models.calibrate import fit_with_objective, loo_log_errors
from latency_models.predictor import load_predictor

SWITCHES = LOWERING_SWITCHES
MIN_ROWS_GLOBAL = 8  # switches that change every arch's graph: fitted from this many rows on
DECISIVE = 2.0  # objective gap (in the fit's units: half squared 5 % residuals) below which a choice is weak
CLEAR_SE = 2.0  # a flip must lower the leave-one-out MSE by this many standard errors of the paired differences
CLEAR_REL = 0.10  # ... and by at least this share of the base choice's leave-one-out MSE
MIN_ROWS_LOO = 5


@dataclass(frozen=True)
class Alternative:
    lowering: dict[str, bool]  # the fitted switches' values
    params: dict[str, float]
    objective: float
    residuals_pct: tuple[float, ...]  # predicted / measured - 1 of each row, in %
    loo_log: tuple[float, ...] = ()  # leave-one-out log(predicted / measured) of each row
    is_base: bool = False

    @property
    def rms_pct(self) -> float:
        return float(np.sqrt(np.mean(np.square(self.residuals_pct))))

    @property
    def loo_mse(self) -> float:
        return float(np.mean(np.square(self.loo_log))) if self.loo_log else float("nan")

    @property
    def loo_rms_pct(self) -> float:
        return 100.0 * float(np.sqrt(self.loo_mse)) if self.loo_log else float("nan")

    def label(self) -> str:
        return ", ".join(f"{k}={'true' if v else 'false'}" for k, v in self.lowering.items()) or "(base)"


def clearly_better(alt: Alternative, base: Alternative) -> bool:
    """`alt`'s leave-one-out errors beat `base`'s by the rule in the module docstring."""
    diff = np.square(base.loo_log) - np.square(alt.loo_log)  # > 0 where alt is better
    n = len(diff)
    if n < MIN_ROWS_LOO:
        return False
    se = float(np.std(diff, ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    gain = float(np.mean(diff))
    return gain > CLEAR_SE * se and gain >= CLEAR_REL * base.loo_mse


def choose(alternatives: list[Alternative]) -> Alternative:
    base = next(a for a in alternatives if a.is_base)
    if not base.loo_log:
        return base
    better = [a for a in alternatives if a is not base and a.loo_log and clearly_better(a, base)]
    return min(better, key=lambda a: a.loo_mse) if better else base


@dataclass
class FusionFit:
    switches: tuple[str, ...]  # fitted switches
    skipped: dict[str, str]  # switch -> why it was not fitted
    alternatives: list[Alternative]  # smallest leave-one-out error first
    confounded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def best(self) -> Alternative:
        """The chosen combination (`choose`): the base profile's unless another is clearly better."""
        return choose(self.alternatives)

    @property
    def base(self) -> Alternative:
        return next(a for a in self.alternatives if a.is_base)

    def margin(self, switch: str) -> float:
        """How much worse (leave-one-out RMS, % points) the best combination with `switch` flipped is."""
        flipped = [a.loo_rms_pct for a in self.alternatives if a.lowering[switch] != self.best.lowering[switch]]
        return min(flipped) - self.best.loo_rms_pct if flipped else float("inf")

    def summary(self) -> str:
        best = self.best
        parts = [f"{s}={'true' if best.lowering[s] else 'false'}"
                 + (" (base profile's" if best.lowering[s] == self.base.lowering[s] else " (flipped")
                 + f"; flipped costs {self.margin(s):+.1f} pts LOO RMS)" for s in self.switches]
        return "; ".join(parts) if parts else "no switch fitted"

    def to_toml(self) -> dict[str, Any]:
        """What a profile's `[lowering.fit]` keeps: the choice, why, and every alternative's errors."""
        return {
            "criterion": (f"leave-one-out: the base profile's switches unless another combination lowers the LOO "
                          f"mean squared log error by > {CLEAR_SE:g} standard errors and >= {CLEAR_REL:.0%}"),
            "chosen": self.summary(),
            "skipped": dict(self.skipped),
            "confounded": [f"{a} with {b}" for a, b in self.confounded],
            "alternatives": [{**a.lowering, "base": a.is_base,
                              **({"loo_rms_pct": round(a.loo_rms_pct, 2)} if a.loo_log else {}),
                              "objective": round(a.objective, 4), "rms_pct": round(a.rms_pct, 2),
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
        pred = load_predictor(profile, params).predict([r.arch for r in rows], [r.seq_len for r in rows],
                                                  [r.batch for r in rows])
        residuals = tuple(float(100.0 * (p / r.latency_ms - 1.0)) for p, r in zip(pred, rows, strict=True))
        is_base = all(bool(base.lowering.get(k, True)) == v for k, v in choice.items())
        alternatives.append(Alternative(choice, params, objective, residuals, (), is_base))
    if len(rows) >= MIN_ROWS_LOO:
        # Leave-one-out (n refits each) for the candidates: the base choice, each single flip of it, and the
        # in-sample best combination; the other combinations keep their in-sample record only.
        base_alt = next(a for a in alternatives if a.is_base)
        in_sample_best = min(alternatives, key=lambda a: a.objective)
        for k, a in enumerate(alternatives):
            flips = sum(a.lowering[s] != base_alt.lowering[s] for s in switches)
            if flips <= 1 or a is in_sample_best:
                profile = dataclasses.replace(base, lowering={**base.lowering, **a.lowering})
                loo = tuple(float(x) for x in loo_log_errors(profile, rows, start=a.params))
                alternatives[k] = dataclasses.replace(a, loo_log=loo)
    alternatives.sort(key=lambda a: (0 if a.loo_log else 1, a.loo_mse if a.loo_log else a.objective))
    return FusionFit(tuple(switches), skipped, alternatives, confounded_pairs(rows, tuple(switches)))


def with_fitted_lowering(base: DeviceProfile, fit: FusionFit) -> DeviceProfile:
    """`base` whose `[lowering]` holds the fitted switches and the record of the fit (`[lowering.fit]`)."""
    import dataclasses

    lowering = {k: v for k, v in base.lowering.items() if k != "fit"}
    return dataclasses.replace(base, lowering={**lowering, **fit.best.lowering, "fit": fit.to_toml()})


def report_lines(fit: FusionFit) -> list[str]:
    """What `nas calibrate` prints: the choice, each alternative's objective and residuals, the caveats."""
    lines = [f"lowering by leave-one-out ({len(fit.alternatives)} alternatives; the base profile's switches "
             f"unless another lowers the LOO error clearly): {fit.summary()}"]
    for a in fit.alternatives:
        mark = "*" if a is fit.best else ("b" if a.is_base else " ")
        loo = f"LOO RMS {a.loo_rms_pct:5.1f}%" if a.loo_log else "LOO not run   "
        lines.append(f" {mark}{a.label():72} {loo}  in-sample RMS {a.rms_pct:5.1f}%")
    for a, b in fit.confounded:
        lines.append(f"  note: {a} and {b} are confounded (every row has both or neither); measure an arch "
                     "with one of them only to separate them")
    for switch, why in fit.skipped.items():
        lines.append(f"  {switch} kept from the base profile: {why}")
    return lines
