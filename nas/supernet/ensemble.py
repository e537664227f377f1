"""An ensemble of supernets: one recipe trained on several seeds; an arch's estimate is the mean of theirs.

    DIR/ensemble.json   {"format": 1, "members": [absolute supernet directories]}
    DIR/space.toml      the members' common search space

Why: a supernet's ranking of the students moves with its training seed (four 1000-step supernets: Spearman 0.62
to 0.82 against the students' held-out loss), and a mean of supernets ranks 0.04–0.05 above its members' average
with less spread (benchmarks/results/supernet_seeds_s1000.json; nas/supernet/README.md): it removes seed noise,
not the supernets' shared bias. The members are scored on the same held-out batches, so their held-out losses
share one scale and are averaged as they are.

No weights of its own: `nas search --estimator supernet --supernet DIR` and `nas supernet score DIR` take an
ensemble; `nas supernet extract` and a confirmation's warm start use one member. Pure Python (no torch).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from nas_common.io import read_json, read_text
from nas_common.paths import check_output_dir
from nas_common.writing import write_json, write_text
from search_spaces.space import SearchSpace

FORMAT = 1
ENSEMBLE = "ensemble.json"
SPACE = "space.toml"
# A supernet directory's metadata file, its format, its weights' folder and a split supernet's parts folder:
# store.py and split.py write them and import these names; defined here, where reading them needs no torch.
SUPERNET_META = "supernet.json"
SUPERNET_FORMAT = 1
WEIGHTS = "weights"
PARTS = "parts"


def is_ensemble(directory: str | Path) -> bool:
    return (Path(directory) / ENSEMBLE).is_file()


def members(directory: str | Path) -> list[Path]:
    """An ensemble's member supernets, or [directory] for a single supernet; a member gone is one line."""
    directory = Path(directory)
    if not is_ensemble(directory):
        return [directory]
    record = read_json(directory / ENSEMBLE)
    try:
        listed = [Path(p) for p in record["members"]]
    except (KeyError, TypeError) as err:
        raise UserInputError(f"{directory / ENSEMBLE}: not an ensemble record ({err})") from None
    if not listed:
        raise UserInputError(f"{directory / ENSEMBLE}: lists no members (an ensemble is written by `nas supernet "
                             "ensemble` from two supernets or more)")
    for member in listed:
        if not (member / SUPERNET_META).is_file():
            raise UserInputError(f"{directory} is an ensemble whose member {member} is not a supernet directory "
                                 "any more (moved or deleted)")
    return listed


def same_space(a: SearchSpace, b: SearchSpace) -> bool:
    return a.dimensions == b.dimensions and a.fixed == b.fixed


def write_ensemble(member_dirs: Sequence[str | Path], out: str | Path, overwrite: bool = False) -> Path:
    """Check the members (at least two distinct supernets of one space) and write the ensemble directory."""
    resolved = [Path(m).resolve() for m in member_dirs]
    if len(set(resolved)) < 2:
        raise UserInputError("an ensemble needs at least two different supernet directories")
    for member in resolved:
        if is_ensemble(member):
            raise UserInputError(f"{member} is an ensemble itself; list its member supernets instead")
        if not (member / SUPERNET_META).is_file():
            raise UserInputError(f"{member} is not a supernet directory (no {SUPERNET_META}; run `nas supernet "
                                 "train`)")
    metas = [read_supernet_meta(m / SUPERNET_META) for m in resolved]
    spaces = [SearchSpace.load(m / SPACE) for m in resolved]
    for member, space in zip(resolved[1:], spaces[1:], strict=True):
        if not same_space(spaces[0], space):
            raise UserInputError(f"{member} has another search space than {resolved[0]}: an ensemble's members "
                                 "score the same archs, so they must share one space")
    _check_ensemble_out(Path(out), resolved)
    out = check_output_dir(out, overwrite, result_files=(ENSEMBLE, SPACE))
    for member, meta in zip(resolved, metas, strict=True):
        _check_weights(member, meta)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / SPACE, read_text(resolved[0] / SPACE))
    write_json(out / ENSEMBLE, {"format": FORMAT, "members": [str(m) for m in resolved]})
    return out


def _check_ensemble_out(out: Path, members: Sequence[Path]) -> None:
    """--out is a directory of its own: not a member, not inside one (its files would land among the member's),
    and not another supernet (its ensemble.json would hide that supernet's weights, its space.toml replace the
    supernet's)."""
    target = out.expanduser().resolve()
    for member in members:
        if target == member:
            raise UserInputError(f"--out {out} is one of the members; write the ensemble to its own directory")
        if member in target.parents:
            raise UserInputError(f"--out {out} is inside the member supernet {member}; write the ensemble to a "
                                 "directory outside it (nothing was changed)")
    if (target / SUPERNET_META).is_file():
        raise UserInputError(f"--out {out} is a supernet directory (it holds {SUPERNET_META}); write the ensemble "
                             "to its own directory (nothing was changed)")


def read_supernet_meta(path: Path) -> dict[str, Any]:
    """A supernet.json: a JSON object of the known format (store.read_meta and the ensemble's members)."""
    meta = read_json(path)
    if not isinstance(meta, dict):
        raise UserInputError(f"{path}: not a supernet record (expected a JSON object)")
    if meta.get("format") != SUPERNET_FORMAT:
        raise UserInputError(f"{path}: unknown supernet format {meta.get('format')!r}")
    return meta


def _check_weights(member: Path, meta: dict[str, Any]) -> None:
    """The member's trained weights are there: its one set (weights/), or each part of a split supernet."""
    split = meta.get("split")
    if not split:
        places = [member]
    elif isinstance(split, dict) and isinstance(split.get("parts"), dict) and split["parts"]:
        places = [member / PARTS / str(name) for name in split["parts"].values()]
    else:
        raise UserInputError(f"{member / SUPERNET_META}: split names no parts")
    for place in places:
        if not (place / WEIGHTS / "config.json").is_file():
            raise UserInputError(f"{member} holds no trained weights ({place / WEIGHTS}/ is missing or "
                                 "incomplete): an ensemble's members must be trained supernets")


def ensemble_digest(member_digests: Sequence[str]) -> str:
    """Changes when any member is trained further or replaced."""
    return hashlib.sha256(":".join(member_digests).encode()).hexdigest()[:12]
