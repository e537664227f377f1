"""Time a real model: the median of `repeat` runs after a warm-up until stable, batch 1 (or `batch`).

Each backend gives a *runner* (one run of the model per call); `timing.py` warms it up until its times are
stable, times it, reports the spread (std/median) and re-measures a row whose spread is too high.
`measure_many` times a list of archs in one process, interleaved, so that drift cannot separate them.

Every backend times the model `latency_models/hf_model.py` builds, the one `nas export` ships (same
builder, same *eager* attention; why eager: that module's docstring).

Backends:
- `torch`: `hf_model.inference_module(arch)` (HF `MobileBertModel`, random weights), eager, fixed threads.
- `tvm`: `hf_model.export_program(arch)` → Relax → `relax.build` (default pipeline) for the
  profile's target on this machine. **Untuned**: no MetaSchedule tuning, so its figures are 30–80× slower
  than a tuned runtime and are no device latency (the row's `source` says so).
- `rpc`: the same compiled for the profile's target, exported, uploaded and timed on a remote TVM RPC
  server (`HOST:PORT`): the workflow of a user with a real device. Also untuned.
- `tflite`: the same module converted to `.tflite` (litert-torch) and run by the LiteRT interpreter
  (XNNPACK) on this machine: the paper's runtime (`tflite_backend.py`; needs the `tflite` extra).

Per-layer (heterogeneous) archs are rejected by all three: HF builds identical layers, and we do not
maintain a second PyTorch implementation of the family only for timing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from device_profiles.host import is_this_machine
from device_profiles.measurement import Measurement
from latency_models.hf_model import example_inputs, export_program, inference_module
from latency_models.tflite_backend import check_available, tflite_runner
from latency_models.timing import MAX_SPREAD, RETRIES, WARMUP_MAX, Runner, Timing, time_interleaved, time_runs
from nas_common.errors import UserInputError
from nas_common.machine import BUDGET_SHARE, GIB, available_memory, check_threads
from search_spaces.family import check_seq_len

BACKENDS = ("torch", "tvm", "rpc", "tflite")
THREAD_CLOCK_BACKENDS = ("torch", "tflite")  # run every op on the calling thread at one thread
# Bytes per parameter that a built model holds at the least, whatever the backend: its fp32 weights. A lower bound,
# not an estimate: the check below refuses only archs that cannot fit even so (the family's limits allow 870
# billion parameters), never a list that ran here (a calibration round's 8 largest archs hold 3-4 GiB of weights;
# the converters' peaks are larger but unmeasured, so they are not guessed at).
FP32_BYTES_PER_PARAM = 4
CHUNK = 8  # models `measure_many` builds at a time
UNTUNED_NOTE = "untuned TVM kernels (no MetaSchedule): 30-80x slower than a tuned runtime, not device latency"


def _check(arch: Any, backend: str) -> None:
    if not arch.is_uniform:
        raise UserInputError(f"the {backend} backend builds HF MobileBertModel, whose layers are identical: "
                             "a per-layer (heterogeneous) arch cannot be measured with it")


def check_memory(archs: list[Any], backend: str, chunk: int = CHUNK, available: int | None = None) -> None:
    """Refuse, before anything is built, archs whose weights alone could not be held here: each field within the
    family's limits still allows 870 billion parameters (3.5 TB of weights), and building them would exhaust the
    memory of the whole machine. The `chunk` largest are counted together (`measure_many` builds that many)."""
    if not archs:
        return
    largest = sorted((a.num_params() for a in archs), reverse=True)[:chunk]
    need = FP32_BYTES_PER_PARAM * sum(largest)
    spare = BUDGET_SHARE * (available_memory() if available is None else available)
    if need > spare:
        together = f", {len(largest)} built at a time" if len(largest) > 1 else ""
        raise UserInputError(f"the {backend} model of an arch of {largest[0]:,} parameters{together} needs at least "
                             f"{need / GIB:.1f} GiB of memory for its weights, more than the {spare / GIB:.1f} GiB "
                             "this machine can spare now; measure smaller archs (or fewer at once) or on a bigger "
                             "machine")


def check_rpc_address(address: str) -> tuple[str, int]:
    """(host, port) of `--rpc HOST:PORT`, checked before TVM is loaded."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UserInputError(f"--rpc must be HOST:PORT (a port from 1 to 65535), got {address!r}")
    return host, int(port)


def _clock(clock: str, threads: int) -> Any:
    if clock not in ("wall", "thread") or (clock == "thread" and threads != 1):
        raise UserInputError("--clock must be 'wall', or 'thread' with a single thread")
    return time.thread_time if clock == "thread" else time.perf_counter


def torch_runner(arch: Any, seq_len: int = 128, batch: int = 1, threads: int = 1, clock: str = "wall") -> Runner:
    """One run of HF `MobileBertModel` (eager attention, random weights) per call; returns seconds."""
    import torch

    _check(arch, "torch")
    now = _clock(clock, threads)
    torch.set_num_threads(threads)
    model = inference_module(arch)
    (ids,) = example_inputs(arch, seq_len, batch)

    def run() -> float:
        with torch.inference_mode():
            start = now()
            model(ids)
            return now() - start

    return run


def measure_torch(arch: Any, seq_len: int = 128, batch: int = 1, threads: int = 1, repeat: int = 10,
                  warmup: int = 3, clock: str = "wall") -> float:
    """The median of `repeat` runs after a fixed `warmup` (ms); `measure` warms up until stable instead."""
    run = torch_runner(arch, seq_len, batch, threads, clock)
    time_runs(run, warmup)
    return statistics.median(time_runs(run, repeat)) * 1e3


def measure_torch_interleaved(archs: list[Any], seq_len: int = 128, threads: int = 1, rounds: int = 5,
                              per_round: int = 3, chunk: int = 10, clock: str = "wall") -> list[list[list[float]]]:
    """Run times (ms) of many archs on a shared machine: models are built `chunk` at a time and timed in
    turn, `rounds` times (`per_round` runs each after one warm-up), so that a burst of foreign load hits
    every model of the chunk alike instead of one; chunks are strided over `archs`. Returns
    times[arch][round][run]; `robust_ms` reduces them.

    `clock="thread"` (1 thread only) times the calling thread's CPU time instead of wall time: at one
    thread PyTorch runs every op inline on it, so on an idle machine the two agree, while on a shared
    one the CPU time leaves out the time the thread waited for a core (measured here under load 6 on
    2 cores: wall 86-98 ms, CPU 58-60 ms for the same model)."""
    import torch

    now = _clock(clock, threads)

    torch.set_num_threads(threads)
    out: list[list[list[float]]] = [[] for _ in archs]
    n_chunks = max(1, -(-len(archs) // chunk))
    # Chunk c holds archs c, c + n_chunks, ...: slow drifts of the machine's load (a few % over minutes)
    # then spread over the whole list instead of shifting one contiguous block (e.g. a calibration split).
    for c in range(n_chunks):
        idx = list(range(c, len(archs), n_chunks))
        for i in idx:
            _check(archs[i], "torch")
        models = {i: inference_module(archs[i]) for i in idx}
        inputs = {i: example_inputs(archs[i], seq_len, 1)[0] for i in idx}
        with torch.inference_mode():
            for _ in range(rounds):
                for i in idx:
                    models[i](inputs[i])  # warm-up
                    times = []
                    for _ in range(per_round):
                        start = now()
                        models[i](inputs[i])
                        times.append((now() - start) * 1e3)
                    out[i].append(times)
        del models
    return out


def robust_ms(rounds: list[list[float]]) -> float:
    """The median over rounds of each round's fastest run. Foreign load on a shared machine only adds
    time, so a round's minimum is its least disturbed run; the median over rounds drops a round in which
    the whole machine was slow (a co-runner's burst, frequency drop) without trusting one lucky run."""
    return statistics.median(min(r) for r in rounds)


def relax_module(arch: Any, seq_len: int, batch: int) -> tuple[Any, Any]:
    """The Relax module of `hf_model.export_program(arch)` (the graph `nas export --tvm` compiles) and its
    input ids."""
    from tvm.relax.frontend.torch import from_exported_program

    program = export_program(arch, seq_len, batch)
    (ids,) = example_inputs(arch, seq_len, batch)
    return from_exported_program(program, keep_params_as_input=False, unwrap_unit_return_tuple=True), ids.numpy()


def build_relax(mod: Any, target: dict[str, Any]) -> Any:
    import tvm
    from tvm import relax

    tgt = tvm.target.Target(dict(target))
    return relax.build(mod, tgt, relax_pipeline=relax.get_default_pipeline(tgt))


def _vm_runner(vm: Any, dev: Any, args: list[Any]) -> Runner:
    evaluator = vm.time_evaluator("main", dev, number=1, repeat=1)
    return lambda: float(evaluator(*args).results[0])


def tvm_runner(arch: Any, target: dict[str, Any], seq_len: int = 128, batch: int = 1, threads: int = 1) -> Runner:
    """One run of the compiled (untuned) model on this machine per call; returns seconds."""
    import tvm
    from tvm import relax

    _check(arch, "tvm")
    os.environ["TVM_NUM_THREADS"] = str(threads)
    mod, ids = relax_module(arch, seq_len, batch)
    ex = build_relax(mod, target)
    dev = tvm.cpu()
    vm = relax.VirtualMachine(ex, dev)
    return _vm_runner(vm, dev, [tvm.runtime.tensor(ids, dev)])


def measure_tvm(arch: Any, target: dict[str, Any], seq_len: int = 128, batch: int = 1, threads: int = 1,
                repeat: int = 10) -> float:
    return statistics.median(time_runs(tvm_runner(arch, target, seq_len, batch, threads), repeat)) * 1e3


def connect_rpc(address: str) -> Any:
    host, port = check_rpc_address(address)
    from tvm import rpc

    try:  # before compiling: an unreachable device is one line, not a minute of work first
        return rpc.connect(host, port)
    except Exception as err:  # noqa: BLE001 - any connection failure is the user's address
        raise UserInputError(f"cannot reach the TVM RPC server at {address}: {str(err).splitlines()[0]}") from None


def rpc_runner(arch: Any, target: dict[str, Any], remote: Any, seq_len: int = 128, batch: int = 1,
               cross_compiler: str | None = None, name: str = "model.so") -> Runner:
    """One run of the compiled (untuned) model on the remote device per call (its own clock); seconds."""
    import tvm
    from tvm import relax

    _check(arch, "rpc")
    mod, ids = relax_module(arch, seq_len, batch)
    ex = build_relax(mod, target)
    with tempfile.TemporaryDirectory(prefix="nas-rpc-") as tmp:
        lib = Path(tmp) / name
        if cross_compiler:
            from tvm.support import cc

            ex.export_library(str(lib), fcompile=cc.cross_compiler(cross_compiler))
        else:
            ex.export_library(str(lib))
        remote.upload(str(lib))
        rexec = remote.load_module(name)
    dev = remote.cpu()
    vm = relax.VirtualMachine(rexec, dev)
    return _vm_runner(vm, dev, [tvm.runtime.tensor(ids, dev)])


def measure_rpc(arch: Any, target: dict[str, Any], address: str, seq_len: int = 128, batch: int = 1,
                repeat: int = 10, cross_compiler: str | None = None) -> float:
    _check(arch, "rpc")
    run = rpc_runner(arch, target, connect_rpc(address), seq_len, batch, cross_compiler)
    return statistics.median(time_runs(run, repeat)) * 1e3


def check_backend(backend: str, profile: Any, rpc_address: str | None = None) -> None:
    """Refuse, before building anything, a backend that cannot time `profile`'s device: the local backends
    (torch, tvm, tflite) time this machine, so they are only for `host`, `host-tflite` or a profile of this
    machine's CPU."""
    if backend not in BACKENDS:
        raise UserInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "rpc" and not rpc_address:
        raise UserInputError("the rpc backend needs --rpc HOST:PORT")
    if rpc_address and backend != "rpc":
        raise UserInputError(f"--rpc needs --backend rpc (the {backend} backend times this machine)")
    if rpc_address:
        check_rpc_address(rpc_address)
    if backend != "rpc" and not is_this_machine(profile):
        raise UserInputError(f"the {backend} backend times this machine, not {profile.name} "
                             f"({profile.soc or profile.target.get('mtriple')}): use --backend rpc --rpc HOST:PORT "
                             "with a TVM RPC server on the device, or --device host")
    if backend == "tflite":  # after the device check: its message does not depend on what is installed

        check_available()


def _check_settings(backend: str, profile: Any, seq_len: int, batch: int, threads: int, repeat: int,
                    rpc_address: str | None, clock: str) -> None:
    check_backend(backend, profile, rpc_address)
    check_seq_len(seq_len)
    if repeat <= 0 or threads <= 0 or batch <= 0:
        raise UserInputError("--repeat, --threads and --batch must be positive")
    if backend != "rpc":  # an rpc device's cores are not this machine's
        check_threads(threads)
    if clock != "wall" and backend not in THREAD_CLOCK_BACKENDS:
        raise UserInputError("--clock thread applies to the tflite backend and the torch backend only")
    if backend in THREAD_CLOCK_BACKENDS:
        _clock(clock, threads)


def _source(backend: str, profile: Any, threads: int, clock: str, rpc_address: str | None) -> str:
    if backend == "torch":
        timed = "thread CPU time" if clock == "thread" else "wall clock"
        return f"torch eager, eager attention, {timed}, {threads} thread(s), {profile.description}"
    if backend == "tflite":
        timed = "thread CPU time" if clock == "thread" else "wall clock"
        return f"tflite (LiteRT XNNPACK), {timed}, {threads} thread(s), {profile.description}"
    if backend == "tvm":
        return f"tvm {profile.target.get('kind')} on this machine, {threads} thread(s); {UNTUNED_NOTE}"
    return f"tvm rpc {rpc_address}, target {profile.target}; {UNTUNED_NOTE}"


def _runner_factory(backend: str, profile: Any, seq_len: int, batch: int, threads: int,
                    rpc_address: str | None, clock: str) -> Any:
    if backend == "torch":
        return lambda arch, k: torch_runner(arch, seq_len, batch, threads, clock)
    if backend == "tflite":

        return lambda arch, k: tflite_runner(arch, seq_len, batch, threads, clock)
    if backend == "tvm":
        return lambda arch, k: tvm_runner(arch, profile.target, seq_len, batch, threads)
    remote = connect_rpc(str(rpc_address))
    cross = profile.lowering.get("cross_compiler") if isinstance(profile.lowering, dict) else None
    return lambda arch, k: rpc_runner(arch, profile.target, remote, seq_len, batch, cross, f"model{k}.so")


STATISTICS = ("median", "min")  # the row's latency: the median of the timed runs or the fastest (timing.py)


def _row(arch: Any, timing: Timing, seq_len: int, batch: int, threads: int, source: str,
         statistic: str = "median") -> Measurement:
    if not timing.warmup_settled:
        source += f"; warm-up did not settle in {timing.warmup_runs} runs"
    latency = timing.min_ms if statistic == "min" and timing.min_ms is not None else timing.median_ms
    return Measurement(arch, latency, seq_len, batch, threads, source, spread=timing.spread,
                       repeats=timing.repeats)


def check_file_timing(backend: str, profile: Any, threads: int, repeat: int, clock: str, max_spread: float,
                      retries: int, warmup_max: int, statistic: str) -> None:
    """The settings of `nas measure --model FILE.tflite`, checked as an arch row's are: a file is timed by the
    tflite backend, on this machine."""
    if backend != "tflite":
        raise UserInputError(f"--model times a .tflite file in LiteRT: use --backend tflite (not {backend})")
    if not is_this_machine(profile):  # check_backend's advice, --backend rpc, cannot time a file
        raise UserInputError(f"--model times this machine, not {profile.name}: a .tflite file is timed here by "
                             "LiteRT (--backend rpc cannot time a file); use --device host")
    _check_settings(backend, profile, 128, 1, threads, repeat, None, clock)
    if not max_spread > 0 or retries < 0 or warmup_max < 1:  # `not >`: a NaN spread limit is refused too
        raise UserInputError("--max-spread must be positive, --retries >= 0 and --warmup-max >= 1")
    if statistic not in STATISTICS:
        raise UserInputError(f"--statistic must be one of {', '.join(STATISTICS)}, not {statistic!r}")


def measure(arch: Any, backend: str, profile: Any, seq_len: int = 128, batch: int = 1, threads: int = 1,
            repeat: int = 10, rpc_address: str | None = None, clock: str = "wall", max_spread: float = MAX_SPREAD,
            retries: int = RETRIES, warmup_max: int = WARMUP_MAX, statistic: str = "median") -> Measurement:
    """One measurement row: warm-up until stable, the median of `repeat` runs and their spread, re-measured
    while the spread is above `max_spread` (`timing.py`); its `source` names the backend, the machine and
    whether code was tuned."""
    return measure_many([arch], backend, profile, seq_len, batch, threads, repeat, rpc_address, clock,
                        max_spread, retries, warmup_max, statistic=statistic)[0]


def measure_many(archs: list[Any], backend: str, profile: Any, seq_len: int = 128, batch: int = 1,
                 threads: int = 1, repeat: int = 10, rpc_address: str | None = None, clock: str = "wall",
                 max_spread: float = MAX_SPREAD, retries: int = RETRIES, warmup_max: int = WARMUP_MAX,
                 chunk: int = CHUNK, statistic: str = "median") -> list[Measurement]:
    """Rows for many archs timed in one process, interleaved (`timing.time_interleaved`): `chunk` models are
    built at a time and timed in rounds; chunks are strided over the list (chunk c holds archs c, c + k, ...)
    so that a slow drift of the machine spreads over the whole list. One arch is the plain `measure`."""
    _check_settings(backend, profile, seq_len, batch, threads, repeat, rpc_address, clock)
    if not max_spread > 0 or retries < 0 or warmup_max < 1:  # `not >`: a NaN spread limit is refused too
        raise UserInputError("--max-spread must be positive, --retries >= 0 and --warmup-max >= 1")
    if statistic not in STATISTICS:
        raise UserInputError(f"--statistic must be one of {', '.join(STATISTICS)}, not {statistic!r}")
    for arch in archs:
        _check(arch, backend)
    check_memory(archs, backend, chunk)
    make = _runner_factory(backend, profile, seq_len, batch, threads, rpc_address, clock)
    source = _source(backend, profile, threads, clock, rpc_address)
    if statistic != "median":
        source += f", {statistic} of {repeat} runs"
    if len(archs) > 1:
        source += f", {len(archs)} archs interleaved"
    rows: list[Measurement | None] = [None] * len(archs)
    n_chunks = max(1, -(-len(archs) // chunk))
    for c in range(n_chunks):
        idx = list(range(c, len(archs), n_chunks))
        runners = [make(archs[i], i) for i in idx]
        timings = time_interleaved(runners, repeat, max_spread, retries, max_runs=warmup_max)
        for i, timing in zip(idx, timings, strict=True):
            rows[i] = _row(archs[i], timing, seq_len, batch, threads, source, statistic)
        del runners
    return [r for r in rows if r is not None]
