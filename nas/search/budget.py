"""Latency budgets as a person writes them: `62ms`, `62 ms`, `0.062s`. A bare number or a word is an error."""

from __future__ import annotations

import re

from nas_common.errors import UserInputError
from nas_common.io import finite

_BUDGET = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*$", re.IGNORECASE)


def parse_budget(text: str) -> float:
    """The budget in milliseconds."""
    match = _BUDGET.match(str(text))
    if match is None and _BUDGET.match(str(text).strip().removeprefix("-")):
        raise UserInputError(f"budget {text!r} must be positive")
    if match is None:
        raise UserInputError(
            f"budget {text!r} is not a latency: write it with a unit, e.g. 62ms, '62 ms' or 0.062s"
        )
    value = float(match.group(1))
    millis = value if match.group(2).lower() == "ms" else value * 1000.0
    if millis <= 0:
        raise UserInputError(f"budget {text!r} must be positive")
    return millis


def recorded_budget(value: object, where: str) -> float:
    """A budget as a run recorded it (run.json's options.budget_ms): a finite, positive number of milliseconds."""
    return float(finite(value, where, "options.budget_ms", positive=True))


def format_ms(millis: float) -> str:
    """`62ms`, `0.5ms`: the short form used in run-directory names."""
    return f"{millis:g}ms"
