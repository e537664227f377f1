"""Exports of a chosen arch: `arch.json`, a transformers `config.json`; ONNX; a TVM library; TFLite (LiteRT).

ONNX, TVM and TFLite exports contain the architecture with random weights (what the latency is a property
of); train it with `nas distill` for real weights. Every one converts the module `latency_models/hf_model.py`
builds, the one `nas measure` times.
"""

from __future__ import annotations

import importlib.util
import shutil
import warnings
from pathlib import Path
from typing import Any

from latency_models.measure import build_relax, relax_module
from nas_common.errors import UserInputError
from nas_common.io import read_json
from nas_common.quiet import native_stderr_hidden
from nas_common.writing import write_json
from search_spaces.arch import Arch
from search_spaces.family import MAX_POSITION_EMBEDDINGS

CROSS_COMPILERS = {"aarch64": "aarch64-linux-gnu-gcc", "arm": "arm-linux-gnueabihf-gcc"}
TFLITE_TOLERANCE = 1e-4  # max |LiteRT - torch| of the fp32 file on random inputs
ONNX_TOLERANCE = 1e-4  # max |onnxruntime - torch| on random inputs
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_MAX_BATCH = 1024
EXPORT_RECORD = "export.json"
UNTRAINED = "untrained (random) weights: the searched architecture, not a trained model (TRAIN.md trains it)"

def export_config(arch: Arch, out: Path) -> Path:
    """`arch.json` and `config.json` (transformers) in `out` (`train_guide` adds teacher.json and TRAIN.md)."""
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


def onnx_module(arch: Arch, seed: int | None = 0) -> Any:
    """The encoder `hf_model.build_model` builds (the one `nas measure` times), taking what a tokenizer gives an
    app — `input_ids`, `attention_mask`, `token_type_ids` — and returning `last_hidden_state`."""
    from latency_models.hf_model import app_module, build_model

    return app_module(build_model(arch, "base", seed))


def token_example(vocab_size: int, batch: int, seq_len: int) -> tuple[Any, Any, Any]:
    """Token ids (reproducible: `hf_model.example_inputs`' generator), a mask with the last position padded in
    the second row, one segment."""
    import torch

    ids = torch.randint(0, vocab_size, (batch, seq_len), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1:, -1] = 0
    return ids, mask, torch.zeros_like(ids)


def onnx_example(arch: Arch, batch: int, seq_len: int) -> tuple[Any, Any, Any]:
    return token_example(arch.vocab_size, batch, seq_len)


def export_onnx(arch: Arch, out: Path, seq_len: int = 128) -> dict[str, Any]:
    """`model.onnx` of the searched arch (untrained weights) and `export.json` beside it saying so."""
    check_onnx_available()
    return write_onnx(onnx_module(arch), out, arch.vocab_size, "last_hidden_state", arch.hidden_size, UNTRAINED,
                      MAX_POSITION_EMBEDDINGS, {"latency_sequence": seq_len})


def write_onnx(module: Any, out: Path, vocab_size: int, output: str, width: int, weights: str, max_sequence: int,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """`model.onnx` of an app module (`hf_model.app_module`) with a dynamic batch and sequence axis (up to
    `max_sequence`), checked against torch, and its entry in `export.json` (`weights` says which weights); what
    is written, as a dict (the line `nas export` prints reads it)."""
    import torch

    check_onnx_available()
    path = out / "model.onnx"
    batch, sequence = torch.export.Dim("batch", min=1, max=ONNX_MAX_BATCH), \
        torch.export.Dim("sequence", min=2, max=max_sequence)
    axes = {name: {0: batch, 1: sequence} for name in ONNX_INPUTS}
    # an example of 2 × 16, not 1 × seq_len: torch.export would fix an axis of size 1 to 1
    with torch.no_grad(), warnings.catch_warnings():
        # one Dim object per axis is shared by the three inputs: torch says it will not rename them (it need not)
        warnings.filterwarnings("ignore", message="# The axis name", category=UserWarning)
        torch.onnx.export(module, token_example(vocab_size, 2, 16), str(path), input_names=list(ONNX_INPUTS),
                          output_names=[output], dynamic_shapes=axes, dynamo=True,
                          external_data=False, verbose=False)
    shape = ["batch", "sequence", width] if output == "last_hidden_state" else ["batch", width]
    info = {"file": path.name, "weights": weights, "inputs": {n: ["batch", "sequence"] for n in ONNX_INPUTS},
            "input_dtype": "int64", "output": {output: shape}, "max_sequence": max_sequence, **(extra or {}),
            "check": check_onnx_file(module, path, vocab_size)}
    record_export(out, "onnx", info)
    return info


def describe_onnx(info: dict[str, Any], out: Path) -> str:
    """The line `nas export --onnx` prints."""
    inputs = ", ".join(info["inputs"])
    return (f"ONNX: {out / info['file']} — {info['weights'].split(':')[0]}; inputs {inputs} ({info['input_dtype']}, "
            f"batch × sequence, sequence up to {info['max_sequence']}); {info['check']}; see {out / EXPORT_RECORD}")


def onnx_session(path: Path) -> tuple[Any, str]:
    """A callable `feed -> first output` for an ONNX file, and the runtime's name: onnxruntime where installed,
    else onnx's own reference evaluator (slower, no extra)."""
    import onnx

    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return (lambda feed: session.run(None, feed)[0]), "onnxruntime"
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(onnx.load(str(path)))
    return (lambda feed: evaluator.run(None, feed)[0]), "onnx.reference (onnxruntime is not installed)"


def check_onnx_file(module: Any, path: Path, vocab_size: int) -> str:
    """Run the file on inputs of another shape than it was traced with (3 × 24, a padded position) and compare
    with torch; an error above `ONNX_TOLERANCE` × max(1, largest |output|) (fp32 rounding grows with the
    outputs' scale) is a failed export (the file is removed)."""
    import onnx
    import torch

    onnx.checker.check_model(onnx.load(str(path)))
    inputs = token_example(vocab_size, 3, 24)
    feed = {n: t.numpy() for n, t in zip(ONNX_INPUTS, inputs, strict=True)}
    run, runner = onnx_session(path)
    got = run(feed)
    with torch.no_grad():
        expected = module(*inputs).numpy()
    error, scale = float(abs(got - expected).max()), float(abs(expected).max())
    if not error <= ONNX_TOLERANCE * max(1.0, scale):
        path.unlink()
        raise RuntimeError(f"the ONNX model differs from torch by {error:.3g} (> {ONNX_TOLERANCE:g} × "
                           f"max(1, {scale:.3g}))")
    return f"{runner} on 3 × 24 inputs, a padded position: max |ONNX - torch| {error:.2g}"


def record_export(out: Path, name: str, info: dict[str, Any]) -> None:
    """`export.json` in the export folder: what each exported file holds (one entry per format)."""
    path = out / EXPORT_RECORD
    record = read_json(path) if path.is_file() else {}
    record[name] = info
    write_json(path, record)


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
    with native_stderr_hidden():  # LiteRT's C++ INFO lines (a delegate created, oneDNN on), unless -v
        return _tflite_files(arch, out, seq_len, int8)


def _tflite_files(arch: Arch, out: Path, seq_len: int, int8: bool) -> list[str]:
    from latency_models.tflite_backend import QUANTISATION

    path, error = export_tflite(arch, out, seq_len)
    size = path.stat().st_size
    untrained = UNTRAINED.split(":")[0]
    lines = [f"TFLite: {path} — {untrained} (fp32, {size / 1e6:.1f} MB, input int32 ids (1, {seq_len}); "
             f"max |LiteRT - torch| {error:.2g} on random inputs)"]
    record_export(out, "tflite", {"file": path.name, "weights": UNTRAINED, "inputs": {"input_ids": [1, seq_len]},
                                  "input_dtype": "int32", "output": "last_hidden_state",
                                  "check": f"max |LiteRT - torch| {error:.2g} on random inputs"})
    if int8:
        qpath, qerror, scale = export_tflite_int8(arch, out, path)
        qsize = qpath.stat().st_size
        lines.append(f"TFLite int8: {qpath} — {untrained} ({QUANTISATION}; {qsize / 1e6:.1f} MB = "
                     f"{qsize / size:.2f} of fp32; max |LiteRT - torch| {qerror:.3g} on random inputs, outputs up to "
                     f"{scale:.3g})")
        record_export(out, "tflite_int8", {"file": qpath.name, "weights": UNTRAINED, "quantisation": QUANTISATION,
                                           "check": f"max |LiteRT - torch| {qerror:.3g} on random inputs"})
    return lines
