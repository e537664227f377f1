"""Training schedules as data: a list of phases, each with its loss terms and its trainable parameters.

Paper §3.5 / §4.3 and the official code: PKT trains layer by layer bottom-up (24 phases of 10k steps)
with layer l at 3× the base lr, the layers below at 0.3×, everything else frozen; JKT trains all layer
losses at once, then pre-training distillation (PD); AKT optimises one combined loss. `none` is the
control: the same student, no teacher, MLM + NSP for the same total steps. Budgets are equal across
strategies: L·steps_per_layer layer-wise steps + pd_steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nas_common.errors import UserInputError

SCHEDULES = ("pkt", "jkt", "akt", "none")
PKT_CURRENT_LR_MULT = 3.0  # official MobileBERT code, progressive knowledge transfer
PKT_LOWER_LR_MULT = 0.3
LAYER_INDEX = re.compile(r"\bencoder\.layer\.(\d+)\.")


@dataclass(frozen=True)
class Phase:
    name: str
    kind: str  # "layers" (transfer losses), "pd" (pre-training distillation), "akt" (both), "mlm" (no teacher)
    steps: int
    layers: tuple[int, ...] = ()  # student layers whose transfer losses count
    current_layer: int | None = None  # PKT: the layer this phase trains at ×3
    heads_only: bool = False  # train only the pre-training heads and pooler (a teacher's first stage)
    layer_scale: float = 1.0  # each layer term ×this; the official code uses 1/L (L student layers)

    @property
    def needs_maps(self) -> bool:
        return self.kind in ("layers", "akt")

    @property
    def needs_mlm(self) -> bool:
        return self.kind in ("pd", "akt", "mlm")

    @property
    def needs_teacher(self) -> bool:
        return self.kind != "mlm"


def plan(schedule: str, num_layers: int, steps_per_layer: int, pd_steps: int,
         layer_scale: float | None = None) -> list[Phase]:
    """The phases of `schedule`. Layer terms are scaled by `layer_scale`, by default 1/L as the official
    code does (`factor / L`), so JKT and AKT weigh their summed layer terms like one layer against PD."""
    if schedule not in SCHEDULES:
        raise UserInputError(f"unknown schedule {schedule!r}: choose one of {', '.join(SCHEDULES)}")
    if steps_per_layer < 0 or pd_steps < 0:
        raise UserInputError("step counts must be non-negative")
    scale = 1.0 / num_layers if layer_scale is None else layer_scale
    every = tuple(range(num_layers))
    layer_steps = steps_per_layer * num_layers
    if schedule == "pkt":
        phases = [Phase(f"pkt_layer_{layer}", "layers", steps_per_layer, (layer,), layer, layer_scale=scale)
                  for layer in every]
    elif schedule == "jkt":
        phases = [Phase("jkt_layers", "layers", layer_steps, every, layer_scale=scale)]
    elif schedule == "akt":
        return [p for p in [Phase("akt", "akt", layer_steps + pd_steps, every, layer_scale=scale)] if p.steps]
    else:
        return [p for p in [Phase("mlm", "mlm", layer_steps + pd_steps)] if p.steps]
    return [p for p in [*phases, Phase("pd", "pd", pd_steps)] if p.steps]


def lr_multiplier(param_name: str, phase: Phase) -> float:
    """0 = frozen. Layer-wise phases train only encoder layers (embeddings stay the teacher's)."""
    if phase.heads_only:
        return 1.0 if param_name.startswith("cls.") or ".pooler." in param_name else 0.0
    if phase.kind != "layers":
        return 1.0
    match = LAYER_INDEX.search(param_name)
    if match is None:
        return 0.0
    layer = int(match.group(1))
    if phase.current_layer is None:
        return 1.0 if layer in phase.layers else 0.0
    if layer == phase.current_layer:
        return PKT_CURRENT_LR_MULT
    return PKT_LOWER_LR_MULT if layer < phase.current_layer else 0.0


def param_groups(named_params: list[tuple[str, Any]], phase: Phase, weight_decay: float) -> list[dict[str, Any]]:
    """Optimizer groups keyed by (lr multiplier, excluded); frozen parameters get requires_grad=False.
    Excluded parameters (`LayerNorm`, `layer_norm`, `bias`) take neither weight decay nor the trust ratio."""
    from nas.distill.lamb import excluded

    groups: dict[tuple[float, bool], list[Any]] = {}
    for name, param in named_params:
        mult = 1.0 if name.startswith("projection.") else lr_multiplier(name, phase)
        param.requires_grad_(mult > 0)
        if mult > 0:
            groups.setdefault((mult, excluded(name)), []).append(param)
    return [{"params": ps, "lr_mult": mult, "weight_decay": 0.0 if ex else weight_decay, "trust_ratio": not ex}
            for (mult, ex), ps in sorted(groups.items(), key=lambda kv: kv[0])]


LAYER_PHASE_END = 0.9  # official: per layer phase a square-root decay from 1.0 to 0.9 of the phase's rate
LAYER_PHASE_POWER = 0.5
PD_END = 1e-4  # official: pre-training distillation decays linearly to 1e-4·lr


def learning_rate(base_lr: float, step: int, steps: int, warmup: int, kind: str = "pd") -> float:
    """Linear warm-up (capped at a tenth of the phase), then, in a layer-wise phase, the official code's
    square-root decay from 1.0 to 0.9 of the rate (polynomial decay, power 0.5, end 0.9·lr); in every other
    phase a linear decay to 1e-4·lr (BERT's polynomial decay, power 1, MobileBERT's end rate)."""
    warmup = max(1, min(warmup, steps // 10))
    remaining = max(0.0, 1.0 - step / max(steps, 1))
    if kind == "layers":
        decay = LAYER_PHASE_END + (1 - LAYER_PHASE_END) * remaining**LAYER_PHASE_POWER
    else:
        decay = PD_END + (1 - PD_END) * remaining
    return base_lr * min(1.0, (step + 1) / warmup) * decay
