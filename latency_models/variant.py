"""What changes a kernel graph (not its sizes): the structural variant of an arch on a runtime, and the parts.

The network is lowered per *part* so that a per-layer (heterogeneous) stack is a sum over layers of parts
evaluated at that layer's sizes (`graph.py` builds them, `lowering.py` lowers them). This module needs no TVM,
so a prediction from the kernel cache never imports it.

- `embed`  (tokens T, embedding E, inter-block width H): gather, trigram concat, projection, position add, norm
- `attn`   (T, H, heads n, head dim d; the block width W = n·d): input bottleneck(s), Q/K/V, attention,
  output dense + residual + norm
- `ffn`    (T, n, d, FFN width F): one feed-forward network + residual + norm (run `num_feedforward_networks`
  times per layer)
- `out`    (T, H, n, d): output bottleneck W → H + residual + norm (bottleneck variants only)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GRAPH_PARTS = ("embed", "attn", "ffn", "out")
SYMBOLS = ("T", "E", "H", "V", "n", "d", "F")  # the sizes a part's kernel formulas are written in


@dataclass(frozen=True)
class Variant:
    """What changes the kernel graph (not its sizes), including the runtime's fusion options."""

    normalization_type: str
    hidden_act: str
    attention_form: str  # kq_shared | bottleneck | full
    trigram_input: bool
    fuse_layer_norm: bool = True
    fuse_gelu: bool = True
    fuse_epilogue: bool = True
    # A dense layer's bias add runs inside the GEMM even in runtimes without epilogue fusion: PyTorch's
    # `nn.Linear` calls `addmm`, TFLite's FullyConnected takes the bias. Only `fuse_bias = false` splits it.
    fuse_bias: bool = True

    @classmethod
    def of(cls, arch: Any, lowering: dict[str, Any]) -> Variant:
        # The switches are booleans (device_profiles/schema.py refuses anything else): no bool() here, which read
        # `fuse_gelu = "no"` as true.
        return cls(arch.normalization_type, arch.hidden_act, arch.attention_form(), arch.trigram_input,
                   lowering.get("fuse_layer_norm", True), lowering.get("fuse_gelu", True),
                   lowering.get("fuse_epilogue", True), lowering.get("fuse_bias", True))

    def parts(self) -> tuple[str, ...]:
        """The parts of this variant: `out` exists with a bottleneck only."""
        return GRAPH_PARTS if self.attention_form != "full" else GRAPH_PARTS[:-1]


PART_FIELDS = {  # which variant fields change each part's kernel graph
    "embed": ("normalization_type", "trigram_input", "fuse_layer_norm", "fuse_epilogue", "fuse_bias"),
    "attn": ("normalization_type", "attention_form", "fuse_layer_norm", "fuse_epilogue", "fuse_bias"),
    "ffn": ("normalization_type", "hidden_act", "fuse_layer_norm", "fuse_gelu", "fuse_epilogue", "fuse_bias"),
    "out": ("normalization_type", "fuse_layer_norm", "fuse_epilogue", "fuse_bias"),
}


def part_key(v: Variant, part: str) -> str:
    return part + ":" + "-".join(str(getattr(v, f)) for f in PART_FIELDS[part])
