"""The `nas` command. Each group of commands lives in its own module and registers itself here.

Bad input anywhere raises `UserInputError`; `main` prints it, and every usage error click finds (a bad or
missing option, a value out of range, an unknown command), as one line `error: ...` on stderr and exits
with code 2: click runs in non-standalone mode so that no Rich box is drawn. A file-system refusal on a
path the user gave is also one line (exit 2). Anything else is a bug: one line, exit 1, and the traceback
with `NAS_DEBUG=1`.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence

import typer

# typer ≥ 0.20 vendors click as `typer._click`; its exception classes are only reachable there.
from typer._click import exceptions as click

from nas import __version__, cli_arch, cli_confirm, cli_distill, cli_latency, cli_search, cli_supernet
from nas_common.errors import UserInputError
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
) -> None:
    """Hardware-aware architecture search of compact BERT models."""


for module in (cli_arch, cli_latency, cli_search, cli_distill, cli_supernet, cli_confirm):
    module.register(app)


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
    try:
        code = app(args=list(argv) if argv is not None else None, prog_name="nas", standalone_mode=False)
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


if __name__ == "__main__":
    main()
