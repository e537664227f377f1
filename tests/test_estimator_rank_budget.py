"""The ground truth's budget (benchmarks/estimator_rank_truth.py): the paper's schedule gives deeper students more
layer-wise steps, and adding it left the settings ids of truths recorded before it unchanged."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from benchmarks import estimator_rank_truth as truth


def test_fixed_budget_gives_every_depth_the_same_layer_steps() -> None:
    budget = truth.Budget(layer_steps=480)
    assert {truth.layer_steps(budget, depth) for depth in (2, 3, 6)} == {480}


def test_paper_schedule_gives_deeper_students_more_layer_steps() -> None:
    budget = truth.Budget(layer_steps=480, steps_per_layer=80)
    assert [truth.layer_steps(budget, depth) for depth in (2, 3, 6)] == [160, 240, 480]
    assert truth.layer_steps(dataclasses.asdict(budget), 4) == 320  # a recorded budget reads the same


def test_settings_id_of_a_fixed_budget_is_the_one_recorded_before_the_schedule_existed(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"teacher weights")
    budget = truth.Budget(layer_steps=480, pd_steps=480)
    fields = dataclasses.asdict(budget)
    del fields["steps_per_layer"], fields["schedule"]
    blob = json.dumps({"budget": fields, "teacher": truth.file_digest(tmp_path / "model.safetensors"),
                       "max_predictions": truth.MAX_PREDICTIONS}, sort_keys=True)
    assert truth.settings_id(budget, tmp_path) == hashlib.sha256(blob.encode()).hexdigest()[:10]
    per_layer = dataclasses.replace(budget, steps_per_layer=80)
    paper = dataclasses.replace(per_layer, schedule="pkt")
    assert len({truth.settings_id(b, tmp_path) for b in (budget, per_layer, paper)}) == 3


def test_only_the_progressive_schedule_with_steps_per_layer_is_called_the_papers() -> None:
    assert truth.students_label({"schedule": "pkt", "steps_per_layer": 80}) == \
        "students distilled on the paper's schedule"
    assert truth.students_label({"schedule": "jkt", "steps_per_layer": 80}) == "distilled students"
    assert truth.students_label({"layer_steps": 480}) == "distilled students"
