"""Held-out losses of inherited sub-networks: what the supernet says about an arch.

Per arch, on fixed held-out batches (nas/distill/evaluate.py's: fixed seed, the same pairs and masks for
every model), with dropout off and the teacher's outputs computed once per batch for all archs:
- `mlm`: cross-entropy at the masked positions (against the true tokens);
- `pd_kd`: 0.5·KL(teacher ‖ student) of the MLM distributions, `nsp`;
- `fm`, `fm_mean`, `fm_var`, `attn`: the transfer terms through the layer map, *averaged* over the student's
  layers (the official code's factor/L), so that depths compare;
- `distill`: fm + fm_mean + fm_var + attn + pd_kd + pd_mlm — the distillation objective itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from nas.distill.layer_map import build_layer_map
from nas.distill.losses import PD_TEACHER_SHARE, PD_TEMPERATURE
from nas.distill.objective import phase_losses
from nas.distill.schedules import Phase
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.teacher_once import TeacherOnce
from search_spaces.arch import Arch

TERMS = ("mlm", "distill", "pd_kd", "nsp", "fm", "fm_mean", "fm_var", "attn")
MEASURES = TERMS
DEFAULT_MEASURE = "mlm"


def subnet_layer_map(arch: Arch, teacher_config: Any) -> Any:
    return build_layer_map(arch.num_hidden_layers, teacher_config.num_hidden_layers, arch.num_attention_heads,
                           teacher_config.num_attention_heads, arch.hidden_size, teacher_config.hidden_size)


def transfer_phase(arch: Arch, kind: str, steps: int = 1, name: str = "eval") -> Phase:
    """All of the sub-network's layers, each layer term ×1/L."""
    layers = tuple(range(arch.num_hidden_layers))
    return Phase(name, kind, steps, layers, layer_scale=1.0 / arch.num_hidden_layers)


@torch.no_grad()
def subnet_losses(elastic: ElasticMobileBert, teacher: Any, archs: Sequence[Arch],
                  batches: Sequence[dict[str, torch.Tensor]], torch_device: str = "cpu") -> list[dict[str, float]]:
    """One dict of held-out loss terms (`TERMS`) per arch, averaged over `batches`."""
    if PD_TEMPERATURE != 1.0:  # pd_mlm is then no longer a rescaled cross-entropy
        raise NotImplementedError("held-out MLM cross-entropy assumes distillation temperature 1")
    was_training = elastic.training
    elastic.eval()
    maps = [subnet_layer_map(a, teacher.config) for a in archs]
    phases = [transfer_phase(a, "akt") for a in archs]
    sums = [dict.fromkeys(TERMS, 0.0) for _ in archs]
    try:
        for raw in batches:
            batch = {k: v.to(torch_device) for k, v in raw.items()}
            cached = TeacherOnce(teacher, batch)
            for index, arch in enumerate(archs):
                terms = phase_losses(elastic.view(arch), cached, maps[index], None, phases[index], batch)
                values = {k: float(v) for k, v in terms.items()}
                values["mlm"] = values["pd_mlm"] / (1 - PD_TEACHER_SHARE)
                values["distill"] = sum(values[k] for k in ("fm", "fm_mean", "fm_var", "attn", "pd_kd", "pd_mlm"))
                for name in TERMS:
                    sums[index][name] += values[name] / len(batches)
    finally:
        elastic.train(was_training)
    return [{k: round(v, 6) for k, v in s.items()} for s in sums]
