"""The proof experiment's lane (benchmarks/proof/lane.py): each student's fine-tunes right after its
distillation, and a recorded student whose weights are gone is re-created (and checked against its record)
before a fine-tune reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.estimator_rank_jobs import Job, Store
from benchmarks.proof import lane, run


def distill(name: str, seed: int = 0, result: dict[str, Any] | None = None) -> Job:
    return Job(f"proof/sid/distill/{name}/s{seed}", lambda: result or {})


def finetune(name: str, task: str, seed: int = 0) -> Job:
    return Job(f"proof/sid/finetune-{task}/{name}/s{seed}", dict, needs=[f"proof/sid/distill/{name}/s{seed}"])


def test_each_students_fine_tunes_follow_its_distillation() -> None:
    queue = [distill("a"), distill("b"), finetune("a", "sst2"), finetune("b", "sst2"), finetune("a", "mrpc")]
    keys = [job.key.split("/", 2)[2] for job in lane.student_major(queue)]
    assert keys == ["distill/a/s0", "finetune-sst2/a/s0", "finetune-mrpc/a/s0", "distill/b/s0",
                    "finetune-sst2/b/s0"]


def test_only_a_recorded_student_without_weights_and_with_a_pending_fine_tune_is_restored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "WORK", tmp_path)
    store = Store(tmp_path / "proof.json")
    for key in ("proof/sid/distill/a/s0", "proof/sid/distill/b/s0", "proof/sid/distill/c/s0",
                "proof/sid/finetune-sst2/c/s0"):
        store.put(key, {})
    (tmp_path / "proof" / "sid" / "b" / "s0").mkdir(parents=True)
    (tmp_path / "proof" / "sid" / "b" / "s0" / "model.safetensors").write_bytes(b"weights")
    queue = [distill("a"), distill("b"), distill("c"), distill("d"),
             finetune("a", "sst2"), finetune("b", "sst2"), finetune("c", "sst2"), finetune("d", "sst2")]
    # a: weights gone, fine-tune pending → restore; b: weights present; c: fine-tune recorded; d: not distilled
    assert [job.key for job in lane.to_restore(queue, store)] == ["proof/sid/distill/a/s0"]


def test_a_restored_student_is_checked_against_its_record(tmp_path: Path) -> None:
    store, restored = Store(tmp_path / "proof.json"), Store(tmp_path / "restored.json")
    recorded = {"pd": 2.5, "mlm": 4.5}
    store.put("proof/sid/distill/a/s0", {"heldout": recorded})
    lane.restore(distill("a", result={"seconds": 1.0, "heldout": dict(recorded)}), store, restored)
    assert restored.get("proof/sid/distill/a/s0")["reproduced"] is True
    assert store.get("proof/sid/distill/a/s0")["heldout"] == recorded

    store.put("proof/sid/distill/b/s0", {"heldout": recorded})
    drifted = {"pd": 2.5 + 10 * lane.REPRODUCED_WITHIN, "mlm": 4.5}
    with pytest.raises(SystemExit, match="did not reproduce"):
        lane.restore(distill("b", result={"seconds": 1.0, "heldout": drifted}), store, restored)
    assert restored.get("proof/sid/distill/b/s0")["reproduced"] is False


def rebuild_store(tmp_path: Path) -> lane.PooledStore:
    store = lane.PooledStore(tmp_path / "proof.json", [["sid", "new"]])
    store.put("proof/sid/distill/a/s0", {"heldout": {"pd": 2.5, "mlm": 4.5}})
    return store


def test_a_rebuilds_jobs_read_the_first_builds_records_and_write_their_own(tmp_path: Path) -> None:
    store = rebuild_store(tmp_path)
    assert store.has("proof/new/distill/a/s0") and not store.own("proof/new/distill/a/s0")
    assert store.get("proof/new/distill/a/s0")["heldout"]["pd"] == 2.5
    assert not store.has("proof/new/distill/b/s0")
    store.put("proof/new/distill/b/s0", {"heldout": {"pd": 2.4}})
    assert Store(tmp_path / "proof.json").has("proof/new/distill/b/s0")  # the key says which build computed it
    assert not Store(tmp_path / "proof.json").has("proof/sid/distill/b/s0")


def test_a_student_re_distilled_on_another_build_is_judged_by_the_equivalence_bound(tmp_path: Path) -> None:
    store, restored = rebuild_store(tmp_path), Store(tmp_path / "restored.json")
    within = {"seconds": 1.0, "heldout": {"pd": 2.5 + 0.004, "mlm": 4.52}}  # far beyond float noise, within 0.01
    lane.restore(Job("proof/new/distill/a/s0", lambda: within), store, restored, across_builds_within=0.01)
    record = restored.get("proof/new/distill/a/s0")
    assert record["across_builds"] and record["reproduced"] and record["pd_difference"] == pytest.approx(0.004)
    assert store.get("proof/new/distill/a/s0")["heldout"]["pd"] == 2.5  # the first build's record is kept

    beyond = {"seconds": 1.0, "heldout": {"pd": 2.5 - 0.02, "mlm": 4.5}}
    with pytest.raises(SystemExit, match="not pooled"):
        lane.restore(Job("proof/new/distill/a/s0", lambda: beyond), store, restored, across_builds_within=0.01)
    assert restored.get("proof/new/distill/a/s0")["reproduced"] is False


FIRST = {"model_safetensors_sha256": "a", "settings_ids": {"proof": "sid"}}
REBUILD = {"model_safetensors_sha256": "b", "settings_ids": {"proof": "new"}, "pooled_with": {"proof": "sid"},
           "equivalence": {"students": ["proof/distill/a/s1"], "within_nats": 0.01}}


def test_builds_pool_both_ways_once_the_check_passed_and_never_after_it_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lane, "RESTORED", tmp_path / "restored.json")
    monkeypatch.setattr(run, "RESULTS", tmp_path / "proof.json")
    Store(tmp_path / "proof.json").put("proof/new/distill/b/s1", {"heldout": {"pd": 2.4}})
    builds = [FIRST, REBUILD]
    # not checked yet: the rebuild pools (its check runs first), the first build does not read the rebuild's records
    assert lane.open_store(REBUILD, builds).has("proof/new/distill/b/s1")
    assert not lane.open_store(FIRST, builds).has("proof/sid/distill/b/s1")
    restored = Store(tmp_path / "restored.json")
    restored.put("proof/new/distill/a/s1", {"reproduced": True, "pd_difference": 0.004, "bound": 0.01})
    assert lane.open_store(FIRST, builds).has("proof/sid/distill/b/s1")  # passed: the first build reads them too
    restored.put("proof/new/distill/a/s1", {"reproduced": False, "pd_difference": 0.03, "bound": 0.01})
    with pytest.raises(SystemExit, match="not pooled"):
        lane.open_store(REBUILD, builds)
    assert not lane.open_store(FIRST, builds).has("proof/sid/distill/b/s1")
    assert type(lane.open_store(FIRST, [FIRST])) is Store  # no rebuild: the first build's records alone


def test_a_rebuilds_check_runs_even_when_no_fine_tune_needs_its_students(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lane, "RESTORED", tmp_path / "restored.json")
    monkeypatch.setattr(run, "RESULTS", tmp_path / "proof.json")
    Store(tmp_path / "proof.json").put("proof/sid/distill/a/s1", {"heldout": {"pd": 2.5}})
    store = lane.open_store(REBUILD, [FIRST, REBUILD])
    queue = [Job("proof/new/distill/a/s1", dict), Job("proof/new/distill/c/s1", dict)]
    assert [job.key for job in lane.check_jobs(queue, store, REBUILD)] == ["proof/new/distill/a/s1"]
    Store(tmp_path / "restored.json").put("proof/new/distill/a/s1", {"reproduced": True})
    assert lane.check_jobs(queue, store, REBUILD) == []
