"""Stable measurement: warm-up until stable (bounded), spread, re-measurement, interleaving; the rows' columns.

The timing logic is tested with scripted runners (no clock involved); one test measures two tiny real
models through `nas measure` for the mechanics only (no assertion on a timing value)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from device_profiles.profile import load_profile
from latency_models.measurements import Measurement, append_measurements, read_measurements
from latency_models.timing import spread_of, time_interleaved, time_stable, warm_up
from search_spaces.arch import Arch

ROOT = Path(__file__).resolve().parents[1]
TINY = Arch(num_hidden_layers=1, hidden_size=64, intra_bottleneck_size=32, num_attention_heads=2,
            intermediate_size=64, num_feedforward_networks=1, embedding_size=32, vocab_size=100)


def scripted(times: list[float]):
    """A runner returning the scripted times, then the last one forever."""
    it = iter(times)
    last = [times[-1]]

    def run() -> float:
        last[0] = next(it, last[0])
        return last[0]

    return run


def test_warm_up_runs_until_stable_not_a_fixed_count() -> None:
    slow_start = scripted([9.0, 7.0, 5.0, 3.0, 2.0, 1.2] + [1.0] * 20)
    runs, settled = warm_up(slow_start, window=3, tol=0.05)
    assert settled and 7 <= runs <= 12  # stops once two windows of three agree, well before the bound
    quick = scripted([1.0] * 30)
    runs_quick, _ = warm_up(quick, window=3, tol=0.05)
    assert runs_quick == 6 and runs > runs_quick


def test_warm_up_is_bounded_when_it_never_settles() -> None:
    drifting = scripted([float(i) for i in range(1, 200)])
    runs, settled = warm_up(drifting, window=3, tol=0.01, max_runs=25)
    assert runs == 25 and not settled


def test_noisy_attempt_is_measured_again_and_the_steadiest_kept() -> None:
    noisy = [1.0, 3.0] * 5
    steady = [1.0] * 6 + [1.0, 1.01, 0.99, 1.0, 1.0, 1.02, 1.0, 0.98, 1.0, 1.0]
    t = time_stable(scripted([1.0] * 6 + noisy + steady), repeat=10, max_spread=0.1, retries=2,
                    window=3, tol=0.05)
    assert t.attempts == 2 and t.spread < 0.05 and t.median_ms == pytest.approx(1000.0)
    always_noisy = time_stable(scripted(([1.0] * 6 + [1.0, 3.0] * 5) * 10), repeat=10, max_spread=0.1,
                               retries=1, window=3, tol=0.05)
    assert always_noisy.attempts == 2 and always_noisy.spread > 0.1  # bounded: reported, not hidden
    assert spread_of([2.0, 2.0, 2.0]) == 0.0 and spread_of([1.0]) == 0.0


def test_min_statistic_is_the_fastest_timed_run_not_a_warm_up_run() -> None:
    """Interference only slows a run down: the minimum ignores the slowed runs the median still sees."""
    runs = [5.0] * 6 + [1.0, 1.4, 1.0, 1.5, 1.1, 1.6, 1.0, 1.4, 1.2, 1.3]
    t = time_stable(scripted(runs), repeat=10, max_spread=1.0, window=3, tol=0.05)
    assert t.min_ms == pytest.approx(1000.0) and t.median_ms == pytest.approx(1250.0)


def test_interleaving_keeps_a_drift_from_separating_identical_models() -> None:
    """The machine gets slower with every run; two identical models measured one after the other differ,
    interleaved they agree."""
    clock = {"calls": 0}

    def model() -> float:
        clock["calls"] += 1
        return 1.0 + 0.01 * clock["calls"]

    first = time_stable(model, repeat=20, max_spread=1.0, window=2, tol=1.0)
    second = time_stable(model, repeat=20, max_spread=1.0, window=2, tol=1.0)
    assert second.median_ms / first.median_ms - 1 > 0.15
    a, b = time_interleaved([model, model], repeat=20, max_spread=1.0, window=2, tol=1.0)
    assert abs(b.median_ms / a.median_ms - 1) < 0.02 and a.repeats == b.repeats == 20


def test_spread_and_repeats_round_trip_and_stay_optional(tmp_path: Path) -> None:
    for suffix in (".csv", ".jsonl"):
        path = append_measurements(tmp_path / f"m{suffix}", [Measurement(TINY, 2.5, spread=0.031, repeats=10),
                                                              Measurement(Arch(), 60.0)])
        rows = read_measurements(path)
        assert (rows[0].spread, rows[0].repeats) == (0.031, 10) and (rows[1].spread, rows[1].repeats) == (None, None)
    # bad spread/repeats values: tests/test_latency_files.py::BAD_ROWS


def test_measure_many_gives_rows_in_order_with_spread() -> None:
    from latency_models.measure import measure_many

    local = dataclasses.replace(load_profile("pixel4"), name="local", target={"kind": "llvm"}, lowering={}, soc="")
    two = TINY.replace(num_hidden_layers=2)
    rows = measure_many([TINY, two, TINY], "torch", local, seq_len=16, repeat=3, warmup_max=4, retries=0, chunk=2)
    assert [r.arch for r in rows] == [TINY, two, TINY]
    assert all(r.repeats == 3 and r.spread is not None and r.spread >= 0 and r.latency_ms > 0 for r in rows)
    assert "3 archs interleaved" in rows[0].source


def test_cli_measures_a_list_of_archs(tmp_path: Path) -> None:
    listed = tmp_path / "archs.jsonl"
    listed.write_text(json.dumps({"name": "two", **TINY.replace(num_hidden_layers=2).to_dict()}) + "\n"
                      + "# a comment\n" + json.dumps(TINY.to_dict()) + "\n")
    out = tmp_path / "m.jsonl"
    r = subprocess.run([sys.executable, "-m", "nas.cli", "measure", "--archs", str(listed), "--device", "host",
                        "--seq-len", "16", "--repeat", "2", "--warmup-max", "3", "--retries", "0", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("two: ") and "line 3: " in r.stdout and "spread" in r.stdout
    rows = read_measurements(out)
    assert len(rows) == 2 and all(row.repeats == 2 for row in rows)


def test_cli_max_spread_default_is_the_timing_threshold() -> None:
    from latency_models.timing import MAX_SPREAD
    from nas.cli.latency import MeasureArgs

    assert MeasureArgs().max_spread == MAX_SPREAD
