"""Options of `nas teacher | distill | finetune`: paper-scale defaults with their sources, range checks, and
output-directory checks — all before any model is built (torch-free, so the CLI imports it cheaply)."""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

from nas.distill.memory import check_global_batch
from nas_common.errors import UserInputError

# Paper-scale defaults (MobileBERT §4.2–4.3 and the official code; paper-facts.md): 24 PKT phases of
# 10k steps, then 500k PD steps at batch 2048, lr 1.5e-3, LAMB, 10k warm-up steps; the official README's
# distillation command runs at 512 tokens with at most 20 predictions a sequence (both stages).
PAPER_STEPS_PER_LAYER = 10_000
PAPER_PD_STEPS = 500_000
PAPER_TEACHER_STEPS = 10_000
PAPER_BATCH = 2048
PAPER_LR = 1.5e-3
PAPER_WARMUP = 10_000
PAPER_SEQ_LEN = 512
PAPER_MAX_PREDICTIONS = 20
PAPER_CHECKPOINT_EVERY = 1000
# Fine-tuning: BERT's recipe (Devlin et al. 2019 §4); the paper searches lr 1e-5…1e-4, 2–10 epochs (§4.4).
FINETUNE_EPOCHS = 3.0
FINETUNE_LR = 5e-5
FINETUNE_BATCH = 32
FINETUNE_SEQ_LEN = 128

# What `--overwrite` replaces in an output directory (and what makes it "already hold a result").
RESULT_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "vocab.txt", "arch.json",
                "nas_distill.json", "losses.csv", "checkpoint.pt", "checkpoint.pt.tmp", "metrics.json")


@dataclass
class RunOptions:
    corpus: str
    out: Path
    batch_size: int = PAPER_BATCH
    seq_len: int = PAPER_SEQ_LEN
    max_predictions: int = PAPER_MAX_PREDICTIONS
    lr: float = PAPER_LR
    warmup: int = PAPER_WARMUP
    checkpoint_every: int = PAPER_CHECKPOINT_EVERY
    resume: bool = False
    overwrite: bool = False
    torch_device: str = "cpu"  # `--torch-device`: where the models run (cpu, cuda)
    seed: int = 0
    vocab: str | None = None
    progress: bool = True
    stop_after: int | None = None
    micro_batch_size: int | None = None  # None: chosen from the available memory
    eval_corpus: str | None = None
    checkpoint_on_interrupt: bool = True  # Ctrl-C, SIGTERM: finish the step, save a checkpoint (off in confirm trials)


def check_positive(**values: float | None) -> None:
    """Each named option must be > 0 (None: not given). Names are the options' Python names."""
    for name, value in values.items():
        if value is not None and not (value > 0 and math.isfinite(value)):
            finite = "" if math.isfinite(value) or math.isnan(value) else " and finite"
            raise UserInputError(f"--{name.replace('_', '-')} must be > 0{finite}, got {value}")


def check_non_negative(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < 0:
            raise UserInputError(f"--{name.replace('_', '-')} must be ≥ 0, got {value}")


def check_run_options(opts: RunOptions, max_positions: int | None = None) -> None:
    check_positive(batch_size=opts.batch_size, seq_len=opts.seq_len, lr=opts.lr,
                   max_predictions=opts.max_predictions, micro_batch_size=opts.micro_batch_size)
    check_non_negative(warmup=opts.warmup, checkpoint_every=opts.checkpoint_every, seed=opts.seed)
    if opts.seq_len < 8:
        raise UserInputError(f"--seq-len must be at least 8, got {opts.seq_len}")
    if max_positions is not None and opts.seq_len > max_positions:
        raise UserInputError(f"--seq-len {opts.seq_len} exceeds the model's {max_positions} positions "
                             "(max_position_embeddings)")
    if opts.resume and opts.overwrite:
        raise UserInputError("--resume and --overwrite contradict each other: choose one")
    check_global_batch(opts.batch_size, opts.seq_len)


def prepare_output_dir(out: Path, resume: bool = False, overwrite: bool = False) -> Path:
    """Refuse an --out that cannot hold results or already holds one (unless --resume/--overwrite), through
    the project's one output check (`nas_common.paths`); `--overwrite` then removes the old result files so
    nothing stale (e.g. checkpoint.pt) stays behind. Creates the directory."""
    from nas_common.paths import check_output_dir, remove_results

    out = check_output_dir(out, overwrite=overwrite or resume, result_files=RESULT_FILES)
    if resume and not (out / "checkpoint.pt").is_file():
        raise UserInputError(f"--resume: no checkpoint at {out / 'checkpoint.pt'} (run without --resume first)")
    if resume:
        check_checkpoint_file(out / "checkpoint.pt")
    out.mkdir(parents=True, exist_ok=True)
    if overwrite and not resume:
        remove_results(out, RESULT_FILES)
    return out


def check_checkpoint_file(path: Path) -> None:
    """A damaged checkpoint (empty, cut short, not written by torch.save) is refused before the run builds its
    models and prints its plan: torch.save writes a zip archive, whose directory is its last bytes."""
    if not zipfile.is_zipfile(path):
        raise UserInputError(f"--resume: {path} is not a readable checkpoint (empty, cut short or not written by "
                             "nas); run without --resume, with --overwrite, to start again")


def check_not_an_input(out: Path, **inputs: str | Path | None) -> None:
    """--out must not be one of the command's inputs, nor would its result files land on one (writing there
    would destroy it). An input in a sub-folder of --out is safe: only RESULT_FILES are (re)written."""
    target = out.expanduser().resolve()
    for name, value in inputs.items():
        if value is None:
            continue
        source = Path(value).expanduser().resolve()
        if source == target or (source.parent == target and source.name in RESULT_FILES):
            raise UserInputError(f"--out {out} would overwrite the --{name.replace('_', '-')} input {value}")
