"""The benchmarks are a package run as `python -m benchmarks.NAME` from the repository root (issue 34): none edits
`sys.path`, each imports the project as a user would, and each result records how it was made."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def test_benchmarks_are_a_package() -> None:
    assert (BENCHMARKS / "__init__.py").is_file()
    assert len(SCRIPTS) > 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_benchmark_edits_sys_path(script: Path) -> None:
    assert "sys.path" not in script.read_text(), f"{script.name}: import siblings as benchmarks.NAME instead"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_usage_runs_the_module_not_the_file(script: Path) -> None:
    assert not re.search(r"python3? benchmarks/\w+\.py", script.read_text()), \
        f"{script.name}: its usage should say `python -m benchmarks.{script.stem}`"
