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


# ---------------------------------------------------------------- nas_common.paths: the shared resolvers
def test_data_dir_explicit_then_env_then_sibling(tmp_path, monkeypatch) -> None:
    from nas_common import paths
    from search_spaces import UserInputError

    (tmp_path / "mine" / "glue").mkdir(parents=True)
    (tmp_path / "env").mkdir()
    assert paths.data_dir(tmp_path / "mine", "glue") == tmp_path / "mine" / "glue"
    assert paths.data_dir(tmp_path / "mine" / "glue", "glue") == tmp_path / "mine" / "glue"  # already the sub
    with pytest.raises(UserInputError, match="no such file"):
        paths.data_dir(tmp_path / "missing", "glue")
    monkeypatch.setenv("NAS_DATA_DIR", str(tmp_path / "env"))
    assert paths.data_dir() == tmp_path / "env"
    assert paths.data_dir(None, "corpus") is None  # the root exists, its corpus/ does not
    monkeypatch.delenv("NAS_DATA_DIR")
    monkeypatch.setattr(paths, "SIBLING_DATA", tmp_path / "mine")
    assert paths.data_dir(None, "glue") == tmp_path / "mine" / "glue"
    monkeypatch.setattr(paths, "SIBLING_DATA", tmp_path / "nowhere")
    assert paths.data_dir() is None


def test_check_output_dir_refuses_before_any_work(tmp_path) -> None:
    from nas_common.paths import check_output_dir, check_output_file
    from search_spaces import UserInputError

    taken = tmp_path / "taken"
    taken.write_text("x")
    with pytest.raises(UserInputError, match="is a file"):
        check_output_dir(taken)
    with pytest.raises(UserInputError, match="nothing can be written under it"):
        check_output_dir(taken / "sub" / "out")
    with pytest.raises(UserInputError, match="not writable"):
        check_output_dir("/proc/nas-test/out")  # /proc refuses new entries even to root
    model = tmp_path / "model"
    model.mkdir()
    (model / "checkpoint.pt").write_text("old")
    with pytest.raises(UserInputError, match="already holds checkpoint.pt.*--overwrite"):
        check_output_dir(model, result_files=("config.json", "checkpoint.pt"))
    assert check_output_dir(model, overwrite=True, result_files=("checkpoint.pt",)) == model
    assert check_output_dir(model, result_files=("metrics.json",)) == model
    with pytest.raises(UserInputError, match="already holds files"):
        check_output_dir(model)
    assert check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # a check creates nothing
    assert (model / "checkpoint.pt").read_text() == "old"
    with pytest.raises(UserInputError, match="also an input"):
        check_output_file(taken, inputs=(tmp_path / "." / "taken",))
    with pytest.raises(UserInputError, match="is a directory"):
        check_output_file(model)
    assert check_output_file(tmp_path / "rows.csv", inputs=(taken,)) == tmp_path / "rows.csv"
