"""The work a pre-training run asks for, said before it starts (`nas teacher` at paper scale is 332 M
parameters × 10k steps × 2048 sequences), and its time, said once it is measured.

FLOPs per sequence, forward: 2 FLOPs per multiply-add of every encoder weight per token, the attention
score and context matmuls (4·seq²·width a layer), and the MLM output layer at the masked positions only
(2·positions·width·vocab); a training step is 3× the forward (backward ≈ 2× forward, Kaplan et al. 2020).

No time is predicted from the FLOPs: a FLOPs-based figure (a matmul peak times an assumed efficiency) came out
several times too short on CPUs (issue 30), since a step's time there depends on memory traffic, threads and
the machine's other load. The time is the first step's, measured
(`measured_estimate`), and the progress bar's ETA follows the measured rate from there.
"""

from __future__ import annotations

from typing import Any


def forward_flops(model: Any, seq_len: int, mlm_positions: int) -> float:
    config = model.config
    encoder = sum(p.numel() for n, p in model.base_model.encoder.named_parameters())
    width = getattr(config, "true_hidden_size", config.hidden_size)
    attention = 4 * config.num_hidden_layers * seq_len**2 * width
    head = 2 * mlm_positions * config.hidden_size * config.vocab_size
    return 2.0 * encoder * seq_len + attention + head


def describe_work(model: Any, steps: int, batch_size: int, seq_len: int, mlm_positions: int) -> str:
    tokens = steps * batch_size * seq_len
    flops = 3 * forward_flops(model, seq_len, mlm_positions) * steps * batch_size
    params = sum(p.numel() for p in model.parameters())
    return (f"work: {params / 1e6:.0f} M parameters, {steps:,} steps × {batch_size:,} sequences × {seq_len} tokens "
            f"= {tokens:.3g} tokens, ≈{flops:.2g} FLOPs; the time follows from the first step, measured")


def measured_estimate(step_seconds: float, steps_left: int) -> str:
    """The line said after a run's first step: its time and what it makes of the rest."""
    return (f"first step: {_duration(step_seconds)} measured → about {_duration(step_seconds * steps_left)} for the "
            f"{steps_left:,} steps left (a first step is often the slowest; the bar's ETA follows the measured rate)")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
