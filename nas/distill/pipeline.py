"""The three user-facing jobs — teacher pre-training, distillation, fine-tuning — as plain functions
(the CLI parses options and calls these; benchmarks and tests call them directly)."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nas.distill.data_corpus import PretrainingData
from nas.distill.distributed import init_distributed
from nas.distill.layer_map import build_layer_map
from nas.distill.schedules import Phase, plan
from nas.distill.teacher import (
    build_teacher,
    copy_shared_weights,
    load_teacher,
    model_shape,
    read_config,
    write_model_card,
)
from nas.distill.trainer import TrainConfig, Trainer
from nas.distill.vocab import load_tokenizer, resolve_vocab
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.presets import resolve_arch

# Paper-scale defaults (MobileBERT §4.2–4.3 and the official code; paper-facts.md): 24 PKT phases of
# 10k steps, then 500k PD steps at batch 2048, lr 1.5e-3, LAMB, 10k warm-up steps, 128 tokens.
PAPER_STEPS_PER_LAYER = 10_000
PAPER_PD_STEPS = 500_000
PAPER_BATCH = 2048
PAPER_LR = 1.5e-3
PAPER_WARMUP = 10_000
PAPER_SEQ_LEN = 128


@dataclass
class RunOptions:
    corpus: str
    out: Path
    batch_size: int = PAPER_BATCH
    seq_len: int = PAPER_SEQ_LEN
    lr: float = PAPER_LR
    warmup: int = PAPER_WARMUP
    checkpoint_every: int = 1000
    resume: bool = False
    device: str = "cpu"
    seed: int = 0
    vocab: str | None = None
    progress: bool = True
    stop_after: int | None = None


def check_device(device: str) -> str:
    if device not in ("cpu", "cuda"):
        raise UserInputError(f"--device must be cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise UserInputError("--device cuda: no CUDA device is available")
    return device


def resolve_student(name_or_dir: str) -> Arch:
    """An arch name, an arch JSON, a directory holding arch.json, or a search run dir (RUN/best)."""
    path = Path(name_or_dir)
    if path.is_dir() and not (path / "arch.json").is_file() and (path / "best" / "arch.json").is_file():
        path = path / "best"
    return resolve_arch(str(path))


def _prepare(opts: RunOptions) -> tuple[Any, Any, Any]:
    check_device(opts.device)
    if opts.batch_size < 1 or opts.lr <= 0:
        raise UserInputError("--batch-size must be ≥ 1 and --lr > 0")
    ctx = init_distributed(opts.device)
    tokenizer = load_tokenizer(opts.vocab)
    data = PretrainingData(opts.corpus, tokenizer, opts.seq_len, opts.batch_size, opts.seed,
                           ctx.rank, ctx.world_size)
    torch.manual_seed(opts.seed)
    return ctx, tokenizer, data


def _train_config(opts: RunOptions) -> TrainConfig:
    return TrainConfig(opts.out, opts.lr, opts.warmup, checkpoint_every=opts.checkpoint_every,
                       device=opts.device, progress=opts.progress, stop_after=opts.stop_after)


def _finish(model: Any, opts: RunOptions, ctx: Any, kind: str, details: dict[str, Any]) -> None:
    if not ctx.is_main:
        return
    model.save_pretrained(opts.out)
    shutil.copyfile(resolve_vocab(opts.vocab), opts.out / "vocab.txt")
    write_model_card(opts.out, kind, details)


def run_teacher(arch: Arch | None, init_from: str | None, steps: int, opts: RunOptions) -> dict[str, Any]:
    """Pre-train (or continue pre-training) a teacher with MLM + NSP."""
    ctx, tokenizer, data = _prepare(opts)
    model = build_teacher(arch, init_from).to(opts.device)
    _check_vocab(model, tokenizer)
    start = time.time()
    Trainer(model, [Phase("teacher_mlm", "mlm", steps)], data, _train_config(opts), ctx=ctx).run(opts.resume)
    details = {"arch": arch.to_dict() if arch and not init_from else None, "init_from": init_from,
               "steps": steps, "seconds": round(time.time() - start, 1), "options": _plain(opts)}
    _finish(model, opts, ctx, "teacher", details)
    return details


def run_distill(student_arch: Arch, teacher_dir: str | None, strategy: str, steps_per_layer: int,
                pd_steps: int, opts: RunOptions, projection: bool = False) -> dict[str, Any]:
    """Layer-wise transfer then pre-training distillation (or `none`: the same budget without a teacher)."""
    from transformers import MobileBertForPreTraining

    phases = plan(strategy, student_arch.num_hidden_layers, steps_per_layer, pd_steps)
    # Attention maps are compared as distributions, so the student's attention dropout is off.
    config = student_arch.to_hf_config(attention_probs_dropout_prob=0.0)
    teacher = layer_map = proj = None
    if strategy != "none":
        if not teacher_dir:
            raise UserInputError("--teacher DIR is required for strategies pkt, jkt and akt")
        teacher_config = read_config(teacher_dir)
        t, s = model_shape(teacher_config), model_shape(config)
        layer_map = build_layer_map(s.layers, t.layers, s.heads, t.heads, s.width, t.width, projection)
        if teacher_config.vocab_size != config.vocab_size:
            raise UserInputError(f"teacher vocabulary ({teacher_config.vocab_size}) differs from the student's "
                                 f"({config.vocab_size})")
        teacher = load_teacher(teacher_dir)
    ctx, tokenizer, data = _prepare(opts)
    student = MobileBertForPreTraining(config)
    _check_vocab(student, tokenizer)
    copied: list[str] = []
    if strategy == "none" and teacher_dir:  # ablation: no transfer losses, only the teacher's embeddings
        copied = copy_shared_weights(student, load_teacher(teacher_dir))
    if teacher is not None:
        teacher.to(opts.device)
        copied = copy_shared_weights(student, teacher)
        if layer_map.projection:
            proj = torch.nn.Linear(layer_map.student_width, layer_map.teacher_width, bias=False).to(opts.device)
    student.to(opts.device)
    start = time.time()
    Trainer(student, phases, data, _train_config(opts), teacher, layer_map, proj, ctx).run(opts.resume)
    details = {"strategy": strategy, "teacher": teacher_dir, "phases": [p.__dict__ for p in phases],
               "layer_map": layer_map.teacher_layer if layer_map else None, "copied_from_teacher": copied,
               "seconds": round(time.time() - start, 1), "options": _plain(opts)}
    _finish(student, opts, ctx, "student", details)
    if ctx.is_main:
        student_arch.save(opts.out / "arch.json")
    return details


def _check_vocab(model: Any, tokenizer: Any) -> None:
    if len(tokenizer) > model.config.vocab_size:
        raise UserInputError(f"the vocabulary has {len(tokenizer)} tokens but the model only "
                             f"{model.config.vocab_size} embeddings")


def _plain(opts: RunOptions) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in opts.__dict__.items()}


def default_data_path(*parts: str) -> str | None:
    """A path under $NAS_DATA_DIR (the shared data folder: corpus/, glue/, vocab/), when it is set."""
    root = os.environ.get("NAS_DATA_DIR")
    return str(Path(root, *parts)) if root else None


def load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
