"""`SearchSpace`: the choices per dimension, read from a TOML data file, and the operators on them.

A point of the space is a dict `{dimension: choice}`; `to_arch` turns it into a validated `Arch`.
Invalid combinations (heads that do not divide the attention width) are rejected by `Arch` itself, so
sampling and mutation retry until they find a valid point.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas_common.errors import UserInputError
from nas_common.io import read_toml
from search_spaces.arch import ACTIVATIONS, NORMALIZATION_TYPES, Arch
from search_spaces.family import check_limit

DATA_DIR = Path(__file__).parent / "data"
NO_BOTTLENECK = "none"
ATTENTION_FORMS = ("kq_shared", "bottleneck")
VIRTUAL_DIMENSIONS = ("attention_form",)
_ARCH_FIELDS = set(Arch.__dataclass_fields__)
_MAX_TRIES = 1000
_EXHAUSTIVE = 20_000  # grid points of the other dimensions enumerated when a choice is checked


def builtin_spaces() -> list[str]:
    return sorted(p.stem for p in DATA_DIR.glob("*.toml"))


_WORD_CHOICES = {"hidden_act": ACTIVATIONS, "normalization_type": NORMALIZATION_TYPES}


def _check_choice(key: str, choice: Any, origin: str) -> None:
    """One choice of a dimension on its own (a typo such as "gleu" or "twelve" would otherwise only make every
    sample that draws it invalid: the search then silently runs without it)."""
    where = f"{origin}: dimensions.{key}"
    if key in _WORD_CHOICES:
        if choice not in _WORD_CHOICES[key]:
            raise UserInputError(f"{where}: {choice!r} is not one of {', '.join(_WORD_CHOICES[key])}")
    elif key in VIRTUAL_DIMENSIONS:
        return  # checked against its own list above
    elif isinstance(Arch.__dataclass_fields__[key].default, bool):
        if not isinstance(choice, bool):
            raise UserInputError(f"{where}: {choice!r} is not true or false")
    elif not (key == "intra_bottleneck_size" and choice == NO_BOTTLENECK):
        if isinstance(choice, bool) or not isinstance(choice, int) or choice <= 0:
            raise UserInputError(f"{where}: {choice!r} is not a positive integer"
                                 + (f" (or \"{NO_BOTTLENECK}\")" if key == "intra_bottleneck_size" else ""))
        try:
            check_limit(key, choice)
        except UserInputError as err:
            raise UserInputError(f"{where}: {err}") from None


@dataclass(frozen=True)
class SearchSpace:
    name: str
    dimensions: dict[str, tuple[Any, ...]]
    fixed: dict[str, Any]
    description: str = ""

    # ------------------------------------------------------------------ loading
    @classmethod
    def default(cls) -> SearchSpace:
        return cls.load("mobilebert-family")

    @classmethod
    def load(cls, name_or_path: str | Path, named: Mapping[str, Path] | None = None) -> SearchSpace:
        """A built-in space name (`mobilebert-family`, `mobilebert-small`), a name in `named` (spaces other
        packages ship, by name: the files they stand for) or a TOML file path."""
        named = named or {}
        names = ", ".join(sorted({*builtin_spaces(), *named}))
        if not str(name_or_path).strip():
            raise UserInputError(f"the search space is empty: give a name ({names}) or a TOML file")
        path = Path(name_or_path)
        if not path.suffix:
            if (DATA_DIR / f"{name_or_path}.toml").is_file():
                path = DATA_DIR / f"{name_or_path}.toml"
            elif str(name_or_path) in named:
                path = named[str(name_or_path)]
        if not path.exists():
            raise UserInputError(
                f"unknown search space {str(name_or_path)!r}: not a file and not one of {names}"
            )
        if path.is_dir():
            raise UserInputError(f"search space {path}: a directory, not a TOML file")
        data = read_toml(path)
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "space") -> SearchSpace:
        dims = data.get("dimensions")
        if not isinstance(dims, dict) or not dims:
            raise UserInputError(f"{origin}: missing table [dimensions]")
        dimensions: dict[str, tuple[Any, ...]] = {}
        for key, choices in dims.items():
            if key not in _ARCH_FIELDS and key not in VIRTUAL_DIMENSIONS:
                raise UserInputError(f"{origin}: dimensions.{key} is not an Arch field or attention_form")
            if not isinstance(choices, list) or not choices:
                raise UserInputError(f"{origin}: dimensions.{key} must be a non-empty list of choices")
            if key == "attention_form" and any(c not in ATTENTION_FORMS for c in choices):
                raise UserInputError(f"{origin}: dimensions.attention_form choices must be in {ATTENTION_FORMS}")
            if len(set(map(str, choices))) != len(choices):
                raise UserInputError(f"{origin}: dimensions.{key} repeats a choice")
            for choice in choices:
                _check_choice(key, choice, origin)
            dimensions[key] = tuple(choices)
        fixed = data.get("fixed", {})
        if not isinstance(fixed, dict):
            raise UserInputError(f"{origin}: [fixed] must be a table of Arch fields and values")
        unknown = sorted(k for k in fixed if k not in _ARCH_FIELDS)
        if unknown:
            raise UserInputError(f"{origin}: fixed.{unknown[0]} is not an Arch field")
        both = sorted(set(fixed) & set(dimensions))
        if both:
            raise UserInputError(f"{origin}: {both[0]} is both a dimension and fixed; keep one")
        space = cls(name=str(data.get("name", Path(origin).stem)), dimensions=dimensions, fixed=dict(fixed),
                    description=str(data.get("description", "")))
        try:
            space.sample(np.random.default_rng(0))
        except UserInputError as err:
            raise UserInputError(f"{origin}: {err}") from None
        return space

    def check_every_choice_used(self, origin: str | None = None) -> SearchSpace:
        """Refuse a choice that no valid arch of the space takes (e.g. 7 heads, which divide no attention width
        on offer): the search would drop it silently. For a space as a user wrote it (`--space`); a derived one
        (a supernet's part) may narrow what some choices need. The other dimensions are enumerated when their
        grid is small (`_EXHAUSTIVE`), else sampled `_MAX_TRIES` times with the choice pinned. Returns the space."""
        rng = np.random.default_rng(0)
        for key, choices in self.dimensions.items():
            others = {k: c for k, c in self.dimensions.items() if k != key}
            for choice in choices if len(choices) > 1 else ():
                if self._some_valid_with(key, choice, others, rng):
                    continue
                point = {k: c[0] for k, c in others.items()} | {key: choice}
                try:
                    self.to_arch(point)
                    reason = ""
                except (UserInputError, TypeError) as err:
                    reason = f" (e.g. {err})"
                raise UserInputError(f"{origin or self.name}: dimensions.{key} = {choice!r} gives no valid "
                                     f"architecture with the other dimensions' choices{reason}; drop it or widen "
                                     "what it needs")
        return self

    def _some_valid_with(self, key: str, choice: Any, others: dict[str, tuple[Any, ...]],
                         rng: np.random.Generator) -> bool:
        grid = math.prod(len(c) for c in others.values())
        if grid <= _EXHAUSTIVE:
            points = (dict(zip(others, combo, strict=True)) for combo in itertools.product(*others.values()))
        else:
            points = ({k: c[rng.integers(len(c))] for k, c in others.items()} for _ in range(_MAX_TRIES))
        return any(self._valid({**p, key: choice}) is not None for p in points)

    # ------------------------------------------------------------------ points ↔ archs
    def to_arch(self, point: dict[str, Any]) -> Arch:
        fields: dict[str, Any] = dict(self.fixed)
        form = point.get("attention_form", "kq_shared")
        for key, value in point.items():
            if key in VIRTUAL_DIMENSIONS:
                continue
            fields[key] = value
        if fields.get("intra_bottleneck_size") == NO_BOTTLENECK:
            fields["use_bottleneck"] = False
            fields.pop("intra_bottleneck_size")
        else:
            fields.setdefault("use_bottleneck", True)
        fields["key_query_shared_bottleneck"] = form == "kq_shared"
        fields["use_bottleneck_attention"] = form == "bottleneck"
        return Arch(**fields)

    def to_point(self, arch: Arch) -> dict[str, Any]:
        point: dict[str, Any] = {}
        for key, choices in self.dimensions.items():
            if key == "attention_form":
                form = arch.attention_form()
                value = form if form in choices else choices[0]
            elif key == "intra_bottleneck_size" and not arch.use_bottleneck:
                value = NO_BOTTLENECK
            else:
                value = getattr(arch, key)
            if value not in choices:
                raise UserInputError(f"{key}={value!r} is not a choice of search space {self.name!r} (choices: "
                                     f"{', '.join(map(str, choices))})")
            point[key] = value
        return point

    def contains(self, arch: Arch) -> bool:
        try:
            return self.to_arch(self.to_point(arch)) == arch
        except UserInputError:
            return False

    # ------------------------------------------------------------------ operators
    def _valid(self, point: dict[str, Any]) -> Arch | None:
        try:
            return self.to_arch(point)
        except (UserInputError, TypeError):
            return None

    def sample(self, rng: np.random.Generator) -> Arch:
        last_error = ""
        for _ in range(_MAX_TRIES):
            point = {k: c[rng.integers(len(c))] for k, c in self.dimensions.items()}
            try:
                return self.to_arch(point)
            except UserInputError as err:
                last_error = str(err)
            except TypeError as err:  # a [fixed] or choice value of the wrong kind, e.g. a list for a number
                last_error = str(err)
        raise UserInputError(f"search space {self.name!r} has no valid architecture (every sample was rejected; "
                             f"e.g. {last_error})")

    def sample_many(self, n: int, rng: np.random.Generator) -> list[Arch]:
        return [self.sample(rng) for _ in range(n)]

    def mutate(self, arch: Arch, rng: np.random.Generator, n_changes: int = 1) -> Arch:
        """Change `n_changes` dimensions to another choice (an adjacent one for ordered numeric dims)."""
        base = self.to_point(arch)
        mutable = [k for k, c in self.dimensions.items() if len(c) > 1]
        if not mutable:
            return arch
        for _ in range(_MAX_TRIES):
            point = dict(base)
            for key in rng.choice(mutable, size=min(n_changes, len(mutable)), replace=False):
                choices = self.dimensions[key]
                index = choices.index(point[key])
                if _is_ordered(choices) and rng.random() < 0.7:
                    step = int(rng.choice([-1, 1]))
                    index = min(max(index + step, 0), len(choices) - 1)
                    if choices[index] == point[key]:
                        index = index - step
                else:
                    index = (index + 1 + int(rng.integers(len(choices) - 1))) % len(choices)
                point[key] = choices[index]
            child = self._valid(point)
            if child is not None and child != arch:
                return child
        return arch

    def crossover(self, a: Arch, b: Arch, rng: np.random.Generator) -> Arch:
        """Uniform crossover: each dimension from one parent or the other."""
        pa, pb = self.to_point(a), self.to_point(b)
        for _ in range(_MAX_TRIES):
            point = {k: (pa[k] if rng.random() < 0.5 else pb[k]) for k in self.dimensions}
            child = self._valid(point)
            if child is not None:
                return child
        return a

    # ------------------------------------------------------------------ encoding
    def encode(self, arch: Arch) -> np.ndarray:
        """The choice index per dimension, scaled to [0, 1] (dimension order as in the file)."""
        point = self.to_point(arch)
        return np.array(
            [c.index(point[k]) / max(len(c) - 1, 1) for k, c in self.dimensions.items()], dtype=np.float64
        )

    def decode(self, vector: np.ndarray) -> Arch:
        """Inverse of `encode` (nearest choice per dimension); raises if the point is invalid."""
        point = {}
        for value, (key, choices) in zip(vector, self.dimensions.items(), strict=True):
            index = int(round(float(np.clip(value, 0.0, 1.0)) * (len(choices) - 1)))
            point[key] = choices[index]
        return self.to_arch(point)

    def indices(self, arch: Arch) -> list[int]:
        point = self.to_point(arch)
        return [c.index(point[k]) for k, c in self.dimensions.items()]

    def is_ordered(self, key: str) -> bool:
        """Dimension `key` has integer choices, so a neighbouring choice is a small step."""
        return _is_ordered(self.dimensions[key])

    # ------------------------------------------------------------------ size
    def size(self) -> int:
        """Points in the grid of choices, before constraints (see `enumerate` for the valid ones)."""
        return math.prod(len(c) for c in self.dimensions.values())

    def enumerate(self, limit: int = 200_000) -> Iterator[Arch]:
        """Every distinct valid arch; refuses spaces whose grid exceeds `limit`."""
        if self.size() > limit:
            raise UserInputError(f"search space {self.name!r} has {self.size():,} grid points, "
                                 f"more than the enumeration limit {limit:,}")
        seen: set[Arch] = set()
        keys = list(self.dimensions)
        for combo in itertools.product(*self.dimensions.values()):
            arch = self._valid(dict(zip(keys, combo, strict=True)))
            if arch is not None and arch not in seen:
                seen.add(arch)
                yield arch


def _is_ordered(choices: tuple[Any, ...]) -> bool:
    return all(isinstance(c, int) and not isinstance(c, bool) for c in choices)
