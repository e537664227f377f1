"""Reading a finished (or interrupted) run: its trials, its front, the pick a user asks for."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from nas.search.journal import Journal
from nas.search.pareto import pareto_mask
from nas.search.run_dir import RUN_FILE, check_journal_complete, check_journal_present, read_run_if_readable
from nas.search.trial import Trial
from nas_common.errors import UserInputError


def load_trials(run_dir: Path) -> list[Trial]:
    """The run's trials in id order, with the scores an estimator re-scored at the end of the run (`rescored`
    in run.json: trial id → [journaled score, final score]; e.g. the supernet re-scores its predictor's front),
    so `nas pareto`, `nas export` and the summary show the front that `best/` was chosen from."""
    if not Path(run_dir).is_dir():
        raise UserInputError(f"{run_dir}: no such run directory")
    record = read_run_if_readable(Path(run_dir))  # read once: a running search may rewrite it meanwhile
    check_journal_present(Path(run_dir), record)
    trials = Journal(Path(run_dir)).load()
    check_journal_complete(Path(run_dir), len(trials), record)
    final = _rescored(Path(run_dir), record)
    return [dataclasses.replace(trials[i], accuracy=final[i]) if i in final else trials[i] for i in sorted(trials)]


def _rescored(run_dir: Path, record: Any) -> dict[int, float | None]:
    # record None: no run.json yet (a running search); a damaged run.json is read_run's to report
    rescored = record.get("rescored") if isinstance(record, dict) else None
    if not rescored:
        return {}  # none re-scored
    try:
        return {int(k): (None if v[1] is None else float(v[1])) for k, v in rescored.items()}
    except (ValueError, AttributeError, TypeError, IndexError, KeyError):  # not id → [journaled, final] pairs
        raise UserInputError(f"{run_dir / RUN_FILE}: \"rescored\" is damaged (each trial id maps to [journaled "
                             "score, final score]); restore run.json from where the run came from") from None


def front(trials: list[Trial], budget_ms: float) -> list[Trial]:
    """The non-dominated trials within the budget, best accuracy first (pick 0 is the best)."""
    feasible = [t for t in trials if t.accuracy is not None and t.latency_ms <= budget_ms]
    if not feasible:
        return []
    mask = pareto_mask(np.array([t.latency_ms for t in feasible]), np.array([t.accuracy for t in feasible]))
    chosen = [t for t, keep in zip(feasible, mask, strict=True) if keep]
    unique: dict[tuple[float, float], Trial] = {}
    for t in chosen:  # equal scores: keep the earliest trial
        unique.setdefault((t.latency_ms, t.accuracy), t)
    return sorted(unique.values(), key=lambda t: (-t.accuracy, t.latency_ms))


def pick(trials: list[Trial], budget_ms: float, index: int | None = None,
         max_latency_ms: float | None = None) -> Trial:
    points = front(trials, budget_ms)
    if not points:
        raise UserInputError(f"no trial within the budget of {budget_ms:g} ms")
    if max_latency_ms is not None:
        within = [t for t in points if t.latency_ms <= max_latency_ms]
        if not within:
            fastest = min(t.latency_ms for t in points)
            raise UserInputError(f"no front point within {max_latency_ms:g} ms; the fastest is {fastest:.1f} ms")
        return within[0]
    index = 0 if index is None else index
    if not 0 <= index < len(points):
        raise UserInputError(f"--pick {index} is out of range: the front has {len(points)} points "
                             f"(0..{len(points) - 1})")
    return points[index]
