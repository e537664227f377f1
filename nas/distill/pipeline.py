"""The three user-facing jobs — teacher pre-training, distillation, fine-tuning — as plain functions
(the CLI parses options and calls these; benchmarks and tests call them directly)."""

from __future__ import annotations

import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch

from nas.distill.data_corpus import PretrainingData, check_has_text
from nas.distill.distributed import init_distributed
from nas.distill.layer_map import check_pair, check_vocabulary
from nas.distill.loop import LOG
from nas.distill.memory import plan_micro_batch
from nas.distill.models import ATTENTION, pretraining_model, student_config
from nas.distill.options import (
    RunOptions,
    check_non_negative,
    check_not_an_input,
    check_positive,
    check_run_options,
    prepare_output_dir,
)
from nas.distill.schedules import Phase, plan
from nas.distill.teacher import (
    build_teacher,
    copy_shared_weights,
    load_teacher,
    quiet_transformers,
    read_config,
    write_model_card,
)
from nas.distill.trainer import TrainConfig, Trainer
from nas.distill.vocab import load_tokenizer, resolve_vocab
from nas_common.errors import UserInputError
from nas_common.io import read_json, read_text
from nas_common.writing import write_json
from search_spaces.arch import Arch
from search_spaces.family import MAX_POSITION_EMBEDDINGS
from search_spaces.presets import resolve_arch

HELDOUT = "metrics.json"


def check_device(torch_device: str) -> str:
    """`torch_device` (`--torch-device`) when it is cpu or an available cuda, else a one-line error."""
    if torch_device not in ("cpu", "cuda"):
        raise UserInputError(f"--torch-device must be cpu or cuda, got {torch_device!r}")
    if torch_device == "cuda" and not torch.cuda.is_available():
        raise UserInputError("--torch-device cuda: no CUDA device is available")
    return torch_device


def resolve_student(name_or_dir: str) -> Arch:
    """An arch name, an arch JSON, an HF config.json, a model directory or a search run dir (RUN/best)."""
    return resolve_arch(name_or_dir)


def say(opts: RunOptions, message: str) -> None:
    if opts.progress:
        print(message, file=sys.stderr, flush=True)


def _prepare(opts: RunOptions, max_positions: int = MAX_POSITION_EMBEDDINGS,
             inputs: dict[str, str | None] | None = None) -> tuple[Any, Any, Any]:
    """Every check that needs no model, then the data: options, device, --out, corpus."""
    check_run_options(opts, max_positions)
    check_device(opts.torch_device)
    check_not_an_input(opts.out, corpus=opts.corpus, eval_corpus=opts.eval_corpus, **(inputs or {}))
    if opts.eval_corpus and not Path(opts.eval_corpus).exists():
        raise UserInputError(f"--eval-corpus {opts.eval_corpus} does not exist")
    if opts.eval_corpus:  # read only at the first checkpoint otherwise: an empty one failed after the set-up
        check_has_text(opts.eval_corpus, "--eval-corpus")
    ctx = init_distributed(opts.torch_device)
    if ctx.is_main:
        prepare_output_dir(opts.out, opts.resume, opts.overwrite)
    tokenizer = load_tokenizer(opts.vocab)
    data = PretrainingData(opts.corpus, tokenizer, opts.seq_len, opts.batch_size, opts.seed,
                           ctx.rank, ctx.world_size, max_predictions=opts.max_predictions)
    torch.manual_seed(opts.seed)
    return ctx, tokenizer, data


def mlm_positions(opts: RunOptions) -> int:
    """Masked positions to plan memory for: 15 % (with margin for the Bernoulli draw), at most the cap."""
    return min(opts.max_predictions, math.ceil(0.2 * opts.seq_len))


def _micro_batch(model: Any, opts: RunOptions, ctx: Any, teacher: Any = None) -> int:
    per_rank = math.ceil(opts.batch_size / ctx.world_size)
    trainable = sum(p.numel() for p in model.parameters())
    memory = plan_micro_batch(model.config, opts.seq_len, mlm_positions(opts), per_rank, trainable,
                              teacher.config if teacher is not None else None, opts.micro_batch_size,
                              what=f"this {trainable / 1e6:.0f} M-parameter model")
    say(opts, f"global batch {opts.batch_size}: {memory.describe(per_rank)}")
    return memory.micro_batch_size


def _train_config(opts: RunOptions, micro_batch_size: int, on_checkpoint: Any = None) -> TrainConfig:
    return TrainConfig(opts.out, opts.lr, opts.warmup, checkpoint_every=opts.checkpoint_every,
                       torch_device=opts.torch_device, progress=opts.progress, stop_after=opts.stop_after,
                       micro_batch_size=micro_batch_size, on_checkpoint=on_checkpoint,
                       checkpoint_on_interrupt=opts.checkpoint_on_interrupt)


def _heldout_writer(opts: RunOptions, tokenizer: Any, ctx: Any, model: Any, micro: int, teacher: Any = None,
                    layer_map: Any = None, projection: Any = None) -> Any:
    """A callback writing the held-out per-term losses at `global_step` into OUT/metrics.json."""
    if not opts.eval_corpus or not ctx.is_main:
        return None
    from nas.distill.evaluate import HeldOut

    heldout = HeldOut(opts.eval_corpus, load_tokenizer(opts.vocab), opts.seq_len, opts.max_predictions)

    def write(global_step: int) -> None:
        path = opts.out / HELDOUT
        entries = _heldout_entries(path) if path.is_file() else []
        if entries and entries[-1]["global_step"] == global_step:
            return  # the last checkpoint was the end: already evaluated
        terms = heldout.losses(model, teacher, layer_map, projection, micro, opts.torch_device)
        entries = [e for e in entries if e["global_step"] < global_step] + [{"global_step": global_step, **terms}]
        write_json(path, {"eval_corpus": str(opts.eval_corpus), "heldout": entries})

    return write


def _heldout_entries(path: Path) -> list[dict[str, Any]]:
    """The held-out evaluations a resumed run wrote before (a list of objects with an integer global_step)."""
    value = read_json(path)
    entries = value.get("heldout") if isinstance(value, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("global_step"), int)
                                                for e in entries):
        raise UserInputError(f"{path}: not a held-out evaluation file (no list 'heldout' of objects with an integer "
                             "global_step); remove it to evaluate again")
    return entries


def _finish(model: Any, opts: RunOptions, ctx: Any, kind: str, details: dict[str, Any],
            on_checkpoint: Any = None) -> None:
    if not ctx.is_main:
        return
    if on_checkpoint is not None:
        on_checkpoint(_last_step(opts.out))
    model.config._attn_implementation = ATTENTION  # attention maps are what a distillation reads
    with quiet_transformers():  # no "Writing model shards" bar
        model.save_pretrained(opts.out)
    shutil.copyfile(resolve_vocab(opts.vocab), opts.out / "vocab.txt")
    write_model_card(opts.out, kind, details)


def run_teacher(arch: Arch | None, init_from: str | None, steps: int, opts: RunOptions,
                freeze_encoder: bool = False) -> dict[str, Any]:
    """Pre-train (or continue pre-training) a teacher with MLM + NSP; `freeze_encoder` trains only the
    pre-training heads and pooler (the first stage of a teacher built on a sentence encoder)."""
    check_positive(steps=steps)
    ctx, tokenizer, data = _prepare(opts, MAX_POSITION_EMBEDDINGS, {"init_from": init_from})
    model = build_teacher(arch, init_from).to(opts.torch_device)
    _check_vocab(model, tokenizer)
    _check_positions(model, opts)
    if ctx.is_main and opts.progress:
        from nas.distill.cost import describe_work

        say(opts, describe_work(model, steps, opts.batch_size, opts.seq_len, mlm_positions(opts)))
    micro = _micro_batch(model, opts, ctx)
    on_checkpoint = _heldout_writer(opts, tokenizer, ctx, model, micro)
    start = time.time()
    phase = Phase("teacher_heads" if freeze_encoder else "teacher_mlm", "mlm", steps, heads_only=freeze_encoder)
    Trainer(model, [phase], data, _train_config(opts, micro, on_checkpoint), ctx=ctx).run(opts.resume)
    details = {"arch": arch.to_dict() if arch and not init_from else None, "init_from": init_from,
               "steps": steps, "freeze_encoder": freeze_encoder, "micro_batch_size": micro,
               "seconds": round(time.time() - start, 1), "options": _plain(opts)}
    _finish(model, opts, ctx, "teacher", details, on_checkpoint)
    return details


def run_distill(student_arch: Arch, teacher_dir: str | None, schedule: str, steps_per_layer: int,
                pd_steps: int, opts: RunOptions, projection: bool = False,
                layer_scale: float | None = None, warm_start: str | None = None) -> dict[str, Any]:
    """Layer-wise transfer then pre-training distillation (or `none`: the same budget without a teacher)."""
    check_non_negative(steps_per_layer=steps_per_layer, pd_steps=pd_steps)
    phases = plan(schedule, student_arch.num_hidden_layers, steps_per_layer, pd_steps, layer_scale)
    if not phases:
        raise UserInputError("nothing to train: --steps-per-layer and --pd-steps are both 0")
    config = student_config(student_arch)
    teacher = layer_map = proj = None
    check_not_an_input(opts.out, teacher=teacher_dir)
    if schedule != "none" and not teacher_dir:
        raise UserInputError("--teacher DIR is required for the schedules pkt, jkt and akt")
    if teacher_dir:
        teacher_config = read_config(teacher_dir)
        if schedule == "none":
            check_vocabulary(config, teacher_config)
        else:
            layer_map = check_pair(config, teacher_config, projection)
    ctx, tokenizer, data = _prepare(opts, MAX_POSITION_EMBEDDINGS, {"teacher": teacher_dir})
    if teacher_dir:
        teacher = load_teacher(teacher_dir)
    student = pretraining_model(config)
    _check_vocab(student, tokenizer)
    warm = load_warm_start(student, warm_start)  # --student DIR with weights: start from them, not the teacher's
    copied = copy_shared_weights(student, teacher) if teacher is not None and not warm else []
    if schedule == "none":  # with --teacher: the ablation that keeps only the teacher's embeddings and heads
        teacher = None
    else:
        teacher.to(opts.torch_device)
        if layer_map.projection:
            proj = torch.nn.Linear(layer_map.student_width, layer_map.teacher_width, bias=False).to(opts.torch_device)
    student.to(opts.torch_device)
    micro = _micro_batch(student, opts, ctx, teacher)
    on_checkpoint = _heldout_writer(opts, tokenizer, ctx, student, micro, teacher, layer_map, proj)
    initial = encoder_weights(student)
    start = time.time()
    Trainer(student, phases, data, _train_config(opts, micro, on_checkpoint), teacher, layer_map, proj,
            ctx).run(opts.resume)
    change = float((encoder_weights(student) - initial).norm() / initial.norm())
    details = {"schedule": schedule, "teacher": teacher_dir, "warm_start": warm,
               "phases": [p.__dict__ for p in phases],
               "layer_map": layer_map.teacher_layer if layer_map else None, "copied_from_teacher": copied,
               "encoder_weight_change": round(change, 6), "micro_batch_size": micro,
               "seconds": round(time.time() - start, 1), "options": _plain(opts)}
    _finish(student, opts, ctx, "student", details, on_checkpoint)
    if ctx.is_main:
        student_arch.save(opts.out / "arch.json")
    return details


def load_warm_start(student: Any, source: str | None) -> str | None:
    """When `--student` is a model directory holding weights (e.g. `nas supernet extract --out D`), load them
    into `student` (same arch: every tensor must match) and return the directory; otherwise None."""
    path = Path(source) if source else None
    if path is None or not path.is_dir() or not any((path / f).is_file() for f in ("model.safetensors",
                                                                                    "pytorch_model.bin")):
        return None
    from transformers import MobileBertForPreTraining

    try:
        loaded = MobileBertForPreTraining.from_pretrained(path, local_files_only=True, attn_implementation=ATTENTION)
        student.load_state_dict(loaded.state_dict())
    except (OSError, RuntimeError, ValueError) as err:
        raise UserInputError(f"--student {path}: its weights do not fit the student "
                             f"({' '.join(str(err).split())[:200]})") from None
    return str(path)


def encoder_weights(model: Any) -> torch.Tensor:
    """All encoder weights as one vector: `encoder_weight_change` in nas_distill.json is ‖W − W₀‖ / ‖W₀‖,
    how far training moved the encoder from its initial weights (the seed's, or the warm start's)."""
    return torch.cat([p.detach().float().reshape(-1).cpu() for p in model.base_model.encoder.parameters()])


def _last_step(out: Path) -> int:
    lines = read_text(out / LOG, "loss log").strip().splitlines() if (out / LOG).is_file() else []
    return int(lines[-1].split(",")[0]) if len(lines) > 1 else 0


def _check_positions(model: Any, opts: RunOptions) -> None:
    positions = model.config.max_position_embeddings
    if opts.seq_len > positions:
        raise UserInputError(f"--seq-len {opts.seq_len} exceeds the model's {positions} positions "
                             "(max_position_embeddings)")


def _check_vocab(model: Any, tokenizer: Any) -> None:
    if len(tokenizer) > model.config.vocab_size:
        raise UserInputError(f"the vocabulary has {len(tokenizer)} tokens but the model only "
                             f"{model.config.vocab_size} embeddings")


def _plain(opts: RunOptions) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in opts.__dict__.items()}


