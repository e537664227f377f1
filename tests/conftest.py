"""Shared test fixtures: where the public development data lives (the one resolver, `nas_common.paths`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas_common.paths import data_dir


@pytest.fixture
def nas_data_dir() -> Path:
    path = data_dir()
    if path is None:
        pytest.skip("public data not found: set NAS_DATA_DIR to the shared data folder (see README)")
    return path
