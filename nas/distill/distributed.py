"""Multi-GPU data parallelism under `torchrun` (tested with 2 gloo processes on CPU).

`torchrun --nproc-per-node 8 -m nas.cli distill ... --torch-device cuda` starts one process per GPU. Each
process reads the whole corpus, takes its strided slice of every global batch (so the global batch and
the data order do not depend on the number of processes), weights its loss terms by its share of the
global batch (`accumulate.py`) and sums gradients with an all-reduce before each optimiser step — what
DDP does, done by hand because PKT changes the trainable set every phase and the step calls sub-modules
(`base_model`, `cls`) rather than one `forward`. Rank 0 alone writes
logs, checkpoints and the final model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(torch_device: str) -> DistContext:
    """This process's rank under `torchrun` (WORLD_SIZE > 1: the process group joined, nccl for cuda, gloo for
    cpu), or the single process's context."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch_device == "cuda":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch_device == "cuda" else "gloo")
    return DistContext(dist.get_rank(), world, local_rank)


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The sum of `tensor` over all processes (the tensor itself in a single process)."""
    if ctx.world_size <= 1:
        return tensor
    import torch.distributed as dist

    tensor = tensor.clone()
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def sum_gradients(params: list[Any], ctx: DistContext) -> None:
    """Add up the processes' gradients. With `accumulate.accumulate` each process's gradient is already its
    share of the global batch's mean, so the sum is the single-process gradient of the global batch."""
    if ctx.world_size <= 1:
        return
    import torch.distributed as dist

    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
