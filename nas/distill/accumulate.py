"""Gradient accumulation that reproduces the full-batch step: the global batch is cut into micro-batches
along the example axis, each micro-batch's loss terms are weighted by its share of what the term averages
over, and their gradients add up to the full batch's gradient (to float rounding).

Each loss term is a mean over one kind of unit (`TERM_UNITS`): real tokens (feature-map and attention
terms), masked positions (MLM and PD terms), or examples (NSP, fine-tuning). A micro-batch holding 37 of
the batch's 512 masked positions contributes 37/512 of its MLM mean — so the sum is the full-batch mean,
whatever the split. Micro-batches are slices of the already-collated global batch (same padding), so the
data stay a pure function of the global step and `--resume` stays bit-exact.

Under data parallelism the totals are summed over all processes first; each process's gradients are then
partial sums of the global gradient and are combined with a SUM all-reduce (`distributed.sum_gradients`).

Reused by the supernet trainer: `accumulate(compute, batch, micro_batch_size)` where `compute` maps a
micro-batch to named loss terms; it calls `backward()` and returns the full-batch value of every term.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from nas.distill.distributed import DistContext, all_reduce_sum

# What each named loss term averages over (losses.py): the weights that make micro-batches exact.
TERM_UNITS = {"fm": "tokens", "fm_mean": "tokens", "fm_var": "tokens", "attn": "tokens",
              "pd_kd": "masked", "pd_mlm": "masked", "mlm": "masked", "nsp": "examples", "loss": "examples"}

Batch = dict[str, torch.Tensor]


def unit_counts(batch: Batch) -> dict[str, float]:
    """How many tokens, masked positions and examples a (micro-)batch holds."""
    first = next(iter(batch.values()))
    counts = {"examples": float(first.shape[0])}
    if "attention_mask" in batch:
        counts["tokens"] = float(batch["attention_mask"].sum())
    labels = batch.get("labels")
    if labels is not None and labels.dim() == 2:
        counts["masked"] = float((labels != -100).sum())
    return counts


def split_batch(batch: Batch, micro_batch_size: int) -> list[Batch]:
    """Consecutive slices of at most `micro_batch_size` examples (the last may be smaller)."""
    if micro_batch_size < 1:
        raise ValueError("micro_batch_size must be ≥ 1")
    size = next(iter(batch.values())).shape[0]
    return [{k: v[i:i + micro_batch_size] for k, v in batch.items()} for i in range(0, size, micro_batch_size)]


def accumulate(compute: Callable[[Batch], dict[str, torch.Tensor]], batch: Batch, micro_batch_size: int,
               ctx: DistContext | None = None, backward: bool = True,
               units: dict[str, str] | None = None) -> dict[str, torch.Tensor]:
    """Run `compute` on each micro-batch, back-propagate the weighted terms (unless `backward=False`) and
    return each term's value on the whole (global) batch, detached."""
    units = units or TERM_UNITS
    ctx = ctx or DistContext()
    names = ("examples", "tokens", "masked")
    local = unit_counts(batch)
    totals = dict(zip(names, all_reduce_sum(torch.tensor([local.get(n, 0.0) for n in names],
                                                         dtype=torch.float64), ctx).tolist(), strict=True))
    out: dict[str, torch.Tensor] = {}
    for micro in split_batch(batch, micro_batch_size):
        counts = unit_counts(micro)
        losses = compute(micro)
        weighted = []
        for name, value in losses.items():
            unit = units[name]
            share = counts.get(unit, 0.0) / totals[unit] if totals.get(unit) else 0.0
            if share == 0.0:  # e.g. a micro-batch without masked positions: its MLM mean is undefined
                continue
            term = value * share
            weighted.append(term)
            out[name] = out.get(name, 0.0) + term.detach().double()
        if backward and weighted:
            torch.stack([w.float() for w in weighted]).sum().backward()
    if ctx.world_size > 1 and out:
        keys = sorted(out)
        reduced = all_reduce_sum(torch.stack([out[k].cpu() for k in keys]), ctx)
        out = dict(zip(keys, reduced, strict=True))
    return {k: torch.as_tensor(v).float() for k, v in out.items()}
