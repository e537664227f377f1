"""Rows of `tests/test_bad_input.py` (the held-out probe of 2026-12-08, group: latency): see that file's docstring for
what a row checks. Setups used only here are defined here."""

from __future__ import annotations

from tests.bad_input_support import Case

CASES: list[Case] = []
