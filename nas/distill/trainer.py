"""The trainer of teacher pre-training and distillation: one model (a student against the teacher's
layers, or a teacher on MLM + NSP) through the shared phase loop (loop.py), which also writes every loss
term to `losses.csv` and checkpoints so that `--resume` continues exactly as an uninterrupted run would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nas.distill.distributed import DistContext
from nas.distill.layer_map import LayerMap
from nas.distill.loop import LoopConfig, PhaseLoop, StepCompute
from nas.distill.models import ensure_eager_attention
from nas.distill.objective import LOSS_TERMS, phase_losses
from nas.distill.schedules import Phase
from nas_common.errors import UserInputError

LOG_COLUMNS = ("global_step", "phase", "phase_step", "lr", "total", *LOSS_TERMS)
TrainConfig = LoopConfig  # the distillation trainer needs no more settings than the loop's


class Trainer(PhaseLoop):
    log_columns = LOG_COLUMNS
    resume_key = "phase_names"
    keep_rows = True

    def __init__(self, model: Any, phases: list[Phase], data: Any, config: TrainConfig, teacher: Any = None,
                 layer_map: LayerMap | None = None, projection: Any = None, ctx: DistContext | None = None) -> None:
        for m in (model, teacher):
            if m is not None and layer_map is not None:
                ensure_eager_attention(m)
        named = list(model.named_parameters())
        if projection is not None:
            named += [(f"projection.{n}", p) for n, p in projection.named_parameters()]
        super().__init__(model, named, phases, data, config, ctx)
        self.teacher, self.layer_map, self.projection = teacher, layer_map, projection
        config.out.mkdir(parents=True, exist_ok=True)

    def step_compute(self, phase: Phase, global_step: int) -> tuple[StepCompute, dict[str, Any]]:
        def compute(micro: dict[str, Any]) -> dict[str, Any]:
            return phase_losses(self.model, self.teacher, self.layer_map, self.projection, phase, micro)

        return compute, {}

    def checkpoint_extra(self) -> dict[str, Any]:
        return {"projection": self.projection.state_dict() if self.projection is not None else None}

    def check_resume(self, state: dict[str, Any], path: Path) -> None:
        if state["phase_names"] != [p.name for p in self.phases]:
            raise UserInputError(f"--resume: {path} was written by a different schedule {state['phase_names']}")

    def restore_extra(self, state: dict[str, Any]) -> None:
        if self.projection is not None:
            self.projection.load_state_dict(state["projection"])

    def run(self, resume: bool = False) -> list[dict[str, Any]]:
        """Train; returns this invocation's log rows. Every parameter is trainable again afterwards, also
        when `stop_after` ends the run early."""
        return self.train_phases(resume).rows

