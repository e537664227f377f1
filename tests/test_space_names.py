"""Search spaces by name: search_spaces' built-ins, and the spaces nas ships (the shipped predictors' and the
supernet's default) by the name in their TOML, so the name a run records can be given back to `--space`."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.accuracy import shipping
from nas.supernet.options import space_file
from nas.supernet.space import DEFAULT_SPACE
from nas_common.errors import UserInputError
from search_spaces.space import SearchSpace, builtin_spaces


def test_the_default_searchs_space_has_a_name() -> None:
    named = shipping.named_spaces()
    assert "supernet-minilm-384" in named
    space = SearchSpace.load("supernet-minilm-384", named)
    assert space.name == "supernet-minilm-384" and space.fixed["hidden_size"] == 384
    assert space_file("supernet-minilm-384") == DEFAULT_SPACE


def test_builtins_come_first_and_an_unknown_name_lists_every_name(tmp_path: Path) -> None:
    impostor = tmp_path / "impostor.toml"
    impostor.write_text('name = "mobilebert-family"\n[dimensions]\nnum_hidden_layers = [2]\n')
    named = {"mobilebert-family": impostor, "extra": impostor}
    assert SearchSpace.load("mobilebert-family", named).dimensions != SearchSpace.load(impostor).dimensions
    with pytest.raises(UserInputError, match="not one of " + ", ".join(sorted({*builtin_spaces(), "extra"}))):
        SearchSpace.load("nope", named)
