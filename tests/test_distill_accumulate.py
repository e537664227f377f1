"""Gradient accumulation gives the full-batch step; the memory plan picks a micro-batch or refuses in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nas.distill.accumulate import accumulate, split_batch
from nas.distill.data_corpus import PretrainingData
from nas.distill.memory import example_bytes, plan_micro_batch
from nas.distill.objective import phase_losses
from nas.distill.schedules import Phase, plan
from nas.distill.trainer import TrainConfig, Trainer
from nas_common.errors import UserInputError
from tests.distill_helpers import tiny_data, tiny_distill_setup

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> PretrainingData:
    return tiny_data(tmp_path_factory.mktemp("corpus"), batch_size=6)


def _models():
    teacher, student, layer_map = tiny_distill_setup()
    return teacher, student.eval(), layer_map


@pytest.mark.parametrize("kind", ["akt", "mlm"])
@pytest.mark.parametrize("micro", [1, 4])
def test_micro_batches_give_the_full_batch_gradient(data: PretrainingData, kind: str, micro: int) -> None:
    teacher, student, layer_map = _models()
    phase = Phase(kind, kind, 1, (0, 1, 2))
    batch = data.batch(3)

    def compute(part):
        return phase_losses(student, teacher, layer_map, None, phase, part)

    full = {k: float(v.detach()) for k, v in compute(batch).items()}
    sum(compute(batch).values()).backward()
    reference = {n: p.grad.clone() for n, p in student.named_parameters() if p.grad is not None}
    student.zero_grad(set_to_none=True)
    terms = accumulate(compute, batch, micro)
    assert len(split_batch(batch, micro)) == -(-6 // micro)
    for name, value in full.items():
        assert float(terms[name]) == pytest.approx(value, rel=1e-5, abs=1e-6), name
    for name, grad in reference.items():
        got = dict(student.named_parameters())[name].grad
        assert torch.allclose(got, grad, rtol=1e-4, atol=1e-6), name


# The models run in float64, so forward and backward reductions in any order agree to ~1e-16; what rounding is
# left is LAMB's, which keeps its state and computes its update in float32 by design (lamb.py): one float32
# rounding of the gradient and a few of the update per step, a few units of 2**-24 of the step. Over the three
# optimizer steps of this run, 64 such units of the largest step bound it with a wide margin on any CPU
# (seen: 1.5), while a wrongly weighted accumulation moves parameters by millions of them (the test below).
STEP_ULPS = 64


def _largest_difference_in_steps(monkeypatch: pytest.MonkeyPatch, data: PretrainingData, tmp_path: Path) -> float:
    """Train one JKT run with the full batch and one with micro-batches of 2; the largest parameter difference,
    in float32 units (2**-24) of the largest parameter change."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        finals, start = [], {}
        for micro in (None, 2):
            teacher, student, layer_map = _models()
            start = {n: p.detach().clone() for n, p in student.named_parameters()}
            Trainer(student, plan("jkt", 3, 1, 1), data, TrainConfig(tmp_path / str(micro), 1e-3, 1, progress=False,
                                                                      micro_batch_size=micro), teacher, layer_map).run()
            finals.append({n: p.detach().clone() for n, p in student.named_parameters()})
    finally:
        torch.set_default_dtype(previous)
    largest_step = max(float((finals[0][n] - start[n]).abs().max()) for n in start)
    largest_gap = max(float((finals[0][n] - finals[1][n]).abs().max()) for n in start)
    assert largest_step > 0
    return largest_gap / largest_step / 2 ** -24


def test_a_training_step_is_the_same_with_accumulation(data: PretrainingData, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert _largest_difference_in_steps(monkeypatch, data, tmp_path) <= STEP_ULPS


def test_the_comparison_fails_when_accumulation_is_wrong(data: PretrainingData, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberate break: each micro-batch weighted by its examples for every term (the mean of micro-batch
    means, not the batch's token and masked-position means) must not pass the comparison above."""
    import nas.distill.accumulate as accumulation

    def by_examples(batch):
        examples = float(next(iter(batch.values())).shape[0])
        return {"examples": examples, "tokens": examples, "masked": examples}

    monkeypatch.setattr(accumulation, "unit_counts", by_examples)
    assert _largest_difference_in_steps(monkeypatch, data, tmp_path) > 100 * STEP_ULPS


def test_memory_plan_refuses_in_one_line_when_one_example_cannot_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    from search_spaces.presets import resolve_arch

    config = resolve_arch("ib-bert-large").to_hf_config()
    one = example_bytes(config, 512, 20)
    monkeypatch.setattr("nas.distill.memory.available_memory", lambda: int(one * 1.2))
    with pytest.raises(UserInputError, match="--seq-len 256 fits|--seq-len 128 fits") as err:
        plan_micro_batch(config, 512, 20, 2048, trainable_params=1000)
    assert "\n" not in str(err.value)
    monkeypatch.setattr("nas.distill.memory.available_memory", lambda: int(one * 100))
    chosen = plan_micro_batch(config, 512, 20, 2048, trainable_params=1000).micro_batch_size
    assert 50 <= chosen <= 70  # 70 % of 100 examples' worth
    halved = plan_micro_batch(config, 512, 20, 2048, trainable_params=1000, share=0.5).micro_batch_size
    assert 25 <= halved <= 35  # one of two processes training at once (nas supernet train --workers 2)
    assert plan_micro_batch(config, 512, 20, 2048, 1000, requested=8).micro_batch_size == 8


def test_the_estimate_grows_with_length_and_vocabulary_output() -> None:
    from search_spaces.presets import resolve_arch

    config = resolve_arch("mobilebert").to_hf_config()
    assert example_bytes(config, 512, 20) > 3 * example_bytes(config, 128, 20)
    assert example_bytes(config, 128, 80) > example_bytes(config, 128, 20)
    assert example_bytes(config, 128, 20, mlm=False) < example_bytes(config, 128, 20)


@pytest.mark.parametrize(("batch", "expected"), [(16, "micro-batch 7 × 3 accumulation steps, the last of 2 "),
                                                 (14, "micro-batch 7 × 2 accumulation steps (")])
def test_the_plan_names_an_uneven_last_micro_batch(batch: int, expected: str) -> None:
    from nas.distill.memory import MemoryPlan

    assert expected in MemoryPlan(7, 1 << 20, 0, 1 << 30).describe(batch)
