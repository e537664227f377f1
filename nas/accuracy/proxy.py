"""`proxy`: a training-free accuracy estimate in [0, 1] from the architecture alone.

Rationale:
- Size. At a fixed training recipe, transformer quality grows roughly log-linearly with the number of
  non-embedding ("body") parameters (Kaplan et al. 2020, "Scaling laws for neural language models", §3);
  embeddings are a lookup and add little. The size term maps log10(body parameters) from 1e5 (→ 0) to
  1e9 (→ 1).
- Balance. The MobileBERT paper (Sun et al., ACL 2020, §4.1 and Table 2) found that at a fixed size accuracy
  peaks when the MHA:FFN parameter ratio is 0.4–0.6. Outside that band we subtract a penalty that grows with
  the squared distance in log space; its weight (0.03 per ln² unit: a ratio of 0.1 costs as much as 1.7× fewer
  parameters) is our choice, not the paper's.
- Operators. The paper's "w/o OPT" MobileBERT (LayerNorm + gelu instead of NoNorm + relu) scores 0.8 GLUE
  points higher (78.5 vs 77.7, Table 4 of the paper), and MobileBERT-TINY at 0.6× the parameters of
  MobileBERT scores 1.9 points lower (75.8 vs 77.7), i.e. 1 GLUE point ≈ 0.029 size units; so LayerNorm and
  gelu add 0.012 each (0.024 together ≈ 0.8 points).
- Heads. Attention heads add no parameters, so the size term cannot see them, while the latency model
  charges for every head: a proxy blind to heads drives the search to one head per layer. MobileBERT and its
  IB-BERT teacher both use 4 heads (paper Table 1); we treat 4 or more as no loss and subtract 0.015 (about
  half a GLUE point on the scale above) per halving below 4. The weight is our choice, not the paper's.

How well this ranks real archs: `benchmarks/accuracy_proxy.py` trains 12 tiny archs (0.09–0.8 M body
parameters, 2–4 layers, width 128) on MLM over WikiText-2 and correlates. Measured (2 shared CPU cores):
Spearman(proxy, −loss) = −0.03 after 120 steps and −0.63 after 600 steps (benchmarks/results/
accuracy_proxy_120steps.json, accuracy_proxy.json). At that compute every model is still near the bigram
stage (losses within 4.62–4.69) and the smaller ones converge faster, so this signal does NOT validate the
proxy; a meaningful check needs larger models trained for longer (or the distillation estimator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from search_spaces.arch import Arch

SIZE_LOG10_LOW, SIZE_LOG10_HIGH = 5.0, 9.0
RATIO_BAND = (0.4, 0.6)  # MobileBERT paper §4.1
RATIO_PENALTY = 0.03
OPERATOR_BONUS = {"layer_norm": 0.012, "gelu": 0.012}  # from the paper's w/o-OPT row, see the module text
FULL_HEADS = 4  # MobileBERT and IB-BERT use 4 heads (paper Table 1)
HEAD_PENALTY = 0.015  # per halving below FULL_HEADS; our choice


def heads_penalty(arch: Arch) -> float:
    """Mean over layers of HEAD_PENALTY · log2(4 / heads) for layers with fewer than 4 heads."""
    layers = range(arch.num_hidden_layers)
    halvings = [max(math.log2(FULL_HEADS / arch.layer_value("num_attention_heads", i)), 0.0) for i in layers]
    return HEAD_PENALTY * sum(halvings) / len(halvings)


def body_params(arch: Arch) -> int:
    """Parameters outside the embedding table and the pooler."""
    parts = arch.params_breakdown(include_pooler=False)
    return sum(count for part, count in parts.items() if part not in ("embedding", "pooler"))


def ratio_distance(ratio: float) -> float:
    """Distance of ln(ratio) from the band [ln 0.4, ln 0.6]; 0 inside it."""
    low, high = (math.log(b) for b in RATIO_BAND)
    value = math.log(max(ratio, 1e-9))
    return max(low - value, 0.0, value - high)


@lru_cache(maxsize=1 << 18)
def proxy_score(arch: Arch) -> float:
    size = (math.log10(max(body_params(arch), 1)) - SIZE_LOG10_LOW) / (SIZE_LOG10_HIGH - SIZE_LOG10_LOW)
    score = size - RATIO_PENALTY * ratio_distance(arch.mha_ffn_param_ratio()) ** 2
    score -= heads_penalty(arch)
    score += OPERATOR_BONUS.get(arch.normalization_type, 0.0) + OPERATOR_BONUS.get(arch.hidden_act, 0.0)
    return float(min(max(score, 0.0), 1.0))


class ProxyEstimator:
    name = "proxy"
    version = "2"
    # measured by benchmarks/accuracy_proxy.py (benchmarks/results/accuracy_proxy.json); update with it
    quality = "Spearman -0.46 vs quality (-MLM loss) of 12 tiny archs trained 600 steps"

    def estimate(self, archs: Sequence[Arch]) -> np.ndarray:
        return np.fromiter((proxy_score(a) for a in archs), dtype=float, count=len(archs))
