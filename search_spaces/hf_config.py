"""An arch from a `transformers` `config.json`, the user's native format, or from an arch JSON.

An HF config (it names its `model_type`) carries many fields that do not change the architecture (dropout
rates, `initializer_range`, `architectures`, `transformers_version`, ...): they are ignored. The fields that
repeat what the `Arch` fields already say are checked, never taken: `true_hidden_size` must equal the
attention width, and the position and token-type tables must be BERT's (the only ones this tool models).
A plain arch JSON (no `model_type`) may carry those redundant fields too; any other unknown field there is
a typo and an error.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from nas_common.errors import UserInputError
from search_spaces.family import MAX_POSITION_EMBEDDINGS, TYPE_VOCAB_SIZE

HF_MODEL_TYPE = "mobilebert"
HF_MARKERS = ("model_type", "architectures", "transformers_version")
REDUNDANT = {"true_hidden_size": None, "max_position_embeddings": MAX_POSITION_EMBEDDINGS,
             "type_vocab_size": TYPE_VOCAB_SIZE}


class _Widths(Protocol):
    num_hidden_layers: int

    def true_hidden_size(self, layer: int = 0) -> int: ...


def split_fields(data: dict[str, Any], arch_fields: Collection[str], source: str
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the Arch fields, the redundant fields to check) of a config or arch dict."""
    is_hf = any(marker in data for marker in HF_MARKERS)
    model_type = data.get("model_type", HF_MODEL_TYPE)
    if is_hf and model_type != HF_MODEL_TYPE:
        raise UserInputError(f"{source}: model_type {model_type!r} is not {HF_MODEL_TYPE!r}; this tool searches "
                             "and builds MobileBERT-family models (see `nas arch show bert-base --json` for BERT "
                             "written as one)")
    if not is_hf:
        unknown = sorted(set(data) - set(arch_fields) - set(REDUNDANT))
        if unknown:
            raise UserInputError(f"{source}: unknown field(s) {', '.join(unknown)} (an arch JSON holds Arch "
                                 "fields; a transformers config.json names its model_type)")
    fields = {key: value for key, value in data.items() if key in arch_fields}
    redundant = {key: data[key] for key in REDUNDANT if key in data}
    return fields, redundant


def check_redundant(arch: _Widths, redundant: dict[str, Any], source: str) -> None:
    """Reject a redundant field that contradicts the architecture."""
    for key, value in redundant.items():  # "512" (text) would read as contradicting 512
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserInputError(f"{source}: {key} must be an integer, got {value!r}")
    if "true_hidden_size" in redundant:
        value = redundant["true_hidden_size"]
        widths = sorted({arch.true_hidden_size(i) for i in range(arch.num_hidden_layers)})
        if widths != [value]:
            width = ", ".join(map(str, widths))
            raise UserInputError(f"{source}: true_hidden_size {value!r} contradicts the attention width {width} "
                                 "(intra_bottleneck_size with use_bottleneck, else hidden_size)")
    for key, expected in REDUNDANT.items():
        if expected is not None and key in redundant and redundant[key] != expected:
            raise UserInputError(f"{source}: {key} {redundant[key]!r} is not supported: this tool models "
                                 f"BERT's {key} of {expected}")
