"""Each distillation loss: zero when student equals teacher, and equal to a hand computation."""

from __future__ import annotations

import math

import pytest
import torch

from nas.distill.layer_map import build_layer_map
from nas.distill.losses import (
    ATTENTION_WEIGHT,
    FEATURE_MAP_WEIGHT,
    MEAN_WEIGHT,
    VARIANCE_WEIGHT,
    attention_kl,
    feature_map_losses,
    pretraining_distillation_losses,
)
from nas_common.errors import UserInputError


def test_feature_map_zero_when_equal() -> None:
    x = torch.randn(2, 5, 8)
    mask = torch.ones(2, 5)
    assert all(float(v) == pytest.approx(0.0, abs=1e-9) for v in feature_map_losses(x, x.clone(), mask).values())


def test_feature_map_hand_computation() -> None:
    student = torch.tensor([[[1.0, 3.0], [0.0, 0.0]]])  # second token is padding
    teacher = torch.tensor([[[2.0, 2.0], [5.0, 1.0]]])
    mask = torch.tensor([[1, 0]])
    # LayerNorm([1, 3]) = [-1, 1] (eps ignored); LayerNorm([2, 2]) = [0, 0] → MSE = 1.
    # means 2 vs 2 → 0; variances (biased) 1 vs 0 → |1 − 0| = 1.
    losses = feature_map_losses(student, teacher, mask)
    assert float(losses["fm"]) == pytest.approx(FEATURE_MAP_WEIGHT * 1.0, rel=1e-4)
    assert float(losses["fm_mean"]) == pytest.approx(0.0, abs=1e-6)
    assert float(losses["fm_var"]) == pytest.approx(VARIANCE_WEIGHT * 1.0)
    shifted = feature_map_losses(student + 1, student, mask)  # means differ by 1, same shape
    assert float(shifted["fm_mean"]) == pytest.approx(MEAN_WEIGHT * 1.0)
    assert float(shifted["fm"]) == pytest.approx(0.0, abs=1e-6)


def test_attention_kl_zero_when_equal_and_hand_computation() -> None:
    probs = torch.softmax(torch.randn(2, 3, 4, 4), -1)
    assert float(attention_kl(probs, probs.clone(), torch.ones(2, 4))) == pytest.approx(0.0, abs=1e-7)
    teacher = torch.tensor([[[[0.5, 0.5], [1.0, 0.0]]]])
    student = torch.tensor([[[[0.25, 0.75], [0.5, 0.5]]]])
    row0 = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    row1 = 1.0 * math.log(1.0 / 0.5)
    value = attention_kl(student, teacher, torch.ones(1, 2))
    assert float(value) == pytest.approx(ATTENTION_WEIGHT * (row0 + row1) / 2, rel=1e-6)
    only_first = attention_kl(student, teacher, torch.tensor([[1, 0]]))
    assert float(only_first) == pytest.approx(row0, rel=1e-6)


def test_pretraining_distillation_zero_when_equal_and_hand_computation() -> None:
    logits = torch.randn(3, 7)
    labels = torch.tensor([1, 2, 3])
    nsp, nsp_labels = torch.randn(3, 2), torch.tensor([0, 1, 0])
    assert float(pretraining_distillation_losses(logits, logits.clone(), labels, nsp, nsp_labels)["pd_kd"]) == \
        pytest.approx(0.0, abs=1e-6)
    student = torch.log(torch.tensor([[0.5, 0.5]]))
    teacher = torch.log(torch.tensor([[0.9, 0.1]]))
    out = pretraining_distillation_losses(student, teacher, torch.tensor([0]), torch.zeros(1, 2), torch.tensor([1]))
    kl = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    assert float(out["pd_kd"]) == pytest.approx(0.5 * kl, rel=1e-5)
    assert float(out["pd_mlm"]) == pytest.approx(0.5 * math.log(2), rel=1e-5)
    assert float(out["nsp"]) == pytest.approx(math.log(2), rel=1e-5)
    # Same gradient as cross-entropy against the mixed target 0.5·teacher + 0.5·one-hot.
    s = student.clone().requires_grad_(True)
    total = sum(pretraining_distillation_losses(s, teacher, torch.tensor([0]), torch.zeros(1, 2),
                                                torch.tensor([1])).values())
    total.backward()
    target = 0.5 * torch.tensor([[0.9, 0.1]]) + 0.5 * torch.tensor([[1.0, 0.0]])
    assert torch.allclose(s.grad, torch.softmax(student, -1) - target, atol=1e-6)


def test_layer_map_and_head_grouping() -> None:
    minilm = build_layer_map(4, 6, 4, 12, 384, 384)
    assert minilm.teacher_layer == (0, 2, 3, 5)
    assert build_layer_map(24, 24, 4, 4, 512, 512).teacher_layer == tuple(range(24))
    attention = torch.softmax(torch.randn(1, 12, 3, 3), -1)
    grouped = minilm.group_teacher_heads(attention)
    assert grouped.shape == (1, 4, 3, 3)
    assert torch.allclose(grouped[0, 1], attention[0, 3:6].mean(0))
    assert torch.allclose(grouped.sum(-1), torch.ones(1, 4, 3))
    more = build_layer_map(2, 2, 8, 4, 64, 64).group_teacher_heads(attention[:, :4])
    assert torch.equal(more[0, 0], more[0, 1])
    with pytest.raises(UserInputError, match="inter-block width"):
        build_layer_map(4, 6, 4, 12, 256, 384)
    assert build_layer_map(4, 6, 4, 12, 256, 384, projection=True).projection
    with pytest.raises(UserInputError, match="heads"):
        build_layer_map(4, 6, 5, 12, 384, 384)
