"""How many examples fit in memory at once: an analytic estimate of one training example's memory from the
model's config, checked against the memory the system says is available (never a probe that could itself
be OOM-killed).

Per example (fp32, 4 bytes a float), with seq tokens, L layers, H heads:
- encoder activations kept for the backward pass: seq·L·(floats per token per layer) — for MobileBERT
  4·hidden + 9·true_hidden + F·(2·intermediate + 3·true_hidden), for BERT 12·hidden + 3·intermediate —
  and attention maps L·H·seq² ×4 (scores, probabilities, dropout mask, gradient);
- the MLM output at the masked positions (at most max_predictions): positions·vocab ×4 (logits,
  log-softmax, gradient, teacher softmax);
- a teacher's forward (no gradient) keeps its hidden states and attention maps for the transfer losses.
The sum is multiplied by `SAFETY` = 2 (autograd buffers, allocator slack) and compared with `BUDGET_SHARE`
of the available memory minus what the optimiser will still allocate (gradient + two LAMB moments, 12 bytes
a trainable parameter). `benchmarks/distill_memory.py` measures the peak RSS against this estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nas_common.errors import UserInputError
from nas_common.machine import BUDGET_SHARE, GIB, available_memory

FLOAT = 4
SAFETY = 2.0
OPTIMISER_BYTES_PER_PARAM = 12  # gradient + LAMB's two moments (fp32)


GLOBAL_BATCH_BYTES_PER_TOKEN = 64  # the global batch's int64 tensors (ids, types, mask, labels, ...) before it is split
GLOBAL_BATCH_SHARE = 0.25  # of the available memory: the model's micro-batches need the rest


def check_global_batch(batch_size: int, seq_len: int, option: str = "--batch-size", copies: int = 1) -> None:
    """Refuse a global batch whose token tensors alone would not fit: gradient accumulation splits the compute
    into micro-batches, but the data pipeline builds each global batch at once (a typo such as 100000000 asked
    for hundreds of GiB and died inside torch)."""
    per_example = copies * seq_len * GLOBAL_BATCH_BYTES_PER_TOKEN
    available = available_memory()
    allowed = GLOBAL_BATCH_SHARE * available
    if batch_size * per_example > allowed:
        where = f" in each of {copies} processes" if copies > 1 else ""
        raise UserInputError(f"{option} {batch_size:,} at {seq_len} tokens{where}: the global batch's token tensors "
                             f"alone need ≈{batch_size * per_example / GIB:,.1f} GiB, more than "
                             f"{GLOBAL_BATCH_SHARE:.0%} of the {available / GIB:.1f} GiB available; at most about "
                             f"{max(1, int(allowed // per_example)):,} fits here")


@dataclass(frozen=True)
class MemoryPlan:
    micro_batch_size: int
    example_bytes: int
    fixed_bytes: int
    available_bytes: int

    def describe(self, batch_size: int) -> str:
        steps = math.ceil(batch_size / self.micro_batch_size)
        last = batch_size - (steps - 1) * self.micro_batch_size
        uneven = f", the last of {last}" if last != self.micro_batch_size else ""
        return (f"micro-batch {self.micro_batch_size} × {steps} accumulation steps{uneven} "
                f"(≈{self.example_bytes / GIB:.2f} GiB an example, {self.available_bytes / GIB:.1f} GiB available)")


def _layer_floats(config: Any) -> int:
    """Floats kept per token per encoder layer for the backward pass."""
    h, i = config.hidden_size, config.intermediate_size
    if getattr(config, "model_type", "") == "mobilebert":
        b = config.intra_bottleneck_size if config.use_bottleneck else h
        return 4 * h + 9 * b + config.num_feedforward_networks * (2 * i + 3 * b)
    return 12 * h + 3 * i


def example_bytes(config: Any, seq_len: int, mlm_positions: int, trains: bool = True,
                  teacher: Any | None = None, mlm: bool = True) -> int:
    """Estimated bytes one example needs in a training (or `trains=False`: no-gradient) step."""
    layers, heads = config.num_hidden_layers, config.num_attention_heads
    floats = seq_len * layers * _layer_floats(config) + 4 * layers * heads * seq_len**2
    floats += seq_len * 6 * config.hidden_size  # embeddings
    if mlm:
        floats += 4 * mlm_positions * config.vocab_size
    if not trains:
        floats //= 3
    if teacher is not None:
        floats += seq_len * teacher.num_hidden_layers * (teacher.hidden_size * 4)
        floats += teacher.num_hidden_layers * teacher.num_attention_heads * seq_len**2
    return int(SAFETY * FLOAT * floats)


def plan_micro_batch(config: Any, seq_len: int, mlm_positions: int, batch_size: int, trainable_params: int,
                     teacher: Any | None = None, requested: int | None = None, mlm: bool = True,
                     what: str = "the model", share: float = 1.0) -> MemoryPlan:
    """The micro-batch size: `requested`, or the largest that fits in `share` of the available memory (several
    processes training at once each plan for their share); exit 2 (UserInputError) when one example does not
    fit, saying what does."""
    per_example = example_bytes(config, seq_len, mlm_positions, teacher=teacher, mlm=mlm)
    fixed = OPTIMISER_BYTES_PER_PARAM * trainable_params
    available = int(share * available_memory())
    if requested is not None:
        return MemoryPlan(min(requested, batch_size), per_example, fixed, available)
    budget = BUDGET_SHARE * available - fixed
    fits = int(budget // per_example) if budget > 0 else 0
    if fits < 1:
        shorter = [n for n in (256, 128, 64, 32) if n < seq_len and budget > 0 and
                   example_bytes(config, n, min(mlm_positions, max(1, round(0.15 * n))), teacher=teacher,
                                 mlm=mlm) <= budget]
        hint = f"--seq-len {shorter[0]} fits" if shorter else "a smaller model is needed"
        raise UserInputError(
            f"one {seq_len}-token example of {what} needs ≈{per_example / GIB:.1f} GiB besides "
            f"≈{fixed / GIB:.1f} GiB of optimiser state, but {available / GIB:.1f} GiB is available "
            f"(using at most {BUDGET_SHARE:.0%}): {hint}")
    return MemoryPlan(min(fits, batch_size), per_example, fixed, available)

