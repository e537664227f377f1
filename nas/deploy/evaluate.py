"""`nas evaluate`: the GLUE dev metric of a model directory (torch), a `.tflite` file (LiteRT interpreter) or an ONNX
file (onnxruntime) — the same examples, the same tokenisation (`app.encode`, padded to one sequence length), so
the numbers compare; with several models, each one's paired difference from the first (`paired.compare`).
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nas.deploy.app import APP_JSON, INPUTS, encode, read_app
from nas.deploy.model_dir import check_task_of, load_module, read_model_dir
from nas.distill.data_glue import Example
from nas.distill.metrics import task_metrics
from nas.export.formats import EXPORT_RECORD
from nas_common.errors import UserInputError
from nas_common.io import read_json

FORMATS = {".tflite": "tflite", ".onnx": "onnx"}
TORCH_BATCH = 64
MIN_SEQ_LEN = 8  # as `nas export --model --seq-len`: [CLS], [SEP] and a few tokens
ONNX_MISSING = ("evaluating an ONNX file needs onnxruntime (the onnx extra): pip install -e '.[onnx]' "
                "(or pip install onnxruntime==1.32.0)")


@dataclass
class Candidate:
    """One model to score: where it is, its format, and what tokenises its inputs."""
    path: Path
    format: str  # torch, tflite, onnx
    vocab: Path
    seq_len: int | None  # fixed by the file (tflite, onnx export), None for a model directory
    runtime: str = ""
    trained: Any = None  # the TrainedModel of a directory
    outputs: np.ndarray | None = field(default=None, repr=False)
    seconds: float = 0.0


def candidate(path: str | Path, task: str) -> Candidate:
    """A model the user named, checked for `task` before anything runs (one line if it cannot be scored)."""
    path = Path(path)
    if path.is_dir():
        trained = read_model_dir(path)
        check_task_of(trained, task)
        return Candidate(path, "torch", trained.vocab, None, "torch (CPU, fp32)", trained)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None or not path.is_file():
        raise UserInputError(f"--model {path} is not a model directory, a .tflite or an .onnx file")
    app = read_app(path)
    if app.get("output", {}).get("name") != "logits":
        raise UserInputError(f"{path} outputs the encoder's last_hidden_state, not task logits: export a model "
                             "fine-tuned with nas finetune")
    if app.get("task") != task:
        raise UserInputError(f"{path} was exported from a model fine-tuned on {app.get('task')}, not {task}")
    if kind == "tflite":
        from latency_models.tflite_backend import check_available

        check_available()
    elif importlib.util.find_spec("onnxruntime") is None:
        raise UserInputError(ONNX_MISSING)
    vocab = path.parent / str(app.get("tokenizer", {}).get("vocab", "vocab.txt"))
    if not vocab.is_file():
        raise UserInputError(f"{path}: the vocabulary {vocab} named by app.json is missing")
    return Candidate(path, kind, vocab, int(app["sequence_length"]))


def common_seq_len(candidates: list[Candidate], requested: int | None) -> int:
    """One length for all: the exported files' (fixed in a .tflite), else `requested`, else the fine-tuning one."""
    fixed = {c.seq_len for c in candidates if c.format == "tflite"}
    if len(fixed) > 1:
        raise UserInputError(f"the .tflite files take different sequence lengths {sorted(fixed)}: compare files "
                             "exported at one --seq-len")
    if fixed and requested is not None and requested not in fixed:
        raise UserInputError(f"--seq-len {requested}: the .tflite file takes exactly {fixed.pop()} tokens")
    if fixed:
        return fixed.pop()
    if requested is not None:
        _check_seq_len(requested, [limit for c in candidates if (limit := _max_positions(c)) is not None])
        return requested
    exported = [c.seq_len for c in candidates if c.seq_len is not None]
    return exported[0] if exported else next(c.trained.seq_len for c in candidates)


def _check_seq_len(requested: int, limits: list[int]) -> None:
    """`--seq-len` as `nas export --model` takes it: at least MIN_SEQ_LEN, at most every model's positions."""
    if requested < MIN_SEQ_LEN:
        raise UserInputError(f"--seq-len must be at least {MIN_SEQ_LEN}, got {requested}")
    if limits and requested > min(limits):
        raise UserInputError(f"--seq-len {requested} is longer than the model's {min(limits)} positions "
                             "(max_position_embeddings)")


def _max_positions(item: Candidate) -> int | None:
    """The longest input `item` takes: a model directory's max_position_embeddings, an ONNX file's max_sequence
    (its export.json, when readable); None when unknown."""
    if item.trained is not None:
        return int(item.trained.config.max_position_embeddings)
    try:
        record = read_json(item.path.parent / EXPORT_RECORD)
    except UserInputError:  # no or a damaged export.json: onnxruntime's own limit holds
        return None
    onnx = record.get("onnx") if isinstance(record, dict) else None
    limit = onnx.get("max_sequence") if isinstance(onnx, dict) else None
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None


def score(candidates: list[Candidate], task: str, examples: list[Example], seq_len: int, threads: int = 1,
          progress: bool = True) -> dict[str, Any]:
    """Every candidate's dev outputs and metrics (one progress bar over all), and each one's paired difference from
    the first."""
    from tqdm.auto import tqdm

    from nas.deploy.paired import compare
    from nas.distill.vocab import load_tokenizer

    labels = np.array([e.label for e in examples])
    # every model is loaded before the bar starts: a file that cannot be loaded is then one line, not a bar and a line
    runners = [_runner(item, threads) for item in candidates]
    bar = tqdm(total=len(examples) * len(candidates), unit="example", disable=not progress)
    results = []
    for item, (run, rows_at_once) in zip(candidates, runners, strict=True):
        bar.set_description(f"evaluate {item.path.name} ({item.format})")
        inputs = encode(load_tokenizer(item.vocab), examples, seq_len)
        start = time.perf_counter()
        item.outputs = _outputs(run, rows_at_once, inputs, bar)
        item.seconds = time.perf_counter() - start
        results.append({"model": str(item.path), "format": item.format, "runtime": item.runtime,
                        "metrics": task_metrics(task, item.outputs, labels), "seconds": round(item.seconds, 2)})
    bar.close()
    first = candidates[0]
    comparisons = [{"model": str(c.path), "reference": str(first.path),
                    **compare(task, first.outputs, c.outputs, labels)} for c in candidates[1:]]
    return {"task": task, "split": "dev", "examples": len(examples), "sequence_length": seq_len, "models": results,
            "comparisons": comparisons}


def _runner(item: Candidate, threads: int) -> tuple[Any, int]:
    """The loaded model of `item` as a callable `inputs -> outputs`, and how many rows it takes at once."""
    if item.format == "tflite":
        from latency_models.tflite_backend import input_shapes, signature_runner
        from nas_common.quiet import native_stderr_hidden

        with native_stderr_hidden():
            shapes = input_shapes(item.path)
            run = signature_runner(item.path, threads)
        if shapes.get("input_ids", [0])[0] != 1 or set(shapes) != set(INPUTS):
            raise UserInputError(f"{item.path} does not take {', '.join(INPUTS)} of batch 1 (inputs {shapes})")
        if shapes["input_ids"][1:] != [item.seq_len]:
            raise UserInputError(f"{item.path.parent / APP_JSON}: sequence_length is {item.seq_len}, but "
                                 f"{item.path.name} takes input_ids of shape {shapes['input_ids']}")
        item.runtime = f"LiteRT {_version('ai-edge-litert')} (XNNPACK, {threads} thread{'s' * (threads > 1)})"
        return run, 1
    return _batch_runner(item), TORCH_BATCH


def _outputs(run: Any, rows_at_once: int, inputs: dict[str, np.ndarray], bar: Any) -> np.ndarray:
    count = len(inputs[INPUTS[0]])
    chunks = []
    for start in range(0, count, rows_at_once):
        batch = {name: inputs[name][start:start + rows_at_once] for name in INPUTS}
        chunks.append(np.asarray(run(batch)))
        bar.update(len(batch[INPUTS[0]]))
    return np.concatenate(chunks)


def _batch_runner(item: Candidate) -> Any:
    """A callable `inputs -> outputs` for a batch of rows: onnxruntime or torch (both take any batch)."""
    if item.format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(item.path), providers=["CPUExecutionProvider"])
        item.runtime = f"onnxruntime {onnxruntime.__version__} (CPU)"

        def run_onnx(batch: dict[str, np.ndarray]) -> np.ndarray:
            return session.run(None, batch)[0]

        return run_onnx
    import torch

    module = load_module(item.trained, "logits")

    def run_torch(batch: dict[str, np.ndarray]) -> np.ndarray:
        with torch.no_grad():
            return module(*(torch.from_numpy(batch[name]) for name in INPUTS)).numpy()

    return run_torch


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def describe(result: dict[str, Any]) -> list[str]:
    """The lines `nas evaluate` prints: one per model, one per comparison."""
    lines = [f"{result['task']} dev ({result['examples']} examples, sequence length {result['sequence_length']}):"]
    for row in result["models"]:
        metrics = ", ".join(f"{k} {100 * v:.2f}" for k, v in row["metrics"].items())
        lines.append(f"  {row['model']}: {metrics}  [{row['format']}: {row['runtime']}; {row['seconds']:.1f} s]")
    for c in result["comparisons"]:
        parts = []
        for name, d in c["metrics"].items():
            low, high = d["interval95"]
            parts.append(f"{name} {100 * d['difference']:+.2f} points (95 % interval {100 * low:+.2f} to "
                         f"{100 * high:+.2f}; {d['method']}"
                         + (f", McNemar p {d['mcnemar_p']:.2g}" if "mcnemar_p" in d else "") + ")")
        same = (f"; {c['predictions_differ']} of {c['examples']} predictions differ" if "predictions_differ" in c
                else "")
        lines.append(f"  {c['model']} - {c['reference']}: {'; '.join(parts)}{same}; max |output difference| "
                     f"{c['max_abs_output_difference']:.3g}")
    return lines
