"""Drift (issue 32): a reference model re-timed at intervals; every row records the drift, optionally corrected."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_profiles.measurement import Measurement
from latency_models.drift import annotate, interpolated, measure_with_reference
from latency_models.measurements import append_measurements, read_measurements
from search_spaces.arch import Arch
from tests.bad_input_support import run_cli

REFERENCE = Arch(num_hidden_layers=2)
ARCHS = [Arch(num_hidden_layers=n) for n in (1, 3, 4, 5, 6)]


def fake_measure(slowdown_per_call: float) -> tuple[list[float], object]:
    """A machine that gets slower by a fixed factor at every timed model: latency = layers · speed."""
    speed = [1.0]

    def measure(archs: list[Arch]) -> list[Measurement]:
        rows = []
        for a in archs:
            rows.append(Measurement(a, 10.0 * a.num_hidden_layers * speed[0]))
            speed[0] *= 1.0 + slowdown_per_call
        return rows

    return speed, measure


def test_interpolation_between_reference_timings() -> None:
    ref = [10.0, 12.0, 12.0]
    # batch 0 (rows 0, 1 of every=2): positions 0.25 and 0.75 of the way from 10 to 12
    assert interpolated(ref, 0, 2) == pytest.approx(10.5)
    assert interpolated(ref, 1, 2) == pytest.approx(11.5)
    assert interpolated(ref, 2, 2) == pytest.approx(12.0)


def test_a_steady_machine_has_no_drift() -> None:
    _, measure = fake_measure(0.0)
    rows, record = measure_with_reference(ARCHS, REFERENCE, 2, measure)
    assert record.reference_ms == (20.0, 20.0, 20.0, 20.0)  # before, after each of the 3 batches
    assert all(r.drift == pytest.approx(0.0) for r in rows)
    assert all(r.raw_latency_ms is None for r in rows)


def test_correction_removes_a_uniform_slowdown() -> None:
    _, measure = fake_measure(0.01)  # 1 % slower after every timed model
    rows, record = measure_with_reference(ARCHS, REFERENCE, 1, measure, correct=True)
    assert record.drift > 0.05
    for row in rows:
        # corrected latencies are back within the interpolation's error (half a step of 1 %) of the start speed
        assert row.latency_ms == pytest.approx(10.0 * row.arch.num_hidden_layers, rel=0.011)
        assert row.raw_latency_ms is not None and row.raw_latency_ms > row.latency_ms


def test_drift_fields_round_trip_through_both_formats(tmp_path: Path) -> None:
    rows = annotate([Measurement(a, 5.0 + i) for i, a in enumerate(ARCHS[:2])], [10.0, 11.0], 2, correct=True)
    for name in ("m.jsonl", "m.csv"):
        back = read_measurements(append_measurements(tmp_path / name, rows))
        assert [r.drift for r in back] == pytest.approx([r.drift for r in rows], abs=1e-5)
        assert [r.raw_latency_ms for r in back] == pytest.approx([5.0, 6.0])
        assert [r.reference_ms for r in back] == pytest.approx([10.25, 10.75])


def test_a_bad_drift_value_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"latency_ms": 5.0, "drift": -2}\n')
    with pytest.raises(Exception, match="line 1: drift"):
        read_measurements(path)


def test_correct_drift_needs_a_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["measure", "--arch", "mobilebert-tiny", "--out", str(tmp_path / "m.jsonl"),
                            "--correct-drift"], capsys)
    assert code == 2 and "--reference" in err
