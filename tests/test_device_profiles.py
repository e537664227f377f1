"""Device profiles: the shipped pixel4 profile, validation errors, user directory and --profile files."""

from __future__ import annotations

import pytest

from device_profiles import known_devices, load_profile, save_profile
from device_profiles.profile import load_profile_file
from search_spaces import PRESETS, UserInputError, resolve_arch


def test_pixel4_profile_facts() -> None:
    p = load_profile("pixel4")
    assert p.target == {"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mcpu": "cortex-a76", "mattr": ["+neon"]}
    assert p.threads == 4 and p.runtime == "tflite"
    assert p.fp32_gflops == pytest.approx(161.6) and p.memory_gbs == pytest.approx(34.1)
    assert sum(c["count"] for c in p.cores) == 4
    published = {c.arch: c.latency_ms for c in p.calibration}
    assert published == {"bert-base": 342.0, "mobilebert": 62.0, "mobilebert-no-opt": 192.0}
    assert all("MobileBERT paper" in c.source for c in p.calibration)
    assert all(c.arch in PRESETS for c in p.calibration)
    assert p.content_hash


def test_pixel4_target_is_accepted_by_tvm() -> None:
    target = load_profile("pixel4").tvm_target()
    assert "aarch64" in str(target)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = \n", "not valid TOML"),
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


def test_calibration_archs_resolve() -> None:
    for point in load_profile("pixel4").calibration:
        assert resolve_arch(point.arch).num_params() > 0
