"""Whether a search of N trials fits in memory: a search holds every trial until it writes the run (trials.csv,
the front, the report), so memory grows with --trials. Checked before the first trial, so that a mistyped
--trials is one line, not an out-of-memory kill hours later (the trials done by then are kept either way)."""

from __future__ import annotations

from nas_common.errors import UserInputError
from nas_common.machine import BUDGET_SHARE, GIB, available_memory

# Measured by benchmarks/search_memory.py (benchmarks/results/search_memory.json): peak RSS of the default search
# at 2 000, 20 000 and 60 000 trials, least squares: 4.51 KiB a trial over a 185 MiB base.
KIB_PER_TRIAL = 4.51
BASE_MIB = 185.0


def expected_bytes(trials: int) -> float:
    return BASE_MIB * 1024**2 + trials * KIB_PER_TRIAL * 1024


def check_trials_fit(trials: int, available: int | None = None) -> None:
    """UserInputError when `trials` would need more than `BUDGET_SHARE` of the available memory."""
    available = available_memory() if available is None else available
    need = expected_bytes(trials)
    if need > BUDGET_SHARE * available:
        most = int((BUDGET_SHARE * available - BASE_MIB * 1024**2) / (KIB_PER_TRIAL * 1024))
        raise UserInputError(
            f"--trials {trials:,} would hold about {need / GIB:.1f} GiB while searching ({KIB_PER_TRIAL:g} KiB a "
            f"trial), more than {BUDGET_SHARE:.0%} of the {available / GIB:.1f} GiB available: run at most about "
            f"{max(most, 0):,} on this machine")
