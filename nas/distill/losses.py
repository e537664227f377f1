"""The distillation losses of MobileBERT (Sun et al., ACL 2020, §3.5–3.6, and the official code,
github.com/google-research/google-research/tree/master/mobilebert).

Every loss takes a `mask` (batch, seq) of real (non-padding) tokens and averages over them only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Weights of the layer-wise losses, from the official MobileBERT code (paper-facts.md, "Distillation
# protocol"): feature-map MSE after a non-trainable LayerNorm ×100, mean term ×5000, variance term ×5,
# attention KL ×1.
FEATURE_MAP_WEIGHT = 100.0
MEAN_WEIGHT = 5000.0
VARIANCE_WEIGHT = 5.0
ATTENTION_WEIGHT = 1.0
# Pre-training distillation (paper §3.6): MLM target 0.5·teacher + 0.5·one-hot, temperature 1.
PD_TEACHER_SHARE = 0.5
PD_TEMPERATURE = 1.0


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `values` (batch, seq, …) over the real tokens."""
    weights = mask.to(values.dtype)
    while weights.dim() < values.dim():
        weights = weights.unsqueeze(-1)
    weights = weights.expand_as(values)
    return (values * weights).sum() / weights.sum().clamp_min(1)


def feature_map_losses(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """Layer-output transfer: weighted MSE after a parameter-free LayerNorm, plus the mean and variance
    terms of the official code (per-token statistics over the hidden axis; variance biased, as tf.nn.moments)."""
    width = student.shape[-1]
    normed_s = F.layer_norm(student.float(), (width,))
    normed_t = F.layer_norm(teacher.float(), (width,))
    fm = _masked_mean((normed_s - normed_t) ** 2, mask)
    s_mean, t_mean = student.float().mean(-1), teacher.float().mean(-1)
    s_var = student.float().var(-1, unbiased=False)
    t_var = teacher.float().var(-1, unbiased=False)
    return {
        "fm": FEATURE_MAP_WEIGHT * fm,
        "fm_mean": MEAN_WEIGHT * _masked_mean((s_mean - t_mean) ** 2, mask),
        "fm_var": VARIANCE_WEIGHT * _masked_mean((s_var - t_var).abs(), mask),
    }


def attention_kl(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """KL(teacher ‖ student) of attention distributions (batch, heads, query, key), averaged over heads
    and real query positions, ×ATTENTION_WEIGHT. The official code's soft cross-entropy differs from this
    by the teacher's entropy, a constant: same gradients, but zero when student equals teacher."""
    t = teacher.float()
    log_s = student.float().clamp_min(1e-12).log()
    log_t = t.clamp_min(1e-12).log()
    kl = torch.where(t > 0, t * (log_t - log_s), torch.zeros_like(t)).sum(-1)  # (batch, heads, query)
    per_query = kl.mean(1)
    return ATTENTION_WEIGHT * _masked_mean(per_query, mask)


def mlm_nsp_losses(mlm_logits: torch.Tensor, mlm_labels: torch.Tensor, nsp_logits: torch.Tensor,
                   nsp_labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Plain pre-training (teacher, or a student without a teacher). `mlm_logits` are at masked positions."""
    return {"mlm": F.cross_entropy(mlm_logits.float(), mlm_labels),
            "nsp": F.cross_entropy(nsp_logits.float(), nsp_labels)}


def pretraining_distillation_losses(
    student_mlm: torch.Tensor, teacher_mlm: torch.Tensor, mlm_labels: torch.Tensor,
    student_nsp: torch.Tensor, nsp_labels: torch.Tensor,
    teacher_share: float = PD_TEACHER_SHARE, temperature: float = PD_TEMPERATURE,
) -> dict[str, torch.Tensor]:
    """MLM against `teacher_share`·softmax(teacher/T) + (1−share)·one-hot, plus NSP.

    Cross-entropy against the mixed target = share·KL(teacher‖student) + (1−share)·CE(one-hot) + share·H(teacher);
    the constant entropy is left out, so `pd_kd` is zero when the student equals the teacher.
    """
    log_s = F.log_softmax(student_mlm.float() / temperature, -1)
    t_prob = F.softmax(teacher_mlm.float() / temperature, -1)
    kd = (t_prob * (t_prob.clamp_min(1e-12).log() - log_s)).sum(-1).mean() * temperature**2
    return {
        "pd_kd": teacher_share * kd,
        "pd_mlm": (1 - teacher_share) * F.nll_loss(log_s, mlm_labels),
        "nsp": F.cross_entropy(student_nsp.float(), nsp_labels),
    }
