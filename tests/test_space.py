"""SearchSpace: loading from data files, operators, encoding, enumeration."""

from __future__ import annotations

import numpy as np
import pytest

from search_spaces import PRESETS, Arch, SearchSpace, UserInputError


def test_default_space_covers_the_family() -> None:
    space = SearchSpace.default()
    archs = space.sample_many(2000, np.random.default_rng(1))
    assert {a.use_bottleneck for a in archs} == {True, False}
    assert {a.attention_form() for a in archs} == {"kq_shared", "bottleneck", "full"}
    assert {a.num_feedforward_networks for a in archs} == {1, 2, 3, 4}
    assert {a.normalization_type for a in archs} == {"no_norm", "layer_norm"}
    assert {a.hidden_act for a in archs} == {"relu", "gelu"}
    assert all(space.contains(a) for a in archs)
    assert space.contains(PRESETS["mobilebert"].arch)
    assert space.contains(PRESETS["mobilebert-tiny"].arch)


def test_sampling_is_deterministic_per_seed() -> None:
    space = SearchSpace.default()
    assert space.sample_many(20, np.random.default_rng(7)) == space.sample_many(20, np.random.default_rng(7))


def test_mutate_and_crossover_stay_valid_and_in_space() -> None:
    space = SearchSpace.default()
    rng = np.random.default_rng(3)
    parents = space.sample_many(50, rng)
    for a, b in zip(parents, parents[1:], strict=False):
        child = space.mutate(a, rng)
        assert child != a and space.contains(child)
        assert sum(x != y for x, y in zip(space.indices(a), space.indices(child), strict=True)) == 1
        mix = space.crossover(a, b, rng)
        assert space.contains(mix)
        assert all(v in (x, y) for v, x, y in zip(space.indices(mix), space.indices(a), space.indices(b),
                                                   strict=True))


def test_encode_decode_round_trip() -> None:
    space = SearchSpace.default()
    for arch in space.sample_many(100, np.random.default_rng(5)):
        vector = space.encode(arch)
        assert vector.shape == (len(space.dimensions),) and vector.min() >= 0 and vector.max() <= 1
        assert space.decode(vector) == arch


def test_small_space_enumerates_distinct_valid_archs() -> None:
    space = SearchSpace.load("mobilebert-small")
    archs = list(space.enumerate())
    assert len(archs) == len(set(archs)) == 1344
    assert space.size() == 1536
    with pytest.raises(UserInputError, match="enumeration limit"):
        next(SearchSpace.default().enumerate(limit=1000))


def test_user_space_file_loads_the_same_way(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\n[dimensions]\nnum_hidden_layers = [2, 4]\nintermediate_size = [256, 512]\n'
        '[fixed]\nhidden_act = "gelu"\n'
    )
    space = SearchSpace.load(path)
    archs = list(space.enumerate())
    assert len(archs) == 4 and all(a.hidden_act == "gelu" for a in archs)
    assert all(isinstance(a, Arch) for a in archs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[dimensions]\nhidden_sise = [1]\n", "not an Arch field"),
        ("[dimensions]\nnum_hidden_layers = []\n", "non-empty list"),
        ("name = 'x'\n", r"missing table \[dimensions\]"),
        ("[dimensions\n", "not valid TOML"),
        ("[dimensions]\nnum_attention_heads = [3]\nintra_bottleneck_size = [128]\n", "no valid architecture"),
        ("[dimensions]\nnum_hidden_layers = [4, 10000]\n", "num_hidden_layers 10,000 is above"),
        ("[dimensions]\nnum_hidden_layers = [4]\n[fixed]\nhidden_size = 'x'\n", "e.g. hidden_size must be"),
        ("[dimensions]\nnum_hidden_layers = [4]\n[fixed]\nfoo = 1\n", "fixed.foo is not an Arch field"),
        ("[dimensions]\nnum_hidden_layers = [4]\n[fixed]\nnum_hidden_layers = 2\n", "both a dimension and fixed"),
    ],
)
def test_bad_space_file_is_explained(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UserInputError, match=message):
        SearchSpace.load(path)


def test_unknown_space_name() -> None:
    with pytest.raises(UserInputError, match="unknown search space"):
        SearchSpace.load("nosuch")


def test_space_that_is_a_directory(tmp_path) -> None:
    with pytest.raises(UserInputError, match="a directory, not a TOML file"):
        SearchSpace.load(tmp_path)
