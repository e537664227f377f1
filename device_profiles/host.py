"""The `host` profile: this machine, described by measuring it (no file needed).

Peaks are measured with numpy (a large fp32 GEMM and a large copy) with the BLAS limited to the thread
count that measurements use (`threadpoolctl`), best of 15 runs so that a shared machine's bursts of
foreign load do not lower them; they are what this process can reach, not a datasheet figure.
`nas calibrate --from host` fits its cost parameters from measurements.
"""

from __future__ import annotations

import dataclasses
import functools
import platform
import time

import numpy as np

from device_profiles.schema import DeviceProfile
from nas_common.machine import usable_cores

HOST_NAMES = ("host", "host-tflite")  # generated profiles of this machine (PyTorch eager; LiteRT)


def _best_of(fn, repeats: int = 15, clock=time.perf_counter) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return best


def measure_peaks(threads: int) -> tuple[float, float]:
    """(fp32 GFLOP/s, memory GB/s) as numpy reaches them on this machine with `threads` BLAS threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn/scipy stacks
        return _peaks()
    with threadpool_limits(limits=threads):
        # One BLAS thread runs on this thread: its CPU time leaves out waits for a core on a shared machine.
        return _peaks(time.thread_time if threads == 1 else time.perf_counter)


def _peaks(clock=time.perf_counter) -> tuple[float, float]:
    n = 1024
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.copy()
    a @ b  # warm-up
    gflops = 2 * n**3 / _best_of(lambda: a @ b, clock=clock) / 1e9
    big = np.ones(32 * 1024 * 1024 // 4, dtype=np.float32)  # 32 MiB, beyond the caches
    out = np.empty_like(big)
    seconds = _best_of(lambda: np.copyto(out, big), clock=clock)
    memory_gbs = 2 * big.nbytes / seconds / 1e9  # read + write
    return gflops, memory_gbs


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def is_this_machine(profile: DeviceProfile) -> bool:
    """Whether timing a model here times `profile`'s device: `host`, or a profile whose target triple (if it
    names one) is this machine's architecture and whose SoC (if it names one) is this machine's CPU."""
    if profile.name in HOST_NAMES:
        return True
    triple = str(profile.target.get("mtriple", ""))
    if triple and triple.split("-")[0] != platform.machine():
        return False
    return not profile.soc or profile.soc == cpu_model()


@functools.cache
def host_profile(threads: int | None = None) -> DeviceProfile:
    """This machine with `threads` threads (default: every core this process may use)."""
    if threads is None:
        threads = usable_cores()
    gflops, memory_gbs = measure_peaks(threads)
    return DeviceProfile(
        name="host",
        description=f"this machine: {cpu_model()}, {threads} threads, PyTorch eager (measured peaks)",
        target={"kind": "llvm"},
        threads=threads,
        fp32_gflops=round(gflops, 1),
        memory_gbs=round(memory_gbs, 1),
        runtime="torch",
        soc=cpu_model(),
        # PyTorch eager runs every op as its own kernel (no epilogue fusion) except the bias, which `addmm`
        # adds inside the GEMM; LayerNorm and GELU are one op each.
        lowering={"fuse_layer_norm": True, "fuse_gelu": True, "fuse_epilogue": False,
                  "fuse_bias": True},
    )


@functools.cache
def host_tflite_profile(threads: int | None = None) -> DeviceProfile:
    """This machine running LiteRT (TFLite, XNNPACK delegate): `nas measure --backend tflite` times it.

    The `[lowering]` is a prior, not a fact: XNNPACK fuses a FullyConnected's bias (and ReLU) into the GEMM
    and runs residual adds as their own ops; whether LayerNorm and GELU run fused is fitted by `nas calibrate`
    (`latency_models/fusion_fit.py`) from measurements that contain both choices."""
    base = host_profile(threads)
    return dataclasses.replace(
        base, name="host-tflite", runtime="tflite",
        description=base.description.replace("PyTorch eager", "LiteRT (TFLite) XNNPACK"),
        lowering={"fuse_layer_norm": True, "fuse_gelu": True, "fuse_epilogue": False, "fuse_bias": True})
