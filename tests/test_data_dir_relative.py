"""A relative `NAS_DATA_DIR` (what the README's commands set) means the folder it names from where the
command started, even after the process changes directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nas_common.errors import UserInputError
from nas_common.paths import DATA_ENV, anchor_data_env, data_dir


def test_a_relative_data_dir_survives_a_change_of_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = tmp_path / "repo"
    (tmp_path / "shared" / "data" / "corpus").mkdir(parents=True)
    start.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(start)
    monkeypatch.setenv(DATA_ENV, "../shared/data")

    anchor_data_env()
    monkeypatch.chdir(elsewhere)

    assert os.environ[DATA_ENV] == str(tmp_path / "shared" / "data")
    assert data_dir(sub="corpus") == tmp_path / "shared" / "data" / "corpus"


def test_without_anchoring_the_change_of_directory_loses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure the anchoring prevents (so the test above can fail)."""
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv(DATA_ENV, "../shared/data")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserInputError, match="no such file or directory"):
        data_dir()


def test_the_cli_anchors_a_relative_data_dir_at_start_up(tmp_path: Path) -> None:
    """`nas` started with a relative NAS_DATA_DIR hands every later step (here: a child process started in
    another directory, as Ray starts its workers) the absolute folder."""
    (tmp_path / "shared" / "data").mkdir(parents=True)
    start = tmp_path / "repo"
    start.mkdir()
    probe = ("import os, subprocess, sys; import nas.cli as c; c.anchor_data_env(); os.chdir('/'); "
             "print(subprocess.run([sys.executable, '-c', 'import os; print(os.environ[\"NAS_DATA_DIR\"])'], "
             "capture_output=True, text=True, check=True).stdout.strip())")
    result = subprocess.run([sys.executable, "-c", probe], cwd=start, capture_output=True, text=True, timeout=120,
                            env={**os.environ, DATA_ENV: "../shared/data"}, check=True)
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "shared" / "data")
