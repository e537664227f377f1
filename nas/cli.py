"""The `nas` command. Each group of commands lives in its own module and registers itself here.

Bad input anywhere raises `UserInputError`; `main` prints it as one line and exits with code 2.
"""

from __future__ import annotations

import sys

import typer

from nas import __version__, cli_arch, cli_distill, cli_latency, cli_search
from nas_common.errors import UserInputError

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


for module in (cli_arch, cli_latency, cli_search, cli_distill):
    module.register(app)


def main() -> None:
    try:
        app()
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
