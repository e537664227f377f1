"""`nas export --onnx / --tvm` (slow: they build the whole network)."""

import json
import subprocess
import sys
import tarfile

import pytest

NAS = [sys.executable, "-c", "from nas.cli import main; main()"]


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "r"
    subprocess.run([*NAS, "search", "--device", "pixel4", "--budget", "20ms", "--trials", "200", "--out", str(run)],
                   check=True, capture_output=True)
    return run


@pytest.mark.slow
def test_onnx_export_is_a_valid_model(fast_run, tmp_path):
    import onnx

    result = subprocess.run([*NAS, "export", str(fast_run), "--max-latency", "10ms", "--to", str(tmp_path), "--onnx"],
                            check=True, capture_output=True, text=True)
    model = onnx.load(str(tmp_path / "model.onnx"))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    assert [d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim] == ["batch", "sequence"]
    assert "untrained" in json.loads((tmp_path / "export.json").read_text())["onnx"]["weights"]
    assert "untrained (random) weights" in result.stdout and "max |ONNX - torch|" in result.stdout
    assert "torchvision" not in result.stderr and "Warning" not in result.stderr
    assert json.loads((tmp_path / "arch.json").read_text())["num_hidden_layers"] >= 1


@pytest.mark.slow
def test_tvm_export_targets_the_device(fast_run, tmp_path):
    result = subprocess.run([*NAS, "export", str(fast_run), "--max-latency", "10ms", "--to", str(tmp_path), "--tvm"],
                            check=True, capture_output=True, text=True)
    if (tmp_path / "model.so").exists():
        assert b"\x7fELF" == (tmp_path / "model.so").read_bytes()[:4]
        assert "aarch64" in result.stdout
    else:  # no cross compiler here: unlinked aarch64 objects, said plainly
        assert "NOT a loadable library" in result.stdout
        with tarfile.open(tmp_path / "model.tar") as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith(".o"))
            header = tar.extractfile(member).read(20)
        assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183  # EM_AARCH64


def test_onnx_without_the_dev_extra_is_one_line(tmp_path, monkeypatch):
    """`--onnx` where onnx/onnxscript are not installed: a UserInputError naming the extra, nothing written."""
    from nas.export.formats import export_onnx
    from nas_common.errors import UserInputError
    from search_spaces.presets import PRESETS

    monkeypatch.setitem(sys.modules, "onnxscript", None)  # what find_spec reports for a missing package
    with pytest.raises(UserInputError, match=r"--onnx needs onnxscript \(the dev extra\)"):
        export_onnx(PRESETS["mobilebert-tiny"].arch, tmp_path)
    assert list(tmp_path.iterdir()) == []
