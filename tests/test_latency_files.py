"""Measurements files, calibration and the CLI's error handling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from device_profiles.profile import load_profile, load_profile_file
from latency_models.calibrate import calibrated_profile
from latency_models.measurements import Measurement, append_measurements, read_measurements
from nas_common.errors import UserInputError
from search_spaces.arch import Arch

ROOT = Path(__file__).resolve().parents[1]


def nas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nas.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_round_trip_with_per_layer_values(tmp_path: Path, suffix: str) -> None:
    a = Arch(num_hidden_layers=3, intra_bottleneck_size=(128, 64, 128), num_feedforward_networks=(1, 2, 4))
    path = append_measurements(tmp_path / f"m{suffix}", [Measurement(a, 12.5, 64, 1, 2, "test")])
    append_measurements(path, [Measurement(Arch(), 60.0)])
    rows = read_measurements(path)
    assert rows[0].arch == a and rows[0].seq_len == 64 and rows[0].threads == 2 and rows[1].arch == Arch()


def test_missing_fields_take_defaults(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("num_hidden_layers,intra_bottleneck_size,latency_ms\n2,128 256,30\n")
    assert read_measurements(path)[0].arch.intra_bottleneck_size == (128, 256)


def test_row_may_repeat_true_hidden_size(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"true_hidden_size": 128, "latency_ms": 62}\n')
    assert read_measurements(path)[0].arch == Arch()  # MobileBERT: the attention runs 128 wide


@pytest.mark.parametrize(("name", "text"), [("m.csv", "arch,latency_ms\nmobilebert,62\nMobileBERT-TINY,40\n"),
                                             ("m.jsonl", '{"arch": "mobilebert", "latency_ms": 62}\n'
                                                         '{"arch": "mobilebert-tiny", "latency_ms": 40}\n')])
def test_a_row_may_name_a_preset_instead_of_the_arch_fields(tmp_path: Path, name: str, text: str) -> None:
    from search_spaces.presets import PRESETS

    path = tmp_path / name
    path.write_text(text)
    rows = read_measurements(path)
    assert [r.arch for r in rows] == [PRESETS["mobilebert"].arch, PRESETS["mobilebert-tiny"].arch]
    assert [r.latency_ms for r in rows] == [62.0, 40.0]


BAD_ROWS = [  # (file name, its text, the one-line error naming the file, line and field)
    ("m.csv", "arch,latency_ms\nmobilebertt,62\n", "m.csv: line 2: arch 'mobilebertt' is not a preset"),
    ("m.csv", "arch,hidden_size,latency_ms\nmobilebert,256,62\n", "line 2: arch names the preset 'mobilebert' and "
     "the row also sets hidden_size"),
    ("m.jsonl", '{"arch": 3, "latency_ms": 62}\n', "line 1: arch 3 is not a preset"),
    ("m.csv", "nmae,latency_ms\nx,62\n", r"m.csv: line 1: unknown column\(s\) nmae"),
    # a quote opening the header makes csv read the rest of the file as one column name (newlines in it)
    ("m.csv", '"num_hidden_layers,latency_ms\n12,30\n',
     r"line 1: unknown column\(s\) 'num_hidden_layers,latency_ms\\n"),
    ("m.csv", "num_hidden_layers,latency_ms\n12,30\n4,-1\n", r"m.csv: line 3: latency_ms"),
    ("m.jsonl", '{"latency_ms": 62}\n{"true_hidden_size": 512, "latency_ms": 62}\n',
     "m.jsonl: line 2: true_hidden_size 512 contradicts"),
    ("m.jsonl", '{"latency_ms": 62, "seq_len": 100000}\n', "line 1: seq_len 100000 is longer"),
    ("m.jsonl", '{"latency_ms": 3, "spread": -0.1}\n', "line 1: spread must be a number >= 0"),
    ("m.jsonl", '{"latency_ms": 3, "spread": 0.1, "repeats": 0}\n', "line 1: repeats must be a positive integer"),
]


@pytest.mark.parametrize(("name", "text", "error"), BAD_ROWS)
def test_a_bad_row_is_a_user_error_naming_its_line(tmp_path: Path, name: str, text: str, error: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserInputError, match=error) as err:
        read_measurements(path)
    assert "\n" not in str(err.value)


def test_calibration_refits_pixel4_within_10pct() -> None:
    base = load_profile("pixel4")
    prof, residuals = calibrated_profile(base, list(base.calibration), "pixel4-refit")
    assert all(abs(r["error_pct"]) <= 10 for r in residuals)
    assert prof.cost["matmul_eff"] == pytest.approx(base.cost["matmul_eff"], rel=0.05)


def test_cli_latency_json_and_errors(tmp_path: Path) -> None:
    out = nas("latency", "--device", "pixel4", "--arch", "mobilebert", "--json")
    assert out.returncode == 0, out.stderr
    assert abs(json.loads(out.stdout)["latency_ms"] / 62 - 1) <= 0.10
    bad = nas("latency", "--device", "no-such-device", "--arch", "mobilebert")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    corrupt = tmp_path / "corrupt.toml"
    corrupt.write_text("name = [")
    bad = nas("latency", "--profile", str(corrupt), "--arch", "mobilebert")
    assert bad.returncode == 2 and "corrupt.toml" in bad.stderr
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"latency_ms": 60}\n{"latency_ms": 60, "hidden_size": "wide"}\n')
    bad = nas("validate", "--device", "pixel4", "--measurements", str(rows))
    assert bad.returncode == 2 and "line 2" in bad.stderr


def test_cli_calibrate_then_validate(tmp_path: Path) -> None:
    base = load_profile("pixel4")
    path = append_measurements(tmp_path / "m.jsonl", list(base.calibration))
    out = tmp_path / "p.toml"
    r = nas("calibrate", "--measurements", str(path), "--from", "pixel4", "--name", "mine", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert load_profile_file(out).cost["matmul_eff"] > 0
    plot = tmp_path / "plot.html"
    r = nas("validate", "--profile", str(out), "--measurements", str(path), "--json", "--plot", str(plot))
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["n"] == 3 and stats["within_10pct"] == 1.0 and {"mape", "spearman"} <= set(stats)
    assert plot.stat().st_size > 1000


def test_cold_kernel_cache_prints_no_tvm_warning(tmp_path: Path) -> None:
    """A cold cache lowers every part with TVM; nothing the user cannot act on reaches the terminal."""
    out = subprocess.run([sys.executable, "-m", "nas.cli", "latency", "--device", "pixel4", "--arch",
                          "mobilebert-no-opt"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "NAS_CACHE_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert list((tmp_path / "kernels").glob("*.json")), "the cache was not cold"
    assert "Warning" not in out.stderr and "segfault" not in out.stderr, out.stderr


def test_rows_are_appended_only_to_a_measurements_file(tmp_path: Path) -> None:
    foreign = tmp_path / "sales.csv"
    foreign.write_text("a,b\n1,2\n")
    with pytest.raises(UserInputError, match="sales.csv: its header .* is not a measurements file's"):
        append_measurements(foreign, [Measurement(Arch(), 60.0)])
    assert foreign.read_text() == "a,b\n1,2\n"
    mine = append_measurements(tmp_path / "m.csv", [Measurement(Arch(), 60.0)])
    assert len(read_measurements(append_measurements(mine, [Measurement(Arch(), 61.0)]))) == 2


def test_cli_calibrate_keeps_an_existing_profile_and_needs_a_name(tmp_path: Path) -> None:
    path = append_measurements(tmp_path / "m.jsonl", list(load_profile("pixel4").calibration))
    out = tmp_path / "mine.toml"
    out.write_text("# my phone\n")
    args = ("calibrate", "--measurements", str(path), "--from", "pixel4", "--out", str(out))
    r = nas(*args, "--name", "mine")
    assert r.returncode == 2 and "--overwrite" in r.stderr and out.read_text() == "# my phone\n"
    r = nas(*args, "--name", " ", "--overwrite")
    assert r.returncode == 2 and "--name must be a device name" in r.stderr
    assert nas(*args, "--name", "mine", "--overwrite").returncode == 0 and load_profile_file(out).name == "mine"
