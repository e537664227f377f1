"""`nas export --model DIR`: a trained model directory with its weights and task head as `.tflite` (fp32, int8) and
ONNX, beside `vocab.txt` and `app.json` (tokenizer settings, sequence length, labels).

Every file converts `model_dir.load_module` (the trained weights in `hf_model.app_module`, the module the latency
measurements time) and is checked against it on tokenised sentences padded to the sequence length: the fp32 files
must agree to fp32 rounding (a failed check removes the file); the int8 files' error is reported, and their
accuracy is what `nas evaluate` measures.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from nas.deploy.app import APP_JSON, INPUTS, app_record, encode
from nas.deploy.model_dir import Output, TrainedModel, load_module
from nas.distill.data_glue import Example
from nas.export.formats import EXPORT_RECORD, TFLITE_TOLERANCE, record_export, write_onnx
from nas_common.quiet import native_stderr_hidden
from nas_common.writing import write_json

FILES = ("model.tflite", "model_int8.tflite", "model_int8_full.tflite", "model.onnx", "vocab.txt", APP_JSON,
         EXPORT_RECORD)
# Tokenised at the export's sequence length (padded), run through torch and the file: single texts and pairs.
CHECK_TEXTS = (Example("the film is a delight from start to finish .", None, 0),
               Example("a dull , lifeless and overlong movie that never finds its voice .", None, 0),
               Example("it 's not bad .", None, 0))
CHECK_PAIRS = (Example("the company said its profit rose 5 percent .", "profits at the firm grew by 5 % , it said .",
                       0),
               Example("a man is playing a guitar .", "nobody is making music .", 0))


def trained_weights(model: TrainedModel, output: Output) -> str:
    """What `export.json` and the printed lines say about the weights."""
    part = f"with its {model.task} task head (logits: {', '.join(model.labels)})" if output == "logits" \
        else "encoder output (last_hidden_state)"
    return f"trained weights of {model.directory.resolve()}, {part}"


def check_inputs(tokenizer: Any, seq_len: int) -> dict[str, np.ndarray]:
    """`CHECK_TEXTS` and `CHECK_PAIRS` encoded as an app encodes them (`app.encode`), one row each."""
    singles, pairs = encode(tokenizer, list(CHECK_TEXTS), seq_len), encode(tokenizer, list(CHECK_PAIRS), seq_len)
    return {name: np.concatenate([singles[name], pairs[name]]) for name in INPUTS}


def torch_outputs(module: Any, inputs: dict[str, np.ndarray]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return module(*(torch.from_numpy(inputs[name]) for name in INPUTS)).numpy()


def file_error(run: Any, inputs: dict[str, np.ndarray], expected: np.ndarray) -> float:
    """max |file − torch| over the rows of `inputs`, one row a call (the file's batch is 1)."""
    worst = 0.0
    for row in range(len(expected)):
        got = run({name: inputs[name][row:row + 1] for name in INPUTS})
        worst = max(worst, float(np.abs(got - expected[row:row + 1]).max()))
    return worst


def export_model(model: TrainedModel, out: Path, seq_len: int, output: Output, tflite: bool, int8: bool,
                 int8_full: list[Example] | None, onnx: bool, target: Any = None) -> list[str]:
    """Write the files asked for into `out` (checked beforehand: `nas_common.paths.check_output_dir`); `int8_full`
    is the representative dataset of the full-integer file (None: not asked); `target`: the device profile whose
    predicted latency is printed and recorded (`nas/deploy/latency.py`; None: pixel4). Returns the lines to
    print."""
    from nas.deploy import latency
    from nas.distill.vocab import load_tokenizer

    module = load_module(model, output)
    tokenizer = load_tokenizer(model.vocab)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model.vocab, out / "vocab.txt")
    weights = trained_weights(model, output)
    inputs = check_inputs(tokenizer, seq_len)
    expected = torch_outputs(module, inputs)
    files: dict[str, str] = {"vocab": "vocab.txt"}
    lines = []
    timing: dict[str, Any] = {"predicted": latency.predicted(model.config, target or latency.target_profile(None),
                                                             seq_len)}
    if tflite:
        with native_stderr_hidden():  # LiteRT's C++ INFO lines, unless -v
            lines += _tflite_files(model, module, out, seq_len, output, inputs, expected, int8, int8_full, files,
                                   weights, tokenizer)
            timing["measured_here"] = latency.measured([out / files[k] for k in ("tflite", "tflite_int8",
                                                                                  "tflite_int8_full") if k in files])
    if onnx:
        info = write_onnx(module, out, len(tokenizer), output,
                          model.config.num_labels if output == "logits" else model.config.hidden_size, weights,
                          int(model.config.max_position_embeddings), {"app_sequence": seq_len})
        files["onnx"] = info["file"]
        lines.append(f"ONNX: {out / info['file']} (trained weights, {output}; inputs {', '.join(INPUTS)}, int64, "
                     f"batch × sequence up to {info['max_sequence']}; {info['check']})")
    lines.append(latency.predicted_line(timing["predicted"]))
    if "measured_here" in timing:
        lines.append(latency.measured_line(timing["measured_here"]))
    record_export(out, "latency", timing)
    write_json(out / APP_JSON, {**app_record(model, seq_len, output, tokenizer, files, weights), "latency": timing})
    lines.append(f"app: {out / APP_JSON} (tokenizer settings, sequence length {seq_len}"
                 f"{', labels ' + ', '.join(model.labels) if output == 'logits' else ''}) and {out / 'vocab.txt'}")
    return lines


def _tflite_files(model: TrainedModel, module: Any, out: Path, seq_len: int, output: Output,
                  inputs: dict[str, np.ndarray], expected: np.ndarray, int8: bool, int8_full: list[Example] | None,
                  files: dict[str, str], weights: str, tokenizer: Any) -> list[str]:
    import torch

    from latency_models import tflite_backend as tb

    path = out / "model.tflite"
    tb.convert_module(module, {name: torch.from_numpy(inputs[name][:1]) for name in INPUTS}, path)
    scale = float(np.abs(expected).max())
    error = file_error(tb.signature_runner(path), inputs, expected)
    if not error <= TFLITE_TOLERANCE * max(1.0, scale):
        path.unlink()
        raise RuntimeError(f"the converted model differs from torch by {error:.3g} (> {TFLITE_TOLERANCE:g} × "
                           f"max(1, {scale:.3g}))")
    checked = f"{len(expected)} tokenised sentences padded to {seq_len}, outputs up to {scale:.3g}"
    record = {"file": path.name, "weights": weights, "inputs": {n: [1, seq_len] for n in INPUTS},
              "input_dtype": "int32", "output": output, "check": f"max |LiteRT - torch| {error:.2g} on {checked}"}
    record_export(out, "tflite", record)
    files["tflite"] = path.name
    size = path.stat().st_size
    lines = [f"TFLite: {path} (fp32, {size / 1e6:.2f} MB, trained weights, {output}; inputs {', '.join(INPUTS)} "
             f"int32 (1, {seq_len}); max |LiteRT - torch| {error:.2g} on {checked})"]
    variants = []
    if int8:
        variants.append(("tflite_int8", "model_int8.tflite", tb.QUANTISATION,
                         lambda dst: tb.quantize_dynamic(path, dst)))
    if int8_full is not None:
        samples = _rows(encode(tokenizer, int8_full, seq_len))
        variants.append(("tflite_int8_full", "model_int8_full.tflite",
                         f"{tb.STATIC_QUANTISATION}: {len(samples)} examples of the {model.task} training split",
                         lambda dst: tb.quantize_static(path, dst, samples)))
    for key, name, how, quantize in variants:
        qpath = quantize(out / name)
        qerror = file_error(tb.signature_runner(qpath), inputs, expected)
        qsize = qpath.stat().st_size
        record_export(out, key, {"file": name, "weights": weights, "quantisation": how,
                                  "check": f"max |LiteRT - torch| {qerror:.3g} on {checked}"})
        files[key] = name
        lines.append(f"TFLite int8: {qpath} ({how}; {qsize / 1e6:.2f} MB = {qsize / size:.2f} of fp32; max |LiteRT - "
                     f"torch| {qerror:.3g} on {checked}; its accuracy: nas evaluate)")
    return lines


def host_latencies(paths: list[Path], threads: int = 1) -> list[Any]:
    """Each file's latency on this machine (LiteRT XNNPACK, batch 1): `nas measure --backend tflite --model`'s
    protocol (`tflite_backend.time_files`), what the export records (`nas/deploy/latency.py`)."""
    from latency_models.tflite_backend import time_files
    from nas.deploy.latency import REPEAT

    return time_files(paths, threads, REPEAT)


def _rows(encoded: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """One dict of (1, seq_len) arrays per example: the shapes the `.tflite` signature takes."""
    count = len(encoded[INPUTS[0]])
    return [{name: encoded[name][i:i + 1] for name in INPUTS} for i in range(count)]
