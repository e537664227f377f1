"""Exact parameter counts and FLOPs of an `Arch`, part by part.

Parameters are counted module by module exactly as `transformers.MobileBertModel` builds them (the
tests compare with the instantiated model). FLOPs follow the paper's convention: a multiply-add is
2 FLOPs; every matmul is counted, including the attention score and context matmuls. Element-wise
work (bias adds, norms, activations, softmax, residual adds) is counted in `elementwise` with the
per-element costs below; it is about 1-2 % of the total for MobileBERT.
"""

from __future__ import annotations

from typing import Protocol

from search_spaces.family import MAX_POSITION_EMBEDDINGS, TYPE_VOCAB_SIZE


class Arch(Protocol):
    """What counting reads of an architecture (`search_spaces.arch.Arch` is one; this module does not
    import it, so `arch.py` can import this one at the top without a cycle)."""

    num_hidden_layers: int
    hidden_size: int
    embedding_size: int
    vocab_size: int
    trigram_input: bool
    use_bottleneck: bool
    key_query_shared_bottleneck: bool
    use_bottleneck_attention: bool
    normalization_type: str
    hidden_act: str

    def layer_value(self, name: str, layer: int) -> int: ...

    def true_hidden_size(self, layer: int = 0) -> int: ...

# FLOPs per element of the element-wise ops (a convention; documented in the README).
NORM_FLOPS = {"no_norm": 2, "layer_norm": 7}  # NoNorm: γ∘h+β; LayerNorm: mean, centre, var, scale, affine
ACT_FLOPS = {"relu": 1, "gelu": 8}  # gelu through erf counted as a handful of ops
SOFTMAX_FLOPS = 5  # max, subtract, exp, sum, divide
COUNT_PARTS = ("embedding", "bottlenecks", "attention_projections", "attention_matmuls", "ffn", "elementwise",
         "pooler")


def _linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def params_by_part(arch: Arch, include_pooler: bool = True) -> dict[str, int]:
    hidden = arch.hidden_size
    parts = dict.fromkeys(COUNT_PARTS, 0)
    embed_in = arch.embedding_size * (3 if arch.trigram_input else 1)
    parts["embedding"] = (
        arch.vocab_size * arch.embedding_size
        + MAX_POSITION_EMBEDDINGS * hidden
        + TYPE_VOCAB_SIZE * hidden
        + _linear(embed_in, hidden)
        + 2 * hidden  # embedding norm (NoNorm and LayerNorm both have a weight and a bias)
    )
    for layer in range(arch.num_hidden_layers):
        width = arch.true_hidden_size(layer)
        ffn_width = arch.layer_value("intermediate_size", layer)
        n_ffn = arch.layer_value("num_feedforward_networks", layer)
        if arch.use_bottleneck:
            bottleneck_layer = _linear(hidden, width) + 2 * width
            parts["bottlenecks"] += bottleneck_layer  # input bottleneck
            if arch.key_query_shared_bottleneck:
                parts["bottlenecks"] += bottleneck_layer  # shared query/key bottleneck
            parts["bottlenecks"] += _linear(width, hidden) + 2 * hidden  # output bottleneck
        value_in = width if arch.use_bottleneck_attention else hidden
        parts["attention_projections"] += 2 * _linear(width, width) + _linear(value_in, width)
        parts["attention_projections"] += _linear(width, width)  # attention output dense
        parts["elementwise"] += 2 * width  # attention output norm
        parts["ffn"] += n_ffn * (_linear(width, ffn_width) + _linear(ffn_width, width))
        parts["elementwise"] += n_ffn * 2 * width  # one norm after each FFN
    if include_pooler:
        parts["pooler"] = _linear(hidden, hidden)
    return parts


def count_params(arch: Arch, include_pooler: bool = True) -> int:
    return sum(params_by_part(arch, include_pooler).values())


def flops_by_part(arch: Arch, seq_len: int = 128) -> dict[str, int]:
    tokens = seq_len
    hidden = arch.hidden_size
    norm = NORM_FLOPS[arch.normalization_type]
    act = ACT_FLOPS[arch.hidden_act]
    parts = dict.fromkeys(COUNT_PARTS, 0)

    def matmul(n_in: int, n_out: int) -> int:
        return 2 * tokens * n_in * n_out

    embed_in = arch.embedding_size * (3 if arch.trigram_input else 1)
    parts["embedding"] = matmul(embed_in, hidden)
    parts["elementwise"] += tokens * hidden * (1 + 2 + norm)  # bias, + position + token type, norm
    for layer in range(arch.num_hidden_layers):
        width = arch.true_hidden_size(layer)
        ffn_width = arch.layer_value("intermediate_size", layer)
        n_ffn = arch.layer_value("num_feedforward_networks", layer)
        elementwise = 0
        if arch.use_bottleneck:
            n_in_bottlenecks = 2 if arch.key_query_shared_bottleneck else 1
            parts["bottlenecks"] += n_in_bottlenecks * matmul(hidden, width) + matmul(width, hidden)
            elementwise += n_in_bottlenecks * tokens * width * (1 + norm)  # bias + norm
            elementwise += tokens * hidden * (1 + 1 + norm)  # output bottleneck: bias, residual, norm
        value_in = width if arch.use_bottleneck_attention else hidden
        parts["attention_projections"] += 3 * matmul(width, width) + matmul(value_in, width)
        elementwise += 4 * tokens * width  # q, k, v, output biases
        parts["attention_matmuls"] += 2 * 2 * tokens * tokens * width  # Q·Kᵀ and P·V over all heads
        heads = arch.layer_value("num_attention_heads", layer)
        elementwise += heads * tokens * tokens * (1 + 1 + SOFTMAX_FLOPS)  # scale, mask add, softmax
        elementwise += tokens * width * (1 + norm)  # attention residual + norm
        parts["ffn"] += n_ffn * (matmul(width, ffn_width) + matmul(ffn_width, width))
        elementwise += n_ffn * tokens * (ffn_width * (1 + act) + width * (1 + 1 + norm))
        parts["elementwise"] += elementwise
    parts["pooler"] = 2 * hidden * hidden + 2 * hidden  # first token only, tanh counted as one op
    return parts


def mha_ffn_param_ratio(arch: Arch) -> float:
    """Parameters that exist only for attention (Q, K, V, output, shared Q/K bottleneck) over FFN ones.

    The paper (MobileBERT §4.1, Table 2) found accuracy peaks for a ratio of 0.4-0.6 at fixed size.
    """
    hidden = arch.hidden_size
    mha = 0
    for layer in range(arch.num_hidden_layers):
        width = arch.true_hidden_size(layer)
        value_in = width if arch.use_bottleneck_attention else hidden
        mha += 3 * _linear(width, width) + _linear(value_in, width)
        if arch.use_bottleneck and arch.key_query_shared_bottleneck:
            mha += _linear(hidden, width)
    ffn = params_by_part(arch)["ffn"]
    return mha / ffn
