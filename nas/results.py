"""Reading a finished (or interrupted) run: its trials, its front, the pick a user asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nas.journal import Journal
from nas.pareto import pareto_mask
from nas_common.errors import UserInputError


def load_trials(run_dir: Path) -> list[dict[str, Any]]:
    if not Path(run_dir).is_dir():
        raise UserInputError(f"{run_dir}: no such run directory")
    trials = Journal(Path(run_dir)).load()
    return [trials[i] for i in sorted(trials)]


def front(records: list[dict[str, Any]], budget_ms: float) -> list[dict[str, Any]]:
    """The non-dominated trials within the budget, best accuracy first (pick 0 is the best)."""
    feasible = [r for r in records if r["feasible"] and r["latency_ms"] <= budget_ms]
    if not feasible:
        return []
    mask = pareto_mask(np.array([r["latency_ms"] for r in feasible]), np.array([r["accuracy"] for r in feasible]))
    chosen = [r for r, keep in zip(feasible, mask, strict=True) if keep]
    unique: dict[tuple[float, float], dict[str, Any]] = {}
    for r in chosen:  # equal scores: keep the earliest trial
        unique.setdefault((r["latency_ms"], r["accuracy"]), r)
    return sorted(unique.values(), key=lambda r: (-r["accuracy"], r["latency_ms"]))


def pick(records: list[dict[str, Any]], budget_ms: float, index: int | None = None,
         max_latency_ms: float | None = None) -> dict[str, Any]:
    points = front(records, budget_ms)
    if not points:
        raise UserInputError(f"no trial within the budget of {budget_ms:g} ms")
    if max_latency_ms is not None:
        within = [r for r in points if r["latency_ms"] <= max_latency_ms]
        if not within:
            fastest = min(r["latency_ms"] for r in points)
            raise UserInputError(f"no front point within {max_latency_ms:g} ms; the fastest is {fastest:.1f} ms")
        return within[0]
    index = 0 if index is None else index
    if not 0 <= index < len(points):
        raise UserInputError(f"--pick {index} is out of range: the front has {len(points)} points "
                             f"(0..{len(points) - 1})")
    return points[index]
