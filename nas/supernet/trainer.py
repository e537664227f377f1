"""`nas supernet train`: the elastic MobileBERT trained with MobileBERT's distillation on sampled sub-networks.

Each step: the global batch of that step (nas/distill's `PretrainingData`, a pure function of the step), the
sub-networks of that step (`sampler.step_archs`, a pure function of the step), one teacher pass per
micro-batch shared by all of them (`TeacherOnce`), each sub-network's loss terms through its own layer map
(nas/distill's `phase_losses`, terms averaged over its layers as the official factor/L), averaged over the
sub-networks, gradients accumulated over micro-batches and summed over processes (nas/distill's
`accumulate`, `sum_gradients`), global-norm clip, one LAMB step on the shared weights (nas/distill's `Lamb`,
`param_groups`, `learning_rate`). Schedules: `jkt` — transfer losses of all layers (the embeddings and heads
stay the teacher's), then pre-training distillation; `akt` — both at once. PKT does not apply: which layer
is "current" differs per sub-network depth.
"""

from __future__ import annotations

import time
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
from nas.distill.objective import LOSS_TERMS, phase_losses
from nas.distill.schedules import Phase, learning_rate, param_groups
from nas.distill.trainer import GRAD_CLIP
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.evaluate import subnet_layer_map, transfer_phase
from nas.supernet.sampler import step_archs
from nas.supernet.teacher_once import TeacherOnce
from nas_common.errors import UserInputError
from search_spaces.arch import Arch

CHECKPOINT = "checkpoint.pt"
LOG = "losses.csv"
LOG_COLUMNS = ("global_step", "phase", "phase_step", "lr", "subnets", "total", *LOSS_TERMS)
SCHEDULES = ("jkt", "akt")


@dataclass
class LoopConfig:
    out: Path
    lr: float
    warmup: int
    rule: str = "sandwich"
    random_subnets: int = 2
    seed: int = 0
    weight_decay: float = 0.01
    micro_batch_size: int | None = None
    checkpoint_every: int = 0
    device: str = "cpu"
    progress: bool = True
    stop_after: int | None = None  # stop as if killed after this global step (tests)


def plan(schedule: str, steps: int, pd_fraction: float, max_layers: int) -> list[Phase]:
    if schedule not in SCHEDULES:
        raise UserInputError(f"unknown supernet schedule {schedule!r}: choose one of {', '.join(SCHEDULES)}")
    if steps < 1 or not 0.0 <= pd_fraction <= 1.0:
        raise UserInputError("--steps must be ≥ 1 and --pd-fraction in [0, 1]")
    layers = tuple(range(max_layers))
    if schedule == "akt":
        return [Phase("supernet_akt", "akt", steps, layers)]
    pd_steps = round(steps * pd_fraction)
    phases = [Phase("supernet_layers", "layers", steps - pd_steps, layers), Phase("supernet_pd", "pd", pd_steps)]
    return [p for p in phases if p.steps]


class SupernetTrainer:
    def __init__(self, elastic: ElasticMobileBert, teacher: Any, phases: list[Phase], data: Any, cfg: LoopConfig,
                 ctx: DistContext | None = None) -> None:
        """`data.batch(step)` is the *global* batch of `step` (every process collates all of it, then keeps
        its strided rows), so masks and padding do not depend on the number of processes."""
        self.elastic, self.teacher, self.phases, self.data, self.cfg = elastic, teacher, phases, data, cfg
        self.ctx = ctx or DistContext()
        self.named = list(elastic.model.named_parameters())
        self._maps: dict[Arch, Any] = {}

    def archs(self, global_step: int) -> list[Arch]:
        return step_archs(self.elastic.space, self.cfg.rule, self.cfg.random_subnets, self.cfg.seed, global_step)

    def layer_map(self, arch: Arch) -> Any:
        if arch not in self._maps:
            self._maps[arch] = subnet_layer_map(arch, self.teacher.config)
        return self._maps[arch]

    # ------------------------------------------------------------------ one step
    def step_losses(self, phase: Phase, archs: list[Arch], micro: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The loss terms of one micro-batch, averaged over the step's sub-networks."""
        cached = TeacherOnce(self.teacher, micro)
        totals: dict[str, torch.Tensor] = {}
        for arch in archs:
            terms = phase_losses(self.elastic.view(arch), cached, self.layer_map(arch), None,
                                 transfer_phase(arch, phase.kind, phase.steps, phase.name), micro)
            for name, value in terms.items():
                totals[name] = totals.get(name, 0) + value / len(archs)
        return totals

    # ------------------------------------------------------------------ checkpoints
    def _save(self, optimizer: Lamb, phase_index: int, phase_step: int, global_step: int) -> None:
        if not self.ctx.is_main:
            return
        save_checkpoint({"model": self.elastic.model.state_dict(), "optimizer": optimizer.state_dict(),
                         "phase_index": phase_index, "phase_step": phase_step, "global_step": global_step,
                         "phase_names": [p.name for p in self.phases], "fingerprint": self.fingerprint(),
                         "rng": rng_states()}, self.cfg.out / CHECKPOINT)

    def fingerprint(self) -> dict[str, Any]:
        """What must not change between a run and its resumption."""
        return {"phases": [(p.name, p.steps) for p in self.phases], "rule": self.cfg.rule,
                "random_subnets": self.cfg.random_subnets, "seed": self.cfg.seed,
                "supernet": self.elastic.arch.to_dict(), "depth_order": self.elastic.depth_order}

    def _load(self) -> dict[str, Any]:
        path = self.cfg.out / CHECKPOINT
        state = read_checkpoint(path, self.cfg.device, "fingerprint")
        if state["fingerprint"] != self.fingerprint():
            raise UserInputError(f"--resume: {path} was written with other options (steps, sampling, seed or space)")
        self.elastic.model.load_state_dict(state["model"])
        restore_rng_states(state["rng"])
        if self.ctx.is_main:
            truncate_log(self.cfg.out / LOG, LOG_COLUMNS, state["global_step"])
        return state

    def _write_log(self, rows: list[dict[str, Any]]) -> None:
        if self.ctx.is_main:
            write_log(self.cfg.out / LOG, LOG_COLUMNS, rows)

    # ------------------------------------------------------------------ loop
    def run(self, resume: bool = False) -> dict[str, Any]:
        """Train; returns {"steps_done", "seconds", "finished"}."""
        try:
            return self._run(resume)
        finally:
            for p in self.elastic.parameters():
                p.requires_grad_(True)

    def _run(self, resume: bool) -> dict[str, Any]:
        from tqdm.auto import tqdm

        state = self._load() if resume else None
        if not resume and self.ctx.is_main:
            (self.cfg.out / LOG).unlink(missing_ok=True)
        global_step = state["global_step"] if state else 0
        device = torch.device(self.cfg.device)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
        self.elastic.train()
        start_time = time.time()
        first_phase = state["phase_index"] if state else 0
        for phase_index in range(first_phase, len(self.phases)):
            phase = self.phases[phase_index]
            optimizer = Lamb(param_groups(self.named, phase, self.cfg.weight_decay), lr=self.cfg.lr)
            start = 0
            if state and phase_index == first_phase:
                optimizer.load_state_dict(state["optimizer"])
                start = state["phase_step"]
            trainable = [p for g in optimizer.param_groups for p in g["params"]]
            bar = tqdm(total=phase.steps, initial=start, desc=phase.name, leave=True,
                       disable=not (self.cfg.progress and self.ctx.is_main))
            for step in range(start, phase.steps):
                batch = {k: v[self.ctx.rank::self.ctx.world_size].to(device)
                         for k, v in self.data.batch(global_step).items()}
                archs = self.archs(global_step)
                lr = learning_rate(self.cfg.lr, step, phase.steps, self.cfg.warmup, phase.kind)
                for group in optimizer.param_groups:
                    group["lr"] = lr

                def compute(micro: dict[str, torch.Tensor], phase: Phase = phase,
                            archs: list[Arch] = archs) -> dict[str, torch.Tensor]:
                    with autocast:
                        return self.step_losses(phase, archs, micro)

                optimizer.zero_grad(set_to_none=True)
                losses = accumulate(compute, batch, self.cfg.micro_batch_size or len(batch["input_ids"]), self.ctx)
                sum_gradients(trainable, self.ctx)
                torch.nn.utils.clip_grad_norm_(trainable, GRAD_CLIP)
                optimizer.step()
                global_step += 1
                row = {"global_step": global_step, "phase": phase.name, "phase_step": step + 1, "lr": lr,
                       "subnets": len(archs), "total": float(sum(losses.values())),
                       **{k: float(v) for k, v in losses.items()}}
                self._write_log([row])
                bar.update(1)
                bar.set_postfix(loss=f"{row['total']:.4g}")
                if self.cfg.checkpoint_every and global_step % self.cfg.checkpoint_every == 0:
                    self._save(optimizer, phase_index, step + 1, global_step)
                if self.cfg.stop_after is not None and global_step >= self.cfg.stop_after:
                    bar.close()
                    return {"steps_done": global_step, "seconds": time.time() - start_time, "finished": False}
            bar.close()
        return {"steps_done": global_step, "seconds": time.time() - start_time, "finished": True}
