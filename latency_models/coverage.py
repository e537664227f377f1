"""Structural variants: which kinds of block a search space holds and which a calibration set covers.

The cost model shares its parameters across variants, but each variant runs other kernels (a block without
bottleneck has no bottleneck matmuls; LayerNorm and gelu are other element-wise ops), so a calibration set
without any arch of a variant leaves that variant's predictions extrapolated (issue 12: one no-bottleneck
arch in 15 left the no-bottleneck archs off). Coverage is counted per value of each structural dimension.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from search_spaces.space import NO_BOTTLENECK, SearchSpace

FORM_NAMES = {"full": "full (no bottleneck)", "kq_shared": "kq_shared (shared Q/K bottleneck)",
              "bottleneck": "bottleneck (Q, K, V from the bottleneck)"}


def arch_values(arch: Any) -> set[tuple[str, Any]]:
    """The structural values of one arch: (dimension, value) pairs."""
    return {("attention form", arch.attention_form()), ("normalization", arch.normalization_type),
            ("activation", arch.hidden_act), ("trigram input", bool(arch.trigram_input))}


def space_values(space: SearchSpace) -> set[tuple[str, Any]]:
    """The structural values a search space holds."""

    def choices(key: str, default: Any) -> tuple[Any, ...]:
        return space.dimensions.get(key, (space.fixed.get(key, default),))

    bottlenecks = choices("intra_bottleneck_size", 128)
    uses = space.fixed.get("use_bottleneck", True)
    forms: set[Any] = set()
    if NO_BOTTLENECK in bottlenecks or uses is False:
        forms.add("full")
    if uses is not False and any(b != NO_BOTTLENECK for b in bottlenecks):
        forms.update(choices("attention_form", "kq_shared"))
    out = {("attention form", f) for f in forms}
    out |= {("normalization", v) for v in choices("normalization_type", "no_norm")}
    out |= {("activation", v) for v in choices("hidden_act", "relu")}
    out |= {("trigram input", bool(v)) for v in choices("trigram_input", True)}
    return out


def covered(archs: Iterable[Any]) -> set[tuple[str, Any]]:
    out: set[tuple[str, Any]] = set()
    for a in archs:
        out |= arch_values(a)
    return out


def describe(value: tuple[str, Any]) -> str:
    dim, v = value
    return f"{dim} {FORM_NAMES.get(v, v) if dim == 'attention form' else v!r}".replace("'", "")


def gaps(archs: Iterable[Any], space: SearchSpace) -> list[str]:
    """One warning per structural value of `space` that no arch of `archs` has."""
    missing = sorted(space_values(space) - covered(archs), key=str)
    return [f"no calibration row has {describe(v)}, which search space {space.name!r} contains: predictions for "
            "those archs are extrapolated (measure one; `nas calibrate --suggest` picks them)" for v in missing]
