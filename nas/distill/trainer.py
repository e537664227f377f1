"""The training loop shared by teacher pre-training and distillation: phases run in order, every loss
term goes to `losses.csv`, and a checkpoint every N steps lets `--resume` continue exactly as an
uninterrupted run would (model, optimiser, phase position, RNG states; batches depend on the step only).
"""

from __future__ import annotations

import csv
import random
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nas.distill.distributed import DistContext, average_gradients
from nas.distill.lamb import Lamb
from nas.distill.layer_map import LayerMap
from nas.distill.objective import LOSS_TERMS, phase_losses
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


class Trainer:
    def __init__(self, model: Any, phases: list[Phase], data: Any, config: TrainConfig, teacher: Any = None,
                 layer_map: LayerMap | None = None, projection: Any = None, ctx: DistContext | None = None) -> None:
        self.model, self.phases, self.data, self.cfg = model, phases, data, config
        self.teacher, self.layer_map, self.projection = teacher, layer_map, projection
        self.ctx = ctx or DistContext()
        self.named = list(model.named_parameters())
        if projection is not None:
            self.named += [(f"projection.{n}", p) for n, p in projection.named_parameters()]
        config.out.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ checkpoints
    def _save(self, optimizer: Lamb, phase_index: int, phase_step: int, global_step: int) -> None:
        if not self.ctx.is_main:
            return
        state = {
            "model": self.model.state_dict(),
            "projection": self.projection.state_dict() if self.projection is not None else None,
            "optimizer": optimizer.state_dict(), "phase_index": phase_index, "phase_step": phase_step,
            "global_step": global_step, "phase_names": [p.name for p in self.phases],
            "rng": {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
        }
        tmp = self.cfg.out / (CHECKPOINT + ".tmp")
        torch.save(state, tmp)
        tmp.replace(self.cfg.out / CHECKPOINT)

    def _load(self) -> dict[str, Any]:
        path = self.cfg.out / CHECKPOINT
        if not path.is_file():
            raise UserInputError(f"--resume: no checkpoint at {path}")
        try:
            state = torch.load(path, map_location=self.cfg.device, weights_only=False)
            state["phase_names"]
        except Exception as err:  # torch raises several types for a damaged file; all mean "unreadable"
            raise UserInputError(f"--resume: {path} is not a readable checkpoint ({type(err).__name__})") from None
        if state["phase_names"] != [p.name for p in self.phases]:
            raise UserInputError(f"--resume: {path} was written by a different schedule {state['phase_names']}")
        self.model.load_state_dict(state["model"])
        if self.projection is not None:
            self.projection.load_state_dict(state["projection"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"].cpu())
        random.setstate(rng["python"])
        np.random.set_state(rng["numpy"])
        if rng["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self._truncate_log(state["global_step"])
        return state

    def _truncate_log(self, global_step: int) -> None:
        path = self.cfg.out / LOG
        if not path.is_file():
            return
        with path.open(newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if int(r["global_step"]) <= global_step]
        self._write_log(rows, mode="w")

    def _write_log(self, rows: list[dict[str, Any]], mode: str = "a") -> None:
        if not self.ctx.is_main:
            return
        path = self.cfg.out / LOG
        new = mode == "w" or not path.is_file()
        with path.open(mode if not new else "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
            if new:
                writer.writeheader()
            writer.writerows(rows)

    # ------------------------------------------------------------------ loop
    def run(self, resume: bool = False) -> list[dict[str, Any]]:
        """Train; returns this invocation's log rows."""
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
                batch = {k: v.to(device) for k, v in self.data.batch(global_step).items()}
                lr = learning_rate(self.cfg.lr, step, phase.steps, self.cfg.warmup)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                with autocast:
                    losses = phase_losses(self.model, self.teacher, self.layer_map, self.projection, phase, batch)
                total = sum(losses.values())
                optimizer.zero_grad(set_to_none=True)
                total.backward()
                average_gradients(trainable, self.ctx)
                torch.nn.utils.clip_grad_norm_(trainable, GRAD_CLIP)
                optimizer.step()
                global_step += 1
                row = {"global_step": global_step, "phase": phase.name, "phase_step": step + 1, "lr": lr,
                       "total": float(total.detach()), **{k: float(v.detach()) for k, v in losses.items()}}
                rows.append(row)
                self._write_log([row])
                bar.update(1)
                bar.set_postfix(loss=f"{row['total']:.4g}")
                if self.cfg.checkpoint_every and global_step % self.cfg.checkpoint_every == 0:
                    self._save(optimizer, phase_index, step + 1, global_step)
                if self.cfg.stop_after is not None and global_step >= self.cfg.stop_after:
                    bar.close()
                    return rows
            bar.close()
        for p in self.model.parameters():
            p.requires_grad_(True)
        return rows
