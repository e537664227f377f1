"""`nas supernet ensemble`: supernets of one recipe on several seeds score an arch by the mean of their
held-out losses (and of their predictors'), in `nas search --estimator supernet` and `nas supernet score`
(on two tiny supernets trained in a few seconds)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from nas.accuracy import predictor as pred
from nas.accuracy import supernet as sn
from nas.supernet.ensemble import members, write_ensemble
from tests.supernet_helpers import toy_inputs

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained_pair(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from nas.supernet.pipeline import SupernetOptions, run_supernet

    root = tmp_path_factory.mktemp("ensemble")
    paths = toy_inputs(root)
    outs = []
    for seed in (0, 1):
        out = root / f"sn{seed}"
        run_supernet(SupernetOptions(str(paths["teacher"]), str(paths["corpus"]), out, str(paths["space"]), steps=3,
                                     batch_size=4, seq_len=24, max_predictions=4, lr=1e-3, warmup=1,
                                     checkpoint_every=0, progress=False, eval_corpus=str(paths["corpus"]),
                                     seed=seed))
        outs.append(out)
    return outs


@pytest.fixture
def ensemble_dir(trained_pair: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fresh copies of both members (no predictors yet) grouped into an ensemble; a small sample and held-out set."""
    copies = []
    for member in trained_pair:
        shutil.copytree(member, tmp_path / member.name)
        copies.append(tmp_path / member.name)
    monkeypatch.setattr(pred, "SAMPLES", 12)
    monkeypatch.setattr(sn, "EVAL_BATCHES", 2)
    monkeypatch.setattr(sn, "EVAL_BATCH", 4)
    sn._scorer.cache_clear()
    sn._cached_predictor.cache_clear()
    return write_ensemble(copies, tmp_path / "ensemble")


def test_an_ensemble_scores_the_mean_of_its_members(ensemble_dir: Path) -> None:
    ensemble = sn.SupernetEstimator(str(ensemble_dir))
    singles = [sn.SupernetEstimator(str(m)) for m in members(ensemble_dir)]
    archs = ensemble.space.sample_many(5, np.random.default_rng(0))
    own = [-np.log(s.supernet_scores(archs)) for s in singles]
    assert not np.allclose(own[0], own[1])  # two seeds, two different supernets
    assert -np.log(ensemble.supernet_scores(archs)) == pytest.approx(np.mean(own, axis=0), rel=1e-9)
    predicted = [s.predicted_losses(archs) for s in singles]
    assert ensemble.predicted_losses(archs) == pytest.approx(np.mean(predicted, axis=0), rel=1e-9)
    assert ensemble.estimate(archs) == pytest.approx(np.exp(-np.mean(predicted, axis=0)), rel=1e-9)
    assert ensemble.version != singles[0].version != singles[1].version


def test_an_ensembles_quality_is_its_own(ensemble_dir: Path) -> None:
    """Unmeasured, the label says so for the ensemble; a measurement written for it (benchmarks/supernet_seeds.py
    --ensemble) is shown, and a member's own measurement is not taken for the ensemble's."""
    first = members(ensemble_dir)[0]
    sn.write_quality(first, "Spearman 0.50 vs distilled students (held-out PD loss), n=18", {})
    estimator = sn.SupernetEstimator(str(ensemble_dir))
    assert estimator.quality.startswith("rank correlation vs distilled students not measured for this ensemble of 2")
    sn.write_quality(ensemble_dir, "Spearman 0.81 vs distilled students (held-out PD loss), n=18, mean of 2", {})
    assert sn.SupernetEstimator(str(ensemble_dir)).quality.startswith("Spearman 0.81 vs distilled students")


def test_supernet_score_of_an_ensemble_is_the_members_mean(ensemble_dir: Path) -> None:
    from nas.supernet.score import score_rows

    arch = ['{"num_hidden_layers": 2}']
    rows = [score_rows(m, arch, None, "mlm", predictor=False)[0] for m in members(ensemble_dir)]
    mean = score_rows(ensemble_dir, arch, None, "mlm", predictor=False)[0]
    assert mean["score"] == pytest.approx((rows[0]["score"] + rows[1]["score"]) / 2)
    assert mean["losses"]["distill"] == pytest.approx((rows[0]["losses"]["distill"] + rows[1]["losses"]["distill"])
                                                      / 2)
    assert mean["members"] == 2 and "(mean of 2 supernets)" in mean["line"]


def test_a_search_with_an_ensemble(ensemble_dir: Path, tmp_path: Path) -> None:
    """`nas search --supernet ENSEMBLE`: the front is scored by the ensemble, and run.json names it."""
    from nas.cli import main

    out = tmp_path / "run"
    with pytest.raises(SystemExit) as stop:
        main(["search", "--device", "pixel4", "--budget", "62ms", "--estimator", "supernet", "--supernet",
              str(ensemble_dir), "--trials", "30", "--seed", "0", "--out", str(out)])
    assert stop.value.code in (0, None)
    run = json.loads((out / "run.json").read_text())
    assert "ensemble of 2 supernets" in run["estimator"]["quality"]
    from nas.search.results import front, load_trials

    best = front(load_trials(out), 62.0)[0]
    estimator = sn.SupernetEstimator(str(ensemble_dir))
    assert run["summary"]["best"]["accuracy"] == pytest.approx(estimator.supernet_scores([best.arch])[0], rel=1e-6)
