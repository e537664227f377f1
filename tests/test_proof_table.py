"""The proof experiment's analysis (benchmarks/proof/table.py) on synthetic records: the paired t-interval, the
plan's verdict rule in both directions, and the fresh-student Spearman with its bootstrap."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from benchmarks.proof import table


def test_t_interval_matches_the_textbook_formula() -> None:
    mean, low, high = table.t_interval([1.0, 2.0, 3.0])  # sd 1, n 3: half-width t(2)·1/√3 = 4.303/√3
    assert mean == pytest.approx(2.0)
    assert high - mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert mean - low == pytest.approx(high - mean)
    assert table.t_interval([0.5])[1:] == (None, None)


@pytest.mark.parametrize(("metric", "low", "high", "expected"), [
    ("heldout_pd", -0.3, -0.1, "searched wins"),      # lower loss than the hand-designed shape
    ("heldout_pd", 0.1, 0.3, "searched loses"),
    ("sst2_acc", 0.01, 0.03, "searched wins"),        # higher accuracy
    ("sst2_acc", -0.03, -0.01, "searched loses"),
    ("sst2_acc", -0.01, 0.02, "no difference resolved"),
    ("heldout_pd", None, None, "too few seeds"),
])
def test_verdict_follows_each_metric_direction(metric: str, low: float | None, high: float | None,
                                               expected: str) -> None:
    chosen = next(m for m in table.METRICS if m.name == metric)
    assert table.verdict(chosen, low, high) == expected


def _distill(pd: float) -> dict:
    return {"heldout": {"pd": pd, "mlm": 2 * pd}}


def test_render_pairs_by_seed_and_ranks_fresh_students(tmp_path: Path) -> None:
    sid, fresh_sid = table.PLAN_SIDS["proof"], table.PLAN_SIDS["fresh"]
    records = {}
    for seed, shift in enumerate((0.0, 0.05, -0.02)):
        records[f"proof/{sid}/distill/mobilebert-L4/s{seed}"] = _distill(2.5 + shift)
        records[f"proof/{sid}/distill/naive-30ms/s{seed}"] = _distill(2.3 + shift + 0.01 * seed)
    keys = [f"L{2 + i % 3}-b{(64, 96, 128, 192)[i % 4]}-f1x512-h2" for i in range(8)]
    fresh = [{"key": k, "arch": {}} for k in keys]
    truth = np.linspace(3.0, 2.0, len(keys))  # fresh student i is better than student i-1
    for k, pd in zip(keys, truth, strict=True):
        records[f"fresh/{fresh_sid}/distill/{k}/s0"] = _distill(float(pd))
    freeze = {"fresh": fresh, "fresh_scores": {
        "body_params": {k: i for i, k in enumerate(keys)},                       # ranks perfectly
        "proxy": {k: -i for i, k in enumerate(keys)}}}                           # ranks backwards
    (tmp_path / "proof.json").write_text(json.dumps({"records": records}))
    (tmp_path / "freeze.json").write_text(json.dumps(freeze))
    text = table.render(tmp_path / "proof.json", tmp_path / "freeze.json", tmp_path / "no-amendment.json")
    naive_row = next(line for line in text.splitlines() if line.startswith("| naive-30ms | mobilebert-L4 |"))
    assert naive_row.split("|")[3].strip().startswith("-0.190 [")  # mean of −0.20, −0.19, −0.18
    assert "(n=3)" in naive_row
    assert "| body params | held-out PD loss | 8 | 1.00 [1.00, 1.00] |" in text
    assert "| proxy | held-out PD loss | 8 | -1.00" in text
    # with a downstream metric, the measured loss itself is ranked against it too (the estimators' ceiling)
    for i, k in enumerate(keys):
        records[f"fresh/{fresh_sid}/finetune-sst2/{k}/s0"] = {"metrics": {"dev": {"accuracy": 0.5 + 0.01 * i}}}
    (tmp_path / "proof.json").write_text(json.dumps({"records": records}))
    text = table.render(tmp_path / "proof.json", tmp_path / "freeze.json", tmp_path / "no-amendment.json")
    assert f"| {table.MEASURED_PD} | SST-2 dev acc | 8 | 1.00 [1.00, 1.00] |" in text
    assert f"| {table.MEASURED_PD} | held-out PD loss |" not in text


def test_an_amended_teacher_is_tabulated_apart_from_the_pilot(tmp_path: Path) -> None:
    amendment = {"settings_ids": {"proof": "new-proof", "fresh": "new-fresh"},
                 "pilot": {"settings_ids": {"proof": "old-proof", "fresh": "old-fresh"}}}
    (tmp_path / "teacher.json").write_text(json.dumps(amendment))
    records = {"proof/new-proof/distill/mobilebert-L4/s0": _distill(2.5),
               "proof/new-proof/distill/naive-30ms/s0": _distill(2.4),
               "proof/old-proof/distill/mobilebert-L4/s0": _distill(2.9),
               "proof/old-proof/distill/naive-30ms/s0": _distill(3.2)}
    (tmp_path / "proof.json").write_text(json.dumps({"records": records}))
    (tmp_path / "freeze.json").write_text(json.dumps({}))
    text = table.render(tmp_path / "proof.json", tmp_path / "freeze.json", tmp_path / "teacher.json")
    current, pilot = text.split("Pilot: the plan's first teacher", 1)
    pair = "| naive-30ms | mobilebert-L4 |"
    assert next(x for x in current.splitlines() if x.startswith(pair)).split("|")[3].strip() == "-0.100 (n=1)"
    assert next(x for x in pilot.splitlines() if x.startswith(pair)).split("|")[3].strip() == "+0.300 (n=1)"


def test_vectorised_bootstrap_spearman_equals_scipy_per_resample() -> None:
    rng = np.random.default_rng(3)
    score, truth = rng.normal(size=12), rng.normal(size=12)
    draws = rng.integers(0, 12, size=(50, 12))
    fast = table.resampled_spearman(score, truth, draws)
    for row, value in zip(draws, fast, strict=True):
        assert value == pytest.approx(stats.spearmanr(score[row], truth[row]).statistic, abs=1e-12)


@pytest.mark.parametrize("predictor_sign, expected", [(1, "`--estimator predictor`"), (-1, "`--estimator params`")])
def test_the_default_estimator_follows_the_plans_rule(predictor_sign: int, expected: str) -> None:
    keys = [f"a{i}" for i in range(6)]
    truth = {k: float(i) for i, k in enumerate(keys)}                       # higher = better student
    scores = {"body params": {k: float(i % 3) for i, k in enumerate(keys)},  # ranks partly
              "predictor": {k: predictor_sign * float(i) for i, k in enumerate(keys)}}
    assert expected in table.default_estimator_line(scores, truth, drawn=6)
    assert "not yet (5 of 6" in table.default_estimator_line(scores, {k: truth[k] for k in keys[:5]}, drawn=6)


def test_the_frozen_predictor_is_tabulated_beside_the_measured_losses() -> None:
    """Each arch's estimate by the frozen supernet's shipped predictor, and how its order agrees with the measured
    held-out PD loss once 3 distinct archs are in (a diagnosis, beside the plan's answer)."""
    from search_spaces.arch import Arch

    base = {"hidden_size": 384, "embedding_size": 384, "trigram_input": False, "normalization_type": "layer_norm",
            "hidden_act": "gelu", "num_attention_heads": 4, "intermediate_size": 512}
    archs = {f"a{i}": Arch.from_dict({**base, "num_hidden_layers": 2 + i, "intra_bottleneck_size": 96})
             for i in range(3)}
    rows = {name: {"students": name, "arch": arch} for name, arch in archs.items()}
    rows["same"] = {"students": "a0", "arch": archs["a0"]}  # a confirmed winner that is pick 0: counted once
    estimates = table.frozen_estimates(rows)
    assert set(estimates) == set(rows) and all(np.isfinite(list(estimates.values())))
    order = sorted(archs, key=estimates.get)  # better first
    per_seed = {name: {0: {"heldout_pd": 2.0 + 0.1 * order.index(rows[name]["students"])}} for name in rows}
    line = table.estimator_order(estimates, per_seed, rows)
    assert line == ["- Diagnosis, not the plan's answer: the frozen predictor orders the 3 archs recorded so far "
                    "against their measured held-out PD loss at Spearman 1.00 (n=3)."]
    assert table.estimator_order(estimates, {n: {0: {}} for n in rows}, rows) == []


def test_partial_spearman_equals_the_textbook_formula_on_ranks() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=16)
    x, y = z + rng.normal(size=16), 0.5 * z + rng.normal(size=16)
    r_xy, r_xz, r_yz = (stats.spearmanr(a, b).statistic for a, b in ((x, y), (x, z), (y, z)))
    expected = (r_xy - r_xz * r_yz) / math.sqrt((1 - r_xz**2) * (1 - r_yz**2))
    assert float(table.partial_spearman(x, y, z)) == pytest.approx(expected, abs=1e-12)
    draws = np.random.default_rng(0).integers(0, 16, size=(50, 16))
    per_draw = table.partial_spearman(x, y, z, draws)
    assert per_draw[7] == pytest.approx(float(table.partial_spearman(x[draws[7]], y[draws[7]], z[draws[7]])),
                                        abs=1e-12)
    assert math.isnan(float(table.partial_spearman(x, y, x)))  # x is the control: nothing of it is left to rank


def _rebuild(tmp_path: Path, reproduced: bool) -> tuple[Path, Path]:
    build = {"settings_ids": {"proof": "new"}, "pooled_with": {"proof": "old"},
             "equivalence": {"students": ["proof/distill/bert-L4/s1"], "within_nats": 0.01}}
    teacher, restored = tmp_path / "teacher.json", tmp_path / "proof_restored.json"
    teacher.write_text(json.dumps({"settings_ids": {"proof": "old"}, "rebuilds": [build]}))
    restored.write_text(json.dumps({"records": {"proof/new/distill/bert-L4/s1": {"reproduced": reproduced}}}))
    return teacher, restored


@pytest.mark.parametrize("reproduced", [True, False])
def test_a_rebuilds_records_are_pooled_only_after_its_equivalence_check_passed(tmp_path: Path,
                                                                               reproduced: bool) -> None:
    teacher, restored = _rebuild(tmp_path, reproduced)
    records = {"proof/old/distill/bert-L4/s1": _distill(2.36), "proof/new/distill/bert-L4/s1": _distill(2.37),
               "proof/new/distill/pick0-42ms/s1": _distill(2.30)}
    out = table.pooled(records, teacher, restored)
    assert out["proof/old/distill/bert-L4/s1"]["heldout"]["pd"] == 2.36  # the first build's record is kept
    assert ("proof/old/distill/pick0-42ms/s1" in out) is reproduced
    if reproduced:
        assert table.build_of(out, "old", "heldout_pd", "pick0-42ms", 1) == "new"
        assert table.build_of(out, "old", "heldout_pd", "bert-L4", 1) == "old"


def test_the_sensitivity_analysis_keeps_only_pairs_of_one_build() -> None:
    per_seed = {"pick0-42ms": {0: {"heldout_pd": 2.30}, 1: {"heldout_pd": 2.31}, 2: {"heldout_pd": 2.29}},
                "bert-L4": {0: {"heldout_pd": 2.35}, 1: {"heldout_pd": 2.36}, 2: {"heldout_pd": 2.37}}}
    lines = table.answers(42, per_seed, ["bert-L4"], (0, 1, 2), lambda metric, a, b, seed: seed != 1)
    assert lines[0].startswith("- held-out PD loss (nats): pick 0 − bert-L4 (best hand-designed) = -0.060 [")
    assert "n=3" in lines[0]
    assert lines[1].startswith("  - sensitivity (amendment 2), pairs distilled on one build only: -0.065 [")
    assert lines[1].endswith("n=2")
    assert len(table.answers(42, per_seed, ["bert-L4"], (0, 1, 2), lambda *_: True)) == 1  # all pairs: no line
