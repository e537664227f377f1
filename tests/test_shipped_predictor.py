"""Shipped accuracy predictors (issue 31 item 7): `nas supernet ship` packages a supernet's fitted predictor into a
checksummed folder, `nas search --estimator predictor` searches with it (no supernet weights, no torch), a changed
file is one line; and `--estimator params` scores by body-parameter count.

The supernets here are directories that read as trained supernets (supernet.json, space.toml) whose predictor is
fitted through the predictor module on a synthetic table: no torch, no training; the root of shipped predictors
is a tmp folder (NAS_SHIPPED_DIR), never the package's."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nas.accuracy import get_estimator, shipping
from nas.accuracy import predictor as pred
from nas.accuracy import supernet as sn
from nas.accuracy.proxy import body_params
from nas.supernet.ensemble import write_ensemble
from nas_common.errors import UserInputError
from nas_common.io import file_sha256
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace
from tests.bad_input_support import REPO_ROOT, run_cli
from tests.supernet_helpers import SPACE_TOML

SAMPLES = 24


def fitted_supernet(directory: Path, seed: int = 0) -> Path:
    """A directory that reads as a trained supernet of the tiny space, its predictor fitted (as `nas supernet score`
    stores it) on SAMPLES synthetic held-out losses that fall with the body size."""
    directory.mkdir(parents=True)
    (directory / "supernet.json").write_text(json.dumps({
        "format": 1, "steps_done": 3, "teacher": "/somewhere/teacher",
        "options": {"steps": 3, "schedule": "jkt", "seed": seed, "out": str(directory), "device": "cpu"}}))
    (directory / "space.toml").write_text(SPACE_TOML)
    (directory / "weights").mkdir()  # where a trained supernet's weights lie (`nas supernet ensemble` checks)
    (directory / "weights" / "config.json").write_text("{}\n")
    space = SearchSpace.load(directory / "space.toml")
    rng = np.random.default_rng(seed)
    archs = pred.sample_archs(space, SAMPLES, seed)
    evaluations = [(a, {"mlm": 8.0 - 0.5 * math.log10(body_params(a)) + 0.01 * rng.standard_normal()})
                   for a in archs]
    store = directory / sn.PREDICTOR_DIR
    store.mkdir()
    pred.fit(store, evaluations, sn.MEASURE, seed,
             {"supernet_digest": sn.supernet_digest(directory), "requested_samples": pred.SAMPLES,
              "eval": {"corpus": "held-out.txt", "batches": sn.EVAL_BATCHES, "batch_size": sn.EVAL_BATCH}})
    return directory


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = fitted_supernet(tmp_path_factory.mktemp("shipped") / "sn")
    sn.write_quality(directory, "Spearman 0.90 vs toy students (held-out PD loss), n=5; its predictor 0.85 on the "
                                "same students", {"scatter": 0.01, "scatter_n": 5, "scatter_loss": 0.1,
                                                  "predictor_scatter_loss": 0.12})
    return directory


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(shipping.ENV, str(tmp_path / "shipped"))
    sn._cached_predictor.cache_clear()
    return tmp_path / "shipped"


def test_ship_writes_a_checksummed_entry_without_the_training_data(source: Path, root: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["supernet", "ship", str(source), "--name", "toy"], capsys)
    assert code == 0, err
    assert "--estimator predictor --predictor toy" in out
    entry = root / "toy"
    manifest = json.loads((entry / shipping.MANIFEST).read_text())
    assert manifest["name"] == "toy" and manifest["format"] == shipping.FORMAT and manifest["measure"] == sn.MEASURE
    assert manifest["source"]["digest"] == sn.supernet_digest(source) and manifest["source"]["steps_done"] == 3
    assert manifest["source"]["recipe"] == {"steps": 3, "schedule": "jkt", "seed": 0}  # no paths, no device
    assert manifest["source"]["teacher"] == "teacher"
    assert set(manifest["files"]) == {"space.toml", "quality.json", "predictors/0/model.json",
                                      "predictors/0/meta.json"}
    for relative, record in manifest["files"].items():
        assert record == {"sha256": file_sha256(entry / relative), "bytes": (entry / relative).stat().st_size}
    assert manifest["bytes"] == sum(f["bytes"] for f in manifest["files"].values())
    assert not list(entry.rglob(pred.EVALUATIONS))
    # shipped again, the same files are the same version; without --overwrite it is refused
    first = manifest["version"]
    assert run_cli(["supernet", "ship", str(source), "--name", "toy"], capsys)[0] == 2
    assert run_cli(["supernet", "ship", str(source), "--name", "toy", "--overwrite"], capsys)[0] == 0
    assert json.loads((entry / shipping.MANIFEST).read_text())["version"] == first
    assert sorted(p.name for p in root.iterdir()) == ["toy"]  # no staging folder left behind


def test_the_shipped_predictor_scores_as_the_supernet_estimator(source: Path, root: Path) -> None:
    """Same predictor, same scores: the shipped estimator is the supernet estimator's search-time scoring, with
    the quality record shown and the space restricted to the supernet's."""
    shipping.ship(source, "toy")
    shipped = get_estimator("predictor")  # the only one shipped
    supernet = get_estimator("supernet", supernet=str(source))
    archs = shipped.space.sample_many(20, np.random.default_rng(1))
    assert shipped.estimate(archs) == pytest.approx(supernet.estimate(archs), rel=1e-12)
    assert shipped.quality.startswith("shipped toy: Spearman 0.90 vs toy students")
    assert "predictor CV" in shipped.quality
    assert shipped.loss_scatter == 0.12 and "5 distilled students" in shipped.loss_scatter_source
    assert "predicted" in shipped.quantity and "MLM" in shipped.quantity
    assert shipped.restrict_space(SearchSpace.load("mobilebert-family"), explicit=False).name == "tiny-supernet"
    with pytest.raises(UserInputError, match="outside the supernet's space"):
        shipped.restrict_space(SearchSpace.load("mobilebert-small"), explicit=True)
    assert get_estimator("predictor", predictor="toy").version == shipped.version


def test_search_with_a_shipped_predictor_ends_with_a_front(source: Path, root: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    shipping.ship(source, "toy")
    out = tmp_path / "run"
    code, stdout, err = run_cli(["search", "--device", "pixel4", "--budget", "62ms", "--estimator", "predictor",
                                 "--trials", "40", "--out", str(out)], capsys)
    assert code == 0, err
    assert "Pareto front" in stdout and "shipped toy: Spearman 0.90" in " ".join(stdout.split())
    run = json.loads((out / "run.json").read_text())
    assert run["estimator"]["name"] == "predictor" and run["estimator"]["quality"].startswith("shipped toy")
    from nas.search.results import front, load_trials

    chosen = front(load_trials(out), 62.0)
    space = SearchSpace.load(source / "space.toml")
    assert chosen and all(space.contains(t.arch) for t in chosen)


def test_the_shipped_predictor_never_imports_torch(source: Path, root: Path) -> None:
    shipping.ship(source, "toy")
    script = ("import sys\nimport numpy as np\nfrom nas.accuracy import get_estimator\n"
              "from search_spaces.space import SearchSpace\nestimator = get_estimator('predictor')\n"
              "space = estimator.restrict_space(SearchSpace.load('mobilebert-family'), explicit=False)\n"
              "estimator.estimate(space.sample_many(5, np.random.default_rng(0)))\nestimator.quality\n"
              "print('torch loaded:', 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=REPO_ROOT, env={**os.environ, shipping.ENV: str(root)})
    assert result.returncode == 0, result.stderr
    assert "torch loaded: False" in result.stdout


def test_a_changed_file_is_one_line(source: Path, root: Path, capsys: pytest.CaptureFixture[str],
                                    tmp_path: Path) -> None:
    entry = shipping.ship(source, "toy")
    model = entry / shipping.PREDICTORS / "0" / pred.MODEL
    model.write_bytes(model.read_bytes().replace(b"0", b"1", 1))
    code, out, err = run_cli(["search", "--device", "pixel4", "--budget", "62ms", "--estimator", "predictor",
                              "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "predictors/0/model.json does not match the sha256" in err
    model.unlink()
    with pytest.raises(UserInputError, match="model.json is missing"):
        get_estimator("predictor", predictor="toy")


def test_which_shipped_predictor(source: Path, root: Path) -> None:
    with pytest.raises(UserInputError, match="no predictor is shipped.*nas supernet ship"):
        get_estimator("predictor")
    shipping.ship(source, "a")
    shipping.ship(source, "b")
    with pytest.raises(UserInputError, match=r"several predictors are shipped \(a, b\)"):
        get_estimator("predictor")
    with pytest.raises(UserInputError, match="no such shipped predictor; shipped: a, b"):
        get_estimator("predictor", predictor="c")
    with pytest.raises(UserInputError, match="does not take --supernet"):
        get_estimator("predictor", supernet="x")


def test_a_stale_predictor_is_not_shipped(source: Path, root: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "sn"
    shutil.copytree(source, copy)
    meta = json.loads((copy / "supernet.json").read_text())
    (copy / "supernet.json").write_text(json.dumps({**meta, "steps_done": 4}))  # trained further since the fit
    with pytest.raises(UserInputError, match="no accuracy predictor fitted for its current weights.*supernet score"):
        shipping.ship(copy, "toy")
    assert not root.exists() or not list(root.iterdir())


def test_an_ensemble_ships_its_members_predictors(source: Path, root: Path, tmp_path: Path) -> None:
    other = fitted_supernet(tmp_path / "sn1", seed=1)
    group = write_ensemble([source, other], tmp_path / "ens", False)
    entry = shipping.ship(group, "pair")
    manifest = json.loads((entry / shipping.MANIFEST).read_text())
    assert manifest["predictors"] == 2 and manifest["source"]["members"] == ["sn", "sn1"]
    assert "quality.json" not in manifest["files"]  # measured for the first member, not for the ensemble
    shipped = get_estimator("predictor", predictor="pair")
    archs = shipped.space.sample_many(10, np.random.default_rng(2))
    assert shipped.estimate(archs) == pytest.approx(get_estimator("supernet", supernet=str(group)).estimate(archs),
                                                    rel=1e-12)
    assert "not measured for this ensemble of 2 supernets" in shipped.quality


def test_params_ranks_a_bigger_body_higher() -> None:
    estimator = get_estimator("params")
    small, large = Arch.from_dict({"num_hidden_layers": 4}), Arch.from_dict({"num_hidden_layers": 24})
    scores = estimator.estimate([small, large])
    assert body_params(large) > body_params(small) and scores[1] > scores[0]
    assert np.all((scores > 0) & (scores <= 1))
    assert scores[0] == pytest.approx(body_params(small) / 1e9)
    assert "n=18" in estimator.quality and "estimator_rank_split_s9600.json" in estimator.quality
    archs = SearchSpace.load("mobilebert-family").sample_many(2000, np.random.default_rng(0))
    start = time.perf_counter()
    estimator.estimate(archs)
    assert (time.perf_counter() - start) / len(archs) < 1e-3  # microseconds an arch (1 ms: a loaded machine)


def test_the_proofs_predictor_ships_with_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 31 item 7: the proof's trained predictor is package data, its checksums hold, and the proof's search
    step (its space, 30 ms on pixel4) runs from it alone on a fresh install; the wall time is in
    benchmarks/results/search_wall_time_proof.json."""
    monkeypatch.delenv(shipping.ENV, raising=False)
    sn._cached_predictor.cache_clear()
    assert "proof-seed0" in shipping.shipped_names()
    out = tmp_path / "run"
    space = REPO_ROOT / "nas" / "supernet" / "data" / "minilm-384.toml"
    code, stdout, err = run_cli(["search", "--device", "pixel4", "--budget", "30ms", "--space", str(space),
                                 "--estimator", "predictor", "--predictor", "proof-seed0", "--trials", "200",
                                 "--out", str(out)], capsys)
    assert code == 0, err
    from nas.search.results import front, load_trials

    chosen = front(load_trials(out), 30.0)
    assert chosen and all(t.latency_ms <= 30.0 for t in chosen)


def test_a_shipped_predictors_quality_is_measured_against_students(source: Path, root: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`nas supernet quality --shipped NAME` ranks distilled students by the shipped files alone (the supernet's
    weights may be long gone, as the proof's are): Spearman as scipy computes it, inside its bootstrap interval,
    the record in the manifest's checksums, and the version (what runs record to resume) unchanged."""
    from scipy.stats import spearmanr

    entry = shipping.ship(source, "toy")
    (entry / shipping.QUALITY).unlink()  # shipped without a record, as the proof's predictor was
    manifest = json.loads((entry / shipping.MANIFEST).read_text())
    del manifest["files"][shipping.QUALITY]
    (entry / shipping.MANIFEST).write_text(json.dumps(manifest))
    space = SearchSpace.load(source / "space.toml")
    archs = pred.sample_archs(space, 8, 3)
    rng = np.random.default_rng(0)
    losses = [7.0 - 0.4 * math.log10(body_params(a)) + 0.05 * rng.standard_normal() for a in archs]
    outside = Arch.from_dict({**archs[0].to_dict(), "num_hidden_layers": 24})  # not in the toy space: left out
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"students": "toy students", "archs": 9, "measure": "held-out PD loss",
                                 "data": [{"arch": a.to_dict(), "loss": x} for a, x in zip(archs, losses, strict=True)]
                                 + [{"arch": outside.to_dict(), "loss": 1.0}]}))
    code, out, err = run_cli(["supernet", "quality", "--shipped", "toy", "--truth", str(truth)], capsys)
    assert code == 0, err
    record = json.loads((entry / shipping.QUALITY).read_text())
    predicted = sn.predicted_losses(get_estimator("predictor").predictors, archs)
    expected = spearmanr(-np.asarray(predicted), -np.asarray(losses)).statistic
    assert record["spearman"] == pytest.approx(expected, abs=1e-4)
    assert record["interval95"][0] <= record["spearman"] <= record["interval95"][1]
    assert record["scatter_n"] == 8 and "n=8, 8 of 9 archs" in record["text"] and "held-out PD loss" in record["text"]
    after = shipping.verified_manifest(entry)  # the new record is checksummed
    assert shipping.QUALITY in after["files"] and after["version"] == manifest["version"]
    shipped = get_estimator("predictor")
    assert shipped.quality.startswith(f"shipped toy: Spearman {record['spearman']:.2f}")
    assert shipped.loss_scatter == record["predictor_scatter_loss"] > 0
    assert run_cli(["supernet", "quality", "--shipped", "toy", "--truth", str(truth)], capsys)[0] == 2
    assert run_cli(["supernet", "quality", "--shipped", "toy", "--truth", str(truth), "--overwrite"], capsys)[0] == 0
