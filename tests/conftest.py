"""Shared test fixtures: where the public development data lives (the one resolver, `nas_common.paths`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nas_common.errors import UserInputError
from nas_common.paths import anchor_data_env, data_dir

# The README's test command sets NAS_DATA_DIR=../shared/data, relative to where pytest starts; tests change
# directory, so it is made absolute here, once, before any test runs (as `nas` itself does at start-up).
anchor_data_env()


@pytest.fixture
def nas_data_dir() -> Path:
    try:
        path = data_dir()
    except UserInputError as err:  # $NAS_DATA_DIR names a folder that is not there
        pytest.skip(f"public data not found: {err}")
    if path is None:
        pytest.skip("public data not found: set NAS_DATA_DIR to the shared data folder (see README)")
    return path


@pytest.fixture(scope="session", autouse=True)
def kernel_cache_dir(tmp_path_factory) -> Iterator[Path]:
    """Tests (and the `nas` subprocesses they start) keep the kernel cache in a temporary folder, never the
    user's home: filled once per session, removed with pytest's temporary folders."""
    path = tmp_path_factory.mktemp("nas-cache")
    previous = os.environ.get("NAS_CACHE_DIR")
    os.environ["NAS_CACHE_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("NAS_CACHE_DIR", None)
    else:
        os.environ["NAS_CACHE_DIR"] = previous
