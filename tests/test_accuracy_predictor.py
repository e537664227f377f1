"""The accuracy predictor (nas/accuracy/predictor.py): features, fit and cross-validation, storage, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nas.accuracy import predictor as pred
from search_spaces.space import SearchSpace

SPACE = SearchSpace.load(Path(pred.__file__).parents[1] / "supernet/data/minilm-384.toml")


def synthetic_loss(arch) -> float:
    """A smooth function of the shape: deeper and wider is lower, few heads cost a little."""
    return (7.0 - 0.15 * arch.num_hidden_layers - 0.002 * arch.true_hidden_size()
            - 0.0004 * arch.intermediate_size * arch.num_feedforward_networks ** 0.5
            + 0.05 / arch.num_attention_heads)


def test_features_follow_the_shape() -> None:
    archs = pred.sample_archs(SPACE, 5, seed=0)
    matrix = pred.feature_matrix(archs)
    assert matrix.shape == (5, len(pred.FEATURES))
    for arch, row in zip(archs, matrix, strict=True):
        assert row[pred.FEATURES.index("layers")] == arch.num_hidden_layers
        assert row[pred.FEATURES.index("ffns")] == arch.num_feedforward_networks
        assert row[pred.FEATURES.index("bottleneck")] == float(arch.use_bottleneck)


def test_sample_archs_are_distinct_members_and_keep_the_given_ones() -> None:
    fixed = pred.sample_archs(SPACE, 1, seed=5)
    archs = pred.sample_archs(SPACE, 40, seed=1, always=fixed)
    assert archs[0] == fixed[0] and len(set(archs)) == 40
    assert all(SPACE.contains(a) for a in archs)
    assert archs == pred.sample_archs(SPACE, 40, seed=1, always=fixed)  # seeded


def test_fit_ranks_unseen_archs_and_round_trips(tmp_path: Path) -> None:
    archs = pred.sample_archs(SPACE, 160, seed=0)
    evaluations = [(a, {"mlm": synthetic_loss(a)}) for a in archs]
    fitted = pred.fit(tmp_path, evaluations, "mlm", seed=0, extra_meta={"supernet_digest": "x"})
    assert fitted.meta["cv"]["spearman"] > 0.9  # out-of-fold: archs the regressor did not see
    unseen = [a for a in pred.sample_archs(SPACE, 220, seed=7) if a not in set(archs)][:40]
    from scipy.stats import spearmanr

    assert spearmanr(fitted.predict(unseen), [synthetic_loss(a) for a in unseen]).statistic > 0.9
    loaded = pred.load(tmp_path)
    assert loaded is not None and loaded.measure == "mlm"
    np.testing.assert_allclose(loaded.predict(unseen), fitted.predict(unseen), rtol=1e-6)
    assert json.loads((tmp_path / pred.META).read_text())["samples"] == 160


def test_a_damaged_model_is_refitted_not_a_crash(tmp_path: Path) -> None:
    archs = pred.sample_archs(SPACE, 20, seed=0)
    pred.fit(tmp_path, [(a, {"mlm": synthetic_loss(a)}) for a in archs], "mlm", 0, {})
    (tmp_path / pred.MODEL).write_text("{not json")
    assert pred.load(tmp_path) is None


def test_evaluations_resume_after_an_interruption(tmp_path: Path) -> None:
    archs = pred.sample_archs(SPACE, 12, seed=3)
    calls: list[int] = []

    def failing(part):
        calls.append(len(part))
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed during the second chunk
        return [{"mlm": synthetic_loss(a)} for a in part]

    with pytest.raises(KeyboardInterrupt):
        pred.evaluate_missing(tmp_path, archs, failing, chunk=4)
    with (tmp_path / pred.EVALUATIONS).open("a") as handle:
        handle.write('{"arch": {"num_hidden_layers"')  # a line cut short by the kill
    seen: list = []

    def counting(part):
        seen.extend(part)
        return [{"mlm": synthetic_loss(a)} for a in part]

    done = pred.evaluate_missing(tmp_path, archs, counting, chunk=4)
    assert seen == archs[4:]  # only what the first run did not finish
    assert [a for a, _ in done] == archs
    assert [a for a, _ in pred.read_evaluations(tmp_path)] == archs  # the record after the cut line survived
    assert all(losses["mlm"] == pytest.approx(synthetic_loss(a)) for a, losses in done)
