"""`nas supernet train --recipe NAME`: a recipe file gives the same options as writing them out, and options given
on the command line override it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from nas.cli import main
from nas.supernet.options import SupernetOptions
from nas.supernet.recipes import RECIPES_DIR, load_recipe, recipe_names

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "proof" / "supernet.sh"
# the script's variables, as one invocation would set them
SHELL = {"$DATA": "/data", "$SEED": "1", "$OUT": "/tmp/out", "~": "/home/u"}


def script_argv() -> list[str]:
    """The `nas supernet train` arguments of benchmarks/proof/supernet.sh (a fresh run: no --resume)."""
    text = SCRIPT.read_text()
    command = re.search(r"-m nas\.cli (supernet train .*?)\n(?!\s)", text.replace("\\\n", " "), re.S)
    assert command, "supernet.sh has no `nas.cli supernet train` line"
    line = command.group(1).replace('"${RESUME[@]}"', "")
    for name, value in SHELL.items():
        line = line.replace(name, value)
    return shlex.split(line)


def captured(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> SupernetOptions:
    """The options `nas supernet train ARGV` would train with (nothing is trained)."""
    seen: list[SupernetOptions] = []

    def fake_run(opts: SupernetOptions) -> dict[str, Any]:
        seen.append(opts)
        return {"steps_done": 0, "seconds": 0.0}

    monkeypatch.setattr("nas.supernet.pipeline.run_supernet", fake_run)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    return seen[0]


def value(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


def test_the_estimator_recipe_is_the_proof_scripts_options(monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = script_argv()
    assert explicit[:2] == ["supernet", "train"] and "--steps" in explicit
    by_recipe = ["supernet", "train", "--recipe", "minilm-384",
                 *[a for option in ("--teacher", "--corpus", "--eval-corpus", "--seed", "--out")
                   for a in (option, value(explicit, option))]]
    want = captured(explicit, monkeypatch)
    got = captured(by_recipe, monkeypatch)
    assert got == want
    assert want.steps == 9600 and want.split == "bottleneck" and want.workers == 2 and want.seed == 1


def test_options_on_the_command_line_override_the_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["supernet", "train", "--teacher", "T", "--corpus", "C", "--out", "/tmp/o"]
    plain = captured(base, monkeypatch)
    recipe = captured([*base, "--recipe", "minilm-384"], monkeypatch)
    assert (recipe.steps, recipe.batch_size, recipe.lr, recipe.schedule) == (9600, 16, 1e-3, "jkt")
    assert (plain.steps, plain.batch_size) != (9600, 16)
    mixed = captured([*base, "--recipe", "minilm-384", "--steps", "12", "--workers", "1", "--schedule", "AKT"],
                     monkeypatch)
    assert (mixed.steps, mixed.workers, mixed.schedule) == (12, 1, "akt")
    assert mixed == SupernetOptions(**{**vars(recipe), "steps": 12, "workers": 1, "schedule": "akt"})


def test_every_recipe_reads_and_is_package_data() -> None:
    assert "minilm-384" in recipe_names()
    for name in recipe_names():
        assert load_recipe(name)
    assert '"nas.supernet" = ["data/*.toml", "recipes/*.toml"]' in (REPO / "pyproject.toml").read_text()
    assert RECIPES_DIR == REPO / "nas" / "supernet" / "recipes"


def test_a_recipe_file_of_the_users_and_its_mistakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nas_common.errors import UserInputError

    mine = tmp_path / "mine.toml"
    mine.write_text("steps = 30\nlr = 1\n")
    assert load_recipe(str(mine)) == {"steps": 30, "lr": 1.0}
    mine.write_text('teacher = "x"\n')
    with pytest.raises(UserInputError, match="'teacher' is not a recipe option"):
        load_recipe(str(mine))
    mine.write_text('steps = "many"\n')
    with pytest.raises(UserInputError, match="steps = 'many' is not an integer"):
        load_recipe(str(mine))
