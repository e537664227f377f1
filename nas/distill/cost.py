"""The work a pre-training run asks for, said before it starts (`nas teacher` at paper scale is 332 M
parameters × 10k steps × 2048 sequences): tokens, FLOPs, and a time on this machine.

FLOPs per sequence, forward: 2 FLOPs per multiply-add of every encoder weight per token, the attention
score and context matmuls (4·seq²·width a layer), and the MLM output layer at the masked positions only
(2·positions·width·vocab); a training step is 3× the forward (backward ≈ 2× forward, Kaplan et al. 2020).
The machine's speed is measured on the spot: fp32 matmuls of 1024² for about a quarter of a second; a
training step of these models reaches roughly `EFFICIENCY` of that on CPU (the measured step times in
`benchmarks/results/distill_step_time.json`), so the time is an order-of-magnitude figure.
"""

from __future__ import annotations

import time
from typing import Any

EFFICIENCY = 0.5


def forward_flops(model: Any, seq_len: int, mlm_positions: int) -> float:
    config = model.config
    encoder = sum(p.numel() for n, p in model.base_model.encoder.named_parameters())
    width = getattr(config, "true_hidden_size", config.hidden_size)
    attention = 4 * config.num_hidden_layers * seq_len**2 * width
    head = 2 * mlm_positions * config.hidden_size * config.vocab_size
    return 2.0 * encoder * seq_len + attention + head


def matmul_flops_per_second(seconds: float = 0.25) -> float:
    import torch

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b  # warm-up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return count * 2 * 1024**3 / (time.perf_counter() - start)


def describe_work(model: Any, steps: int, batch_size: int, seq_len: int, mlm_positions: int) -> str:
    tokens = steps * batch_size * seq_len
    flops = 3 * forward_flops(model, seq_len, mlm_positions) * steps * batch_size
    speed = matmul_flops_per_second()
    seconds = flops / (EFFICIENCY * speed)
    params = sum(p.numel() for p in model.parameters())
    return (f"work: {params / 1e6:.0f} M parameters, {steps:,} steps × {batch_size:,} sequences × {seq_len} tokens "
            f"= {tokens:.3g} tokens, ≈{flops:.2g} FLOPs; ≈{_duration(seconds)} on this machine "
            f"({speed / 1e9:.0f} GFLOP/s matmul peak measured, {EFFICIENCY:.0%} assumed in training)")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
