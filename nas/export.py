"""Exports of a chosen arch: `arch.json`, a transformers `config.json`; ONNX; a TVM library.

ONNX and TVM exports contain the architecture with random weights (what the latency is a property of);
train it with `nas distill` for real weights.
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

def export_config(arch: Arch, out: Path) -> Path:
    """`arch.json` and `config.json` (transformers) in `out` (`nas.train_guide` adds teacher.json and TRAIN.md)."""
    out.mkdir(parents=True, exist_ok=True)
    arch.save(out / "arch.json")
    arch.to_hf_config().save_pretrained(str(out))
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
