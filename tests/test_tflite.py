"""TFLite (LiteRT, issue 11): export matches torch, the int8 file is small, the tflite backend times it.

Tests that convert need the `tflite` extra (litert-torch, ai-edge-litert) and skip with that reason without
it; they are marked slow (converting even a one-layer model took 109 s with the int8 file and its checks,
and timing it 43 s, on this loaded 2-core machine). The one-line refusal without the extra is tested
everywhere (the extra is hidden).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

import latency_models.tflite_backend as tflite_backend
from device_profiles.profile import load_profile
from search_spaces.arch import Arch
from tests.bad_input_support import run_cli

# One layer, real widths (weights dominate the file, as in the family), a small vocabulary (fast to convert).
SMALL = Arch(num_hidden_layers=1, hidden_size=256, intra_bottleneck_size=128, num_attention_heads=4,
             intermediate_size=512, num_feedforward_networks=2, embedding_size=64, vocab_size=1000,
             normalization_type="layer_norm", hidden_act="gelu")
SEQ = 32
NAS = [sys.executable, "-c", "from nas.cli import main; main()"]


def _need_litert() -> None:
    pytest.importorskip("litert_torch", reason="needs the tflite extra (litert-torch)")
    pytest.importorskip("ai_edge_litert", reason="needs the tflite extra (ai-edge-litert)")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, list[str]]:
    """`formats.export_tflite_files` of SMALL: fp32 + int8 in one folder, and the lines `nas export` prints."""
    _need_litert()
    from nas.export.formats import export_tflite_files

    out = tmp_path_factory.mktemp("tflite")
    return out, export_tflite_files(SMALL, out, SEQ, int8=True)


@pytest.mark.slow
def test_fp32_export_runs_in_litert_and_matches_torch(exported) -> None:
    out, lines = exported
    path = out / "model.tflite"
    interp = tflite_backend.interpreter(path)
    (inp,) = interp.get_input_details()
    assert list(inp["shape"]) == [1, SEQ] and inp["dtype"].__name__ == "int32"
    assert tflite_backend.max_abs_error(SMALL, path, SEQ, inputs=2) <= 1e-4
    assert "max |LiteRT - torch|" in lines[0]


@pytest.mark.slow
def test_int8_export_is_under_a_third_and_its_error_is_reported(exported) -> None:
    out, lines = exported
    fp32, int8 = (out / "model.tflite").stat().st_size, (out / "model_int8.tflite").stat().st_size
    assert int8 < fp32 / 3, (int8, fp32)
    assert "dynamic-range int8" in lines[1] and "max |LiteRT - torch|" in lines[1]
    error = tflite_backend.max_abs_error(SMALL, out / "model_int8.tflite", SEQ, inputs=1)
    assert 0 < error < 10  # quantised: not exact, but the same model (outputs are O(1-10))


@pytest.mark.slow
def test_measure_times_an_exported_file(exported, capsys) -> None:
    """`nas measure --backend tflite --model FILE` (issue 35 item 5): the exported files timed in LiteRT on this
    machine, interleaved, one line each with the file's own input shape; nothing appended."""
    out, _ = exported
    files = [out / "model.tflite", out / "model_int8.tflite"]
    code, stdout, err = run_cli(["measure", "--backend", "tflite", "--model", str(files[0]), "--model", str(files[1]),
                                 "--repeat", "3", "--retries", "0", "--warmup-max", "5", "--clock", "thread"], capsys)
    assert code == 0, err
    lines = stdout.splitlines()
    for path, line in zip(files, lines, strict=False):
        assert line.startswith(f"{path}: ") and f"x{SEQ}" in line and "of 3 runs" in line and "thread CPU time" in line
        assert float(line.split(": ")[1].split(" ms")[0]) > 0
    assert "not on a device" in lines[2] and "nothing appended" in lines[2]
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".csv", ".jsonl")) == []


@pytest.mark.slow
def test_tflite_backend_measures_a_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need_litert()
    from latency_models.measure import measure_many

    monkeypatch.setenv("NAS_CACHE_DIR", str(tmp_path))
    rows = measure_many([SMALL], "tflite", load_profile("host"), SEQ, 1, 1, repeat=3, clock="thread", retries=0,
                        warmup_max=5)
    assert rows[0].latency_ms > 0 and rows[0].repeats == 3
    assert "tflite (LiteRT XNNPACK), thread CPU time" in rows[0].source
    assert list(tflite_backend.cache_dir().glob("*.tflite"))  # converted once, re-timed for free next time


def test_host_tflite_profile_is_this_machine_with_the_tflite_runtime() -> None:
    from device_profiles.host import is_this_machine

    prof = load_profile("host-tflite")
    assert prof.name == "host-tflite" and prof.runtime == "tflite" and is_this_machine(prof)
    assert prof.lowering["fuse_epilogue"] is False and "LiteRT" in prof.description


@pytest.mark.parametrize("argv", [
    ("export", "{run}", "--tflite", "--to", "{tmp}/x"),
    ("export", "{run}", "--tflite-int8", "--to", "{tmp}/x"),
    ("measure", "--arch", "mobilebert-tiny", "--backend", "tflite", "--device", "host", "--out", "{tmp}/m.jsonl"),
])
def test_without_the_extra_one_line_and_nothing_written(argv, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(tflite_backend, "available", lambda: False)
    run = tmp_path / "run"
    run.mkdir()
    code, out, err = run_cli([a.format(run=run, tmp=tmp_path) for a in argv], capsys)
    if argv[0] == "export" and code == 2 and tflite_backend.MISSING not in err:
        pytest.fail(f"refused for another reason first: {err}")
    assert code == 2 and err.strip() == f"error: {tflite_backend.MISSING}", err
    assert "pip install -e '.[tflite]'" in err and "--no-deps litert-torch" in err
    assert not (tmp_path / "x").exists() and not (tmp_path / "m.jsonl").exists()


@pytest.mark.slow
def test_nas_export_tflite_of_a_search_run(tmp_path: Path) -> None:
    """End to end: a search on pixel4, `nas export --tflite-int8` of its fastest pick (converts a real model)."""
    _need_litert()
    run = tmp_path / "run"
    subprocess.run([*NAS, "search", "--device", "pixel4", "--budget", "20ms", "--trials", "200", "--out", str(run)],
                   check=True, capture_output=True)
    out = tmp_path / "export"
    result = subprocess.run([*NAS, "export", str(run), "--max-latency", "10ms", "--to", str(out), "--tflite-int8"],
                            check=True, capture_output=True, text=True)
    assert (out / "model.tflite").exists() and (out / "model_int8.tflite").exists(), result.stdout
    arch = Arch.from_dict(json.loads((out / "arch.json").read_text()))
    assert tflite_backend.max_abs_error(arch, out / "model.tflite", 128, inputs=1) <= 1e-4
    assert (out / "model_int8.tflite").stat().st_size < (out / "model.tflite").stat().st_size / 3
    # a search run's pick has no trained weights: said in the output and in the files (issue 35)
    assert result.stdout.count("untrained (random) weights") == 2 and "untrained weights" in result.stdout
    assert all("untrained" in entry["weights"] for entry in json.loads((out / "export.json").read_text()).values())


@pytest.mark.slow
def test_converted_no_norm_model_keeps_its_no_norm_ops(tmp_path: Path) -> None:
    """LiteRT folds a multiply by 1 and an add of 0: with HF's initial NoNorm (scale 1, bias 0) the timed graph
    lost every NoNorm. The backend's models carry untied weights, so the NoNorms stay."""
    _need_litert()
    import collections

    from ai_edge_litert.interpreter import Interpreter

    arch = dataclasses.replace(SMALL, normalization_type="no_norm", hidden_act="relu")
    path = tflite_backend.convert(arch, tmp_path / "m.tflite", SEQ)
    ops = collections.Counter(op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details())
    # one layer with 2 FFNs: NoNorms after the embedding, 2 bottleneck inputs, attention, 2 FFNs, the output
    assert ops["MUL"] >= 7, ops
