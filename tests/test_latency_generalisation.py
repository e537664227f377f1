"""The predictor on points it was NOT fitted on: leave-one-out on pixel4's published points and on generated
host measurements (a known cost model plus 3 % noise, so the answer is known)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from device_profiles import DeviceProfile, Measurement, load_profile
from latency_models.calibrate import fit_params
from latency_models.predictor import load_predictor
from search_spaces.space import SearchSpace

# A 2-core x86 machine running PyTorch eager (what `host_profile` describes), with fixed peaks so that the
# test does not time anything.
HOST = DeviceProfile("host-like", "generated host", {"kind": "llvm"}, 1, 60.0, 12.0, "torch",
                     lowering={"fuse_layer_norm": True, "fuse_gelu": True, "fuse_epilogue": False, "fuse_bias": True})
# The "true" parameters behind the generated measurements: each a factor 1.5-3 away from the priors.
TRUTH = {"matmul_eff": 0.8, "bmm_eff": 0.12, "mm_gbs": 30.0, "ew_gbs": 1.5, "ew_gflops": 60.0, "kernel_us": 12.0,
         "const_ms": 1.2}


def _pixel4_leave_one_out() -> list[tuple[float, float]]:
    pixel4 = load_profile("pixel4")
    base = dataclasses.replace(pixel4, cost={})  # start from the priors, not from the shipped fit
    out = []
    for i, held in enumerate(pixel4.calibration):
        params = fit_params(base, [p for j, p in enumerate(pixel4.calibration) if j != i])
        out.append((held.latency_ms, float(load_predictor(base, params).predict(held.arch)[0])))
    return out


def test_pixel4_predicts_each_published_point_from_the_other_two() -> None:
    """Fitted on two of the MobileBERT paper's Table 4 points, the third is predicted within 40 % (measured:
    bert-base -14 %, mobilebert +22 %, mobilebert-no-opt +36 %; before element-wise kernels paid per sweep and
    for their arithmetic (issue 32) -13/+21/+32 %: the only LayerNorm + GELU point left is bert-base, whose 12
    wide layers say little about 24 narrow ones), and the three stay in the published order."""
    rows = _pixel4_leave_one_out()
    errors = [pred / measured - 1 for measured, pred in rows]
    assert all(abs(e) <= 0.40 for e in errors), errors
    measured, predicted = zip(*rows, strict=True)
    assert np.argsort(measured).tolist() == np.argsort(predicted).tolist()


@pytest.fixture(scope="module")
def generated() -> list[Measurement]:
    rng = np.random.default_rng(7)
    archs = SearchSpace.default().sample_many(14, rng)
    truth = load_predictor(HOST, TRUTH).predict(archs)
    noisy = truth * np.exp(rng.normal(0.0, 0.03, len(archs)))
    return [Measurement(a, float(ms), threads=1, source="generated") for a, ms in zip(archs, noisy, strict=True)]


def test_host_leave_one_out_on_generated_measurements(generated: list[Measurement]) -> None:
    errors = []
    for i, held in enumerate(generated):
        params = fit_params(HOST, generated[:i] + generated[i + 1:])
        errors.append(float(load_predictor(HOST, params).predict(held.arch)[0]) / held.latency_ms - 1)
    errors = np.abs(errors)
    # 3 % noise on the held-out point itself: a model that generalises stays near it.
    assert np.median(errors) < 0.05 and errors.max() < 0.12, errors.round(3).tolist()


def test_fit_moves_towards_the_truth(generated: list[Measurement]) -> None:
    """The dominant parameters come out of the data, not the priors (which are off by 1.5-3x): each ends at
    most 30 % of the prior's log distance from the truth (matmul_eff 27 % since ew_gflops is fitted too: it
    trades off with mm_gbs on 14 rows at 3 % noise)."""
    params, priors = fit_params(HOST, generated), load_predictor(HOST).params
    for name in ("matmul_eff", "ew_gbs"):
        assert abs(np.log(params[name] / TRUTH[name])) < 0.30 * abs(np.log(priors[name] / TRUTH[name])), name
