"""The training loop shared by teacher pre-training and distillation: phases run in order, every loss
term goes to `losses.csv`, and a checkpoint every N steps lets `--resume` continue exactly as an
uninterrupted run would (model, optimiser, phase position, RNG states; batches depend on the step only).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nas.distill.accumulate import accumulate
from nas.distill.checkpoint import (
    read_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
    truncate_log,
    write_log,
)
from nas.distill.distributed import DistContext, sum_gradients
from nas.distill.lamb import Lamb
from nas.distill.layer_map import LayerMap
from nas.distill.objective import LOSS_TERMS, ensure_eager_attention, phase_losses
from nas.distill.schedules import Phase, learning_rate, param_groups
from nas_common.errors import UserInputError

CHECKPOINT = "checkpoint.pt"
LOG = "losses.csv"
LOG_COLUMNS = ("global_step", "phase", "phase_step", "lr", "total", *LOSS_TERMS)
GRAD_CLIP = 1.0  # BERT's global-norm clip (google-research/bert optimization.py)


@dataclass
class TrainConfig:
    out: Path
    lr: float
    warmup: int
    weight_decay: float = 0.01
    checkpoint_every: int = 0  # 0: only at the end
    device: str = "cpu"
    progress: bool = True
    stop_after: int | None = None  # stop (as if killed) after this global step; for tests
    micro_batch_size: int | None = None  # accumulate gradients over micro-batches of this size (None: whole batch)
    on_checkpoint: Callable[[int], None] | None = None  # called with the global step after each checkpoint


def carry_moments(previous: Lamb, optimizer: Lamb) -> None:
    """Hand the per-parameter state (moments, step) of parameters still trained to the next phase's LAMB."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p in previous.state:
                optimizer.state[p] = previous.state[p]


class Trainer:
    def __init__(self, model: Any, phases: list[Phase], data: Any, config: TrainConfig, teacher: Any = None,
                 layer_map: LayerMap | None = None, projection: Any = None, ctx: DistContext | None = None) -> None:
        self.model, self.phases, self.data, self.cfg = model, phases, data, config
        self.teacher, self.layer_map, self.projection = teacher, layer_map, projection
        self.ctx = ctx or DistContext()
        for m in (model, teacher):
            if m is not None and layer_map is not None:
                ensure_eager_attention(m)
        self.named = list(model.named_parameters())
        if projection is not None:
            self.named += [(f"projection.{n}", p) for n, p in projection.named_parameters()]
        config.out.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ checkpoints
    def _save(self, optimizer: Lamb, phase_index: int, phase_step: int, global_step: int) -> None:
        if not self.ctx.is_main:
            return
        save_checkpoint({
            "model": self.model.state_dict(),
            "projection": self.projection.state_dict() if self.projection is not None else None,
            "optimizer": optimizer.state_dict(), "phase_index": phase_index, "phase_step": phase_step,
            "global_step": global_step, "phase_names": [p.name for p in self.phases], "rng": rng_states(),
        }, self.cfg.out / CHECKPOINT)

    def _load(self) -> dict[str, Any]:
        path = self.cfg.out / CHECKPOINT
        state = read_checkpoint(path, self.cfg.device, "phase_names")
        if state["phase_names"] != [p.name for p in self.phases]:
            raise UserInputError(f"--resume: {path} was written by a different schedule {state['phase_names']}")
        self.model.load_state_dict(state["model"])
        if self.projection is not None:
            self.projection.load_state_dict(state["projection"])
        restore_rng_states(state["rng"])
        if self.ctx.is_main:
            truncate_log(self.cfg.out / LOG, LOG_COLUMNS, state["global_step"])
        return state

    def _write_log(self, rows: list[dict[str, Any]]) -> None:
        if self.ctx.is_main:
            write_log(self.cfg.out / LOG, LOG_COLUMNS, rows)

    # ------------------------------------------------------------------ loop
    def run(self, resume: bool = False) -> list[dict[str, Any]]:
        """Train; returns this invocation's log rows. Every parameter is trainable again afterwards, also
        when `stop_after` ends the run early."""
        try:
            return self._run(resume)
        finally:
            for p in self.model.parameters():
                p.requires_grad_(True)

    def _run(self, resume: bool) -> list[dict[str, Any]]:
        from tqdm.auto import tqdm

        state = self._load() if resume else None
        if not resume:
            (self.cfg.out / LOG).unlink(missing_ok=True)
        first_phase = state["phase_index"] if state else 0
        global_step = state["global_step"] if state else 0
        device = torch.device(self.cfg.device)
        autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext())
        self.model.train()
        rows: list[dict[str, Any]] = []
        optimizer: Lamb | None = None
        for phase_index in range(first_phase, len(self.phases)):
            phase = self.phases[phase_index]
            previous = optimizer if phase_index > first_phase else None
            optimizer = Lamb(param_groups(self.named, phase, self.cfg.weight_decay), lr=self.cfg.lr)
            if previous is not None and phase.kind == "layers" and self.phases[phase_index - 1].kind == "layers":
                carry_moments(previous, optimizer)  # official PKT: lower layers keep their LAMB moments
            start = 0
            if state and phase_index == first_phase:
                optimizer.load_state_dict(state["optimizer"])
                start = state["phase_step"]
            trainable = [p for g in optimizer.param_groups for p in g["params"]]
            bar = tqdm(total=phase.steps, initial=start, desc=phase.name, leave=True,
                       disable=not (self.cfg.progress and self.ctx.is_main))

            def compute(micro: dict[str, torch.Tensor], phase: Phase = phase) -> dict[str, torch.Tensor]:
                with autocast:
                    return phase_losses(self.model, self.teacher, self.layer_map, self.projection, phase, micro)

            for step in range(start, phase.steps):
                batch = {k: v.to(device) for k, v in self.data.batch(global_step).items()}
                lr = learning_rate(self.cfg.lr, step, phase.steps, self.cfg.warmup, phase.kind)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.zero_grad(set_to_none=True)
                micro = self.cfg.micro_batch_size or len(batch["input_ids"])
                losses = accumulate(compute, batch, micro, self.ctx)
                total = sum(losses.values())
                sum_gradients(trainable, self.ctx)
                torch.nn.utils.clip_grad_norm_(trainable, GRAD_CLIP)
                optimizer.step()
                global_step += 1
                row = {"global_step": global_step, "phase": phase.name, "phase_step": step + 1, "lr": lr,
                       "total": float(total), **{k: float(v) for k, v in losses.items()}}
                rows.append(row)
                self._write_log([row])
                bar.update(1)
                bar.set_postfix(loss=f"{row['total']:.4g}")
                if self.cfg.checkpoint_every and global_step % self.cfg.checkpoint_every == 0:
                    self._save(optimizer, phase_index, step + 1, global_step)
                    if self.cfg.on_checkpoint is not None and self.ctx.is_main:
                        self.cfg.on_checkpoint(global_step)
                if self.cfg.stop_after is not None and global_step >= self.cfg.stop_after:
                    bar.close()
                    return rows
            bar.close()
        return rows
