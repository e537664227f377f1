"""`nas evaluate`, and the `--model DIR` form of `nas export`: shipping a trained model (nas/deploy).

Torch, transformers and LiteRT are imported inside the commands, so that `nas --help` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from nas.cli.options import command, named_path, refuse_empty
from nas_common.errors import UserInputError

OUTPUTS = {"logits": "logits", "encoder": "last_hidden_state"}


def _glue_dir(data_dir: str | None) -> Path:
    from nas_common.paths import data_dir as resolve_data_dir

    refuse_empty(data_dir=data_dir)  # "" would read as --data-dir left out: $NAS_DATA_DIR/glue
    glue = resolve_data_dir(data_dir, sub="glue")
    if glue is None:
        raise UserInputError("give --data-dir PATH (or set NAS_DATA_DIR)")
    return glue


def export_trained(model: Path, to: Path, seq_len: int | None, output: str | None, tflite: bool, int8: bool,
                   int8_full: bool, calibration_examples: int, onnx: bool, data_dir: str | None,
                   overwrite: bool, device: str | None = None) -> list[str]:
    """`nas export --model DIR`: every input checked (one line each) before a file is written; the lines to print."""
    from nas.deploy.export_model import FILES, export_model
    from nas.deploy.latency import target_profile
    from nas.deploy.model_dir import check_output, read_model_dir
    from nas.distill.data_glue import read_split
    from nas.export.formats import check_onnx_available, check_tflite_available
    from nas_common.paths import check_output_dir

    trained = read_model_dir(model)
    if output is not None and output not in OUTPUTS:
        raise UserInputError(f"--output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    chosen = OUTPUTS[output] if output else trained.output
    check_output(trained, chosen)
    tflite = tflite or int8 or int8_full
    if not (tflite or onnx):
        raise UserInputError("nothing to export: add --tflite, --tflite-int8, --tflite-int8-full or --onnx")
    length = trained.seq_len if seq_len is None else seq_len
    limit = int(trained.config.max_position_embeddings)
    if not 8 <= length <= limit:
        raise UserInputError(f"--seq-len must be between 8 and the model's {limit} positions, got {length}")
    target = target_profile(device)  # an unknown --device is one line before any file is written
    if tflite:
        check_tflite_available()
    if onnx:
        check_onnx_available()
    calibration = None
    if int8_full:
        if trained.task is None or chosen != "logits":
            raise UserInputError("--tflite-int8-full calibrates on the task's training split: it needs a fine-tuned "
                                 "model exported with its task logits")
        train = read_split(_glue_dir(data_dir), trained.task, "train")
        import numpy as np

        pick = np.random.default_rng(0).permutation(len(train))[:calibration_examples]
        calibration = [train[i] for i in sorted(pick)]
    if to.resolve() == model.resolve() or model.resolve() in to.resolve().parents:
        raise UserInputError(f"--to {to} is inside the model directory {model}; export to a directory outside it")
    check_output_dir(to, overwrite=overwrite, what="--to", result_files=FILES)
    found = f" ({trained.via})" if trained.via else ""
    lines = [f"{model}: {trained.what}{found} → {to} (trained weights; sequence length {length})"]
    return lines + export_model(trained, to, length, chosen, tflite, int8, calibration, onnx, target)


@dataclass(frozen=True, kw_only=True)
class EvaluateArgs:
    """The options of `nas evaluate`, declared once (nas/cli/options.py)."""

    model: Annotated[list[Path], typer.Option(
        "--model", help="A fine-tuned model directory (torch), a .tflite file (LiteRT) or an .onnx file "
        "(onnxruntime) written by nas export --model; repeat to compare: each later one against the first, on the "
        "same examples.", parser=named_path("model"), metavar="<path>")]
    task: Annotated[str, typer.Option("--task", help="mrpc, sst2, rte or stsb: the task the model was fine-tuned "
                                      "on.")]
    data_dir: Annotated[str | None, typer.Option(
        "--data-dir", help="GLUE TSV layout.", show_default="$NAS_DATA_DIR/glue")] = None
    seq_len: Annotated[int | None, typer.Option(
        "--seq-len", help="Tokens per example (longer ones are cut) \\[default: the exported file's, else the "
        "fine-tuning length].")] = None
    max_examples: Annotated[int | None, typer.Option(
        "--max-examples", min=1, help="Only the first N dev examples.")] = None
    threads: Annotated[int, typer.Option("--threads", min=1, help="LiteRT interpreter threads.")] = 1
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False

    def __post_init__(self) -> None:
        refuse_empty(data_dir=self.data_dir)


def evaluate(args: EvaluateArgs) -> None:
    """The GLUE dev metric of a fine-tuned model directory, .tflite file or ONNX file; with several --model,
    each one's paired difference from the first (a 95 % interval on the same examples)."""
    from nas.deploy.evaluate import candidate, common_seq_len, describe, score
    from nas.distill.data_glue import check_task, read_split
    from nas_common.machine import check_threads
    from nas_common.writing import dumps_json

    check_threads(args.threads)
    task = check_task(args.task)
    candidates = [candidate(path, task) for path in args.model]
    length = common_seq_len(candidates, args.seq_len)
    dev = read_split(_glue_dir(args.data_dir), task, "dev")
    result = score(candidates, task, dev[:args.max_examples] if args.max_examples else dev, length, args.threads)
    if args.json_output:
        typer.echo(dumps_json(result))
    else:
        for line in describe(result):
            typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nas` app."""
    app.command("evaluate")(command(evaluate))
