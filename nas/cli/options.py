"""Options declared once (issue 34): a command's options are the fields of one dataclass.

Each field carries its typer metadata in its annotation and its default as the field's default:

    @dataclass(frozen=True, kw_only=True)
    class FinetuneArgs:
        model: Annotated[Path, typer.Option("--model", help="A model directory.")]
        epochs: Annotated[float, typer.Option("--epochs", help="Passes over the training set.")] = 3.0

        def __post_init__(self) -> None:  # what click cannot check: one `UserInputError` line
            check_positive(epochs=self.epochs)

From that one declaration:

- `command(run)` is the typer command of `def run(args: FinetuneArgs)`: its parameters are the fields (same
  option names, order, defaults and help); typer calls it with the parsed values, it builds the dataclass (so
  `__post_init__` validates) and calls `run(args)`;
- `to_args(args)` is the command line that gives the same options again (a resume command): it parses back
  to an equal dataclass;
- `shared(args, Target)` copies the fields another dataclass also has (e.g. into a library's options).

An option several commands share is declared once as an `Annotated` alias (`Corpus = Annotated[...]`) that
each dataclass uses as a field type. Typer reads the signature `command` builds, so `--help`, click's checks
(`min=`, types, required options) and the error messages are exactly typer's.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from typer.models import ArgumentInfo, OptionInfo, ParameterInfo

from nas_common.errors import UserInputError

T = TypeVar("T")


def named_path(what: str) -> Callable[[Any], Path]:
    """A typer `parser=` for a path option that must name something: an empty value (`--out ""`, an unset shell
    variable) is refused at parse time, where it is still told apart from `.`, which `Path("")` becomes. `what`
    says what the option names, for the message."""
    def parse(value: Any) -> Path:
        if isinstance(value, Path):  # a default, already a path
            return value
        if not str(value).strip():
            raise typer.BadParameter(f"an empty name holds no {what}; give one (. is the current directory)")
        return Path(value)

    return parse


def refuse_empty(**values: str | None) -> None:
    """A text option given empty (`--corpus ""`, an unset shell variable) is refused: taken as it is, it would read
    as the option left out and run on its default (a default corpus, preset or data folder). Names are the
    options' Python names."""
    for name, value in values.items():
        if value is not None and not value.strip():
            raise UserInputError(f"--{name.replace('_', '-')} is empty: give a value, or leave the option out for "
                                 "its default")


@dataclasses.dataclass(frozen=True)
class Declared:
    """One field of an options dataclass: its name, resolved annotation, typer metadata and default."""

    name: str
    annotation: Any
    info: ParameterInfo
    default: Any  # inspect.Parameter.empty: required

    @property
    def flag(self) -> str:
        """The option's long name (`--batch-size`); for an argument, its name."""
        given = [self.info.default] if isinstance(self.info.default, str) else []
        decls = [*given, *(self.info.param_decls or ())]
        long = [d.split("/")[0] for d in decls if d.startswith("--")]
        return long[0] if long else f"--{self.name.replace('_', '-')}"

    @property
    def is_argument(self) -> bool:
        return isinstance(self.info, ArgumentInfo)

    @property
    def hidden(self) -> bool:
        return bool(getattr(self.info, "hidden", False))


def declared(cls: type) -> list[Declared]:
    """The fields of options dataclass `cls` that carry typer metadata, in declaration order."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        hint = hints[f.name]
        infos = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, ParameterInfo)]
        if len(infos) != 1:
            raise TypeError(f"{cls.__name__}.{f.name}: declare it as Annotated[type, typer.Option(...)]")
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = inspect.Parameter.empty
        out.append(Declared(f.name, hint, infos[0], default))
    return out


def options_class(run: Callable[..., Any]) -> type:
    """The options dataclass of `run(args)`: its one parameter's annotation."""
    hints = typing.get_type_hints(run)
    params = list(inspect.signature(run).parameters)
    if len(params) != 1 or params[0] not in hints or not dataclasses.is_dataclass(hints[params[0]]):
        raise TypeError(f"{run.__name__} must take one parameter annotated with an options dataclass")
    return hints[params[0]]


def command(run: Callable[[T], Any]) -> Callable[..., Any]:
    """The typer command of `run(args)`: one keyword parameter per field of `args`' dataclass, as declared."""
    cls = options_class(run)
    fields = declared(cls)
    parameters = [inspect.Parameter(d.name, inspect.Parameter.KEYWORD_ONLY, default=d.default,
                                    annotation=d.annotation) for d in fields]

    def typer_command(**values):  # its signature: the dataclass's fields, set below
        return run(cls(**values))

    typer_command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    typer_command.__name__ = run.__name__
    typer_command.__qualname__ = run.__qualname__
    typer_command.__doc__ = run.__doc__
    typer_command.__module__ = run.__module__
    return typer_command


def to_args(args: Any, always: tuple[str, ...] = ()) -> list[str]:
    """The command-line words that give `args` again: arguments in order, then each visible option whose value
    differs from its default (or is named in `always`); a flag as its name, a list option repeated."""
    words: list[str] = []
    for d in declared(type(args)):
        value = getattr(args, d.name)
        if d.is_argument:
            words += [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
            continue
        if d.hidden or value is None or (d.name not in always and value == d.default):
            continue
        if isinstance(value, bool):
            if value:
                words.append(d.flag)
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            words += [d.flag, str(item)]
    return words


def shared(args: Any, target: type[T], **extra: Any) -> T:
    """`target(**fields)`: the fields of `args` that dataclass `target` also has, then `extra` (which wins)."""
    names = {f.name for f in dataclasses.fields(target) if f.init}
    return target(**{**{k: v for k, v in vars(args).items() if k in names}, **extra})


__all__ = ["ArgumentInfo", "Declared", "OptionInfo", "command", "declared", "named_path", "options_class",
           "refuse_empty", "shared", "to_args"]
