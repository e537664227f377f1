"""`Arch`: one MobileBERT-family architecture, as an immutable, validated value.

Field names follow `transformers.MobileBertConfig` so that an `Arch` and an HF config say the same
thing in the same words. Four fields may be per-layer (a tuple with one value per layer) for
heterogeneous stacks: `intra_bottleneck_size`, `intermediate_size`, `num_attention_heads`,
`num_feedforward_networks`. Such stacks can be counted and latency-predicted, but not exported to
`MobileBertConfig` (HF builds identical layers).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from nas_common.paths import read_json
from nas_common.writing import dumps_json, write_text
from search_spaces import counting
from search_spaces.family import (
    MAX_POSITION_EMBEDDINGS,
    PER_LAYER_FIELDS,
    TYPE_VOCAB_SIZE,
    VOCAB_SIZE,
    check_limit,
)
from search_spaces.hf_config import check_redundant, split_fields

__all__ = ["ACTIVATIONS", "MAX_POSITION_EMBEDDINGS", "NORMALIZATION_TYPES", "PER_LAYER_FIELDS", "TYPE_VOCAB_SIZE",
           "VOCAB_SIZE", "Arch"]
NORMALIZATION_TYPES = ("no_norm", "layer_norm")
ACTIVATIONS = ("relu", "gelu")

LayerValue = int | tuple[int, ...]


@dataclass(frozen=True)
class Arch:
    """A MobileBERT-family architecture. Defaults are the official MobileBERT (paper Table 1)."""

    num_hidden_layers: int = 24
    hidden_size: int = 512
    intra_bottleneck_size: LayerValue = 128
    use_bottleneck: bool = True
    num_attention_heads: LayerValue = 4
    intermediate_size: LayerValue = 512
    num_feedforward_networks: LayerValue = 4
    embedding_size: int = 128
    trigram_input: bool = True
    key_query_shared_bottleneck: bool = True
    use_bottleneck_attention: bool = False
    normalization_type: str = "no_norm"
    hidden_act: str = "relu"
    vocab_size: int = field(default=VOCAB_SIZE, compare=True)

    def __post_init__(self) -> None:
        for name in PER_LAYER_FIELDS:
            value = getattr(self, name)
            if isinstance(value, list):
                value = tuple(value)
            if isinstance(value, tuple) and len(set(value)) == 1 and len(value) == self.num_hidden_layers:
                value = value[0]  # a uniform per-layer list is the plain value
            object.__setattr__(self, name, value)
        if not self.use_bottleneck:
            # Without a bottleneck these fields have no effect; one canonical form keeps equality meaningful.
            object.__setattr__(self, "intra_bottleneck_size", self.hidden_size)
            object.__setattr__(self, "key_query_shared_bottleneck", False)
            object.__setattr__(self, "use_bottleneck_attention", False)
        self._validate()

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        def positive_int(name: str, value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise UserInputError(f"{name} must be a positive integer, got {value!r}")
            check_limit(name, value)

        for name in ("num_hidden_layers", "hidden_size", "embedding_size", "vocab_size"):
            positive_int(name, getattr(self, name))
        for name in PER_LAYER_FIELDS:
            value = getattr(self, name)
            if isinstance(value, tuple):
                if not value:
                    raise UserInputError(f"{name} is an empty list; give one value, or one per layer")
                if len(value) != self.num_hidden_layers:
                    raise UserInputError(
                        f"{name} has {len(value)} per-layer values but the model has "
                        f"{self.num_hidden_layers} layers"
                    )
                for v in value:
                    positive_int(name, v)
            else:
                positive_int(name, value)
        for name in ("use_bottleneck", "trigram_input", "key_query_shared_bottleneck",
                     "use_bottleneck_attention"):
            if not isinstance(getattr(self, name), bool):
                raise UserInputError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.normalization_type not in NORMALIZATION_TYPES:
            raise UserInputError(
                f"normalization_type must be one of {', '.join(NORMALIZATION_TYPES)}, "
                f"got {self.normalization_type!r}"
            )
        if self.hidden_act not in ACTIVATIONS:
            raise UserInputError(f"hidden_act must be one of {', '.join(ACTIVATIONS)}, got {self.hidden_act!r}")
        if self.use_bottleneck:
            if self.key_query_shared_bottleneck and self.use_bottleneck_attention:
                raise UserInputError(
                    "choose one attention form: key_query_shared_bottleneck or use_bottleneck_attention, not both"
                )
            if not (self.key_query_shared_bottleneck or self.use_bottleneck_attention):
                for i in range(self.num_hidden_layers):
                    if self.layer_value("intra_bottleneck_size", i) != self.hidden_size:
                        raise UserInputError(
                            "with a bottleneck narrower or wider than hidden_size, attention needs "
                            "key_query_shared_bottleneck or use_bottleneck_attention (HF MobileBERT would "
                            "feed the hidden_size stream into bottleneck-sized query/key layers)"
                        )
        for i in range(self.num_hidden_layers):
            width = self.layer_value("intra_bottleneck_size", i)
            heads = self.layer_value("num_attention_heads", i)
            if width % heads:
                raise UserInputError(
                    f"layer {i}: {heads} attention heads do not divide the attention width {width}"
                )

    # ------------------------------------------------------------------ per-layer access
    @property
    def is_uniform(self) -> bool:
        return not any(isinstance(getattr(self, name), tuple) for name in PER_LAYER_FIELDS)

    def layer_value(self, name: str, layer: int) -> int:
        value = getattr(self, name)
        return value[layer] if isinstance(value, tuple) else value

    def true_hidden_size(self, layer: int = 0) -> int:
        """Width inside a block: the bottleneck width, or the inter-block width without a bottleneck."""
        return self.layer_value("intra_bottleneck_size", layer) if self.use_bottleneck else self.hidden_size

    def attention_form(self) -> str:
        """`kq_shared`, `bottleneck` (Q, K, V from the bottleneck) or `full` (no bottleneck)."""
        if not self.use_bottleneck:
            return "full"
        return "bottleneck" if self.use_bottleneck_attention else "kq_shared"

    def structural_key(self) -> tuple[str, str, str, bool, bool]:
        """The choices that change the kernel graph rather than its shapes."""
        return (self.normalization_type, self.hidden_act, self.attention_form(), self.use_bottleneck,
                self.trigram_input)

    def replace(self, **changes: Any) -> Arch:
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for name in PER_LAYER_FIELDS:
            if isinstance(out[name], tuple):
                out[name] = list(out[name])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "arch") -> Arch:
        """Arch fields, or a transformers MobileBertConfig dict (its other fields ignored, redundant ones
        checked: see `hf_config`)."""
        if not isinstance(data, dict):
            raise UserInputError(f"{source}: expected a JSON object of Arch fields or a transformers config")
        fields, redundant = split_fields(data, [f.name for f in dataclasses.fields(cls)], source)
        try:
            arch = cls(**fields)
        except (UserInputError, TypeError) as err:
            raise UserInputError(f"{source}: {err}") from None
        check_redundant(arch, redundant, source)
        return arch

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def save(self, path: str | Path) -> None:
        write_text(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Arch:
        data = read_json(path)
        if isinstance(data, dict) and "arch" in data and isinstance(data["arch"], dict):
            data = data["arch"]  # an exported arch file may wrap the fields
        return cls.from_dict(data, source=str(path))

    # ------------------------------------------------------------------ transformers round-trip
    def to_hf_config(self, **extra: Any):
        """A `transformers.MobileBertConfig`; eager attention so attention maps can be returned."""
        from transformers import MobileBertConfig

        config = MobileBertConfig(**{**self.hf_config_fields(), **extra})
        config._attn_implementation = extra.get("attn_implementation", "eager")
        return config

    def hf_config_fields(self) -> dict[str, Any]:
        """The `MobileBertConfig` arguments of this arch (every other field keeps transformers' default)."""
        if not self.is_uniform:
            raise UserInputError("a per-layer (heterogeneous) arch has no MobileBertConfig equivalent")
        fields: dict[str, Any] = {name: getattr(self, name) for name in (f.name for f in dataclasses.fields(self))}
        fields["true_hidden_size"] = self.true_hidden_size()
        return fields

    def save_hf_config(self, directory: str | Path) -> Path:
        """`config.json` that `transformers` loads as this arch's `MobileBertConfig`, written without importing
        transformers (its import is 5 s of a 7 s `nas search`): `model_type` and the arch's own fields; a
        loader fills the rest with the defaults `to_hf_config()` uses (tests/test_arch.py checks both agree)."""
        path = Path(directory) / "config.json"
        write_text(path, dumps_json({"model_type": "mobilebert", **self.hf_config_fields()}, sort_keys=True) + "\n")
        return path

    @classmethod
    def from_hf_config(cls, config: Any) -> Arch:
        """The arch of a `transformers.MobileBertConfig` (checked like its config.json)."""
        return cls.from_dict(config.to_dict(), source="config")

    # ------------------------------------------------------------------ counting
    def num_params(self, include_pooler: bool = True) -> int:
        return counting.count_params(self, include_pooler=include_pooler)

    def params_breakdown(self, include_pooler: bool = True) -> dict[str, int]:
        return counting.params_by_part(self, include_pooler=include_pooler)

    def flops(self, seq_len: int = 128) -> int:
        return sum(counting.flops_by_part(self, seq_len).values())

    def flops_breakdown(self, seq_len: int = 128) -> dict[str, int]:
        return counting.flops_by_part(self, seq_len)

    def mha_ffn_param_ratio(self) -> float:
        return counting.mha_ffn_param_ratio(self)
