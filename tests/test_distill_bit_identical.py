"""What training computes does not change: a tiny teacher, a student distilled from it and a supernet trained on
it are bit-identical to golden hashes recorded in tests/distill_golden.json (issue 34's guard for refactors of
nas/distill and nas/supernet/elastic.py).

Each run is one thread, a fixed seed, a fixed micro-batch: the weights (sha256 over every tensor in name
order), the saved config and the per-step losses are a pure function of the code, the torch build and the CPU's
kernels. Floating point differs across CPUs (vector width changes the summation order), so the golden values
carry the torch version and `torch.backends.cpu.get_cpu_capability()` they came from: on the same pair every
hash must match exactly; on another, only the first step's loss is compared, to a relative 1e-4 (see
`FIRST_LOSS_RTOL`), and the test says so. Regenerate (only when a change *means* to alter what is computed):
`NAS_WRITE_GOLDEN=1 .venv/bin/pytest -q tests/test_distill_bit_identical.py`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch

from device_profiles.host import cpu_model
from tests.distill_helpers import STUDENT_ARCH, TEACHER_ARCH, write_corpus

GOLDEN = Path(__file__).with_name("distill_golden.json")
# A float32 loss of these tiny models sums a few thousand terms; another summation order (AVX2 vs AVX-512
# kernels, another torch build) moves it by a few ulps per term: about 1e-6..1e-5 relative. 1e-4 leaves a
# margin over that and still catches any change of what is computed (a changed init or config moves the first
# loss by percents).
FIRST_LOSS_RTOL = 1e-4
SMALL = {"batch_size": 4, "seq_len": 24, "max_predictions": 4, "lr": 1e-3, "warmup": 1, "checkpoint_every": 0,
         "progress": False, "micro_batch_size": 4, "checkpoint_on_interrupt": False}
SPACE = {"name": "tiny-supernet",
         "dimensions": {"num_hidden_layers": [1, 2, 3], "intra_bottleneck_size": [8, 16, "none"],
                        "num_attention_heads": [1, 2, 4], "intermediate_size": [16, 32],
                        "num_feedforward_networks": [1, 2]},
         "fixed": {"hidden_size": 32, "embedding_size": 16, "normalization_type": "layer_norm", "hidden_act": "gelu"}}
EXTRACTED = {"num_hidden_layers": 2, "intra_bottleneck_size": 8, "num_attention_heads": 2, "intermediate_size": 16,
             "num_feedforward_networks": 1}


def platform() -> dict[str, str]:
    return {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cpu": cpu_model()}


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def config_sha256(config: dict[str, Any]) -> str:
    config = {k: v for k, v in config.items() if k != "transformers_version"}
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def losses(path: Path) -> list[float]:
    with path.open() as handle:
        return [float(row["total"]) for row in csv.DictReader(handle)]


@contextmanager
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def saved_model(directory: Path, losses_: list[float]) -> dict[str, Any]:
    from safetensors.torch import load_file

    return {"weights": tensors_sha256(load_file(directory / "model.safetensors")),
            "config": config_sha256(json.loads((directory / "config.json").read_text())), "losses": losses_}


def distill_runs(tmp: Path) -> dict[str, Any]:
    """`nas teacher` (2 steps) then `nas distill` PKT (3 layer steps and 1 PD step), as the pipeline runs them."""
    from nas.distill import options, pipeline

    corpus = str(write_corpus(tmp / "c.txt"))
    teacher_opts = options.RunOptions(corpus, tmp / "teacher", **SMALL)
    pipeline.run_teacher(TEACHER_ARCH, None, 2, teacher_opts)
    student_opts = options.RunOptions(corpus, tmp / "student", **SMALL)
    pipeline.run_distill(STUDENT_ARCH, str(tmp / "teacher"), "pkt", 1, 1, student_opts)
    return {"teacher": saved_model(tmp / "teacher", losses(tmp / "teacher" / "losses.csv")),
            "student": saved_model(tmp / "student", losses(tmp / "student" / "losses.csv"))}


def supernet_run(tmp: Path) -> dict[str, Any]:
    """The elastic supernet trained 3 steps (JKT, sandwich rule) from the tiny teacher, as `nas supernet train`
    does, and the standalone student extracted from it."""
    from nas.distill.data_corpus import PretrainingData
    from nas.distill.teacher import copy_shared_weights, load_teacher
    from nas.distill.vocab import load_tokenizer
    from nas.supernet.elastic import ElasticMobileBert
    from nas.supernet.space import check_space
    from nas.supernet.trainer import SupernetConfig, SupernetTrainer, plan
    from search_spaces.space import SearchSpace

    space = check_space(SearchSpace.from_dict(SPACE))
    data = PretrainingData(tmp / "c.txt", load_tokenizer(None), 24, 4, 0, max_predictions=4)
    teacher = load_teacher(tmp / "teacher")
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elastic = ElasticMobileBert(space)
    copy_shared_weights(elastic.model, teacher)
    cfg = SupernetConfig(tmp / "supernet", 1e-3, 1, progress=False, micro_batch_size=4, random_subnets=1)
    (tmp / "supernet").mkdir()
    SupernetTrainer(elastic, teacher, plan("jkt", 3, 0.34, 3), data, cfg).run()
    student = elastic.extract(space.to_arch(EXTRACTED))
    return {"supernet": {"weights": tensors_sha256(dict(elastic.model.state_dict())),
                         "losses": losses(tmp / "supernet" / "losses.csv")},
            "extracted": {"weights": tensors_sha256(dict(student.state_dict())),
                          "config": config_sha256(student.config.to_dict())}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("bit_identical")
    with one_thread():
        result = distill_runs(tmp)
        result.update(supernet_run(tmp))
    if os.environ.get("NAS_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps({"platform": platform(), **result}, indent=1) + "\n")
    return result


@pytest.mark.parametrize("run", ["teacher", "student", "supernet", "extracted"])
def test_training_is_bit_identical_to_the_golden_run(runs: dict[str, Any], run: str) -> None:
    golden = json.loads(GOLDEN.read_text())
    got, want = runs[run], golden[run]
    if golden["platform"] == platform():
        assert got == want, f"{run}: what training computes changed (same torch and CPU capability as the golden)"
        return
    if "losses" not in want:
        pytest.skip(f"{run}: golden from {golden['platform']}, here {platform()}: exact hashes not comparable, "
                    "and this run has no loss to compare within a tolerance")
    # Another CPU or torch build: the hashes are exact only on the golden's platform, so the first step's loss is
    # what is compared here (the config hash does not depend on floating point).
    assert got.get("config") == want.get("config"), f"{run}: the saved config changed"
    assert got["losses"][0] == pytest.approx(want["losses"][0], rel=FIRST_LOSS_RTOL), \
        f"{run}: the first step's loss differs beyond float32 summation-order noise"
