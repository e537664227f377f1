"""What one step optimises: forward passes of student (and teacher) and the loss terms of a phase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from nas.distill.layer_map import LayerMap
from nas.distill.losses import attention_kl, feature_map_losses, mlm_nsp_losses, pretraining_distillation_losses
from nas.distill.models import ensure_eager_attention
from nas.distill.schedules import Phase

LOSS_TERMS = ("fm", "fm_mean", "fm_var", "attn", "pd_kd", "pd_mlm", "mlm", "nsp")


@dataclass
class Features:
    hidden: tuple[torch.Tensor, ...] | None  # embeddings output, then each layer's output
    attentions: tuple[torch.Tensor, ...] | None
    mlm_logits: torch.Tensor | None  # at masked positions only (saves the vocabulary matmul elsewhere)
    nsp_logits: torch.Tensor


def forward_features(model: Any, batch: dict[str, torch.Tensor], maps: bool, mlm: bool) -> Features:
    out = model.base_model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
        token_type_ids=batch["token_type_ids"], output_hidden_states=maps, output_attentions=maps,
    )
    mlm_logits = None
    if mlm:
        mlm_logits = model.cls.predictions(out.last_hidden_state[batch["labels"] != -100])
    return Features(out.hidden_states if maps else None, out.attentions if maps else None, mlm_logits,
                    model.cls.seq_relationship(out.pooler_output))


def phase_losses(student: Any, teacher: Any | None, layer_map: LayerMap | None, projection: Any | None,
                 phase: Phase, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The named loss terms of `phase` on `batch` (their sum is what is minimised)."""
    if phase.needs_maps:
        ensure_eager_attention(student)
        ensure_eager_attention(teacher)
    s = forward_features(student, batch, phase.needs_maps, phase.needs_mlm)
    losses: dict[str, torch.Tensor] = {}
    if not phase.needs_teacher:
        return mlm_nsp_losses(s.mlm_logits, batch["labels"][batch["labels"] != -100], s.nsp_logits,
                              batch["next_sentence_label"])
    assert teacher is not None and layer_map is not None
    with torch.no_grad():
        t = forward_features(teacher, batch, phase.needs_maps, phase.needs_mlm)
    mask = batch["attention_mask"]
    if phase.needs_maps:
        for layer in phase.layers:
            t_layer = layer_map.teacher_layer[layer]
            s_hidden = s.hidden[layer + 1]
            if projection is not None:
                s_hidden = projection(s_hidden)
            for name, value in feature_map_losses(s_hidden, t.hidden[t_layer + 1], mask).items():
                losses[name] = losses.get(name, 0) + phase.layer_scale * value
            attn = attention_kl(s.attentions[layer], layer_map.group_teacher_heads(t.attentions[t_layer]), mask)
            losses["attn"] = losses.get("attn", 0) + phase.layer_scale * attn
    if phase.needs_mlm:
        losses.update(pretraining_distillation_losses(
            s.mlm_logits, t.mlm_logits, batch["labels"][batch["labels"] != -100], s.nsp_logits,
            batch["next_sentence_label"]))
    return losses
