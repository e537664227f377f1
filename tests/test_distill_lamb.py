"""What LAMB promises, on any CPU (no assertion on where a chaotic trajectory ends).

The expected values are computed here from the official MobileBERT LAMB (google-research/google-research
`mobilebert/lamb_optimizer.py`): β1 0.9, β2 0.999, ε 1e-6, no bias correction, u = m/(√v+ε) + wd·w, step
lr·(‖w‖/‖u‖)·u; `LayerNorm`, `layer_norm`, `bias` take neither decay nor the trust ratio.
"""

from __future__ import annotations

import re

import pytest
import torch

from nas.distill.lamb import Lamb
from nas.distill.schedules import Phase, param_groups

BETA1, BETA2, EPS = 0.9, 0.999, 1e-6  # official code's literals


def _one_step(w0: torch.Tensor, grad: torch.Tensor, **group: object) -> torch.Tensor:
    w = torch.nn.Parameter(w0.clone())
    opt = Lamb([{"params": [w], **group}], lr=0.01, weight_decay=0.0)
    w.grad = grad.clone()
    opt.step()
    return w.detach() - w0


def _adam_direction(grad: torch.Tensor) -> torch.Tensor:
    m, v = (1 - BETA1) * grad, (1 - BETA2) * grad * grad  # first step, no bias correction
    return m / (v.sqrt() + EPS)


def test_one_step_moves_lr_times_weight_norm_along_the_update() -> None:
    torch.manual_seed(0)
    w0, grad = torch.randn(50) * 3, torch.randn(50)
    delta = _one_step(w0, grad)
    assert float(delta.norm()) == pytest.approx(0.01 * float(w0.norm()), rel=1e-5)
    expected = -_adam_direction(grad)
    assert torch.allclose(delta / delta.norm(), expected / expected.norm(), atol=1e-6)


def test_weight_decay_is_decoupled_from_the_moments() -> None:
    torch.manual_seed(1)
    w0, grad = torch.randn(20), torch.randn(20)
    delta = _one_step(w0, grad, weight_decay=0.5)
    update = _adam_direction(grad) + 0.5 * w0
    expected = -0.01 * float(w0.norm()) * update / update.norm()
    assert torch.allclose(delta, expected, atol=1e-6)
    w = torch.nn.Parameter(w0.clone())  # a zero gradient: decay still acts, the moments stay zero
    opt = Lamb([w], lr=0.01, weight_decay=0.5)
    w.grad = torch.zeros_like(w)
    opt.step()
    assert torch.count_nonzero(opt.state[w]["exp_avg"]) == 0 and torch.count_nonzero(opt.state[w]["exp_avg_sq"]) == 0
    assert torch.allclose(w.detach(), w0 * (1 - 0.01), atol=1e-6)  # trust ratio makes the step lr·w


def test_lr_mult_scales_the_step() -> None:
    torch.manual_seed(2)
    w0, grad = torch.randn(10), torch.randn(10)
    assert torch.allclose(_one_step(w0, grad, lr_mult=3.0), 3 * _one_step(w0, grad), atol=1e-7)
    assert torch.allclose(_one_step(w0, grad, lr_mult=0.3), 0.3 * _one_step(w0, grad), atol=1e-7)


def test_a_bias_with_the_trust_ratio_off_moves_by_lr_m_over_sqrt_v() -> None:
    torch.manual_seed(3)
    b0, grad = torch.full((8,), 1e-3), torch.randn(8)
    delta = _one_step(b0, grad, trust_ratio=False)
    assert torch.allclose(delta, -0.01 * _adam_direction(grad), atol=1e-7)
    with_trust = _one_step(b0, grad)  # what the trust ratio would do: a step of lr·‖b‖, 1e3× smaller
    assert float(with_trust.norm()) == pytest.approx(0.01 * float(b0.norm()), rel=1e-5)


def test_no_bias_correction_by_default() -> None:
    grad = torch.tensor([2.0, -1.0])
    corrected = _one_step(torch.zeros(2), grad, trust_ratio=False, bias_correction=True)
    assert torch.allclose(corrected, -0.01 * grad.sign(), atol=1e-6)  # m̂/√v̂ = sign(g) at step 1
    plain = _one_step(torch.zeros(2), grad, trust_ratio=False)
    assert torch.allclose(plain, -0.01 * 0.1 / 0.001**0.5 * grad.sign(), atol=1e-5)


def test_converges_with_a_decaying_learning_rate() -> None:
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(10) + 3)
    start = float((w.detach() - 1).norm())
    opt = Lamb([w], lr=0.05, weight_decay=0.0)
    steps = 400
    for step in range(steps):
        opt.param_groups[0]["lr"] = 0.05 * (1 - step / steps)
        opt.zero_grad()
        ((w - 1.0) ** 2).sum().backward()
        opt.step()
    assert float((w.detach() - 1).norm()) < 0.05 * start  # tolerant: the end point itself is not asserted


def test_param_groups_exclude_norms_and_biases_from_decay_and_trust_ratio() -> None:
    from tests.distill_helpers import tiny_models

    _, student = tiny_models()
    named = list(student.named_parameters())
    groups = param_groups(named, Phase("pd", "pd", 1), weight_decay=0.01)
    by_id = {id(p): g for g in groups for p in g["params"]}
    official = re.compile(r"LayerNorm|layer_norm|bias")  # lamb_optimizer.py's exclusion list
    assert any(official.search(n) for n, _ in named) and any(not official.search(n) for n, _ in named)
    for name, param in named:
        group = by_id[id(param)]
        if official.search(name):
            assert group["weight_decay"] == 0.0 and group["trust_ratio"] is False, name
        else:
            assert group["weight_decay"] == 0.01 and group["trust_ratio"] is True, name
