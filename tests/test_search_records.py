"""The typed trial record: what the journal stores, old journals, `trials.csv`, and the report."""

import json

import pytest

from nas.search.journal import Journal
from nas.search.run_dir import write_trials_csv
from nas.search.trial import Trial
from search_spaces.presets import PRESETS

ARCH = PRESETS["mobilebert-tiny"].arch


def test_trial_round_trips_through_the_journal(tmp_path):
    trials = [Trial.new(0, 0, ARCH, 12.5, 0.4), Trial.new(1, 1, ARCH, 99.0, float("nan"))]
    journal = Journal(tmp_path)
    journal.append(trials)
    journal.close()
    loaded = Journal(tmp_path).load()
    assert [loaded[0], loaded[1]] == trials
    assert loaded[1].accuracy is None and not loaded[1].feasible and loaded[0].feasible
    line = json.loads((tmp_path / "trials.jsonl").read_text().splitlines()[0])
    assert line["generation"] == 0 and "batch" not in line


def test_a_journal_written_before_the_rename_still_loads(tmp_path):
    old = {"id": 7, "batch": 3, "latency_ms": 41.5, "accuracy": 0.5, "feasible": True, "params": ARCH.num_params(),
           "arch": ARCH.to_dict(), "time": 1.0}
    (tmp_path / "trials.jsonl").write_text(json.dumps(old) + "\n")
    trial = Journal(tmp_path).load()[7]
    assert trial.generation == 3 and trial.arch == ARCH and trial.accuracy == 0.5


def test_trials_csv_names_the_generation(tmp_path):
    write_trials_csv(tmp_path, [Trial.new(0, 4, ARCH, 12.5, 0.4)])
    header, row = (tmp_path / "trials.csv").read_text().splitlines()
    assert header.split(",")[:3] == ["id", "generation", "latency_ms"] and "batch" not in header
    assert row.split(",")[1] == "4"
    # the score comes with the loss it stands for, named with its unit (a bare 0.4 reads like 40 % accuracy)
    assert header.split(",")[3:5] == ["accuracy", "est_loss_nats"]
    assert float(row.split(",")[4]) == pytest.approx(0.9163, abs=1e-4)  # −ln 0.4


def test_report_marks_the_pick_names_the_estimator_and_never_scores_over_budget(tmp_path):
    import math

    from nas.accuracy import get_estimator
    from nas.accuracy.resolution import decimals
    from nas.report import build_figure, write_report

    scored = [Trial.new(0, 0, ARCH, 20.0, 0.30), Trial.new(1, 0, ARCH.replace(num_hidden_layers=12), 10.0, 0.20)]
    over = Trial.new(2, 0, ARCH.replace(num_hidden_layers=4), 90.0, float("nan"))
    references = [{"name": "mobilebert-tiny", "latency_ms": 30.0, "accuracy": 0.35, "arch": ARCH}]
    estimator = get_estimator("proxy")
    figure = build_figure([*scored, over], scored, 62.0, references, "t", estimator)
    traces = {trace.name.split(" (")[0].split(":")[0]: trace for trace in figure.data}
    # the y axis is the loss the estimator predicts, in nats, lower (better) on top; its provenance is the caption
    assert figure.layout.yaxis.title.text == "predicted held-out distillation loss (nats) · lower is better"
    assert figure.layout.yaxis.range[0] > figure.layout.yaxis.range[1]
    caption = figure.layout.annotations[-1].text.replace("<br>", " ")
    assert estimator.quality in caption and f"±{estimator.loss_scatter:.2f} nats" in caption
    assert figure.layout.yaxis.hoverformat == f".{decimals(estimator.loss_scatter)}f"  # no digit finer than it
    band = traces["the estimate's scatter"]  # drawn once, as a band about the front; no error bars on the front
    assert band.fill == "tonexty" and traces["Pareto front"].error_y.value is None
    assert band.y == pytest.approx([-math.log(0.20) + estimator.loss_scatter, -math.log(0.30) + estimator.loss_scatter])
    # the never-scored trial sits below (a worse loss than) every scored point, not at a score
    assert traces["over budget"].x == (90.0,) and min(traces["over budget"].y) > -math.log(0.20)
    assert traces["recommended"].x == (20.0,) and traces["recommended"].y == pytest.approx((-math.log(0.30),))
    assert [t.split(" ")[:2] for t in traces["Pareto front"].text] == [["pick", "1"], ["pick", "0"]]
    assert [a.text for a in figure.layout.annotations if a.showarrow] == ["pick 0 → best/"]
    write_report(tmp_path / "p.html", [*scored, over], scored, 62.0, references, "t", estimator)
    assert "recommended: pick 0" in (tmp_path / "p.html").read_text()


def test_paper_models_outside_the_estimators_space_are_drawn_by_latency_only():
    """A supernet's (or shipped) predictor scores its own sub-networks; a 24-layer paper model would be an
    extrapolation, so it is placed by latency alone and the caption says why."""
    from nas.accuracy import get_estimator
    from nas.accuracy.default import DEFAULT_PREDICTOR
    from nas.report import build_figure, reference_points
    from nas.search.evaluator import load_latency_model

    estimator = get_estimator("predictor", predictor=DEFAULT_PREDICTOR)
    references = reference_points(load_latency_model("pixel4"), estimator)
    assert {r["name"] for r in references} >= {"mobilebert", "mobilebert-tiny"}
    assert all(r["accuracy"] is None and r["latency_ms"] > 0 for r in references)  # none is in its 384-wide space
    pixel4 = load_latency_model("pixel4")
    assert all(r["accuracy"] is not None for r in reference_points(pixel4, get_estimator("params")))
    scored = [Trial.new(0, 0, ARCH, 20.0, 0.30)]
    figure = build_figure(scored, scored, 62.0, references, "t", estimator)
    names = [trace.name for trace in figure.data]
    assert "paper models outside the estimator's space (latency only)" in names
    assert not any(str(name).startswith("paper models (predicted latency)") for name in names)
    caption = figure.layout.annotations[-1].text.replace("<br>", " ")
    assert "Outside the estimator's space, so not scored" in caption and "mobilebert " in caption


def test_trials_are_checked_against_the_memory_available():
    from nas.search.capacity import check_trials_fit, expected_bytes
    from nas_common.errors import UserInputError

    gib = 1024**3
    check_trials_fit(2000, available=gib)  # the default search fits in 1 GiB
    assert expected_bytes(2000) < 0.25 * gib
    with pytest.raises(UserInputError, match=r"--trials 1,000,000 would hold about 4\.5 GiB.*at most about 120,"):
        check_trials_fit(1_000_000, available=gib)


def test_report_draws_a_sample_of_a_huge_search_but_the_whole_front(monkeypatch):
    from nas import report

    monkeypatch.setattr(report, "_MAX_SCORED_DRAWN", 10)
    scored = [Trial.new(i, 0, ARCH, 10.0 + i, 0.5 - i / 1000) for i in range(95)]
    front = scored[:3]
    figure = report.build_figure(scored, front, 200.0, [], "t", None)
    traces = {trace.name.split(" (")[0]: trace for trace in figure.data}
    within = traces["trials within budget"]
    assert len(within.x) == 10 and within.x[0] == 10.0 and within.x[-1] == 104.0  # first and last trial kept
    assert "10 of 95 drawn" in within.name
    assert len(traces["Pareto front"].x) == 3
    assert report.drawn_sample(scored[:7], 10) == scored[:7]


@pytest.mark.parametrize("name", ["proxy"])
def test_estimator_quality_is_the_committed_measurement(name):
    """The quality string quotes the figure the benchmark wrote (it goes stale if the benchmark is re-run)."""
    from pathlib import Path

    from nas.accuracy import get_estimator

    result = json.loads((Path(__file__).parents[1] / "nas/accuracy/proxy_fit.json").read_text())  # --refit-proxy
    figure = f"{result['loo_spearman']:.2f}"
    assert figure in get_estimator(name).quality and f"n={result['n']}" in get_estimator(name).quality


def test_load_trials_applies_the_scores_rescored_at_the_end_of_the_run(tmp_path):
    from nas.search.results import front, load_trials

    journal = Journal(tmp_path)
    journal.append([Trial.new(0, 0, ARCH, 20.0, 0.30), Trial.new(1, 0, ARCH.replace(num_hidden_layers=12), 30.0, 0.40)])
    journal.close()
    assert [t.id for t in front(load_trials(tmp_path), 62.0)] == [1, 0]
    (tmp_path / "run.json").write_text(json.dumps({"options": {"budget_ms": 62.0}, "rescored": {"1": [0.40, 0.25]}}))
    trials = load_trials(tmp_path)
    assert [t.accuracy for t in trials] == [0.30, 0.25]
    assert [t.id for t in front(trials, 62.0)] == [0]  # the re-scored trial is now dominated
