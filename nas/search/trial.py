"""`Trial`: one evaluated architecture of a search, the record every reader of a run uses.

On disk a trial is one JSON object per line of `trials.jsonl` (see `journal.py`). Scores are stored unrounded
(JSON round-trips a float exactly): a resumed strategy must be told exactly what the uninterrupted one was
told, or its choices drift apart. Journals written before the rename of `batch` (the search generation) to
`generation` still load.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from search_spaces.arch import Arch

_OLD_NAMES = {"batch": "generation"}  # journals written by earlier versions


@dataclass(frozen=True)
class Trial:
    id: int
    generation: int  # the strategy's ask/tell round the trial was proposed in
    latency_ms: float  # predicted on the run's device
    accuracy: float | None  # the estimator's score; None when the latency is over the budget (never scored)
    params: int
    arch: Arch
    time: float  # Unix time the trial was recorded

    @property
    def feasible(self) -> bool:
        """Within the budget, and so scored."""
        return self.accuracy is not None

    @classmethod
    def new(cls, trial_id: int, generation: int, arch: Arch, latency_ms: float, accuracy: float) -> Trial:
        """A freshly scored trial; `accuracy` is NaN when the arch was over the budget."""
        scored = not math.isnan(accuracy)
        return cls(trial_id, generation, float(latency_ms), float(accuracy) if scored else None, arch.num_params(),
                   arch, round(time.time(), 3))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "generation": self.generation, "latency_ms": self.latency_ms,
                "accuracy": self.accuracy, "feasible": self.feasible, "params": self.params,
                "arch": self.arch.to_dict(), "time": self.time}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trial:
        """Raises KeyError/TypeError/ValueError (or UserInputError for a bad arch) on a malformed record."""
        data = {_OLD_NAMES.get(k, k): v for k, v in data.items()}
        accuracy = None if data["accuracy"] is None else float(data["accuracy"])
        latency_ms = float(data["latency_ms"])
        # values no search writes: an edited or damaged record, not a trial (a negative latency would lead the front)
        if not (math.isfinite(latency_ms) and latency_ms > 0) or (accuracy is not None and not
                                                                 (math.isfinite(accuracy) and accuracy >= 0)):
            raise ValueError(f"latency_ms {latency_ms!r} or accuracy {accuracy!r} out of range")
        return cls(id=int(data["id"]), generation=int(data["generation"]), latency_ms=latency_ms, accuracy=accuracy,
                   params=int(data["params"]), arch=Arch.from_dict(data["arch"], source="trial arch"),
                   time=float(data.get("time", 0.0)))
