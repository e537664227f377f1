"""A supernet split by bottleneck width: one elastic MobileBERT per `intra_bottleneck_size` choice.

Why: a single set of weights shared across bottleneck widths ranks the distilled students by depth and is
nearly blind to the bottleneck width, the dimension that orders them most (benchmarks/results/
supernet_rank_diagnosis.json): the leading bottleneck channels serve every width, so narrow sub-networks
score better and wide ones worse than they train standalone. Splitting the supernet on that one decision
(few-shot NAS, Zhao et al., ICML 2021, "Few-shot Neural Architecture Search") gives each width its own
weights; depth, heads and FFN width and count stay shared within a part.

On disk a split supernet is a supernet directory whose `supernet.json` has `split` and whose parts are whole
supernet directories under `parts/` (each trained by `train_one` on the space with one bottleneck choice):

    DIR/supernet.json   {"split": {"dimension": "intra_bottleneck_size", "parts": {"64": "b64", ...}}, ...}
    DIR/space.toml      the whole space (the search's restriction)
    DIR/vocab.txt
    DIR/parts/b64/      a supernet directory (weights, checkpoint.pt, losses.csv, its own space.toml)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from nas.supernet.elastic import ElasticMobileBert, SubnetView
from nas.supernet.ensemble import PARTS
from nas.supernet.space import maxima, require_member
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.space import NO_BOTTLENECK, SearchSpace

SPLITS = ("auto", "none", "bottleneck")
DEFAULT_SPLIT = "auto"  # bottleneck where the space has several widths (measured better: nas/supernet/README.md)
DIMENSION = "intra_bottleneck_size"


def part_key(arch: Arch) -> str:
    """The part an arch belongs to: its bottleneck width, or "none"."""
    return str(arch.intra_bottleneck_size) if arch.use_bottleneck else NO_BOTTLENECK


def part_name(key: str) -> str:
    return f"b{key}"


def effective_split(split: str, space: SearchSpace, init_from: str | None = None) -> str:
    """`auto`: split by bottleneck width when the space has more than one, else one set of weights; a run that
    continues a supernet (`--init-from`) keeps its one set of weights unless `--split bottleneck` is given."""
    if split != "auto":
        return split
    return "bottleneck" if len(space.dimensions.get(DIMENSION, ())) > 1 and not init_from else "none"


def check_parts(parts: tuple[str, ...], space: SearchSpace, split: str) -> None:
    """`--parts`: names of this space's parts, on a split run."""
    if not parts:
        return
    if split == "none":
        raise UserInputError("--parts needs a split supernet (--split bottleneck)")
    names = [part_name(key) for key in part_spaces(space)]
    unknown = [p for p in parts if p not in names]
    if unknown:
        raise UserInputError(f"--parts: no part {', '.join(unknown)} in this space; its parts are {', '.join(names)}")


def check_workers(workers: int, split: str, parts: tuple[str, ...], torch_device: str) -> None:
    if workers <= 1:
        return
    if split == "none":
        raise UserInputError("--workers trains a split supernet's parts at once; this run has one set of weights "
                             "(--split none, or a space with one bottleneck width): use one process, or torchrun "
                             "for data-parallel training")
    if parts:
        raise UserInputError("--workers and --parts: choose one (--workers spreads every part over processes)")
    if torch_device != "cpu":
        raise UserInputError("--workers is for CPU training; on a GPU train the parts in one process")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UserInputError("--workers under torchrun: choose one way to use several processes")


def part_spaces(space: SearchSpace) -> dict[str, SearchSpace]:
    """The space of each part: `space` with one bottleneck choice (in the order the space lists them)."""
    widths = space.dimensions.get(DIMENSION)
    if not widths or len(widths) < 2:
        raise UserInputError(f"--split bottleneck: space {space.name!r} has {len(widths or ())} bottleneck choice(s);"
                             " there is nothing to split")
    out = {}
    for width in widths:
        key = str(width)
        data = {"name": f"{space.name}-{part_name(key)}", "description": space.description,
                "dimensions": {**{k: list(v) for k, v in space.dimensions.items()}, DIMENSION: [width]},
                "fixed": dict(space.fixed)}
        out[key] = SearchSpace.from_dict(data, origin=f"{space.name} part {part_name(key)}")
    return out


def space_toml(space: SearchSpace) -> str:
    """A space as TOML text (a part's `space.toml`)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(v) if isinstance(v, str) else repr(v)

    lines = [f"name = {value(space.name)}", f"description = {value(space.description)}", "", "[dimensions]"]
    lines += [f"{k} = [{', '.join(value(c) for c in vs)}]" for k, vs in space.dimensions.items()]
    lines += ["", "[fixed]"] + [f"{k} = {value(v)}" for k, v in space.fixed.items()]
    return "\n".join(lines) + "\n"


class SplitElastic(torch.nn.Module):
    """The parts behind ElasticMobileBert's interface (space, maxima, view, extract, kept, depth order and head
    layout): every call goes to the part of the arch's bottleneck width."""

    def __init__(self, space: SearchSpace, parts: dict[str, ElasticMobileBert]) -> None:
        super().__init__()
        self.space, self.maxima = space, maxima(space)
        self.parts = torch.nn.ModuleDict({part_name(k): v for k, v in parts.items()})
        first = next(iter(parts.values()))
        self.depth_order, self.head_layout = first.depth_order, first.head_layout

    def part(self, arch: Arch) -> ElasticMobileBert:
        require_member(self.space, arch)
        return self.parts[part_name(part_key(arch))]

    def kept(self, arch: Arch) -> tuple[int, ...]:
        return self.part(arch).kept(arch)

    def view(self, arch: Arch) -> SubnetView:
        return self.part(arch).view(arch)

    def subnet_tensors(self, arch: Arch) -> dict[str, torch.Tensor]:
        return self.part(arch).subnet_tensors(arch)

    def extract(self, arch: Arch) -> Any:
        return self.part(arch).extract(arch)


def load_parts(directory: Path, meta: dict[str, Any], space: SearchSpace,
               load: Any) -> SplitElastic:
    """The split supernet at `directory` (`load(part_directory)` loads one part's elastic model)."""
    parts = meta["split"]["parts"]
    expected = {str(w) for w in space.dimensions.get(DIMENSION, ())}
    if set(parts) != expected:
        raise UserInputError(f"{directory}: its parts {sorted(parts)} are not its space's bottleneck choices")
    return SplitElastic(space, {key: load(directory / PARTS / name)[0] for key, name in parts.items()})

