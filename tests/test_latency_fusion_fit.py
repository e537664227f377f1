"""Fusion as data (issue 11): `nas calibrate` picks the `[lowering]` switches that generated the measurements."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import numpy as np
import pytest

from device_profiles.measurement import Measurement
from device_profiles.profile import load_profile, save_profile
from device_profiles.schema import DeviceProfile
from latency_models.fusion_fit import confounded_pairs, fit_lowering, fittable, with_fitted_lowering
from latency_models.measurements import append_measurements
from latency_models.predictor import load_predictor
from search_spaces.arch import Arch
from tests.bad_input_support import run_cli

BASE = DeviceProfile(name="synthetic", description="a made-up CPU", target={"kind": "llvm"}, threads=1,
                     fp32_gflops=100.0, memory_gbs=20.0, runtime="tflite")
TRUE_PARAMS = {"matmul_eff": 0.6, "bmm_eff": 0.3, "mm_gbs": 40.0, "ew_gbs": 3.0, "kernel_us": 3.0, "const_ms": 0.3}
SWITCHES = ("fuse_layer_norm", "fuse_gelu")


def _arch(layers: int, hidden: int, ffn: int, heads: int, norm: str, act: str) -> Arch:
    return Arch(num_hidden_layers=layers, hidden_size=hidden, intra_bottleneck_size=128, num_attention_heads=heads,
                intermediate_size=ffn, num_feedforward_networks=2, embedding_size=128,
                normalization_type=norm, hidden_act=act)


# Every (norm, activation) pair at four sizes, and not confounded: LayerNorm and GELU vary independently.
ARCHS = [_arch(layers, hidden, ffn, heads, norm, act)
         for (norm, act), (layers, hidden, ffn, heads) in itertools.product(
             [("no_norm", "relu"), ("layer_norm", "relu"), ("no_norm", "gelu"), ("layer_norm", "gelu")],
             [(4, 256, 512, 4), (8, 512, 1024, 8), (12, 384, 256, 2), (6, 768, 2048, 16)])]


def synthetic_rows(truth: dict[str, bool], noise: float = 0.02, seed: int = 0) -> list[Measurement]:
    """Latencies the cost model gives under `truth`, with ±`noise` multiplicative scatter."""
    profile = BASE.__class__(**{**BASE.__dict__, "lowering": dict(truth)})
    ms = load_predictor(profile, TRUE_PARAMS).predict(ARCHS)
    scatter = np.exp(np.random.default_rng(seed).normal(0.0, noise, len(ARCHS)))
    return [Measurement(a, float(m * s), line=i + 1) for i, (a, m, s) in enumerate(zip(ARCHS, ms, scatter,
                                                                                        strict=True))]


@pytest.mark.parametrize("truth", [dict(zip(SWITCHES, v, strict=True))
                                   for v in itertools.product((True, False), repeat=2)],
                         ids=lambda t: "-".join(f"{k}={v}" for k, v in t.items()))
def test_picks_the_lowering_that_generated_the_data(truth: dict[str, bool]) -> None:
    fit = fit_lowering(BASE, synthetic_rows(truth), SWITCHES)
    assert fit.best.lowering == truth, [(a.label(), round(a.loo_rms_pct, 2)) for a in fit.alternatives]
    assert len(fit.alternatives) == 4
    assert fit.best.rms_pct < 4.0  # the true lowering fits to the noise
    # judged out of sample: the true lowering has the smallest leave-one-out error of those evaluated
    assert fit.best.loo_mse == min(a.loo_mse for a in fit.alternatives if a.loo_log)


def test_fittable_needs_both_choices_in_the_measurements() -> None:
    rows = synthetic_rows({"fuse_layer_norm": True, "fuse_gelu": True})
    switches, skipped = fittable(rows)
    assert switches == ("fuse_layer_norm", "fuse_gelu", "fuse_epilogue", "fuse_bias")
    only_nonorm = [r for r in rows if r.arch.normalization_type == "no_norm"][:4]
    switches, skipped = fittable(only_nonorm)
    assert "fuse_layer_norm" not in switches and "LayerNorm and NoNorm" in skipped["fuse_layer_norm"]
    assert "fuse_epilogue" in skipped  # 4 rows: too few for a switch that changes every arch


def test_pixel4_points_are_confounded_and_reported() -> None:
    pixel4 = load_profile("pixel4")
    rows = list(pixel4.calibration)
    assert fittable(rows)[0] == SWITCHES
    assert confounded_pairs(rows, SWITCHES) == [SWITCHES]


def test_profile_records_the_choice_and_every_alternative(tmp_path: Path) -> None:
    truth = {"fuse_layer_norm": False, "fuse_gelu": True}
    fit = fit_lowering(BASE, synthetic_rows(truth), SWITCHES)
    profile = with_fitted_lowering(BASE, fit)
    assert {k: profile.lowering[k] for k in SWITCHES} == truth
    record = profile.lowering["fit"]
    assert len(record["alternatives"]) == 4 and len(record["alternatives"][0]["residuals_pct"]) == len(ARCHS)
    assert "fuse_layer_norm=false" in record["chosen"]


def test_calibrate_cli_writes_the_fitted_lowering(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = {"fuse_layer_norm": False, "fuse_gelu": False}
    # two sizes of three (norm, activation) pairs and one of the fourth: 7 rows, fewer than MIN_ROWS_GLOBAL, so
    # only the LayerNorm and GELU switches are fitted
    rows = [r for i, r in enumerate(synthetic_rows(truth)) if i % 4 < 2][:7]
    base = tmp_path / "base.toml"
    save_profile(BASE, base)
    measurements = append_measurements(tmp_path / "m.jsonl", rows)
    out = tmp_path / "mine.toml"
    code, printed, err = run_cli(["calibrate", "--measurements", str(measurements), "--from", str(base), "--name",
                                  "mine", "--out", str(out)], capsys)
    assert code == 0, printed + err
    assert "lowering by leave-one-out (4 alternatives" in printed
    written = tomllib.loads(out.read_text())
    assert {k: written["lowering"][k] for k in SWITCHES} == truth
    assert len(written["lowering"]["fit"]["alternatives"]) == 4
    assert load_profile(out).lowering["fuse_gelu"] is False  # the written profile loads and predicts with it
