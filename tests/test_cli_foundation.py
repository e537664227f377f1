"""The `nas` entry point as a user runs it: version, arch show/list, devices, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from search_spaces import PRESETS


def nas(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nas.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_version_and_help() -> None:
    assert nas("--version").stdout.startswith("nas ")
    out = nas("--help").stdout
    for command in ("arch", "devices"):
        assert command in out


def test_arch_show_json_matches_hf_and_paper() -> None:
    result = nas("arch", "show", "mobilebert", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["num_params"] == 24_844_544  # MobileBertModel(MobileBertConfig()) parameter count
    assert abs(summary["flops"] / 5.7e9 - 1) < 0.06
    assert 0 < summary["mha_ffn_param_ratio"] < 1
    bert = json.loads(nas("arch", "show", "bert-base", "--json").stdout)
    assert abs(bert["num_params"] / 109e6 - 1) < 0.01 and abs(bert["flops"] / 22.5e9 - 1) < 0.03


def test_arch_show_table_and_file(tmp_path) -> None:
    path = tmp_path / "tiny.json"
    PRESETS["mobilebert-tiny"].arch.save(path)
    result = nas("arch", "show", str(path), "--seq-len", "64")
    assert result.returncode == 0 and "ffn" in result.stdout and "MHA:FFN" in result.stdout


def test_arch_list_and_devices() -> None:
    listing = nas("arch", "list").stdout
    assert all(name in listing for name in PRESETS)
    devices = nas("devices").stdout
    assert "pixel4" in devices and "host" in devices


@pytest.mark.parametrize(
    ("args", "contents"),
    [
        (("arch", "show", "nosuch"), None),
        (("arch", "show", "{broken}"), "broken.json"),
        (("devices", "--profile", "{broken}"), "broken.toml"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, args, contents) -> None:
    if contents == "broken.json":
        (tmp_path / contents).write_text('{"num_attention_heads": 3}')
    elif contents == "broken.toml":
        (tmp_path / contents).write_text("name = 'x'\n[target\n")
    args = tuple(str(tmp_path / contents) if a == "{broken}" else a for a in args)
    result = nas(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
