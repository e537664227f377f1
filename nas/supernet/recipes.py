"""Training recipes of `nas supernet train --recipe NAME`: TOML files of options in nas/supernet/recipes/.

A recipe holds what a supernet's training is (steps, schedule, sampling, batch, learning rate, split, ...), by
the options' Python names (`pd_fraction = 0.5`), never its inputs or output (teacher, corpora, --out) nor how
one invocation runs (--resume, --overwrite, --parts). Options given on the command line override the recipe's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from nas_common.io import read_toml

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
# option name -> the types a recipe may give it (bool is not an int here)
KEYS: dict[str, tuple[type, ...]] = {
    "space": (str,), "steps": (int,), "schedule": (str,), "pd_fraction": (int, float), "rule": (str,),
    "random_subnets": (int,), "depth_order": (str,), "head_layout": (str,), "batch_size": (int,),
    "micro_batch_size": (int,), "seq_len": (int,), "max_predictions": (int,), "lr": (int, float),
    "warmup": (int,), "checkpoint_every": (int,), "seed": (int,), "split": (str,), "workers": (int,),
}


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.toml"))


def recipe_path(name: str) -> Path:
    """A recipe of nas/supernet/recipes/ by name, or a .toml file of the user's."""
    builtin = RECIPES_DIR / f"{name}.toml"
    if "/" not in name and not name.endswith(".toml") and builtin.is_file():
        return builtin
    path = Path(name).expanduser()
    if path.suffix == ".toml" and path.is_file():
        return path
    raise UserInputError(f"--recipe {name}: no such recipe; choose one of {', '.join(recipe_names())} "
                         "(nas/supernet/recipes/) or give a .toml file")


def load_recipe(name: str) -> dict[str, Any]:
    """The options a recipe sets, by their Python names (floats as floats)."""
    path = recipe_path(name)
    data = read_toml(path)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            raise UserInputError(f"recipe {path}: {key!r} is not a recipe option; a recipe sets "
                                 f"{', '.join(KEYS)}")
        if isinstance(value, bool) or not isinstance(value, KEYS[key]):
            kind = {str: "a string", int: "an integer", float: "a number"}[KEYS[key][-1]]
            raise UserInputError(f"recipe {path}: {key} = {value!r} is not {kind}")
        out[key] = float(value) if float in KEYS[key] else value
    return out
