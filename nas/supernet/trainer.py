"""`nas supernet train`: the elastic MobileBERT trained with MobileBERT's distillation on sampled sub-networks.

Each step: the global batch of that step (nas/distill's `PretrainingData`, a pure function of the step), the
sub-networks of that step (`sampler.step_archs`, a pure function of the step), one teacher pass per
micro-batch shared by all of them (`TeacherOnce`), each sub-network's loss terms through its own layer map
(nas/distill's `phase_losses`, terms averaged over its layers as the official factor/L), averaged over the
sub-networks. The rest — gradients accumulated over micro-batches and summed over processes, global-norm
clip, one LAMB step on the shared weights, the loss log and checkpoints — is nas/distill's phase loop
(`loop.py`), the one `nas distill` runs. Schedules: `jkt` — transfer losses of all layers (the embeddings
and heads stay the teacher's), then pre-training distillation; `akt` — both at once. PKT does not apply:
which layer is "current" differs per sub-network depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nas.distill.distributed import DistContext
from nas.distill.loop import LoopConfig, PhaseLoop, StepCompute
from nas.distill.objective import LOSS_TERMS, phase_losses
from nas.distill.schedules import Phase
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.evaluate import subnet_layer_map, transfer_phase
from nas.supernet.sampler import step_archs
from nas.supernet.teacher_once import TeacherOnce
from nas_common.errors import UserInputError
from search_spaces.arch import Arch

LOG_COLUMNS = ("global_step", "phase", "phase_step", "lr", "subnets", "total", *LOSS_TERMS)
SCHEDULES = ("jkt", "akt")


@dataclass
class SupernetConfig(LoopConfig):
    rule: str = "sandwich"
    random_subnets: int = 2
    seed: int = 0
    init_from: str | None = None  # the supernet whose weights started the run (a resumption must name it too)


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


class SupernetTrainer(PhaseLoop):
    log_columns = LOG_COLUMNS
    resume_key = "fingerprint"

    def __init__(self, elastic: ElasticMobileBert, teacher: Any, phases: list[Phase], data: Any, cfg: SupernetConfig,
                 ctx: DistContext | None = None) -> None:
        """`data.batch(step)` is the *global* batch of `step` (every process collates all of it, then keeps
        its strided rows), so masks and padding do not depend on the number of processes."""
        super().__init__(elastic.model, list(elastic.model.named_parameters()), phases, data, cfg, ctx,
                         module=elastic)
        self.elastic, self.teacher, self.cfg = elastic, teacher, cfg
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

    def step_compute(self, phase: Phase, global_step: int) -> tuple[StepCompute, dict[str, Any]]:
        archs = self.archs(global_step)
        return (lambda micro: self.step_losses(phase, archs, micro)), {"subnets": len(archs)}

    def step_batch(self, global_step: int, torch_device: torch.device) -> dict[str, torch.Tensor]:
        return {k: v[self.ctx.rank::self.ctx.world_size].to(torch_device)
                for k, v in self.data.batch(global_step).items()}

    # ------------------------------------------------------------------ checkpoints
    def fingerprint(self) -> dict[str, Any]:
        """What must not change between a run and its resumption."""
        return {"phases": [(p.name, p.steps) for p in self.phases], "rule": self.cfg.rule,
                "random_subnets": self.cfg.random_subnets, "seed": self.cfg.seed,
                "supernet": self.elastic.arch.to_dict(), "depth_order": self.elastic.depth_order,
                **({"init_from": self.cfg.init_from} if self.cfg.init_from else {}),
                # named only when not the default, so checkpoints written before the option still resume
                **({"head_layout": self.elastic.head_layout} if self.elastic.head_layout != "prefix" else {})}

    def checkpoint_extra(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint()}

    def check_resume(self, state: dict[str, Any], path: Path) -> None:
        if state["fingerprint"] != self.fingerprint():
            raise UserInputError(f"--resume: {path} was written with other options (steps, sampling, seed, space or "
                                 "--init-from)")

    def run(self, resume: bool = False) -> dict[str, Any]:
        """Train; returns {"steps_done", "seconds" (this invocation), "training_seconds" (all invocations, None
        when an older checkpoint did not count them), "finished"}."""
        result = self.train_phases(resume)
        return {"steps_done": result.steps_done, "seconds": result.seconds, "finished": result.finished,
                "training_seconds": None if result.total_seconds is None else round(result.total_seconds, 1)}
