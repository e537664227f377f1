"""Exports of a chosen arch: `arch.json`, a transformers `config.json`; ONNX; a TVM library; TFLite (LiteRT).

ONNX, TVM and TFLite exports contain the architecture with random weights (what the latency is a property
of); train it with `nas distill` for real weights. Every one converts the module `latency_models/hf_model.py`
builds, the one `nas measure` times.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

from latency_models.hf_model import export_program
from latency_models.measure import build_relax, relax_module
from nas_common.errors import UserInputError
from search_spaces.arch import Arch

CROSS_COMPILERS = {"aarch64": "aarch64-linux-gnu-gcc", "arm": "arm-linux-gnueabihf-gcc"}
TFLITE_TOLERANCE = 1e-4  # max |LiteRT - torch| of the fp32 file on random inputs

def export_config(arch: Arch, out: Path) -> Path:
    """`arch.json` and `config.json` (transformers) in `out` (`nas.train_guide` adds teacher.json and TRAIN.md)."""
    out.mkdir(parents=True, exist_ok=True)
    arch.save(out / "arch.json")
    arch.save_hf_config(out)
    return out


def check_onnx_available() -> None:
    """`--onnx` needs the `dev` extra (onnx, onnxscript): one line before anything is written."""
    missing = [name for name in ("onnx", "onnxscript") if importlib.util.find_spec(name) is None]
    if missing:
        raise UserInputError(f"--onnx needs {' and '.join(missing)} (the dev extra): "
                             "pip install -e '.[dev]', or leave out --onnx")


def export_onnx(arch: Arch, out: Path, seq_len: int = 128) -> Path:
    """ONNX of `hf_model.export_program(arch)`: the program `nas measure` times through TVM."""
    import torch

    check_onnx_available()
    path = out / "model.onnx"
    torch.onnx.export(export_program(arch, seq_len), (), str(path), input_names=["input_ids"],
                      output_names=["last_hidden_state"], dynamo=True, external_data=False, verbose=False)
    return path


def export_tvm(arch: Arch, profile: Any, out: Path, seq_len: int = 128) -> tuple[Path, str]:
    """Compile for the device's TVM target; link a .so if the cross compiler exists, else a tar of objects."""
    executable = build_relax(relax_module(arch, seq_len, 1)[0], profile.target)
    triple = str(profile.target.get("mtriple", ""))
    arch_name = triple.split("-")[0] if triple else ""
    compiler = CROSS_COMPILERS.get(arch_name)
    if not triple or arch_name in ("x86_64", ""):
        path = out / "model.so"
        executable.export_library(str(path))
        return path, f"linked for the host ({profile.target.get('kind')})"
    if compiler and shutil.which(compiler):
        from tvm.support import cc

        path = out / "model.so"
        executable.export_library(str(path), fcompile=cc.cross_compiler(compiler))
        return path, f"cross-compiled and linked with {compiler} for {triple}"
    path = out / "model.tar"
    executable.export_library(str(path))
    return path, (f"{compiler or 'a cross compiler for ' + triple} not found: wrote {path.name}, the {triple} "
                  "object files, NOT a loadable library; link them on the device or install "
                  "gcc-aarch64-linux-gnu and export again")


def check_exportable(arch: Arch) -> None:
    if not arch.is_uniform:
        raise UserInputError("a per-layer (heterogeneous) arch cannot be exported as a MobileBertConfig")


def check_tflite_available() -> None:
    """`--tflite` needs the `tflite` extra: one line before anything is written."""
    from latency_models.tflite_backend import check_available

    check_available()


def export_tflite(arch: Arch, out: Path, seq_len: int = 128) -> tuple[Path, float]:
    """`model.tflite` (fp32, int32 token ids of shape (1, seq_len)) and its max |LiteRT − torch| on random
    inputs; an error above `TFLITE_TOLERANCE` is a failed export (the file is removed)."""
    from latency_models.tflite_backend import convert, max_abs_error

    path = convert(arch, out / "model.tflite", seq_len)
    error = max_abs_error(arch, path, seq_len)
    if not error <= TFLITE_TOLERANCE:
        path.unlink()
        raise RuntimeError(f"the converted model differs from torch by {error:.3g} (> {TFLITE_TOLERANCE:g})")
    return path, error


def export_tflite_int8(arch: Arch, out: Path, fp32: Path) -> tuple[Path, float, float]:
    """`model_int8.tflite` from the fp32 file (`tflite_backend.QUANTISATION`); its max |LiteRT − torch| on
    random inputs and the largest |torch| output (the error's scale), both reported, not gated."""
    from latency_models.tflite_backend import max_abs_error, quantize_dynamic

    path = quantize_dynamic(fp32, out / "model_int8.tflite")
    seq_len = int(_input_length(fp32))
    return path, max_abs_error(arch, path, seq_len), _output_scale(arch, seq_len)


def _input_length(path: Path) -> int:
    from latency_models.tflite_backend import interpreter

    return int(interpreter(path).get_input_details()[0]["shape"][-1])


def _output_scale(arch: Arch, seq_len: int) -> float:
    import torch

    from latency_models.hf_model import example_inputs, inference_module

    with torch.no_grad():
        return float(inference_module(arch)(example_inputs(arch, seq_len)[0]).abs().max())


def export_tflite_files(arch: Arch, out: Path, seq_len: int, int8: bool) -> list[str]:
    """`model.tflite` (and with `int8`, `model_int8.tflite`) in `out`; the lines `nas export` prints."""
    from latency_models.tflite_backend import QUANTISATION

    path, error = export_tflite(arch, out, seq_len)
    size = path.stat().st_size
    lines = [f"TFLite: {path} (fp32, {size / 1e6:.1f} MB, input int32 ids (1, {seq_len}); max |LiteRT - torch| "
             f"{error:.2g} on random inputs)"]
    if int8:
        qpath, qerror, scale = export_tflite_int8(arch, out, path)
        qsize = qpath.stat().st_size
        lines.append(f"TFLite int8: {qpath} ({QUANTISATION}; {qsize / 1e6:.1f} MB = {qsize / size:.2f} of fp32; "
                     f"max |LiteRT - torch| {qerror:.3g} on random inputs, outputs up to {scale:.3g})")
    return lines
