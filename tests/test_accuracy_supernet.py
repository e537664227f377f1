"""`--estimator supernet`: the predictor fitted once and stored, the front re-scored by the supernet, the space
restricted to the supernet's, and the one-line errors (on a tiny supernet trained in a few seconds)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nas.accuracy import get_estimator
from nas.accuracy import predictor as pred
from nas.accuracy import supernet as sn
from nas.search.trial import Trial
from nas_common.errors import UserInputError
from search_spaces.space import SearchSpace
from tests.supernet_helpers import toy_inputs

torch.set_num_threads(1)
SAMPLES = 16


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nas.supernet.pipeline import SupernetOptions, run_supernet

    root = tmp_path_factory.mktemp("accuracy_supernet")
    paths = toy_inputs(root)
    out = root / "sn"
    run_supernet(SupernetOptions(str(paths["teacher"]), str(paths["corpus"]), out, str(paths["space"]), steps=3,
                                 batch_size=4, seq_len=24, max_predictions=4, lr=1e-3, warmup=1, checkpoint_every=0,
                                 progress=False, eval_corpus=str(paths["corpus"])))
    return out


@pytest.fixture
def supernet_dir(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy (no predictor yet) with a small sample and held-out set."""
    import shutil

    copy = tmp_path / "sn"
    shutil.copytree(trained, copy)
    monkeypatch.setattr(pred, "SAMPLES", SAMPLES)
    monkeypatch.setattr(sn, "EVAL_BATCHES", 2)
    monkeypatch.setattr(sn, "EVAL_BATCH", 4)
    sn._scorer.cache_clear()
    sn._cached_predictor.cache_clear()
    return copy


def test_a_new_held_out_set_re_evaluates_the_predictor_sample(supernet_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored evaluations made on another held-out set are not reused (they used to be, when only the set changed)."""
    estimator = get_estimator("supernet", supernet=str(supernet_dir))
    estimator.estimate(estimator.space.sample_many(2, np.random.default_rng(0)))
    evaluations = supernet_dir / sn.PREDICTOR_DIR / pred.EVALUATIONS
    before = evaluations.read_text()
    monkeypatch.setattr(sn, "EVAL_BATCHES", 3)
    sn._scorer.cache_clear()
    sn._cached_predictor.cache_clear()
    again = get_estimator("supernet", supernet=str(supernet_dir))
    again.estimate(again.space.sample_many(2, np.random.default_rng(0)))
    assert again.predictor.meta["eval"]["batches"] == 3
    assert evaluations.read_text() != before


def test_predictor_is_fitted_once_and_stored(supernet_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    estimator = get_estimator("supernet", supernet=str(supernet_dir))
    store = supernet_dir / sn.PREDICTOR_DIR
    assert not store.exists()  # nothing is fitted before an arch is scored (a bad --space fails fast)
    estimator.estimate(estimator.space.sample_many(2, np.random.default_rng(0)))
    assert (store / pred.MODEL).is_file() and (store / pred.META).is_file()
    assert len((store / pred.EVALUATIONS).read_text().splitlines()) == SAMPLES
    assert estimator.predictor.meta["measure"] == sn.MEASURE and estimator.predictor.meta["samples"] == SAMPLES
    sn._scorer.cache_clear()
    sn._cached_predictor.cache_clear()

    def no_supernet(_: Path) -> None:
        raise AssertionError("the stored predictor must be reused, not refitted")

    monkeypatch.setattr(sn, "_Scorer", no_supernet)
    again = get_estimator("supernet", supernet=str(supernet_dir))
    archs = again.space.sample_many(30, np.random.default_rng(0))
    np.testing.assert_allclose(again.estimate(archs), estimator.estimate(archs))
    assert again.version == estimator.version and "not measured" in again.quality


def test_scores_are_exp_of_minus_the_held_out_loss(supernet_dir: Path) -> None:
    estimator = sn.SupernetEstimator(str(supernet_dir))
    archs = estimator.space.sample_many(6, np.random.default_rng(1))
    scores = estimator.supernet_scores(archs)
    direct = sn._scorer(estimator.directory).losses(archs)
    np.testing.assert_allclose(scores, [math.exp(-t[sn.MEASURE]) for t in direct])
    predicted = estimator.estimate(archs)
    assert predicted.shape == (6,) and np.all((predicted > 0) & (predicted <= 1))
    assert np.all((scores > 0) & (scores <= 1))


def test_front_is_rescored_by_the_supernet(supernet_dir: Path) -> None:
    estimator = sn.SupernetEstimator(str(supernet_dir))
    archs = estimator.space.sample_many(12, np.random.default_rng(2))
    predicted = estimator.estimate(archs)
    trials = [Trial(i, 0, 10.0 + i, float(p), a.num_params(), a, 0.0)
              for i, (a, p) in enumerate(zip(archs, predicted, strict=True))]
    trials.append(Trial(99, 0, 500.0, None, archs[0].num_params(), archs[0], 0.0))  # over the budget
    refined = estimator.refine_front(trials, budget_ms=100.0)
    from nas.search.results import front

    points = front(refined, 100.0)
    truth = dict(zip((t.id for t in points), estimator.supernet_scores([t.arch for t in points]), strict=True))
    assert points and all(t.accuracy == pytest.approx(truth[t.id]) for t in points)
    changed = {t.id for t, r in zip(trials, refined, strict=True) if t.accuracy != r.accuracy}
    assert changed and changed <= {t.id for t in points} | set(range(12))
    assert refined[-1].accuracy is None


def test_rescoring_is_capped(supernet_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    estimator = sn.SupernetEstimator(str(supernet_dir))
    archs = estimator.space.sample_many(12, np.random.default_rng(4))
    trials = [Trial(i, 0, 10.0 + i, 1.0 - 0.01 * i, a.num_params(), a, 0.0) for i, a in enumerate(archs)]
    monkeypatch.setattr(sn, "REFINE_MAX", 2)
    refined = estimator.refine_front(trials, budget_ms=100.0)
    assert sum(t.accuracy != r.accuracy for t, r in zip(trials, refined, strict=True)) == 2


def test_space_is_the_supernets_or_inside_it(supernet_dir: Path, tmp_path: Path) -> None:
    estimator = sn.SupernetEstimator(str(supernet_dir))
    default = SearchSpace.default()
    assert estimator.restrict_space(default, explicit=False).dimensions == estimator.space.dimensions
    inside = tmp_path / "inside.toml"
    inside.write_text((supernet_dir / "space.toml").read_text().replace("num_hidden_layers = [1, 2, 3]",
                                                                         "num_hidden_layers = [2, 3]"))
    assert estimator.restrict_space(SearchSpace.load(inside), explicit=True).dimensions["num_hidden_layers"] == (2, 3)
    outside = tmp_path / "outside.toml"
    outside.write_text((supernet_dir / "space.toml").read_text().replace("intermediate_size = [16, 32]",
                                                                          "intermediate_size = [16, 64]"))
    with pytest.raises(UserInputError) as err:
        estimator.restrict_space(SearchSpace.load(outside), explicit=True)
    assert "intermediate_size" in str(err.value) and "64" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(UserInputError):
        estimator.restrict_space(default, explicit=True)  # 512-wide, 24 layers: far outside


def test_quality_reports_what_the_benchmark_measured(supernet_dir: Path) -> None:
    sn._cached_predictor.cache_clear()
    assert sn.SupernetEstimator(str(supernet_dir)).scatter is None  # nothing measured yet
    sn.write_quality(supernet_dir, "Spearman 0.50 vs distilled students (held-out PD loss), n=4, partial",
                     {"scatter": 0.0123, "scatter_n": 4, "scatter_loss": 0.14})
    estimator = sn.SupernetEstimator(str(supernet_dir))
    assert estimator.quality.startswith("Spearman 0.50 vs distilled students")
    assert f"n={SAMPLES}" in estimator.quality  # and the predictor's agreement with the supernet
    assert estimator.scatter == 0.0123 and "4 distilled students" in estimator.scatter_source
    # what a person reads: the held-out loss in nats, with its scatter in nats
    assert estimator.loss_scatter == 0.14 and "4 distilled students" in estimator.loss_scatter_source
    assert "MLM loss" in estimator.quantity


def test_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="needs --supernet"):
        get_estimator("supernet")
    with pytest.raises(UserInputError, match="not a supernet directory"):
        get_estimator("supernet", supernet=str(tmp_path))
    with pytest.raises(UserInputError, match="does not take --supernet"):
        get_estimator("proxy", supernet=str(tmp_path))


def nas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from nas.cli import main; main()", *args], capture_output=True,
                          text=True)


@pytest.mark.slow
def test_search_with_the_supernet_end_to_end(trained: Path, tmp_path: Path) -> None:
    """`nas search --estimator supernet --supernet DIR`: the front lies inside the budget and the supernet's space,
    is scored by the supernet itself, and run.json names the estimator with its measured quality."""
    import json
    import shutil

    directory = tmp_path / "sn"
    shutil.copytree(trained, directory)
    out = tmp_path / "run"
    result = nas("search", "--device", "pixel4", "--budget", "62ms", "--estimator", "supernet", "--supernet",
                 str(directory), "--trials", "60", "--seed", "0", "--out", str(out))
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["estimator"]["name"] == "supernet" and "predictor CV Spearman" in run["estimator"]["quality"]
    space = SearchSpace.load(directory / "space.toml")
    estimator = sn.SupernetEstimator(str(directory))
    from nas.search.results import front, load_trials

    chosen = front(load_trials(out), 62.0)
    assert chosen and all(t.latency_ms <= 62.0 and space.contains(t.arch) for t in chosen)
    pick = json.loads((out / "best" / "arch.json").read_text())
    best = estimator.supernet_scores([type(chosen[0].arch).from_dict(pick)])[0]
    assert run["summary"]["best"]["accuracy"] == pytest.approx(best, rel=1e-6)  # re-scored by the supernet
    assert "supernet" in (out / "pareto.html").read_text()


def test_search_space_outside_the_supernet_is_one_line(trained: Path, tmp_path: Path) -> None:
    result = nas("search", "--device", "pixel4", "--budget", "62ms", "--estimator", "supernet", "--supernet",
                 str(trained), "--space", "mobilebert-small", "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "outside the supernet's space" in result.stderr
    result = nas("search", "--device", "pixel4", "--budget", "62ms", "--estimator", "supernet",
                 "--out", str(tmp_path / "run2"))
    assert result.returncode == 2 and "needs --supernet" in result.stderr and result.stderr.count("\n") == 1


def test_fast_mlm_equals_the_supernets_own_term(supernet_dir: Path) -> None:
    """The estimator's teacher-free path computes exactly Supernet.subnet_losses' `mlm`."""
    estimator = sn.SupernetEstimator(str(supernet_dir))
    scorer = sn._scorer(estimator.directory)
    archs = estimator.space.sample_many(4, np.random.default_rng(3))
    fast = sn.mlm_losses(scorer.supernet, archs, scorer.batches)
    full = scorer.supernet.subnet_losses(archs, scorer.batches)
    assert [f["mlm"] for f in fast] == pytest.approx([t["mlm"] for t in full], abs=2e-6)


def test_supernet_score_shows_the_predictor(supernet_dir: Path) -> None:
    """`nas supernet score` adds the predictor's column (its predicted held-out `MEASURE` loss)."""
    from nas.supernet.score import score_rows

    rows = score_rows(supernet_dir, ['{"num_hidden_layers": 2}'], None, sn.MEASURE)
    estimator = sn.SupernetEstimator(str(supernet_dir))
    from search_spaces.arch import Arch

    predicted = estimator.predictor.predict([Arch.from_dict(rows[0]["arch_fields"])])[0]
    assert rows[0]["predictor"] == pytest.approx(predicted) and "predictor" in rows[0]["line"]
    # Scored on another loss, the predictor's column still says which loss it predicts.
    other = score_rows(supernet_dir, ['{"num_hidden_layers": 2}'], None, "distill")[0]
    assert other["predictor_measure"] == sn.MEASURE != other["measure"]
    assert f"predictor {sn.MEASURE} " in other["line"]


def test_supernet_score_lines_keep_the_digits_its_scatter_resolves(supernet_dir: Path) -> None:
    """Once a benchmark measured how far the supernet's loss scatters about distilled students' (0.14 nats for
    run 17), a score line shows two decimals, not four; unmeasured, four."""
    from nas.supernet.score import score_rows

    arch = ['{"num_hidden_layers": 2}']
    plain = score_rows(supernet_dir, arch, None, sn.MEASURE, predictor=False)[0]
    assert f"{sn.MEASURE} {plain['score']:.4f}" in plain["line"]
    sn.write_quality(supernet_dir, "Spearman 0.88 vs distilled students (held-out PD loss), n=18",
                     {"scatter_loss": 0.14, "predictor_scatter_loss": 0.014})
    row = score_rows(supernet_dir, arch, None, sn.MEASURE)[0]
    assert row["line"].endswith(f"{sn.MEASURE} {row['score']:.2f}  predictor {sn.MEASURE} {row['predictor']:.3f}")
    other = score_rows(supernet_dir, arch, None, "distill", predictor=False)[0]  # not what was measured
    assert f"distill {other['score']:.4f}" in other["line"]


def _reference_record(directory: Path, truth: dict, predictor: bool) -> dict:
    """What benchmarks/estimator_rank.py's record_supernet_quality computed and passed to write_quality before
    `nas supernet quality` owned the file (its code, on the same inputs)."""
    from benchmarks.estimator_rank_stats import correlations
    from nas.accuracy.resolution import scatter
    from search_spaces.arch import Arch

    estimator = sn.SupernetEstimator(str(directory))
    keys = [r["key"] for r in truth["data"]]
    archs = [Arch.from_dict(r["arch"]) for r in truth["data"]]
    losses = {r["key"]: r["loss"] for r in truth["data"]}
    scores = dict(zip(keys, estimator.supernet_scores(archs).tolist(), strict=True))
    predicted = dict(zip(keys, estimator.estimate(archs).tolist(), strict=True)) if predictor else None
    block = correlations(scores, losses, higher_is_better=False)
    predictor_rho = correlations(predicted, losses, higher_is_better=False)["spearman"] if predictor else None
    student_losses = [losses[k] for k in keys]

    def loss_scatter(estimates: dict[str, float] | None) -> float | None:
        if not estimates:
            return None
        return round(scatter([-math.log(estimates[k]) for k in keys], student_losses), 6)

    text = (f"Spearman {block['spearman']:.2f} vs distilled students (held-out PD loss), n={block['n']}"
            + (f", {block['n']} of {truth['archs']} archs" if block["n"] < truth["archs"] else "")
            + (f"; its predictor {predictor_rho:.2f} on the same students" if predictor_rho is not None else ""))
    details = {"benchmark": "benchmarks/estimator_rank.py", "date": truth["date"], "seed": truth["seed"],
               "kendall": block["kendall"], "predictor_spearman": predictor_rho, "budget": truth["budget"],
               "scatter": round(scatter([scores[k] for k in keys], student_losses), 6),
               "scatter_n": len(keys), "scatter_loss": loss_scatter(scores),
               "predictor_scatter_loss": loss_scatter(predicted)}
    sn.write_quality(directory, text, details)
    path = directory / sn.PREDICTOR_DIR / sn.QUALITY
    written = path.read_bytes()
    path.unlink()
    return {"bytes": written}


@pytest.mark.parametrize("predictor", [False, True])
def test_supernet_quality_command_writes_the_benchmarks_record(supernet_dir: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str],
                                                               predictor: bool) -> None:
    from tests.bad_input_support import run_cli

    choices = [(1, 8, 1, 16), (2, 16, 2, 32), (3, "none", 4, 32), (2, 8, 4, 16), (3, 16, 1, 32)]
    data = [{"key": f"a{i}", "arch": {**SearchSpace.load(supernet_dir / "space.toml").to_arch(
        {"num_hidden_layers": layers, "intra_bottleneck_size": bottleneck, "num_attention_heads": heads,
         "intermediate_size": ffn, "num_feedforward_networks": 1}).to_dict()}, "loss": 3.0 - 0.2 * i + 0.01 * i * i}
        for i, (layers, bottleneck, heads, ffn) in enumerate(choices)]
    truth = {"note": "synthetic", "students": "distilled students", "archs": 16, "seed": 0,
             "measured_by": "benchmarks/estimator_rank.py", "date": "2026-01-01T00:00:00+00:00",
             "budget": {"schedule": "jkt", "seq_len": 24}, "data": data}
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(truth))
    expected = _reference_record(supernet_dir, truth, predictor)["bytes"]
    argv = ["supernet", "quality", str(supernet_dir), "--truth", str(path)] + ([] if predictor else ["--no-predictor"])
    code, out, _ = run_cli(argv, capsys)
    assert code == 0 and "Spearman" in out
    assert (supernet_dir / sn.PREDICTOR_DIR / sn.QUALITY).read_bytes() == expected
    assert sn.measured_record(supernet_dir)["scatter_n"] == 5
    code, _, err = run_cli(argv, capsys)  # a second time: the record is kept unless --overwrite
    assert code == 2 and "--overwrite" in err and err.count("\n") == 1
    assert run_cli([*argv, "--overwrite"], capsys)[0] == 0
    assert (supernet_dir / sn.PREDICTOR_DIR / sn.QUALITY).read_bytes() == expected
