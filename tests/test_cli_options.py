"""nas/cli/options.py: a command's options declared once, as the fields of one dataclass (issue 34)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from nas.cli.options import command, declared, shared, to_args
from nas.cli.search import SearchArgs, resume_command
from nas.strategies import DEFAULT_STRATEGY
from nas_common.errors import UserInputError


@dataclass(frozen=True, kw_only=True)
class ToyArgs:
    run: Annotated[Path, typer.Argument(help="A run directory.")]
    name: Annotated[str, typer.Option("--name", help="A required name.")]
    steps: Annotated[int, typer.Option("--steps", min=1, help="Steps to take.")] = 10
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate.", show_default="the paper's")] = None
    resume: Annotated[bool, typer.Option("--resume", help="Continue.")] = False
    arch: Annotated[list[str] | None, typer.Option("--arch", help="Repeatable.")] = None
    old: Annotated[str | None, typer.Option("--old", hidden=True)] = None

    def __post_init__(self) -> None:
        if self.old is not None:
            raise UserInputError("--old is gone: give --name")


SEEN: list[ToyArgs] = []


def toy(args: ToyArgs) -> None:
    """Run the toy."""
    SEEN.append(args)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("toy")(command(toy))
    app.command("other")(lambda: None)  # two commands: `toy` is a subcommand, as in `nas`
    return app


def test_the_dataclass_is_the_typer_command() -> None:
    result = CliRunner().invoke(_app(), ["toy", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in ("--name", "--steps", "--lr", "--resume", "--arch", "A required name.", "Run the toy.",
                 "the paper's", "A run directory."):
        assert text in result.output, text
    assert "--old" not in result.output  # hidden stays hidden
    assert [d.flag for d in declared(ToyArgs)] == ["--run", "--name", "--steps", "--lr", "--resume", "--arch",
                                                   "--old"]


def test_parsed_values_build_the_dataclass_and_its_checks_run() -> None:
    SEEN.clear()
    app = _app()
    assert CliRunner().invoke(app, ["toy", "R", "--name", "a b", "--arch", "x", "--arch", "y"]).exit_code == 0
    assert SEEN == [ToyArgs(run=Path("R"), name="a b", arch=["x", "y"])]
    assert CliRunner().invoke(app, ["toy", "R", "--name", "n", "--steps", "0"]).exit_code == 2  # click's min=
    assert CliRunner().invoke(app, ["toy", "R"]).exit_code == 2  # a required option
    failed = CliRunner().invoke(app, ["toy", "R", "--name", "n", "--old", "v"])
    assert isinstance(failed.exception, UserInputError) and "--old is gone" in str(failed.exception)


@pytest.mark.parametrize("args", [
    ToyArgs(run=Path("R"), name="n"),
    ToyArgs(run=Path("a dir/R"), name="two words", steps=3, lr=1e-3, resume=True, arch=["x", "y z"]),
])
def test_the_resume_command_round_trips(args: ToyArgs) -> None:
    SEEN.clear()
    words = to_args(args)
    assert CliRunner().invoke(_app(), ["toy", *words]).exit_code == 0
    assert SEEN == [args]
    assert to_args(args, always=("steps",))[3:5] == ["--steps", str(args.steps)]


def test_shared_copies_the_fields_another_dataclass_has() -> None:
    @dataclass
    class Target:
        name: str
        steps: int = 1
        extra: str = "x"

    assert shared(ToyArgs(run=Path("R"), name="n", steps=5), Target, extra="y") == Target("n", 5, "y")


@dataclass
class Bare:
    name: str


def bare(args: Bare) -> None:
    pass


def test_a_field_without_typer_metadata_is_refused() -> None:
    with pytest.raises(TypeError, match="Annotated"):
        command(bare)


def _nas(*argv: str) -> str:
    from nas.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(list(argv))
    return out.getvalue()


def _converted() -> dict[str, type]:
    from nas.cli import arch, confirm, deploy, distill, latency, search

    return {"teacher": distill.TeacherArgs, "distill": distill.DistillArgs, "finetune": distill.FinetuneArgs,
            "confirm": confirm.ConfirmArgs, "search": search.SearchArgs, "measure": latency.MeasureArgs,
            "calibrate": latency.CalibrateArgs, "validate": latency.ValidateArgs,
            "latency": latency.LatencyArgs, "export": search.ExportArgs,
            "evaluate": deploy.EvaluateArgs, "arch show": arch.ShowArgs}


@pytest.mark.parametrize("name", ["teacher", "distill", "finetune", "confirm", "search", "measure", "calibrate",
                                  "validate", "latency", "export", "evaluate", "arch show"])
def test_converted_commands_are_their_dataclass(name: str) -> None:
    """A converted command's parameters are its dataclass's fields, in order; `--help` lists each visible one."""
    from nas import cli

    click_command = cli.command()
    for word in name.split():  # a subcommand: `arch show`
        click_command = click_command.commands[word]
    fields = declared(_converted()[name])
    assert [p.name for p in click_command.params] == [d.name for d in fields]
    page = " ".join(_nas(*name.split(), "--help").split())
    for d in fields:
        if not d.is_argument:
            assert (f"{d.flag} " in page) != d.hidden, d.flag


PARSED: list[SearchArgs] = []


def parse_search(args: SearchArgs) -> None:
    PARSED.append(args)


def _parsed_search(words: list[str]) -> SearchArgs:
    app = typer.Typer()
    app.command("search")(command(parse_search))
    app.command("other")(lambda: None)
    PARSED.clear()
    result = CliRunner().invoke(app, ["search", *words])
    assert result.exit_code == 0, result.output
    return PARSED[-1]


def test_the_search_resume_line_round_trips_and_old_lines_still_parse() -> None:
    """The interrupted search's `continue with:` line comes from `SearchArgs`; it gives the same options back, and
    a line as the earlier hand-written resume_command spelled it still parses to them."""
    import shlex

    args = SearchArgs(budget="62 ms", device="pixel4", trials=64, out=Path("runs/a run"), supernet=Path("sn"),
                      confidence=0.9, seq_len=64, executor="ray", ray_address="head:6379")
    words = shlex.split(resume_command(args))
    assert words[:2] == ["nas", "search"] and words[-1] == "--resume"
    assert {"--strategy", "--seed"} <= set(words) and "--space" not in words  # spelled out at their defaults too
    assert _parsed_search(words[2:]) == replace(args, resume=True)
    in_a_space = replace(args, space="mobilebert-small")
    assert _parsed_search(shlex.split(resume_command(in_a_space))[2:]) == replace(in_a_space, resume=True)
    old = ("nas search --budget '62 ms' --device pixel4 --strategy nsga2 --seed 0 --space mobilebert-family --out "
           "'runs/a run' --trials 64 --ray-address head:6379 --supernet sn --confidence 0.9 --executor ray "
           "--seq-len 64 --resume")
    assert _parsed_search(shlex.split(old)[2:]) == replace(args, space="mobilebert-family", resume=True)
    with_profile = SearchArgs(budget="30ms", profile=Path("p.toml"), out=Path("r"))
    assert shlex.split(resume_command(with_profile)) == [
        "nas", "search", "--budget", "30ms", "--profile", "p.toml", "--strategy", DEFAULT_STRATEGY, "--seed", "0",
        "--out", "r", "--resume"]
