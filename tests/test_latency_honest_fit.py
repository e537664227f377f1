"""`nas calibrate` says how much to trust its fit: leave-one-out error, suspect rows, uncovered variants.

Measurements are synthetic (the pixel4 model's own predictions with 3 % noise and a measured spread of
2 %), so that the only bad row is the one the test corrupts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from device_profiles.measurement import Measurement
from device_profiles.profile import load_profile, load_profile_file
from latency_models.calibrate import loo_errors, suspects
from latency_models.measurements import append_measurements
from latency_models.predictor import load_predictor
from search_spaces.space import SearchSpace

ROOT = Path(__file__).resolve().parents[1]


def nas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nas.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def synthetic_rows(n: int = 12, seed: int = 1, corrupt: int | None = None, archs: list | None = None) -> list:
    archs = archs or SearchSpace.default().sample_many(n, np.random.default_rng(seed))
    ms = load_predictor("pixel4").predict(archs) * np.exp(np.random.default_rng(0).normal(0, 0.03, len(archs)))
    if corrupt is not None:
        ms[corrupt] *= 2.0
    return [Measurement(a, float(t), spread=0.02, repeats=10, line=k + 1)
            for k, (a, t) in enumerate(zip(archs, ms, strict=True))]


def test_a_doubled_row_is_named_suspect_and_a_clean_file_has_none(tmp_path: Path) -> None:
    bad = append_measurements(tmp_path / "bad.jsonl", synthetic_rows(corrupt=4))
    out = tmp_path / "p.toml"
    r = nas("calibrate", "--measurements", str(bad), "--from", "pixel4", "--name", "mine", "--out", str(out))
    assert r.returncode == 0, r.stderr
    suspect_lines = [line for line in r.stderr.splitlines() if line.startswith("suspect:")]
    assert len(suspect_lines) == 1 and suspect_lines[0].startswith("suspect: line 5:"), r.stderr
    assert "leave-one-out" in r.stdout and "LOO error" in r.stdout
    assert len(load_profile_file(out).calibration) == 12  # the rows are kept: intervals need them
    clean = synthetic_rows()
    assert suspects(clean, loo_errors(load_profile("pixel4"), clean)) == []


def test_missing_no_bottleneck_variant_is_warned(tmp_path: Path) -> None:
    space = SearchSpace.default()
    archs = [a for a in space.sample_many(40, np.random.default_rng(3)) if a.use_bottleneck][:8]
    path = append_measurements(tmp_path / "m.jsonl", synthetic_rows(archs=archs))
    r = nas("calibrate", "--measurements", str(path), "--from", "pixel4", "--name", "mine", "--out",
            str(tmp_path / "p.toml"))
    assert r.returncode == 0, r.stderr
    assert "warning: no calibration row has attention form full (no bottleneck)" in r.stderr
    with_full = archs + [a for a in space.sample_many(40, np.random.default_rng(4)) if not a.use_bottleneck][:1]
    path2 = append_measurements(tmp_path / "m2.jsonl", synthetic_rows(archs=with_full))
    r = nas("calibrate", "--measurements", str(path2), "--from", "pixel4", "--name", "mine", "--out",
            str(tmp_path / "p2.toml"))
    assert r.returncode == 0 and "no bottleneck" not in r.stderr, r.stderr
