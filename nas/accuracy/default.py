"""Which accuracy estimator `nas search` uses when none is named.

Issue 31's pre-registered rule (benchmarks/proof/plan.json, analysis.default_estimator_rule): once the 16 fresh
students are judged, the default is the shipped predictor if it ranks them at least as well as body-parameter
count, else body-parameter count. A shipped predictor knows only its supernet's space, so where a search asks for
students outside it (an explicit `--space`, a teacher of another width) the default is body-parameter count, which
ranks any space and ranked the fresh students better than the training-free proxy did; the search says so in one
line. `--estimator` always wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from search_spaces.space import SearchSpace

DEFAULT_ESTIMATOR = "predictor"
DEFAULT_PREDICTOR = "proof-seed0"  # nas/accuracy/shipped/proof-seed0: the proof's frozen predictor
FALLBACK_ESTIMATOR = "params"


@dataclass(frozen=True)
class Choice:
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # one line for stderr: what was chosen and why, when it is not the obvious
    built: Any = None  # the estimator when choosing it built it (the search uses it: no second load and check)


def default_choice(space: SearchSpace, explicit_space: bool, teacher: Path | None) -> Choice:
    """The estimator of a search that names none, for `space` (`explicit_space`: given with --space) and
    `teacher` (a directory whose width the students must have)."""
    if DEFAULT_ESTIMATOR != "predictor":
        return Choice(DEFAULT_ESTIMATOR)
    from nas.accuracy.shipping import ShippedPredictorEstimator, shipped_names
    from search_spaces.teacher_fit import read_teacher_shape, restrict_to_teacher

    if DEFAULT_PREDICTOR not in shipped_names():
        return Choice(FALLBACK_ESTIMATOR, note=f"note: the default predictor {DEFAULT_PREDICTOR} is not shipped "
                      "with this install: ranking by body-parameter count (--estimator params)")
    shape = read_teacher_shape(teacher) if teacher is not None else None  # a bad --teacher stays an error
    predictor = ShippedPredictorEstimator(DEFAULT_PREDICTOR)
    try:
        searched = predictor.restrict_space(space, explicit_space)
        if shape is not None:
            restrict_to_teacher(searched, shape)
    except UserInputError as outside:
        return Choice(FALLBACK_ESTIMATOR, note=f"note: the default estimator, the shipped predictor "
                      f"{DEFAULT_PREDICTOR}, knows only its space {predictor.space.name} ({outside}): ranking by "
                      "body-parameter count instead (--estimator params); name one with --estimator")
    return Choice("predictor", {"predictor": DEFAULT_PREDICTOR}, built=predictor,
                  note=None if explicit_space else f"note: searching {predictor.space.name}, the default "
                  f"estimator's space ({predictor.space.description}); to search {space.name} give --estimator "
                  "params")
