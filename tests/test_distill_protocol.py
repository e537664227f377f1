"""Pins of the distillation protocol against the official MobileBERT code (google-research/google-research
`mobilebert/`: distill_util.py, run_pretraining.py, optimization.py) — literals here come from the paper or the
code, never from the implementation; each test fails when the behaviour it names is broken."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch

from nas.distill.data_corpus import PretrainingData
from nas.distill.losses import attention_kl, feature_map_losses
from nas.distill.objective import forward_features, phase_losses
from nas.distill.schedules import Phase, learning_rate, plan
from nas.distill.teacher import copy_shared_weights
from nas.distill.trainer import TrainConfig, Trainer
from tests.distill_helpers import tiny_data, tiny_distill_setup, tiny_models

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> PretrainingData:
    return tiny_data(tmp_path_factory.mktemp("corpus"))


# ---------------------------------------------------------------- losses: weights, mask, heads
def test_layer_loss_weights_are_the_official_literals() -> None:
    student, teacher = torch.tensor([[[1.0, 3.0]]]), torch.tensor([[[2.0, 2.0]]])
    mask = torch.ones(1, 1)
    losses = feature_map_losses(student, teacher, mask)
    assert float(losses["fm"]) == pytest.approx(100 * 1.0, rel=1e-4)  # MSE 1 after LayerNorm, ×100
    assert float(losses["fm_var"]) == pytest.approx(5 * 1.0)  # |1 − 0|, ×5
    assert float(feature_map_losses(student + 1, student, mask)["fm_mean"]) == pytest.approx(5000 * 1.0)
    t = torch.tensor([[[[0.5, 0.5]]]])
    s = torch.tensor([[[[0.25, 0.75]]]])
    kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert float(attention_kl(s, t, torch.ones(1, 1))) == pytest.approx(1 * kl, rel=1e-6)


def test_pd_mixes_half_teacher_half_one_hot() -> None:
    from nas.distill.losses import pretraining_distillation_losses

    student = torch.log(torch.tensor([[0.5, 0.5]])).requires_grad_(True)
    teacher = torch.log(torch.tensor([[0.9, 0.1]]))
    sum(pretraining_distillation_losses(student, teacher, torch.tensor([0]), torch.zeros(1, 2),
                                        torch.tensor([1])).values()).backward()
    target = 0.5 * torch.tensor([0.9, 0.1]) + 0.5 * torch.tensor([1.0, 0.0])  # paper §3.6: α = 0.5, T = 1
    assert torch.allclose(student.grad[0], torch.tensor([0.5, 0.5]) - target, atol=1e-6)


def test_padding_is_masked_out_of_every_layer_term() -> None:
    torch.manual_seed(0)
    real = torch.randn(2, 3, 8)
    student = torch.cat([real, torch.randn(2, 2, 8)], 1)  # two padding positions that differ
    teacher = torch.cat([real, torch.randn(2, 2, 8) * 3 + 1], 1)
    mask = torch.tensor([[1, 1, 1, 0, 0]] * 2)
    for name, value in feature_map_losses(student, teacher, mask).items():
        assert float(value) == pytest.approx(0.0, abs=1e-6), name  # equal on the real tokens
        assert float(feature_map_losses(student, teacher, torch.ones_like(mask))[name]) > 1e-3, name
    probs = torch.softmax(torch.randn(2, 2, 5, 5), -1)
    other = probs.clone()
    other[:, :, 3:] = torch.softmax(torch.randn(2, 2, 2, 5), -1)  # padding queries differ
    assert float(attention_kl(other, probs, mask)) == pytest.approx(0.0, abs=1e-6)
    assert float(attention_kl(other, probs, torch.ones_like(mask))) > 1e-3


def test_attention_transfer_averages_over_heads() -> None:
    teacher = torch.tensor([[[[0.5, 0.5]], [[0.5, 0.5]]]])  # (batch 1, 2 heads, 1 query, 2 keys)
    student = torch.tensor([[[[0.25, 0.75]], [[0.5, 0.5]]]])  # head 0 differs, head 1 equal
    head0 = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert float(attention_kl(student, teacher, torch.ones(1, 1))) == pytest.approx(head0 / 2, rel=1e-6)


# ---------------------------------------------------------------- objective: which layers meet
def test_student_layer_meets_its_mapped_teacher_layer_on_probabilities(data: PretrainingData) -> None:
    teacher, student, layer_map = tiny_distill_setup()
    student.eval()
    batch = data.batch(0)
    s = forward_features(student, batch, maps=True, mlm=False)
    t = forward_features(teacher, batch, maps=True, mlm=False)
    assert layer_map.teacher_layer == (0, 0, 1)  # ⌊(l+1)·2/3⌋ − 1, floored at 0
    for layer in range(3):
        mapped = layer_map.teacher_layer[layer]
        got = phase_losses(student, teacher, layer_map, None, Phase("x", "layers", 1, (layer,), layer_scale=1.0),
                           batch)
        # hidden_states[0] is the embedding output: layer l's output is hidden_states[l + 1]
        expected = feature_map_losses(s.hidden[layer + 1], t.hidden[mapped + 1], batch["attention_mask"])
        for name, value in expected.items():
            assert float(got[name]) == pytest.approx(float(value), rel=1e-5), (layer, name)
        s_att, t_att = s.attentions[layer], layer_map.group_teacher_heads(t.attentions[mapped])
        assert torch.allclose(s_att.sum(-1), torch.ones_like(s_att.sum(-1)), atol=1e-5)  # probabilities
        expected_attn = attention_kl(s_att, t_att, batch["attention_mask"])
        assert float(got["attn"]) == pytest.approx(float(expected_attn), rel=1e-5), layer


def test_layer_terms_are_scaled_by_one_over_the_student_depth() -> None:
    phases = plan("jkt", 3, 1, 1) + plan("pkt", 3, 1, 1) + plan("akt", 3, 1, 1)
    assert {p.layer_scale for p in phases if p.needs_maps} == {1 / 3}  # official: factor / L


# ---------------------------------------------------------------- PKT: who trains, how fast
PKT_CURRENT, PKT_LOWER = 3.0, 0.3  # official code
EXCLUDED = re.compile(r"LayerNorm|layer_norm|bias")  # official LAMB exclusions (no trust ratio)


def test_pkt_one_step_moves_layer_l_at_3x_lower_at_0_3x_nothing_else(data: PretrainingData, tmp_path: Path) -> None:
    teacher, student, layer_map = tiny_distill_setup()
    before = {n: p.detach().clone() for n, p in student.named_parameters()}
    lr = 1e-3
    phase = Phase("pkt_layer_1", "layers", 1, (1,), 1, layer_scale=1 / 3)
    Trainer(student, [phase], data, TrainConfig(tmp_path, lr, 1, progress=False), teacher, layer_map).run()
    layer_of = re.compile(r"encoder\.layer\.(\d+)\.")
    checked = 0
    for name, param in student.named_parameters():
        delta = float((param.detach() - before[name]).norm())
        match = layer_of.search(name)
        layer = int(match.group(1)) if match else None
        if layer is None or layer > 1:  # embeddings, heads, pooler, upper layers: frozen
            assert delta == 0.0, name
        elif not EXCLUDED.search(name) and float(before[name].norm()) > 0:
            rate = PKT_CURRENT if layer == 1 else PKT_LOWER
            # LAMB's trust ratio: one step moves a weight by lr·mult·‖w‖ (lr at step 0 of a 1-step phase)
            assert delta == pytest.approx(lr * rate * float(before[name].norm()), rel=1e-3), name
            checked += 1
    assert checked >= 10
    # Upper layers get no gradient from layer 1's loss, so deltas cannot show whether they are trainable:
    # compare the optimiser's groups with the set built here from the names.
    from nas.distill.schedules import param_groups

    groups = param_groups(list(student.named_parameters()), phase, 0.01)
    mult = {id(p): g["lr_mult"] for g in groups for p in g["params"]}
    for name, param in student.named_parameters():
        match = layer_of.search(name)
        expected = {1: PKT_CURRENT, 0: PKT_LOWER}.get(int(match.group(1))) if match else None
        assert mult.get(id(param)) == expected, name
        assert param.requires_grad == (expected is not None), name


def test_pkt_moments_of_lower_layers_carry_over(data: PretrainingData, tmp_path: Path) -> None:
    teacher, student, layer_map = tiny_distill_setup()
    phases = plan("pkt", 3, 2, 0)
    Trainer(student, phases, data, TrainConfig(tmp_path, 1e-3, 1, checkpoint_every=3, progress=False,
                                               stop_after=3), teacher, layer_map).run()
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert state["phase_index"] == 1
    steps = {s["step"] for s in state["optimizer"]["state"].values()}
    assert steps == {1, 3}  # layer 1: its first step; layer 0: two steps in phase 0, one more now


def test_every_parameter_is_trainable_after_a_stopped_run(data: PretrainingData, tmp_path: Path) -> None:
    teacher, student, layer_map = tiny_distill_setup()
    Trainer(student, plan("pkt", 3, 2, 1), data, TrainConfig(tmp_path, 1e-3, 1, progress=False, stop_after=1),
            teacher, layer_map).run()
    assert all(p.requires_grad for p in student.parameters())


def test_per_phase_learning_rate_curve() -> None:
    base = 1.0
    # layer phase of 100 steps: warm-up over 10 steps, then √-decay from 1.0 to 0.9 of the rate
    assert learning_rate(base, 0, 100, 10_000, "layers") == pytest.approx(0.1 * (0.9 + 0.1))
    assert learning_rate(base, 9, 100, 10_000, "layers") == pytest.approx(0.9 + 0.1 * math.sqrt(0.91))
    assert learning_rate(base, 99, 100, 10_000, "layers") == pytest.approx(0.9 + 0.1 * math.sqrt(0.01))
    # pre-training distillation: linear decay to 1e-4·lr
    assert learning_rate(base, 50, 100, 10, "pd") == pytest.approx(1e-4 + (1 - 1e-4) * 0.5)
    assert learning_rate(base, 100, 100, 10, "pd") == pytest.approx(1e-4)


# ---------------------------------------------------------------- what the student inherits
def test_copy_shared_weights_copies_embeddings_and_heads_but_not_into_nonorm() -> None:
    teacher, student = tiny_models()
    copied = set(copy_shared_weights(student, teacher))
    assert {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
            "embeddings.token_type_embeddings.weight", "cls.predictions.bias",
            "cls.predictions.transform.dense.weight", "cls.seq_relationship.weight"} <= copied
    assert not any(name.startswith("encoder.") for name in copied)
    assert student.config.normalization_type == "no_norm" and "embeddings.LayerNorm.weight" not in copied
    assert torch.equal(student.mobilebert.embeddings.LayerNorm.weight,
                       torch.ones_like(student.mobilebert.embeddings.LayerNorm.weight))
    assert torch.equal(student.mobilebert.embeddings.word_embeddings.weight,
                       teacher.mobilebert.embeddings.word_embeddings.weight)


def test_the_student_has_no_pooler() -> None:
    _, student = tiny_models()
    assert not any("pooler" in name for name, _ in student.named_parameters())


def test_a_saved_student_loaded_by_transformers_works_in_the_losses(data: PretrainingData, tmp_path: Path) -> None:
    from transformers import MobileBertForPreTraining

    teacher, student, layer_map = tiny_distill_setup()
    student.config._attn_implementation = "eager"
    student.save_pretrained(tmp_path)
    loaded = MobileBertForPreTraining.from_pretrained(tmp_path, attn_implementation="sdpa")
    losses = phase_losses(loaded, teacher, layer_map, None, Phase("jkt", "layers", 1, (0, 1, 2)), data.batch(0))
    assert {"fm", "attn"} <= set(losses)


def test_the_ib_bert_teacher_trains_with_hidden_dropout_0_1() -> None:
    from nas.distill.teacher import build_teacher
    from tests.distill_helpers import TEACHER_ARCH

    assert build_teacher(TEACHER_ARCH, None).config.hidden_dropout_prob == 0.1  # official teacher config
