"""Shared test fixtures: where the public development data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path | None:
    """`$NAS_DATA_DIR`, else ../shared/data beside the repo; None when neither exists."""
    candidates = [os.environ.get("NAS_DATA_DIR"), REPO_ROOT.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def nas_data_dir() -> Path:
    path = data_dir()
    if path is None:
        pytest.skip("public data not found: set NAS_DATA_DIR to the shared data folder (see README)")
    return path
