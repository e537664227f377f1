"""The one training loop of `nas teacher`, `nas distill` (trainer.py) and `nas supernet train`
(nas/supernet/trainer.py). Phases run in order, each with a LAMB over its parameter groups (consecutive
layer-transfer phases hand on the moments of the parameters they share, as the official PKT does). Every
step takes the global batch of its global step (a pure function of the step), accumulates gradients over
micro-batches, sums them over processes, clips them, steps the optimiser and appends every loss term to
`losses.csv`; a checkpoint every N steps (model, optimiser, phase position, RNG states) lets `--resume`
continue exactly as an uninterrupted run would. Ctrl-C or SIGTERM in a CLI run ends it after the current step
with a checkpoint there (`checkpoint_on_interrupt`), so none of the steps since the last regular one is lost.

A trainer subclasses `PhaseLoop` and says only what differs: the loss terms of a step (`step_compute`: one
student against the teacher, or the average over the step's sub-networks sharing one teacher pass), what its
checkpoint holds besides the common part, and what a resumed run must match.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nas.distill.accumulate import Batch, accumulate
from nas.distill.checkpoint import (
    read_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
    truncate_log,
    write_log,
)
from nas.distill.distributed import DistContext, all_reduce_sum, sum_gradients
from nas.distill.lamb import Lamb
from nas.distill.schedules import Phase, learning_rate, param_groups
from nas_common.interrupt import StopAtStepEnd

CHECKPOINT = "checkpoint.pt"
LOG = "losses.csv"
GRAD_CLIP = 1.0  # BERT's global-norm clip (google-research/bert optimization.py)

StepCompute = Callable[[Batch], dict[str, torch.Tensor]]


@dataclass
class LoopConfig:
    out: Path
    lr: float
    warmup: int
    weight_decay: float = 0.01
    checkpoint_every: int = 0  # 0: only at the end
    torch_device: str = "cpu"  # a torch device: cpu, cuda (supernet.json and the CLI keep their own spellings)
    progress: bool = True
    stop_after: int | None = None  # stop (as if killed) after this global step; for tests
    micro_batch_size: int | None = None  # accumulate gradients over micro-batches of this size (None: whole batch)
    on_checkpoint: Callable[[int], None] | None = None  # called with the global step after each checkpoint
    checkpoint_on_interrupt: bool = False  # Ctrl-C, SIGTERM: finish the step, save a checkpoint, stop (CLI runs)


@dataclass
class LoopResult:
    steps_done: int
    finished: bool
    seconds: float  # this invocation's
    rows: list[dict[str, Any]] = field(default_factory=list)  # this invocation's log rows, if kept
    # every invocation's training time up to here (the checkpoint carries the count across --resume); None when
    # the run resumed from a checkpoint written before the count was kept
    total_seconds: float | None = None


class _FirstStep:
    """Says, once, how long this invocation's first step took and what that makes of the steps left (a measured
    figure, not a FLOPs guess); the bar's ETA corrects it as the run goes."""

    def __init__(self, steps_left: int, bar: Any) -> None:
        self.steps_left, self.bar, self.started = steps_left, bar, time.perf_counter()

    def step_done(self) -> None:
        if self.started is None:
            return
        seconds, self.started = time.perf_counter() - self.started, None
        if not self.bar.disable and self.steps_left > 1:
            from nas.distill.cost import measured_estimate

            self.bar.write(measured_estimate(seconds, self.steps_left - 1), file=sys.stderr)


def carry_moments(previous: Lamb, optimizer: Lamb) -> None:
    """Hand the per-parameter state (moments, step) of parameters still trained to the next phase's LAMB."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p in previous.state:
                optimizer.state[p] = previous.state[p]


class PhaseLoop:
    log_columns: tuple[str, ...]
    resume_key: str  # a key every readable checkpoint of this trainer holds
    keep_rows = False  # return every log row (small runs, tests) rather than only the counts

    def __init__(self, model: Any, named: list[tuple[str, torch.nn.Parameter]], phases: list[Phase], data: Any,
                 cfg: LoopConfig, ctx: DistContext | None = None, module: Any = None) -> None:
        """`model` is checkpointed; `named` are the parameters the phases choose from; `module` (default: the
        model) is put in training mode and has every parameter trainable again after the run."""
        self.model, self.named, self.phases, self.data, self.cfg = model, named, phases, data, cfg
        self.ctx = ctx or DistContext()
        self.module = module if module is not None else model

    # ------------------------------------------------------------------ what a trainer says
    def step_compute(self, phase: Phase, global_step: int) -> tuple[StepCompute, dict[str, Any]]:
        """The loss terms of a micro-batch at this step, and the step's extra log columns."""
        raise NotImplementedError

    def step_batch(self, global_step: int, torch_device: torch.device) -> Batch:
        """This process's part of the step's global batch."""
        return {k: v.to(torch_device) for k, v in self.data.batch(global_step).items()}

    def checkpoint_extra(self) -> dict[str, Any]:
        return {}

    def check_resume(self, state: dict[str, Any], path: Path) -> None:
        """Refuse (UserInputError) a checkpoint that another run configuration wrote."""

    def restore_extra(self, state: dict[str, Any]) -> None:
        """Load what `checkpoint_extra` saved."""

    # ------------------------------------------------------------------ checkpoints and the log
    def _save(self, optimizer: Lamb, phase_index: int, phase_step: int, global_step: int) -> None:
        if not self.ctx.is_main:
            return
        save_checkpoint({"model": self.model.state_dict(), "optimizer": optimizer.state_dict(),
                         "phase_index": phase_index, "phase_step": phase_step, "global_step": global_step,
                         "phase_names": [p.name for p in self.phases], **self.checkpoint_extra(),
                         "seconds": self._trained_seconds(), "rng": rng_states()}, self.cfg.out / CHECKPOINT)
        if self.cfg.on_checkpoint is not None:
            self.cfg.on_checkpoint(global_step)

    def _trained_seconds(self) -> float | None:
        """Training time over every invocation so far: the checkpoint's count plus this invocation's."""
        before, started = self._clock
        return None if before is None else before + time.time() - started

    def _result(self, global_step: int, finished: bool, rows: list[dict[str, Any]]) -> LoopResult:
        return LoopResult(global_step, finished, time.time() - self._clock[1], rows, self._trained_seconds())

    def _load(self) -> dict[str, Any]:
        path = self.cfg.out / CHECKPOINT
        state = read_checkpoint(path, self.cfg.torch_device, self.resume_key)
        self.check_resume(state, path)
        self.model.load_state_dict(state["model"])
        self.restore_extra(state)
        restore_rng_states(state["rng"])
        if self.ctx.is_main:
            truncate_log(self.cfg.out / LOG, self.log_columns, state["global_step"])
        return state

    # ------------------------------------------------------------------ the loop
    def train_phases(self, resume: bool = False) -> LoopResult:
        """Train every phase (from the checkpoint's position with `resume`). Every parameter is trainable
        again afterwards, also when `stop_after` ends the run early."""
        try:
            return self._train(resume)
        finally:
            for p in self.module.parameters():
                p.requires_grad_(True)

    def _train(self, resume: bool) -> LoopResult:
        announce = "stopping after this step to save a checkpoint (Ctrl-C again to stop at once)"
        with StopAtStepEnd(self.cfg.checkpoint_on_interrupt, announce if self.cfg.progress else None) as stop:
            return self._train_until(resume, stop)

    def _stop_agreed(self, stop: StopAtStepEnd, torch_device: torch.device) -> bool:
        """Whether any process was asked to stop (all of them stop at the same step, rank 0 saving)."""
        if self.ctx.world_size <= 1:
            return stop.requested
        return bool(all_reduce_sum(torch.tensor([float(stop.requested)], device=torch_device), self.ctx).item() > 0)

    def _stopped(self, global_step: int, stop: StopAtStepEnd) -> BaseException:
        if self.ctx.is_main and self.cfg.progress:
            print(f"interrupted after step {global_step}: checkpoint saved in {self.cfg.out}; the same command "
                  "with --resume continues", file=sys.stderr, flush=True)
        return stop.stop()

    def _train_until(self, resume: bool, stop: StopAtStepEnd) -> LoopResult:
        state = self._load() if resume else None
        if not resume and self.ctx.is_main:
            (self.cfg.out / LOG).unlink(missing_ok=True)
        first_phase = state["phase_index"] if state else 0
        global_step = state["global_step"] if state else 0
        torch_device = torch.device(self.cfg.torch_device)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if torch_device.type == "cuda" else nullcontext()
        self.module.train()
        rows: list[dict[str, Any]] = []
        self._clock = (state.get("seconds") if state else 0.0), time.time()
        optimizer: Lamb | None = None
        bar = self._bar(global_step)
        timer = _FirstStep(sum(p.steps for p in self.phases) - global_step, bar)
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
            bar.set_description(phase.name)  # the phase; the bar itself counts the whole run's steps
            for step in range(start, phase.steps):
                row = self._step(phase, step, global_step, optimizer, torch_device, autocast)
                global_step += 1
                timer.step_done()
                if self.keep_rows:
                    rows.append(row)
                bar.update(1)
                bar.set_postfix(loss=f"{row['total']:.4g}")
                saved = bool(self.cfg.checkpoint_every) and global_step % self.cfg.checkpoint_every == 0
                if saved:
                    self._save(optimizer, phase_index, step + 1, global_step)
                if self.cfg.stop_after is not None and global_step >= self.cfg.stop_after:
                    bar.close()
                    return self._result(global_step, False, rows)
                if self._stop_agreed(stop, torch_device):
                    if not saved:
                        self._save(optimizer, phase_index, step + 1, global_step)
                    bar.close()
                    raise self._stopped(global_step, stop)
        bar.close()
        return self._result(global_step, True, rows)

    def _bar(self, done: int) -> Any:
        """One bar over every phase's steps (a resumed run starts at its step), the phase as its description."""
        from tqdm.auto import tqdm

        return tqdm(total=sum(p.steps for p in self.phases), initial=done, unit="step", leave=True,
                    disable=not (self.cfg.progress and self.ctx.is_main))

    def _step(self, phase: Phase, step: int, global_step: int, optimizer: Lamb, torch_device: torch.device,
              autocast: AbstractContextManager[Any]) -> dict[str, Any]:
        """One optimiser step of `phase` (its `step`-th; the run's `global_step`-th before it); its log row."""
        batch = self.step_batch(global_step, torch_device)
        compute, extra = self.step_compute(phase, global_step)
        lr = learning_rate(self.cfg.lr, step, phase.steps, self.cfg.warmup, phase.kind)
        for group in optimizer.param_groups:
            group["lr"] = lr

        def under_autocast(micro: Batch) -> dict[str, torch.Tensor]:
            with autocast:
                return compute(micro)

        optimizer.zero_grad(set_to_none=True)
        losses = accumulate(under_autocast, batch, self.cfg.micro_batch_size or len(batch["input_ids"]), self.ctx)
        trainable = [p for g in optimizer.param_groups for p in g["params"]]
        sum_gradients(trainable, self.ctx)
        torch.nn.utils.clip_grad_norm_(trainable, GRAD_CLIP)
        optimizer.step()
        row = {"global_step": global_step + 1, "phase": phase.name, "phase_step": step + 1, "lr": lr, **extra,
               "total": float(sum(losses.values())), **{k: float(v) for k, v in losses.items()}}
        if self.ctx.is_main:
            write_log(self.cfg.out / LOG, self.log_columns, [row])
        return row
