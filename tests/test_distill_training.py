"""Schedules on tiny models: PKT freezes and scales the right parameters, every schedule runs, and
resuming from a checkpoint reproduces an uninterrupted run exactly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from nas.distill.data_corpus import PretrainingData
from nas.distill.schedules import PKT_CURRENT_LR_MULT, PKT_LOWER_LR_MULT, Phase, param_groups, plan
from nas.distill.trainer import TrainConfig, Trainer
from tests.distill_helpers import tiny_data, tiny_distill_setup

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> PretrainingData:
    return tiny_data(tmp_path_factory.mktemp("corpus"))


def test_pkt_phase_updates_exactly_its_layers(data: PretrainingData, tmp_path: Path) -> None:
    teacher, student, layer_map = tiny_distill_setup()
    before = {n: p.detach().clone() for n, p in student.named_parameters()}
    phase = Phase("pkt_layer_1", "layers", 2, (1,), 1)
    Trainer(student, [phase], data, TrainConfig(tmp_path, 1e-2, 1, progress=False), teacher, layer_map).run()
    changed = {n for n, p in student.named_parameters() if not torch.equal(p, before[n])}
    layer = {i: {n for n in before if f"encoder.layer.{i}." in n} for i in range(3)}
    assert changed & layer[1] and changed & layer[0]  # current and lower layers train
    assert not changed & layer[2]  # upper layer frozen
    assert all(".encoder.layer." in n for n in changed)  # embeddings, heads, pooler frozen
    groups = param_groups(list(student.named_parameters()), phase, 0.01)
    mult = {id(p): g["lr_mult"] for g in groups for p in g["params"]}
    named = dict(student.named_parameters())
    assert {mult[id(named[n])] for n in layer[1]} == {PKT_CURRENT_LR_MULT}
    assert {mult[id(named[n])] for n in layer[0]} == {PKT_LOWER_LR_MULT}
    assert not any(id(named[n]) in mult for n in layer[2])


def test_pkt_gradients_flow_only_into_trainable_layers(data: PretrainingData, tmp_path: Path) -> None:
    from nas.distill.objective import phase_losses

    teacher, student, layer_map = tiny_distill_setup()
    phase = Phase("pkt_layer_0", "layers", 1, (0,), 0)
    param_groups(list(student.named_parameters()), phase, 0.0)
    sum(phase_losses(student, teacher, layer_map, None, phase, data.batch(0)).values()).backward()
    with_grad = {n for n, p in student.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert with_grad and all("encoder.layer.0." in n for n in with_grad)


@pytest.mark.parametrize("schedule", ["pkt", "jkt", "akt", "none"])
def test_every_schedule_runs(schedule: str, data: PretrainingData, tmp_path: Path) -> None:
    teacher, student, layer_map = tiny_distill_setup()
    phases = plan(schedule, 3, 1, 2)
    rows = Trainer(student, phases, data, TrainConfig(tmp_path, 1e-3, 1, progress=False),
                   None if schedule == "none" else teacher, layer_map).run()
    assert len(rows) == 5 and all(torch.isfinite(torch.tensor(r["total"])) for r in rows)
    expected = {"pkt": {"fm", "attn", "pd_kd", "nsp"}, "jkt": {"fm", "attn", "pd_kd"},
                "akt": {"fm", "fm_mean", "fm_var", "attn", "pd_kd", "pd_mlm", "nsp"}, "none": {"mlm", "nsp"}}
    assert expected[schedule] <= {k for r in rows for k in r}
    with (tmp_path / "losses.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 5


def test_resume_continues_identically(data: PretrainingData, tmp_path: Path) -> None:
    phases = plan("pkt", 3, 2, 3)  # 9 steps; the break falls inside phase pkt_layer_1
    teacher, student, layer_map = tiny_distill_setup()
    full = Trainer(student, phases, data, TrainConfig(tmp_path / "a", 1e-3, 1, progress=False), teacher,
                   layer_map).run()
    teacher2, interrupted, _ = tiny_distill_setup()
    Trainer(interrupted, phases, data, TrainConfig(tmp_path / "b", 1e-3, 1, checkpoint_every=3,
                                                   progress=False, stop_after=4),
            teacher2, layer_map).run()
    teacher3, resumed, _ = tiny_distill_setup(seed=1)  # different init: everything must come from the checkpoint
    rest = Trainer(resumed, phases, data, TrainConfig(tmp_path / "b", 1e-3, 1, checkpoint_every=3,
                                                     progress=False), teacher, layer_map).run(resume=True)
    assert [r["global_step"] for r in rest] == list(range(4, 10))
    assert [r["total"] for r in rest] == [r["total"] for r in full[3:]]
    for (name, a), (_, b) in zip(student.named_parameters(), resumed.named_parameters(), strict=True):
        assert torch.equal(a, b), name
    logged = (tmp_path / "b" / "losses.csv").read_text()
    assert logged == (tmp_path / "a" / "losses.csv").read_text()


def test_resume_from_a_damaged_checkpoint_is_a_user_error(data: PretrainingData, tmp_path: Path) -> None:
    from nas_common.errors import UserInputError

    teacher, student, layer_map = tiny_distill_setup()
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    trainer = Trainer(student, plan("pkt", 3, 1, 1), data, TrainConfig(tmp_path, 1e-3, 1, progress=False),
                      teacher, layer_map)
    with pytest.raises(UserInputError, match="not a readable checkpoint"):
        trainer.run(resume=True)


def test_ctrl_c_saves_a_checkpoint_at_the_step_end_and_resumes_identically(data: PretrainingData, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C mid-phase (no checkpoint due for 1000 steps) stops after the step it lands in, with a checkpoint
    there: nothing trained is lost, and --resume ends where an uninterrupted run does."""
    import os
    import signal

    from nas.distill.loop import PhaseLoop

    phases = plan("pkt", 3, 2, 3)
    teacher, student, layer_map = tiny_distill_setup()
    Trainer(student, phases, data, TrainConfig(tmp_path / "a", 1e-3, 1, progress=False), teacher, layer_map).run()
    step = PhaseLoop._step

    def pressed_during_step_5(self, phase, phase_step, global_step, *args):  # noqa: ANN001, ANN202
        if global_step == 4:
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, mid-step: the step still completes
        return step(self, phase, phase_step, global_step, *args)

    monkeypatch.setattr(PhaseLoop, "_step", pressed_during_step_5)
    teacher2, interrupted, _ = tiny_distill_setup()
    config = TrainConfig(tmp_path / "b", 1e-3, 1, checkpoint_every=1000, progress=False, checkpoint_on_interrupt=True)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (CI may run in background)
    try:
        with pytest.raises(KeyboardInterrupt):
            Trainer(interrupted, phases, data, config, teacher2, layer_map).run()
    finally:
        signal.signal(signal.SIGINT, before)
    monkeypatch.undo()
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["global_step"] == 5
    teacher3, resumed, _ = tiny_distill_setup(seed=1)
    rest = Trainer(resumed, phases, data, config, teacher, layer_map).run(resume=True)
    assert [r["global_step"] for r in rest] == list(range(6, 10))
    for (name, a), (_, b) in zip(student.named_parameters(), resumed.named_parameters(), strict=True):
        assert torch.equal(a, b), name
    assert (tmp_path / "b" / "losses.csv").read_text() == (tmp_path / "a" / "losses.csv").read_text()
