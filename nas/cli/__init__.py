"""The `nas` command. Each group of commands lives in its own module and registers itself here.

Bad input anywhere raises `UserInputError`; `main` prints it, and every usage error click finds (a bad or
missing option, a value out of range, an unknown command), as one line `error: ...` on stderr and exits
with code 2: click runs in non-standalone mode so that no Rich box is drawn. A file-system refusal on a
path the user gave is also one line (exit 2). Anything else is a bug: one line, exit 1, and the traceback
with `NAS_DEBUG=1`.
"""

from __future__ import annotations

import errno
import inspect
import os
import sys
from collections.abc import Sequence

import typer

# typer ≥ 0.20 vendors click as `typer._click`; its exception classes are only reachable there.
from typer._click import core as click_core
from typer._click import exceptions as click
from typer.core import TyperOption

from nas import __version__
from nas.cli import accuracy, arch, confirm, deploy, distill, latency, search, supernet
from nas_common.errors import UserInputError
from nas_common.paths import anchor_data_env
from nas_common.quiet import quiet_optional_libraries

DEBUG_ENV = "NAS_DEBUG"
quiet_optional_libraries()

app = typer.Typer(
    help="Hardware-aware architecture search of compact BERT (MobileBERT-family) models.\n\n"
    "Typical use: `nas search --device pixel4 --budget 62ms`, open the run's pareto.html, "
    "`nas export RUN --pick 0 --to OUT`, then train it with `nas distill`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"nas {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also show the warnings and log lines of the "
                                 "libraries underneath (torch, transformers, ONNX, LiteRT), hidden by default."),
) -> None:
    """Hardware-aware architecture search of compact BERT models."""
    quiet_optional_libraries(verbose)


for module in (arch, latency, search, distill, supernet, accuracy, confirm, deploy):
    module.register(app)


LONG_WORD = 24  # a default with a longer unbroken word is cut ("…") in rich's narrow default column


def _paragraphs(text: str | None) -> str | None:
    """Docstring line breaks are not sentence breaks: rich keeps them in a command's help (and in the commands
    list), so each paragraph becomes one line that the terminal wraps; a paragraph opened by \\b keeps its lines."""
    if not text:
        return text
    parts = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split()) for p in parts)


def tidy_help(command: click_core.Command) -> click_core.Command:
    """What `--help` shows, per command (recursively): paragraphs unbroken, flags without a value type
    (`--resume`, not `--resume <bool>`), and a long default inside the help text, where it wraps, not cut."""
    command.help = _paragraphs(command.help)
    context = click_core.Context(command)
    help_option = command.get_help_option(context)  # cached by click: the one --help shows
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if getattr(param, "is_bool_flag", False):
            param.metavar = ""
        elif isinstance(param, TyperOption) and param.metavar is None:
            shown = param.display_type_rich(context)  # "<int range>", followed by the range: "<int> [x>=1]"
            param.metavar = shown.replace(" range>", ">") if shown else None
        default = getattr(param, "show_default", None)
        if isinstance(default, str) and any(len(word) > LONG_WORD for word in default.split()):
            param.help = f"{param.help or ''} \\[default: {default}]".strip()
            param.show_default = False
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)
    return command


def command() -> click_core.Command:
    """The click command `nas` runs (the typer app, its help tidied)."""
    return tidy_help(typer.main.get_command(app))


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fail(message: object, code: int = 2) -> None:
    print(f"error: {_one_line(message)}", file=sys.stderr)
    sys.exit(code)


def _usage_message(err: click.UsageError) -> str:
    hint = f" (see `{err.ctx.command_path} --help`)" if err.ctx is not None else ""
    return f"{err.format_message()}{hint}"


def main(argv: Sequence[str] | None = None) -> None:
    """Run `nas` with `argv` (default: the command line); always ends with SystemExit."""
    anchor_data_env()
    try:
        code = command().main(args=list(argv) if argv is not None else None, prog_name="nas", standalone_mode=False)
    except click.NoArgsIsHelpError as err:
        typer.echo(err.ctx.get_help())
        sys.exit(0)
    except click.UsageError as err:
        _fail(_usage_message(err))
    except click.ClickException as err:  # e.g. click.FileError: a file named on the command line
        _fail(err.format_message())
    except typer.Abort:
        _fail("aborted", 1)
    except UserInputError as err:
        _fail(err)
    except ModuleNotFoundError as err:
        _fail(f"this needs the optional package {err.name!r}, which is not installed "
              "(pip install -e '.[dev]' installs the optional ones)")
    except OSError as err:  # a file-system refusal on a path the user gave: one line, never a traceback
        if err.errno == errno.EPIPE:
            sys.exit(1)
        where = f"{err.filename}: " if err.filename else ""
        _fail(f"{where}{err.strerror or err}")
    except Exception as err:  # a bug, not bad input: one line (exit 1) unless the traceback is asked for
        if os.environ.get(DEBUG_ENV):
            raise
        _fail(f"internal error ({type(err).__name__}: {err}); this is a bug in nas: rerun with {DEBUG_ENV}=1 "
              "for the traceback and report it", 1)
    sys.exit(code if isinstance(code, int) else 0)

