"""Prediction intervals from the fit's parameter covariance; the search's budget at a confidence."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device_profiles.measurement import Measurement
from device_profiles.profile import load_profile
from latency_models.calibrate import calibrated_profile
from latency_models.confidence import UpperBoundPredictor, with_confidence
from latency_models.cost_model import profile_params
from latency_models.predictor import load_predictor
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.presets import resolve_arch
from search_spaces.space import SearchSpace

ROOT = Path(__file__).resolve().parents[1]


def nas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nas.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_pixel4_intervals_hold_the_published_points_and_plain_predict_is_unchanged() -> None:
    p = load_predictor("pixel4")
    points = load_profile("pixel4").calibration
    band = p.predict([c.arch for c in points], interval=0.9)
    published = np.array([c.latency_ms for c in points])
    assert np.all(band.lower < band.ms) and np.all(band.ms < band.upper)
    assert np.all((band.lower <= published) & (published <= band.upper))
    assert np.allclose(band.ms, p.predict([c.arch for c in points]), rtol=1e-12)
    narrow = p.predict([c.arch for c in points], interval=0.5)
    assert np.all(narrow.upper < band.upper) and np.all(narrow.lower > band.lower)
    with pytest.raises(UserInputError, match="between 0 and 1"):
        p.predict([Arch()], interval=1.5)


def test_fewer_calibration_points_give_wider_intervals() -> None:
    pixel4 = load_profile("pixel4")
    archs = SearchSpace.default().sample_many(30, np.random.default_rng(5))
    priors_only = load_predictor(dataclasses.replace(pixel4, calibration=()))
    three = load_predictor(pixel4)
    width = {name: np.median(b.upper / b.lower) for name, b in
             (("priors", priors_only.predict(archs, interval=0.9)), ("three", three.predict(archs, interval=0.9)))}
    assert width["priors"] > width["three"] > 1.0


def test_90pct_intervals_cover_about_90pct_of_held_out_synthetic_archs() -> None:
    """Truth: the cost model at parameters drawn around pixel4's, 4 % log-normal noise; fit on 20 rows."""
    base = dataclasses.replace(load_profile("pixel4"), cost={}, calibration=())
    space = SearchSpace.default()
    coverages = []
    for trial in range(3):
        rng = np.random.default_rng(200 + trial)
        truth = load_predictor(base, {k: v * float(np.exp(rng.normal(0, 0.3))) for k, v in
                                 profile_params(load_profile("pixel4")).items()})
        archs = space.sample_many(220, np.random.default_rng(300 + trial))
        measured = truth.predict(archs) * np.exp(rng.normal(0, 0.04, len(archs)))
        rows = [Measurement(a, float(ms)) for a, ms in zip(archs[:20], measured[:20], strict=True)]
        fitted, _ = calibrated_profile(base, rows, "fit", keep_points=True)
        band = load_predictor(fitted).predict(archs[20:], interval=0.9)
        coverages.append(np.mean((band.lower <= measured[20:]) & (measured[20:] <= band.upper)))
    assert 0.8 <= np.mean(coverages) <= 0.99, coverages


def test_upper_bound_predictor_follows_a_marked_profile() -> None:
    marked = with_confidence(load_profile("pixel4"), 0.9)
    p = load_predictor(marked)
    assert isinstance(p, UpperBoundPredictor) and marked.content_hash != load_profile("pixel4").content_hash
    a = resolve_arch("mobilebert")
    assert float(p.predict([a])[0]) == pytest.approx(float(load_predictor("pixel4").predict([a], interval=0.9)
                                                          .upper[0]))
    with pytest.raises(UserInputError, match="--confidence"):
        with_confidence(load_profile("pixel4"), 0.0)


def test_cli_latency_prints_the_interval() -> None:
    r = nas("latency", "--device", "pixel4", "--arch", "mobilebert", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["interval"]["lower_ms"] < out["latency_ms"] < out["interval"]["upper_ms"]
    assert out["interval"]["calibration_points"] == 3
    text = nas("latency", "--device", "pixel4", "--arch", "mobilebert", "--interval", "0.8")
    assert text.returncode == 0 and "80% interval" in text.stdout


def test_search_with_confidence_keeps_front_upper_bounds_within_budget(tmp_path: Path) -> None:
    run = tmp_path / "run"
    r = nas("search", "--device", "pixel4", "--budget", "62ms", "--confidence", "0.9", "--strategy", "random",
            "--trials", "60", "--seed", "0", "--out", str(run))
    assert r.returncode == 0, r.stderr
    front = json.loads(nas("pareto", str(run), "--json").stdout)
    assert front, "no front point"
    archs = [Arch.from_dict(p["arch"]) for p in front]
    band = load_predictor("pixel4").predict(archs, interval=0.9)
    assert np.all(band.upper <= 62.0 + 1e-6), band.upper
    assert all(p["latency_ms"] == pytest.approx(u, rel=1e-6) for p, u in zip(front, band.upper, strict=True))
