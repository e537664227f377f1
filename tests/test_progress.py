"""Progress of long work (issue 30): `nas confirm`'s one bar over its trials' steps, and the measured first-step
estimate of the training loop (no timing is asserted: only what is said and how the totals move)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


def _trial(trial_id: str, index: int) -> SimpleNamespace:
    options = {"candidates": [{"arch_id": 7}, {"arch_id": 9}]}
    return SimpleNamespace(trial_id=trial_id, config={"options": options, "candidate": index}, path="/x")


def test_confirm_bar_counts_trials_and_shrinks_when_asha_stops_one(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray")
    from nas.confirm.plan import METRIC, TIME_ATTR
    from nas.confirm.tuning import Progress

    progress = Progress(trials=2, max_steps=10)
    a, b = _trial("a", 0), _trial("b", 1)
    progress.on_trial_start(0, [], a)
    progress.on_trial_start(0, [], b)
    assert progress.bar.total == 20 and "trial 2 of 2" in progress.bar.desc
    result = {TIME_ATTR: 5, "rung": 0, METRIC: 6.1, "wall_s": 3.0}
    progress.on_trial_result(0, [], a, result)
    assert progress.bar.n == 5
    progress.on_trial_complete(0, [], a)  # ASHA stopped it at 5 of 10 steps: 5 fewer planned
    assert progress.bar.total == 15
    progress.on_trial_result(0, [], b, {**result, TIME_ATTR: 10, "rung": 1, "dev": 0.8})
    progress.on_trial_complete(0, [], b)
    assert (progress.bar.n, progress.bar.total) == (15, 15)
    progress.on_experiment_end([])
    err = capsys.readouterr().err
    assert "confirm: arch-7 rung 0 (5 steps): held-out MLM 6.1000" in err and "dev 0.8000" in err
    assert "trial 2 of 2" in err


def test_the_time_said_is_the_measured_first_step_times_the_steps_left() -> None:
    from nas.distill.cost import measured_estimate

    line = measured_estimate(31.6, 99)
    assert line.startswith("first step: 31.6 s measured → about 52.1 min for the 99 steps left")
