"""Two gloo processes on CPU give the single-process result at the same global batch (issue 9 item 2)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch

from tests.distill_helpers import tiny_models, write_corpus


def _train(out: Path, corpus: Path, world: int = 1) -> dict[str, torch.Tensor]:
    from nas.distill.data_corpus import PretrainingData
    from nas.distill.distributed import init_distributed
    from nas.distill.layer_map import build_layer_map
    from nas.distill.schedules import plan
    from nas.distill.teacher import copy_shared_weights, model_shape
    from nas.distill.trainer import TrainConfig, Trainer
    from nas.distill.vocab import load_tokenizer

    torch.set_num_threads(1)
    ctx = init_distributed("cpu")
    teacher, student = tiny_models()
    copy_shared_weights(student, teacher)
    t, s = model_shape(teacher.config), model_shape(student.config)
    layer_map = build_layer_map(s.layers, t.layers, s.heads, t.heads, s.width, t.width)
    data = PretrainingData(corpus, load_tokenizer(None), 24, 8, 0, ctx.rank, ctx.world_size)
    Trainer(student, plan("pkt", 3, 1, 2), data, TrainConfig(out, 1e-3, 1, progress=False, micro_batch_size=3),
            teacher, layer_map, ctx=ctx).run()
    return {k: v.detach().clone() for k, v in student.state_dict().items()}


def _worker(rank: int, world: int, port: int, out: str, corpus: str) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    state = _train(Path(out), Path(corpus), world)
    if rank == 0:
        torch.save(state, Path(out) / "state.pt")
    import torch.distributed as dist

    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # about 25 s of CPU on a quiet machine, 140 s wall on a loaded one (two processes spawn)
def test_two_gloo_processes_match_one_process(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    corpus = write_corpus(tmp_path / "c.txt")
    single = _train(tmp_path / "single", corpus)
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / "ddp"), str(corpus)), nprocs=2, join=True)
    ddp = torch.load(tmp_path / "ddp" / "state.pt")
    for name, value in single.items():
        assert torch.allclose(ddp[name], value, rtol=1e-4, atol=1e-6), name
    logged_single = (tmp_path / "single" / "losses.csv").read_text().splitlines()
    logged_ddp = (tmp_path / "ddp" / "losses.csv").read_text().splitlines()
    assert len(logged_single) == len(logged_ddp) == 6
    for a, b in zip(logged_single[1:], logged_ddp[1:], strict=True):
        total_a, total_b = float(a.split(",")[4]), float(b.split(",")[4])
        assert total_a == pytest.approx(total_b, rel=1e-4)
