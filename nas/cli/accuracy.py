"""`nas accuracy fit-proxy`: the training-free proxy's fitted file (nas/accuracy/proxy_fit.json) from held-out
losses of distilled students. benchmarks/estimator_rank.py --refit-proxy writes those losses and calls it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nas.cli.options import named_path
from nas_common.errors import UserInputError
from nas_common.io import finite, read_json
from nas_common.writing import write_json

if TYPE_CHECKING:
    from search_spaces.arch import Arch

MIN_STUDENTS = 3  # the leave-one-out scatter fits a line: n − 2 degrees of freedom
MAX_LOSS_NATS = 100.0  # far above any language model's held-out loss (uniform guessing over BERT's vocabulary: 10.3)

accuracy_app = typer.Typer(help="Fit the accuracy estimators' files.", no_args_is_help=True)


@accuracy_app.command("fit-proxy")
def fit_proxy(
    truth: Annotated[Path, typer.Argument(help="JSON {\"note\": ..., \"data\": [{\"arch\": {...}, \"loss\": L}]}: "
                                          "held-out losses of distilled students (a proxy_fit.json reads too).",
                                          parser=named_path("ground-truth file"))],
    out: Annotated[Path | None, typer.Option(help="Where to write the fit (default: the one `nas` reads, "
                                             "nas/accuracy/proxy_fit.json).", parser=named_path("output file"),
                                             metavar="<path>")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists (the default file, "
                                            "the proxy `nas` reads, always does).")] = False,
) -> None:
    """Fit the proxy on distilled students' held-out losses and write its file."""
    from nas.accuracy import proxy
    from nas_common.paths import check_output_file
    from search_spaces.arch import Arch

    target = check_output_file(out or proxy.FIT_FILE, inputs=(truth,))
    if target.exists() and not overwrite:
        raise UserInputError(f"--out {target} already exists; pass --overwrite to replace it"
                             + (" (it is the proxy `nas` reads)" if out is None else ""))
    record = read_json(truth, "ground truth")
    rows = record.get("data") if isinstance(record, dict) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) and "arch" in r and "loss" in r
                                                         for r in rows):
        raise UserInputError(f"{truth}: needs \"data\", a list of {{\"arch\": ..., \"loss\": ...}} rows")
    archs = [Arch.from_dict(r["arch"], source=f"{truth} data[{i}].arch") for i, r in enumerate(rows)]
    losses = _truth_losses(truth, rows)
    _check_fittable(truth, archs, losses)
    fitted = proxy.fit(archs, losses, str(record.get("note", "")))
    write_json(target, fitted, "proxy fit", indent=1)
    typer.echo(f"proxy fitted on {len(rows)} students (leave-one-out Spearman {fitted['loo_spearman']}): {target}")


def _truth_losses(truth: Path, rows: list[dict[str, Any]]) -> list[float]:
    """Each row's loss: a finite number of nats, 0 to MAX_LOSS_NATS (a larger one is a wrong unit or a diverged
    student, and overflows the fit), else one line naming the row."""
    return [float(finite(r["loss"], str(truth), f"data[{i}].loss", minimum=0.0, maximum=MAX_LOSS_NATS))
            for i, r in enumerate(rows)]


def _check_fittable(truth: Path, archs: list[Arch], losses: list[float]) -> None:
    """The fit and its leave-one-out scatter need 3 students or more whose losses and architectures are not
    all the same (a constant column leaves the ranking undefined)."""
    from nas.accuracy import proxy

    if len(losses) < MIN_STUDENTS:
        raise UserInputError(f"{truth}: \"data\" holds {len(losses)} student{'s' * (len(losses) != 1)}; the fit "
                             f"needs at least {MIN_STUDENTS} of different loss")
    if len(set(losses)) < 2:
        raise UserInputError(f"{truth}: every student has the same loss ({losses[0]:g}); the fit needs students "
                             "of different loss")
    if len({tuple(proxy.terms(a).tolist()) for a in archs}) < 2:
        raise UserInputError(f"{truth}: every student has the same size and shape (the proxy's terms); the fit "
                             "needs students of different architectures")


def register(app: typer.Typer) -> None:
    """Add `nas accuracy ...` to the `nas` app."""
    app.add_typer(accuracy_app, name="accuracy")
