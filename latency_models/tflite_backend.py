"""LiteRT (TFLite): the model `hf_model.py` builds as a `.tflite` file, run by the LiteRT interpreter.

The paper's latencies are TFLite ones (MobileBERT paper, Sun et al., ACL 2020, §4: Pixel 4, TFLite), so
this is the runtime a shipped pick runs in. `litert_torch.convert` converts `hf_model.inference_module`
(the module the torch backend times and every exporter converts) with int32 token ids (the converted model
refuses int64); `ai_edge_litert.interpreter.Interpreter` runs it with the XNNPACK delegate on this
machine's CPU. Converting costs seconds to minutes (a 24-layer model: ~90 s on this loaded machine), so
`cached_model` keeps each conversion under `$NAS_CACHE_DIR/tflite` and `nas measure` re-times it for free; the
folder is bounded (`model_cache.py`: `NAS_TFLITE_CACHE_GB`, default 20, least recently used evicted first).

Needs the `tflite` extra (litert-torch, ai-edge-litert); without it every entry point says so in one line.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from latency_models import model_cache
from latency_models.hf_model import example_inputs, inference_module
from latency_models.timing import MAX_SPREAD, RETRIES, WARMUP_MAX, Runner, Timing, time_interleaved
from nas_common.errors import UserInputError

MISSING = ("LiteRT is not installed: pip install -e '.[tflite]' and then pip install --no-deps litert-torch==0.10.0 "
           "litert-converter==0.5.0 xdsl==0.28.0 (README: 'Your own phone with LiteRT')")
QUANTISATION = ("dynamic-range int8 (ai_edge_quantizer dynamic_wi8_afp32: int8 weights, activations quantised "
                "at run time)")
STATIC_QUANTISATION = ("full-integer int8 (ai_edge_quantizer static_wi8_ai8: int8 weights and int8 activations, "
                       "ranges calibrated on a representative dataset)")


def available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("litert_torch", "ai_edge_litert"))


def check_available() -> None:
    if not available():
        raise UserInputError(MISSING)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The converter's progress lines and C++ logs go to a temporary file (shown if conversion fails)."""
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
                yield
        except Exception:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            sink.seek(0)
            tail = sink.read()[-4000:].decode(errors="replace")
            print(tail, file=sys.stderr)
            raise
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def convert(arch: Any, path: Path, seq_len: int = 128, batch: int = 1, seed: int = 0) -> Path:
    """Write `hf_model.inference_module(arch, seed)` at (batch, seq_len) as an fp32 `.tflite` file."""
    import torch

    check_available()
    import litert_torch

    module = inference_module(arch, seed)
    (ids,) = example_inputs(arch, seq_len, batch)
    path = Path(path)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with torch.no_grad(), _quiet():
        edge = litert_torch.convert(module, (ids.int(),))
        edge.export(str(partial))
    partial.replace(path)  # a cache or export never holds half a file
    return path


def convert_module(module: Any, inputs: dict[str, Any], path: Path) -> Path:
    """Write `module` (any torch module called with `inputs` by name, e.g. `hf_model.app_module`) as an fp32
    `.tflite` file whose signature takes int32 tensors of these names and shapes."""
    import torch

    check_available()
    import litert_torch

    path = Path(path)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with torch.no_grad(), _quiet():
        edge = litert_torch.convert(module.eval(), (), {name: tensor.int() for name, tensor in inputs.items()})
        edge.export(str(partial))
    partial.replace(path)
    return path


def signature_runner(path: Path, threads: int = 1) -> Any:
    """A callable `feed -> output` for a `.tflite` file with named inputs (`convert_module`): `feed` maps input
    names to integer arrays of the file's input shapes; the one output comes back as a float numpy array
    (dequantised where the file outputs int8)."""
    interp = interpreter(path, threads)
    runner = interp.get_signature_runner()
    (detail,) = runner.get_output_details().values()
    scale, zero_point = detail["quantization"]  # a full-integer file's output is int8: real = scale · (q − zero)

    def run_feed(feed: dict[str, Any]) -> np.ndarray:
        (out,) = runner(**{name: np.asarray(value, dtype=np.int32) for name, value in feed.items()}).values()
        if scale and np.issubdtype(out.dtype, np.integer):
            return (out.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
        return np.array(out)

    return run_feed


def input_shapes(path: Path) -> dict[str, list[int]]:
    """A `.tflite` file's signature inputs: name → shape."""
    details = interpreter(path).get_signature_runner().get_input_details()
    return {name: [int(d) for d in detail["shape"]] for name, detail in details.items()}


def quantize_static(src: Path, dst: Path, samples: list[dict[str, Any]]) -> Path:
    """`src` with int8 weights and int8 activations (`STATIC_QUANTISATION`): each activation's range is taken from
    running the float model on `samples` (the representative dataset: input name → array, as the signature
    takes them)."""
    check_available()
    from ai_edge_quantizer import quantizer, recipe

    qt = quantizer.Quantizer(str(src))
    qt.load_quantization_recipe(recipe.static_wi8_ai8())
    feed = [{name: np.asarray(value, dtype=np.int32) for name, value in sample.items()} for sample in samples]
    with _quiet():
        calibration = qt.calibrate({"serving_default": feed})
        result = qt.quantize(calibration, enable_progress_report=False)
    Path(dst).write_bytes(bytes(result.quantized_model))
    return Path(dst)


def quantize_dynamic(src: Path, dst: Path) -> Path:
    """`src` with int8 weights and activations quantised at run time (`QUANTISATION`): no calibration set."""
    check_available()
    from ai_edge_quantizer import quantizer, recipe

    qt = quantizer.Quantizer(str(src))
    qt.load_quantization_recipe(recipe.dynamic_wi8_afp32())
    with _quiet():
        result = qt.quantize(enable_progress_report=False)
    Path(dst).write_bytes(bytes(result.quantized_model))
    return Path(dst)


def interpreter(path: Path, threads: int = 1) -> Any:
    check_available()
    from ai_edge_litert.interpreter import Interpreter

    with _quiet():  # a deprecation line and the XNNPACK banner on every load
        interp = Interpreter(model_path=str(path), num_threads=threads)
    interp.allocate_tensors()
    return interp


def run(interp: Any, ids: Any) -> np.ndarray:
    """The model's output for token ids (any integer array of the input's shape)."""
    (inp,), (out,) = interp.get_input_details(), interp.get_output_details()
    interp.set_tensor(inp["index"], np.asarray(ids, dtype=np.int32))
    interp.invoke()
    return interp.get_tensor(out["index"])


def max_abs_error(arch: Any, path: Path, seq_len: int = 128, inputs: int = 3, seed: int = 0) -> float:
    """Largest |LiteRT − torch| over `inputs` random token sequences (the model of `hf_model`, weights `seed`)."""
    import torch

    module = inference_module(arch, seed)
    interp = interpreter(path, 1)
    generator = torch.Generator().manual_seed(1234)
    worst = 0.0
    for _ in range(inputs):
        ids = torch.randint(0, arch.vocab_size, (1, seq_len), generator=generator)
        with torch.no_grad():
            ref = module(ids).numpy()
        worst = max(worst, float(np.abs(run(interp, ids.numpy()) - ref).max()))
    return worst


def cache_dir() -> Path:
    base = Path(os.environ["NAS_CACHE_DIR"]) if os.environ.get("NAS_CACHE_DIR") else Path.home() / ".cache" / "nas"
    return base / "tflite"


def model_key(arch: Any, seq_len: int, batch: int) -> str:
    try:
        version = metadata.version("litert-torch")
    except metadata.PackageNotFoundError:
        version = "?"
    text = f"{arch.to_json()}|{seq_len}|{batch}|seed0-untied|litert-torch {version}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached_model(arch: Any, seq_len: int = 128, batch: int = 1) -> Path:
    """The fp32 `.tflite` of `arch` (random weights, seed 0), converted once and kept in `cache_dir()`."""
    limit = model_cache.limit_bytes()  # a bad NAS_TFLITE_CACHE_GB stops before minutes of conversion
    path = cache_dir() / f"{model_key(arch, seq_len, batch)}.tflite"
    if path.exists():
        model_cache.touch(path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    convert(arch, path, seq_len, batch)
    model_cache.prune(path.parent, limit, keep=path)
    return path


def file_runner(path: Path, threads: int = 1, clock: str = "wall") -> Runner:
    """One LiteRT (XNNPACK) run of any `.tflite` file per call (inputs set once: ones, a valid token id and a full
    attention mask); returns wall seconds (`clock="thread"`: the calling thread's CPU time, one thread). What an
    exported model's host latency is timed with."""
    now = time.thread_time if clock == "thread" else time.perf_counter
    interp = interpreter(path, threads)
    for detail in interp.get_input_details():
        interp.set_tensor(detail["index"], np.ones(detail["shape"], dtype=detail["dtype"]))
    invoke = interp.invoke

    def once() -> float:
        start = now()
        invoke()
        return now() - start

    return once


def check_model_file(path: Path, what: str = "--model") -> Path:
    """A `.tflite` file to time, checked before LiteRT is asked (one line each): it exists, is a file, ends in
    `.tflite`. Whether LiteRT can load it is `load_model_file`'s check."""
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"{what} {path}: no such file (give a .tflite file written by nas export --tflite)")
    if path.is_dir():
        raise UserInputError(f"{what} {path} is a directory: give a .tflite file in it (nas export writes "
                             "model.tflite, model_int8.tflite)")
    if path.suffix.lower() != ".tflite":
        raise UserInputError(f"{what} {path} is not a .tflite file: the tflite backend times a LiteRT model file "
                             "(nas export --tflite writes one)")
    return path


def load_model_file(path: Path, threads: int = 1, what: str = "--model") -> dict[str, list[int]]:
    """The file's inputs (name -> shape), loaded once by LiteRT: a file it cannot read (damaged, not a model) is
    one line."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # the native log `_quiet` shows on failure: the reason suffices
            details = interpreter(path, threads).get_input_details()
    except (ValueError, RuntimeError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise UserInputError(f"{what} {path}: LiteRT cannot load it as a model ({reason})") from None
    return {str(d["name"]): [int(n) for n in d["shape"]] for d in details}


def time_files(paths: list[Path], threads: int = 1, repeat: int = 20, clock: str = "wall",
               max_spread: float = MAX_SPREAD, retries: int = RETRIES, warmup_max: int = WARMUP_MAX) -> list[Timing]:
    """Each file timed on this machine by `nas measure`'s protocol (`timing.time_interleaved`: warm-up until
    stable, interleaved rounds, re-timed while the spread is above `max_spread`)."""
    return time_interleaved([file_runner(p, threads, clock) for p in paths], repeat, max_spread, retries,
                            max_runs=warmup_max)


def tflite_runner(arch: Any, seq_len: int = 128, batch: int = 1, threads: int = 1, clock: str = "wall") -> Runner:
    """One LiteRT (XNNPACK) run of `arch`'s converted model per call; returns seconds. `clock="thread"` (one
    thread: XNNPACK then runs every op on the calling thread) times that thread's CPU time."""
    now = time.thread_time if clock == "thread" else time.perf_counter
    interp = interpreter(cached_model(arch, seq_len, batch), threads)
    (ids,) = example_inputs(arch, seq_len, batch)
    (inp,) = interp.get_input_details()
    interp.set_tensor(inp["index"], ids.numpy().astype(np.int32))
    invoke = interp.invoke

    def once() -> float:
        start = now()
        invoke()
        return now() - start

    return once
