"""`nas confirm`, its pieces without Ray: rungs, candidates, one trial's rung-by-rung distillation (bit-exact
with an uninterrupted run), confirmed.csv, the pareto table and pareto.html. The Ray runs are in
test_confirm_ray.py (slow)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nas.confirm import plan, table
from nas_common.errors import UserInputError
from tests.confirm_helpers import make_inputs, make_run


def test_rungs_are_asha_milestones() -> None:
    assert plan.make_rungs(40, 3, 2) == (10, 20, 40)
    assert plan.make_rungs(27, 3, 3) == (3, 9, 27)
    assert plan.make_rungs(5, 1, 2) == (5,)
    with pytest.raises(UserInputError, match="multiple of 4"):
        plan.make_rungs(10, 3, 2)
    for bad in ((0, 3, 2), (8, 0, 2), (8, 3, 1)):
        with pytest.raises(UserInputError):
            plan.make_rungs(*bad)


def test_every_schedule_spends_the_whole_budget() -> None:
    assert plan.split_budget("akt", 4, 40) == (0, 40)
    for schedule in ("jkt", "pkt"):
        per_layer, pd = plan.split_budget(schedule, 3, 40)
        assert per_layer == 6 and 3 * per_layer + pd == 40


def test_candidates_are_the_best_front_points(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    chosen, record = plan.candidates(run, 2)
    assert [c.arch_id for c in chosen] == [3, 2] and [c.pick for c in chosen] == [0, 1]
    assert chosen[0].estimate == 0.8 and record["options"]["budget_ms"] == 10.0
    assert len(plan.candidates(run, 10)[0]) == 4  # the over-budget trial is never a candidate
    with pytest.raises(UserInputError, match="--top must be ≥ 1"):
        plan.candidates(run, 0)
    assert plan.supernet_of(record) is None
    with pytest.raises(UserInputError, match="not there any more"):
        plan.supernet_of({"options": {"estimator": "supernet", "estimator_options": {"supernet": str(tmp_path / "x")}}})


def _options(paths: dict[str, str], **changes) -> plan.ConfirmOptions:
    chosen, _ = plan.candidates(Path(paths["run"]), 2)
    options = plan.ConfirmOptions(
        run=paths["run"], teacher=paths["teacher"], corpus=paths["corpus"], eval_corpus=paths["eval"], task="sst2",
        glue_dir=str(Path(paths["glue"]) / "SST-2"), top=2, max_steps=8, rungs=(2, 4, 8), batch_size=4, seq_len=24,
        warmup=1, finetune_examples=16, candidates=chosen)
    return dataclasses.replace(options, **changes)


def test_options_round_trip_through_tune_config(tmp_path: Path) -> None:
    options = _options(make_inputs(tmp_path))
    assert plan.ConfirmOptions.from_dict(options.to_dict()) == options
    assert options.dev_from == 8 and options.reduction_factor == 2  # by default the top rung only
    assert dataclasses.replace(options, dev_rungs=2).dev_from == 4
    assert dataclasses.replace(options, dev_rungs=0).dev_from == 9  # never


def test_a_trial_stopped_at_each_rung_trains_as_one_run(tmp_path: Path) -> None:
    """Rung by rung (stop, evaluate, resume) gives the same losses as one uninterrupted run to the top rung."""
    from nas.confirm.trial import distill_to, heldout_at

    options = _options(make_inputs(tmp_path))
    candidate = options.candidates[1]
    stepwise, straight = tmp_path / "stepwise", tmp_path / "straight"
    for k, steps in enumerate(options.rungs):
        distill_to(options, candidate, stepwise, steps, resume=k > 0, warm=None)
        assert heldout_at(stepwise, steps)["mlm"] > 0
    distill_to(options, candidate, straight, 8, resume=False, warm=None)
    assert (stepwise / "losses.csv").read_text() == (straight / "losses.csv").read_text()
    assert heldout_at(stepwise, 8) == heldout_at(straight, 8)


def _rows() -> list[dict]:
    common = {"task": "sst2", "estimate": 0.5, "latency_ms": 1.0, "wall_s": 3.0, "model_dir": ""}
    return [
        {**common, "arch_id": 3, "pick": 0, "status": "survived", "rung": 2, "steps": 8, "heldout_mlm": 6.1,
         "dev": 0.70, "dev_steps": 8},
        {**common, "arch_id": 2, "pick": 1, "status": "survived", "rung": 2, "steps": 8, "heldout_mlm": 6.3,
         "dev": 0.75, "dev_steps": 8},
        {**common, "arch_id": 1, "pick": 2, "status": "stopped", "rung": 0, "steps": 2, "heldout_mlm": 5.0,
         "dev": None, "dev_steps": None},
    ]


def test_confirmed_csv_round_trip_and_winner(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    assert table.read(run) == [] and table.winner([]) is None
    table.write(run, _rows())
    rows = table.read(run)
    assert [r["arch_id"] for r in rows] == [3, 2, 1] and rows[2]["dev"] is None
    assert table.winner(rows)["arch_id"] == 2  # top rung first, then the dev metric (not the estimate, not MLM)
    assert table.measured(rows[1]) == "sst2 0.750 @8" and table.measured(rows[2], compact=True) == "L5.00@2"
    (run / table.FILE_NAME).write_text("x,y\n1,2\n")
    with pytest.raises(UserInputError, match="arch_id"):
        table.read(run)


def test_pareto_and_report_show_the_confirmed_points(tmp_path: Path) -> None:
    from rich.console import Console

    from nas.cli.search import front_table
    from nas.report import rewrite_report
    from nas.search.results import front, load_trials

    run = make_run(tmp_path / "run")
    table.write(run, _rows())
    console = Console(width=120, record=True)
    console.print(front_table(front(load_trials(run), 10.0), "front", confirmed=table.by_arch(run)))
    text = console.export_text()
    assert "confirmed" in text and "0.750@8" in text and "L5.00@2" in text
    html = rewrite_report(run).read_text()
    assert "nas confirm: survived every rung (2)" in html and "nas confirm: stopped early by ASHA (1)" in html
    assert "pick 1: sst2 0.750 @8 \\u2192 best" in html and "pick 2: MLM 5.000 @2, stopped" in html  # JSON-escaped
    assert "pick 1, confirmed best" in html  # best/ follows the confirmed winner, trial 2


def test_a_supernet_run_warm_starts_each_student_from_its_inherited_weights(tmp_path: Path) -> None:
    """A run searched with `--estimator supernet`: each trial extracts its arch's sub-network once and the
    distillation starts from those weights (nas_distill.json names the warm start)."""
    import json

    import numpy as np

    from nas.cli import main
    from nas.confirm.trial import distill_to, warm_start
    from nas.search.trial import Trial
    from nas.supernet.api import load_supernet
    from tests.supernet_helpers import toy_inputs, train_argv

    inputs = toy_inputs(tmp_path / "inputs")
    with pytest.raises(SystemExit) as exit_info:
        main(train_argv(inputs, tmp_path / "sn", "--steps", "2"))
    assert exit_info.value.code == 0
    space = load_supernet(tmp_path / "sn").space
    subnet = {"num_hidden_layers": 2, "intra_bottleneck_size": 8, "num_attention_heads": 2, "intermediate_size": 16,
              "num_feedforward_networks": 1}
    arch = space.to_arch({**space.to_point(space.sample(np.random.default_rng(0))), **subnet})
    run = tmp_path / "run"
    run.mkdir()
    (run / "trials.jsonl").write_text(json.dumps(Trial.new(0, 0, arch, 1.0, 0.5).to_json()) + "\n")
    (run / "run.json").write_text(json.dumps({"options": {"budget_ms": 10.0, "estimator": "supernet",
                                                          "estimator_options": {"supernet": str(tmp_path / "sn")}}}))
    chosen, record = plan.candidates(run, 1)
    paths = make_inputs(tmp_path / "other")
    options = dataclasses.replace(_options(paths), run=str(run), teacher=str(inputs["teacher"]), candidates=chosen,
                                  supernet=plan.supernet_of(record))
    home = tmp_path / "home"
    warm = warm_start(options, chosen[0], home)
    assert warm == str(home / "warm") and (home / "warm" / "model.safetensors").is_file()
    distill_to(options, chosen[0], home / "model", 2, resume=False, warm=warm)
    assert json.loads((home / "model" / "nas_distill.json").read_text())["warm_start"] == warm
