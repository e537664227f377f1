"""A supernet's search space: a `SearchSpace` whose shape dimensions vary and whose other choices are fixed.

Shape dimensions (sliced from one set of weights): depth, bottleneck width (or "none"), heads, FFN width and
the number of stacked FFNs. Everything else — inter-block width (the teacher's: feature-map transfer needs
equal widths, MobileBERT §3.1), embedding size, trigram input, normalisation, activation and attention form —
is a property of the supernet and has exactly one choice. The maxima of the shape dimensions are the
supernet's weights (`supernet_arch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from nas_common.io import loads_json
from search_spaces.arch import Arch
from search_spaces.presets import resolve_arch
from search_spaces.space import NO_BOTTLENECK, SearchSpace

SHAPE_DIMENSIONS = ("num_hidden_layers", "intra_bottleneck_size", "num_attention_heads", "intermediate_size",
                    "num_feedforward_networks")
DEFAULT_SPACE = Path(__file__).parent / "data" / "minilm-384.toml"


@dataclass(frozen=True)
class Maxima:
    layers: int
    hidden: int  # inter-block width (fixed)
    inner: int  # widest intra-block width: the largest bottleneck, or hidden_size where "none" is a choice
    intermediate: int
    ffns: int
    use_bottleneck: bool  # some choice has a bottleneck


def load_space(path: str | Path | None) -> SearchSpace:
    """The space file (default: the small CPU space at the MiniLM width), checked to be a supernet space."""
    return check_space(SearchSpace.load(path or DEFAULT_SPACE))


def check_space(space: SearchSpace) -> SearchSpace:
    for key, values in space.dimensions.items():
        if key not in SHAPE_DIMENSIONS and len(values) != 1:
            raise UserInputError(f"space {space.name!r}: {key} has {len(values)} choices; a supernet fixes it "
                                 f"(only {', '.join(SHAPE_DIMENSIONS)} may vary)")
    for key in SHAPE_DIMENSIONS:
        if key in space.dimensions and key != "intra_bottleneck_size" and not all(
                isinstance(c, int) and not isinstance(c, bool) for c in space.dimensions[key]):
            raise UserInputError(f"space {space.name!r}: {key} choices must be integers")
    return space


def choices(space: SearchSpace, key: str) -> tuple[Any, ...]:
    """The values a space allows for `key` (its one fixed value where it does not vary)."""
    if key in space.dimensions:
        return space.dimensions[key]
    return (space.fixed.get(key, getattr(Arch(), key)),)


def maxima(space: SearchSpace) -> Maxima:
    hidden = choices(space, "hidden_size")[0]
    widths = choices(space, "intra_bottleneck_size")
    ints = [w for w in widths if w != NO_BOTTLENECK]
    if "intra_bottleneck_size" not in space.dimensions and space.fixed.get("use_bottleneck") is False:
        ints = []
    inner = max([*ints, *([hidden] if len(ints) < len(widths) or not ints else [])])
    return Maxima(max(choices(space, "num_hidden_layers")), hidden, inner,
                  max(choices(space, "intermediate_size")), max(choices(space, "num_feedforward_networks")),
                  bool(ints))


def supernet_arch(space: SearchSpace) -> Arch:
    """The arch whose `MobileBertForPreTraining` holds the supernet's weights (one head: heads only regroup
    the attention width, they own no weights)."""
    m = maxima(space)
    base = space.to_arch({k: c[0] for k, c in space.dimensions.items()})
    return base.replace(num_hidden_layers=m.layers, intra_bottleneck_size=m.inner, use_bottleneck=m.use_bottleneck,
                        num_attention_heads=1, intermediate_size=m.intermediate, num_feedforward_networks=m.ffns,
                        key_query_shared_bottleneck=m.use_bottleneck and base.attention_form() != "bottleneck",
                        use_bottleneck_attention=m.use_bottleneck and base.attention_form() == "bottleneck")


def _extreme(space: SearchSpace, pick: Any) -> Arch:
    point = {}
    for key, values in space.dimensions.items():
        if key == "intra_bottleneck_size":
            point[key] = pick(values, key=lambda c: maxima(space).hidden if c == NO_BOTTLENECK else c)
        elif key != "num_attention_heads":
            point[key] = pick(values)
    heads = sorted(choices(space, "num_attention_heads"), reverse=pick is max)
    for h in heads:  # the most (largest) or fewest (smallest) heads that divide the attention width
        try:
            return space.to_arch({**point, "num_attention_heads": h} if "num_attention_heads" in space.dimensions
                                 else point)
        except UserInputError:
            continue
    raise UserInputError(f"space {space.name!r}: no head count divides the {pick.__name__} attention width")


def largest(space: SearchSpace) -> Arch:
    """Every shape dimension at its maximum ("none" counts as the widest bottleneck), the most heads."""
    return _extreme(space, max)


def smallest(space: SearchSpace) -> Arch:
    return _extreme(space, min)


def require_member(space: SearchSpace, arch: Arch) -> Arch:
    """`arch` itself, or a one-line error saying which choice the supernet does not have."""
    if space.contains(arch):
        return arch
    width = largest(space).hidden_size
    if arch.hidden_size != width:  # the first thing to say: no choice of depth or heads can mend it
        raise UserInputError(f"arch is outside the supernet's space {space.name!r}: hidden_size {arch.hidden_size} "
                             f"is not the supernet's {width} (its teacher's width)")
    try:
        point = space.to_point(arch)
    except UserInputError as err:
        raise UserInputError(f"arch is outside the supernet's space {space.name!r}: {err}") from None
    differing = [k for k, v in space.to_arch(point).to_dict().items() if arch.to_dict()[k] != v]
    raise UserInputError(f"arch is outside the supernet's space {space.name!r}: "
                         f"{', '.join(f'{k}={arch.to_dict()[k]!r}' for k in differing)} not a supernet choice")


def resolve_supernet_arch(text: str, space: SearchSpace) -> Arch:
    """`--arch`: inline JSON of space choices (missing ones at the supernet's maxima), else any arch reference."""
    if text.lstrip().startswith("{"):
        choices = loads_json(text, "--arch")
        if not isinstance(choices, dict) or any(k not in space.dimensions for k in choices):
            raise UserInputError(f"--arch: inline JSON must map space dimensions ({', '.join(space.dimensions)}) "
                                 "to choices")
        point = {**space.to_point(largest(space)), **choices}
        for key, value in point.items():
            if value not in space.dimensions[key]:
                raise UserInputError(f"--arch: {key}={value!r} is not a choice of the supernet's space (choices: "
                                     f"{', '.join(map(str, space.dimensions[key]))})")
        return space.to_arch(point)
    return require_member(space, resolve_arch(text))
