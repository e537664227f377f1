"""Device profiles: the shipped pixel4 profile, validation errors, user directory and --profile files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from device_profiles import known_devices, load_profile, save_profile
from device_profiles.host import _best_of, cpu_model, host_profile, is_this_machine
from device_profiles.measurement import Measurement
from device_profiles.profile import load_profile_file
from nas_common.errors import UserInputError
from search_spaces.presets import PRESETS


def test_pixel4_profile_facts() -> None:
    p = load_profile("pixel4")
    assert p.target == {"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mcpu": "cortex-a76", "mattr": ["+neon"]}
    assert p.threads == 4 and p.runtime == "tflite"
    assert p.fp32_gflops == pytest.approx(161.6) and p.memory_gbs == pytest.approx(34.1)
    assert sum(c["count"] for c in p.cores) == 4
    published = {c.arch: c.latency_ms for c in p.calibration}
    assert published == {PRESETS["bert-base"].arch: 342.0, PRESETS["mobilebert"].arch: 62.0,
                         PRESETS["mobilebert-no-opt"].arch: 192.0}  # MobileBERT paper Table 4
    assert all("MobileBERT paper" in c.source for c in p.calibration)
    assert [c.line for c in p.calibration] == [1, 2, 3]
    assert p.content_hash


def test_pixel4_target_is_accepted_by_tvm() -> None:
    target = load_profile("pixel4").tvm_target()
    assert "aarch64" in str(target)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = \n", "not valid TOML"),
        ("name = ''\nthreads = 4\n[target]\nkind = 'llvm'\n[peaks]\nfp32_gflops = 1\nmemory_gbs = 1\n",
         "key 'name' must be a device name"),
        ("name = 'x'\nthreads = 4\n[peaks]\nfp32_gflops = 1\nmemory_gbs = 1\n", "missing key 'target'"),
        ("name = 'x'\nthreads = 4\n[target]\nkind = 'llvm'\n[peaks]\nfp32_gflops = -1\nmemory_gbs = 1\n",
         "'fp32_gflops' must be positive"),
        ("name = 'x'\nthreads = 'four'\n[target]\nkind = 'llvm'\n[peaks]\nfp32_gflops = 1\nmemory_gbs = 1\n",
         "'threads' must be int"),
        ("name = 'x'\nthreads = 4\n[target]\nkind = 'llvm'\n[peaks]\nfp32_gflops = 1\nmemory_gbs = 1\n"
         "[[calibration]]\narch = 'mobilebert'\n", r"\[\[calibration\]\] #1: missing key 'latency_ms'"),
    ],
)
def test_broken_profile_names_file_and_key(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(UserInputError, match="broken.toml") as info:
        load_profile(path)
    assert info.match(message)


def test_user_directory_profiles_are_found(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NAS_DEVICES_DIR", str(tmp_path))
    mine = load_profile("pixel4")
    save_profile(mine, tmp_path / "myphone.toml")
    assert "myphone" in known_devices()
    loaded = load_profile("myphone")
    assert loaded.fp32_gflops == mine.fp32_gflops and loaded.calibration == mine.calibration
    assert load_profile_file(tmp_path / "myphone.toml").target == mine.target


def test_unknown_device_lists_known_ones() -> None:
    with pytest.raises(UserInputError, match="unknown device 'nosuch'.*pixel4"):
        load_profile("nosuch")


PIXEL4_TEXT = (Path(__file__).resolve().parents[1] / "device_profiles" / "pixel4.toml").read_text()


@pytest.mark.parametrize(
    ("cost", "message"),
    [("matmul_eff = -0.66", r"\[cost\]: key 'matmul_eff' must be positive, got -0.66"),
     ("ew_gbs = 'fast'", r"\[cost\]: key 'ew_gbs' must be int or float"),
     ("kernel_us = nan", r"\[cost\]: key 'kernel_us' must be a finite number"),
     ("matmul_efff = 0.66", r"\[cost\]: unknown key\(s\) 'matmul_efff'")],
)
def test_invalid_cost_value_is_rejected_naming_file_and_key(tmp_path, cost: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    key = "matmul_eff" if cost.startswith("matmul_eff") else cost.split()[0]  # the line broken (or misspelt)
    path.write_text(re.sub(rf"(?m)^{key} = .*$", cost, PIXEL4_TEXT))
    with pytest.raises(UserInputError, match=message) as info:
        load_profile(path)
    assert info.match("mine.toml")


def test_calibration_points_are_measurements_and_round_trip(tmp_path) -> None:
    p = load_profile("pixel4")
    assert all(isinstance(c, Measurement) for c in p.calibration)
    custom = Measurement(PRESETS["mobilebert"].arch.replace(num_hidden_layers=12), 31.0, threads=4, source="x")
    mine = dataclasses.replace(p, name="mine", calibration=(*p.calibration, custom))
    loaded = load_profile_file(save_profile(mine, tmp_path / "mine.toml"))
    assert [c.arch for c in loaded.calibration] == [c.arch for c in mine.calibration]
    assert 'arch = "bert-base"' in (tmp_path / "mine.toml").read_text()  # a preset stays a name
    bad = tmp_path / "bad.toml"
    bad.write_text(PIXEL4_TEXT.replace('arch = "bert-base"', 'arch = "bert-huge"'))
    with pytest.raises(UserInputError, match=r"bad.toml \[\[calibration\]\] #1: key 'arch' must be a preset"):
        load_profile(bad)


def test_one_resolver_for_names_paths_and_profile_files(tmp_path) -> None:
    path = save_profile(load_profile("pixel4"), tmp_path / "phone.toml")
    assert load_profile(str(path)).path == path == load_profile(None, path).path
    assert load_profile(default="pixel4").name == "pixel4"
    with pytest.raises(UserInputError, match="not both"):
        load_profile("pixel4", path)
    with pytest.raises(UserInputError, match="give --device NAME or --profile FILE"):
        load_profile()


def test_host_profile_describes_this_machine() -> None:
    host = host_profile(1)
    assert host.name == "host" and host.threads == 1 and host.target == {"kind": "llvm"}
    assert host.fp32_gflops > 0.1 and host.memory_gbs > 0.1
    assert host.soc == cpu_model() and cpu_model()
    assert host.lowering["fuse_epilogue"] is False and host.lowering["fuse_bias"] is True  # PyTorch eager
    assert is_this_machine(host)
    assert not is_this_machine(load_profile("pixel4"))  # aarch64 Snapdragon: not this machine
    mine = dataclasses.replace(host, name="mybox")  # e.g. `nas calibrate --from host --name mybox`
    assert is_this_machine(mine) and not is_this_machine(dataclasses.replace(mine, soc="Apple M2"))


def test_best_of_keeps_the_fastest_run() -> None:
    ticks = iter([0.0, 5.0, 10.0, 12.0, 20.0, 23.0])  # runs of 5, 2 and 3 seconds
    assert _best_of(lambda: None, repeats=3, clock=lambda: next(ticks)) == 2.0
