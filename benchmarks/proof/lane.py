"""One lane of the proof experiment: the plan commit's jobs (`run.py`'s, and `confirm_picks.py`'s winners), run
student by student, after re-creating any recorded student whose weights a pending fine-tune needs.

Why a lane beside `run.py`: a session may start on a fresh machine with the committed records but none of
`~/.cache/nas/proof`, and whatever is unfinished at its end is lost. `run.py` queues every distillation of a
seed before its fine-tunes, so a stop leaves students whose fine-tunes must later re-distil them. Here each
student's fine-tunes come right after its distillation. The jobs themselves (commands, settings, seeds, the
records they write) are the plan commit's, unchanged; only the order differs.

Re-creating a student: the record in proof.json is never touched. The same job (the plan commit's `distill`:
same arch, seed, teacher and batches) runs again into the same directory, and what it measured goes to
`benchmarks/results/proof_restored.json` beside the record it should equal. A difference above float noise
means the weights the fine-tunes would read are not the recorded student's: the lane stops before using them.

Run by path, the plan commit's code first on the path, from this checkout's root (`background.sh` starts it):

    PYTHONPATH=~/proof/code OMP_NUM_THREADS=1 .venv/bin/python benchmarks/proof/lane.py \\
        --groups fresh,proof --workers 2 [--list]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.estimator_rank_jobs import Job, Store, run_jobs
from benchmarks.proof import run as runner

RESTORED = Path(__file__).resolve().parents[1] / "results" / "proof_restored.json"
# Held-out losses are means over 8 × 32 sequences in float32; a deterministic re-run agrees to the last bits, a
# different one (another thread count or kernel) moves them by far more than this.
REPRODUCED_WITHIN = 1e-4


def log(line: str) -> None:
    print(time.strftime("%H:%M:%S"), line, flush=True)


TEACHER_FILE = Path(__file__).resolve().with_name("teacher.json")


def teacher_builds() -> list[dict[str, Any]]:
    """The builds of the teacher every student is distilled from, each with its settings ids: amendment 1's first
    (teacher.json), then amendment 2's rebuilds on machines that compute other last bits (each with the ids it is
    pooled with and its equivalence check); the plan's teacher where there is no teacher.json."""
    if not TEACHER_FILE.is_file():
        return [{"model_safetensors_sha256":
                 json.loads(runner.design.PLAN.read_text())["teacher"]["model_safetensors_sha256"]}]
    amended = json.loads(TEACHER_FILE.read_text())
    return [{**amended["teacher"], "settings_ids": amended["settings_ids"]}, *amended.get("rebuilds", [])]


def teacher_build() -> dict[str, Any]:
    """The build on disk (exits when the teacher on disk is none of them)."""
    weights = runner.design.TEACHER_DIR / "model.safetensors"
    # hashlib, not nas_common.io.file_sha256: the plan commit's code (first on the path) predates it
    digest = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None
    for build in teacher_builds():
        if build["model_safetensors_sha256"] == digest:
            return build
    sys.exit(f"error: {runner.design.TEACHER_DIR} does not hold the experiment's teacher (sha256 in "
             "benchmarks/proof/teacher.json): build it first (bash benchmarks/proof/teacher.sh)")


def check_keys(build: dict[str, Any]) -> list[str]:
    """The distillation keys of a rebuild's equivalence check, under its own settings ids."""
    keys = []
    for student in build.get("equivalence", {}).get("students", []):
        group, kind, name, seed = student.split("/")
        keys.append(f"{group}/{build['settings_ids'][group]}/{kind}/{name}/{seed}")
    return keys


def check_outcome(build: dict[str, Any], restored: Store) -> bool | None:
    """A rebuild's equivalence check: True (every student within the bound), False (one beyond), None (not run)."""
    records = [restored.get(key) for key in check_keys(build)]
    if any(r is not None and not r["reproduced"] for r in records):
        return False
    return True if records and all(r is not None for r in records) else None


class PooledStore(Store):
    """Records of builds of one teacher pooled (amendment 2): a job reads as recorded when any build of its pool
    recorded it (the first build's record first where several did). New records are written under the job's own
    key, so which build computed a record stays in its key."""

    def __init__(self, path: Path, pools: list[list[str]]) -> None:
        super().__init__(path)
        self.pools = {sid: pool for pool in pools for sid in pool}  # settings id → its pool, first build first

    def variants(self, key: str) -> list[str]:
        parts = key.split("/")
        if len(parts) < 2 or parts[1] not in self.pools:
            return [key]
        return [key, *("/".join([parts[0], sid, *parts[2:]]) for sid in self.pools[parts[1]] if sid != parts[1])]

    def own(self, key: str) -> bool:
        return super().has(key)

    def has(self, key: str) -> bool:
        return any(super(PooledStore, self).has(k) for k in self.variants(key))

    def get(self, key: str) -> dict[str, Any] | None:
        return next((r for k in self.variants(key) if (r := super(PooledStore, self).get(k)) is not None), None)


def open_store(build: dict[str, Any], builds: list[dict[str, Any]] | None = None) -> Store:
    """The records the lane reads on `build`: pooled with every other build whose equivalence check has passed.
    A rebuild whose own check has failed is refused; one whose check has not run yet is pooled (the lane runs the
    check before any other job: `main`)."""
    builds = teacher_builds() if builds is None else builds
    restored = Store(RESTORED)
    if check_outcome(build, restored) is False:
        key = check_keys(build)[0]
        sys.exit(f"error: amendment 2's equivalence check failed for this teacher build (see {RESTORED.name}, e.g. "
                 f"{key}): its records are not pooled; see benchmarks/proof/teacher.json")
    first = builds[0]
    if "settings_ids" not in first or not any("pooled_with" in b for b in builds):
        return Store(runner.RESULTS)
    sha = build["model_safetensors_sha256"]
    members = [first] + [b for b in builds[1:] if b["model_safetensors_sha256"] == sha or check_outcome(b, restored)]
    if sha not in {b["model_safetensors_sha256"] for b in members}:
        return Store(runner.RESULTS)
    pools = [[b["settings_ids"][group] for b in members] for group in first["settings_ids"]]
    return PooledStore(runner.RESULTS, pools)


def equivalence_bound(builds: list[dict[str, Any]]) -> float | None:
    """Amendment 2: how far a student re-distilled on one build may lie from another build's record (held-out PD
    loss, nats); the rebuilds' bound whichever build re-distils."""
    return next((float(b["equivalence"]["within_nats"]) for b in builds if b.get("equivalence")), None)


def check_jobs(queue: list[Job], store: Store, build: dict[str, Any]) -> list[Job]:
    """The equivalence check's students not yet re-distilled on this build (recorded by another build)."""
    if check_outcome(build, Store(RESTORED)) is not None or not isinstance(store, PooledStore):
        return []
    wanted = set(check_keys(build))
    return [job for job in queue if job.key in wanted and store.has(job.key) and not store.own(job.key)]


def confirmed_jobs() -> list[Job]:
    """confirm_picks.py's queue: the confirmed winners distilled apart from pick 0."""
    import confirm_picks  # beside this file: run by path, this folder is first on sys.path

    if not confirm_picks.CONFIRMED.is_file():
        return []
    return confirm_picks.winner_jobs(json.loads(confirm_picks.CONFIRMED.read_text()))


def weights_gone(distill_key: str) -> bool:
    group, sid, _kind, name, seed = distill_key.split("/")
    return not (runner.student_dir(group, sid, name, int(seed.removeprefix("s"))) / "model.safetensors").is_file()


def to_restore(queue: list[Job], store: Store) -> list[Job]:
    """Recorded distillations whose weights are gone while a fine-tune of theirs is still to run."""
    by_key = {job.key: job for job in queue}
    keys: list[str] = []
    for job in queue:
        if store.has(job.key):
            continue
        for need in job.needs:
            if store.has(need) and need in by_key and need not in keys and weights_gone(need):
                keys.append(need)
    return [by_key[key] for key in keys]


def heldout_difference(recorded: dict[str, float], rerun: dict[str, float]) -> float:
    return max(abs(float(rerun[term]) - float(value)) for term, value in recorded.items())


def restore(job: Job, store: Store, restored: Store, across_builds_within: float | None = None) -> None:
    """Re-distil a recorded student. On the build that recorded it, every held-out loss must agree to float noise;
    a record of another build (amendment 2: `store` pools it) is the equivalence check, on held-out PD loss
    within `across_builds_within` nats."""
    recorded = store.get(job.key)
    assert recorded is not None
    across = isinstance(store, PooledStore) and not store.own(job.key)
    log(f"restore {job.key} (weights gone; re-distilling{' on another teacher build' if across else ''})")
    rerun = job.run()
    difference = heldout_difference(recorded["heldout"], rerun["heldout"])
    pd_difference = float(rerun["heldout"]["pd"]) - float(recorded["heldout"]["pd"])
    bound = across_builds_within if across and across_builds_within is not None else REPRODUCED_WITHIN
    measured = abs(pd_difference) if across else difference
    restored.put(job.key, {"recorded_pd": recorded["heldout"]["pd"], "rerun_pd": rerun["heldout"]["pd"],
                           "pd_difference": pd_difference, "max_heldout_difference": difference,
                           "rerun_heldout": rerun["heldout"], "seconds": rerun["seconds"],
                           "across_builds": across, "bound": bound, "reproduced": measured <= bound})
    log(f"restored {job.key}: held-out PD loss {pd_difference:+.4f} nats from its record, every held-out loss "
        f"within {difference:.2e}")
    if measured > bound:
        what = "held-out PD loss differs by" if across else "held-out losses differ by"
        sys.exit(f"error: re-distilling {job.key} did not reproduce its record ({what} {measured:.2e} > {bound:g}"
                 f"{'; amendment 2: the builds are not pooled' if across else ''}): its fine-tunes would not be "
                 "the recorded student's")


def student_major(queue: list[Job]) -> list[Job]:
    """Each distillation followed by the jobs that need it, in the queue's order of distillations."""
    needers: dict[str, list[Job]] = {}
    for job in queue:
        for need in job.needs:
            needers.setdefault(need, []).append(job)
    ordered: list[Job] = []
    for job in queue:
        if not job.needs:
            ordered += [job, *needers.get(job.key, [])]
    placed = {job.key for job in ordered}
    return ordered + [job for job in queue if job.key not in placed]


def group_queue(group: str) -> list[Job]:
    queue, settings = runner.jobs(group)
    if group == "proof":
        queue += confirmed_jobs()
    store = Store(runner.RESULTS)
    for sid, value in settings.items():
        if value["group"] == group:
            store.put_settings(sid, value)
    return student_major(queue)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", default="fresh,proof",
                        help="Comma-separated, in the order they run: fresh (the 16 fresh students), proof.")
    parser.add_argument("--workers", type=int, default=1, help="Jobs at once (each one thread).")
    parser.add_argument("--list", action="store_true", help="Say what each group would run, and stop.")
    args = parser.parse_args()
    groups = [g.strip() for g in args.groups.split(",")]
    if unknown := sorted(set(groups) - {"fresh", "proof"}):
        sys.exit(f"error: --groups: unknown group(s) {unknown}: use fresh and/or proof")
    build = teacher_build()
    for group in groups:
        queue = group_queue(group)
        store = open_store(build)
        missing = to_restore(queue, store)
        missing += [job for job in check_jobs(queue, store, build) if job not in missing]
        log(f"{group}: {sum(store.has(j.key) for j in queue)} of {len(queue)} jobs recorded; "
            f"{len(missing)} recorded student(s) to re-create first {[job.key for job in missing]}")
        if args.list:
            continue
        if missing:
            restored = Store(RESTORED)
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                list(pool.map(restore, missing, [store] * len(missing), [restored] * len(missing),
                              [equivalence_bound(teacher_builds())] * len(missing)))
        run_jobs(queue, store, args.workers, None, log)


if __name__ == "__main__":
    main()
