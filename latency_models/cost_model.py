"""Per-kernel roofline cost with a handful of device parameters.

    t(matmul) = max(flops / (peak · eff_kind) + bytes / mm_gbs, bytes / memory_gbs) + kernel_us
    t(other)  = bytes / ew_gbs + passes · kernel_us + flops / ew_gflops
    t(model)  = Σ calls · t(kernel) + const_ms

Element-wise and reduction kernels (`other`) pay a launch for every sweep over their data (`passes`, from the
lowering: 1 + the reductions before the output, so LayerNorm and softmax make 3: a row-wise reduction costs
per row what a launch costs per kernel, and their bytes mostly stay in cache between sweeps) and for their
arithmetic, with a transcendental call counted as the float ops of its polynomial approximation
(`lowering.transcendental_ops`). Measured on this project's 2-core AMD EPYC host (torch eager, 1 thread;
`benchmarks/results/latency_norm_ablation.json`): `nn.LayerNorm` at 128 x 128 costs 3.0x the two-op NoNorm it
replaces, GELU 5-6x ReLU at every width from 64 to 1024.
Without both, PyTorch eager's LayerNorm (one ATen kernel that sweeps its rows three times) was priced below the
two-op NoNorm it replaces, and GELU (erf) like ReLU: LayerNorm archs came out 14-21 % too fast (issue 32).

`mm_gbs` makes matmul cost size-aware with one parameter: a GEMM library packs (copies) its operands
before the inner kernel runs, so part of a matmul's time is proportional to the bytes it touches, not to
its FLOPs. The effective efficiency is then eff / (1 + peak·eff / (mm_gbs · flops/bytes)): it falls for
small inner dimensions and small heads (low FLOPs per byte) and approaches `eff` for large ones, as
measured GEMM throughput does. A plain max-roofline cannot express that (all dense layers of the family
are compute-bound at T=128), which left large FFNs 10-15 % under-predicted and small ones over-predicted.
With that term `matmul_eff` is the packing-free asymptote, so a fit may put it above 1: the measured peak
(a 1024³ numpy GEMM) pays its own packing. On the host benchmark the term took the calibration residuals'
RMS from 6.0 % to 3.5 % and held-out MAPE from 4.6 % to 3.8 % (`latency_host_accuracy.json`, ablation).

kinds: `matmul` (dense layers; eff = matmul_eff, bw = the profile's memory bandwidth), `bmm` (attention
score/context matmuls; bmm_eff), `elementwise` and `gather` (everything else; bandwidth-bound at an
effective `ew_gbs`). Five parameters, fitted in log space with the profile's peaks as priors
(`calibrate.py`): with three points (Pixel 4) the priors pin what the data cannot, with twenty the data
decides. Efficiencies are fractions of `fp32_gflops`; `ew_gbs` is absolute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from device_profiles.schema import COST_KEYS

PARAMS = COST_KEYS  # a profile's `[cost]` table holds them (validated by device_profiles/schema.py)


def prior_params(profile: Any) -> dict[str, float]:
    """Before any measurement: matmuls at half the fp32 peak, attention matmuls at a quarter (small K),
    operand packing at DRAM bandwidth, element-wise ops at a quarter of it (strided, often single-threaded),
    5 µs per launch."""
    return {"matmul_eff": 0.5, "bmm_eff": 0.25, "mm_gbs": float(profile.memory_gbs),
            "ew_gbs": 0.25 * profile.memory_gbs, "ew_gflops": 0.5 * float(profile.fp32_gflops), "kernel_us": 5.0,
            "const_ms": 0.5}


def profile_params(profile: Any) -> dict[str, float]:
    """The fitted parameters of `profile` (its `[cost]` table, validated on load), the priors for those it
    does not hold."""
    return {**prior_params(profile), **{k: float(v) for k, v in profile.cost.items() if k in PARAMS}}


@dataclass
class PartBlock:
    """The kernels of one part evaluated for R rows (a row: one layer group of one arch)."""

    part: str
    names: list[str]
    kinds: np.ndarray  # (K,) index into KINDS
    flops: np.ndarray  # (K, R)
    bytes: np.ndarray  # (K, R)
    calls: np.ndarray  # (R,) how many times the part runs for this row (layers × FFNs)
    arch_index: np.ndarray  # (R,)
    passes: np.ndarray | None = None  # (K,) sweeps over the data (element-wise kinds); None: one each


def kernel_times_s(block: PartBlock, params: dict[str, float], peak_gflops: float,
                   memory_gbs: float) -> np.ndarray:
    """(K, R) seconds per single call of each kernel."""
    peak = peak_gflops * 1e9
    eff = np.array([params["matmul_eff"], params["bmm_eff"], 1.0, 1.0])[block.kinds]
    bw = np.array([memory_gbs, memory_gbs, params["ew_gbs"], params["ew_gbs"]])[block.kinds] * 1e9
    is_mm = block.kinds[:, None] <= 1
    passes = (np.ones(len(block.kinds)) if block.passes is None else block.passes)[:, None]
    launch = params["kernel_us"] * 1e-6
    matmul = np.maximum(block.flops / (peak * eff[:, None]) + block.bytes / (params["mm_gbs"] * 1e9),
                        block.bytes / bw[:, None]) + launch
    other = block.bytes / bw[:, None] + passes * launch + block.flops / (params["ew_gflops"] * 1e9)
    return np.where(is_mm, matmul, other)


def flatten(blocks: list[PartBlock]) -> PartBlock:
    """Every (kernel, row) of `blocks` as one block of one row each (calls folded in): `total_ms` then costs one
    vectorised pass per parameter vector, which is what a fit evaluates thousands of times."""
    kinds, flops, nbytes, calls, index, passes = [], [], [], [], [], []
    for b in blocks:
        k, r = b.flops.shape
        if r == 0 or k == 0:
            continue
        kinds.append(np.repeat(b.kinds, r))
        flops.append(b.flops.reshape(-1))
        nbytes.append(b.bytes.reshape(-1))
        calls.append(np.tile(b.calls, k))
        index.append(np.tile(b.arch_index, k))
        passes.append(np.repeat(np.ones(k) if b.passes is None else b.passes, r))
    if not kinds:
        empty = np.zeros(0)
        return PartBlock("all", [], np.zeros(0, dtype=np.int64), empty[None], empty[None], empty,
                         np.zeros(0, dtype=np.int64), empty)
    flat_kinds = np.concatenate(kinds)
    return PartBlock("all", ["*"] * len(flat_kinds), flat_kinds, np.concatenate(flops)[:, None],
                     np.concatenate(nbytes)[:, None], np.concatenate(calls), np.concatenate(index),
                     np.concatenate(passes))


def total_ms(blocks: list[PartBlock] | PartBlock, n_archs: int, params: dict[str, float], peak_gflops: float,
             memory_gbs: float) -> np.ndarray:
    """Latency (ms) of each of `n_archs` archs from their kernels' blocks (or one `flatten`ed block)."""
    flat = blocks if isinstance(blocks, PartBlock) else flatten(blocks)
    out = np.full(n_archs, params["const_ms"], dtype=np.float64)
    if len(flat.kinds):
        per_entry = kernel_times_s(flat, params, peak_gflops, memory_gbs)[:, 0] * flat.calls * 1e3
        out += np.bincount(flat.arch_index, weights=per_entry, minlength=n_archs)
    return out
