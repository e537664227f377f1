"""LAMB (You et al., "Large Batch Optimization for Deep Learning", ICLR 2020), as the official MobileBERT
code runs it (google-research/google-research `mobilebert/lamb_optimizer.py`); torch ships none.

Per tensor: Adam moments m, v **without bias correction**; update u = m / (√v + ε); decoupled weight decay
u += wd·w; then the trust ratio ‖w‖ / ‖u‖ (1 where either norm is zero), so one step moves w by lr·‖w‖
along u. Parameters whose name contains `LayerNorm`, `layer_norm` or `bias` are excluded from weight decay
**and** from the trust ratio (`excluded`; HF's NoNorm parameters are named `LayerNorm` too, as the official
`FakeLayerNorm`): they move by lr·m/(√v + ε), as Adam without decay. Each param group may carry `lr_mult`
(PKT's ×3 / ×0.3), `weight_decay` and `trust_ratio`. `bias_correction=True` gives the LAMB paper's form.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

# Official MobileBERT: LAMBOptimizer(weight_decay_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-6,
# exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"]), the same list for layer adaptation.
DEFAULT_BETAS = (0.9, 0.999)
DEFAULT_EPS = 1e-6
EXCLUDED_NAME_PARTS = ("LayerNorm", "layer_norm", "bias")


class Lamb(torch.optim.Optimizer):
    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = DEFAULT_BETAS,
                 eps: float = DEFAULT_EPS, weight_decay: float = 0.01, bias_correction: bool = False) -> None:
        if lr < 0 or eps <= 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError("invalid LAMB hyper-parameters")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "lr_mult": 1.0, "trust_ratio": True, "bias_correction": bias_correction})

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr = group["lr"] * group["lr_mult"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, dtype=torch.float32)
                    state["exp_avg_sq"] = torch.zeros_like(p, dtype=torch.float32)
                state["step"] += 1
                grad = p.grad.float()
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if group["bias_correction"]:
                    update = (v / (1 - beta2 ** state["step"])).sqrt_().add_(group["eps"])
                    update = torch.div(m, update).div_(1 - beta1 ** state["step"])
                else:
                    update = torch.div(m, v.sqrt().add_(group["eps"]))
                if group["weight_decay"]:
                    update.add_(p.float(), alpha=group["weight_decay"])
                if group["trust_ratio"]:
                    w_norm, u_norm = p.float().norm(), update.norm()
                    trust = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch.ones_like(w_norm))
                    update.mul_(trust)
                p.add_(update.to(p.dtype), alpha=-lr)
        return loss


def excluded(name: str) -> bool:
    """Biases and normalisation parameters: no weight decay and no trust ratio (official MobileBERT LAMB)."""
    return any(part in name for part in EXCLUDED_NAME_PARTS)

