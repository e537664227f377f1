"""The proof experiment's runner (issue 31; the plan is benchmarks/proof/plan.json): distils and fine-tunes every
student the plan names, one job at a time per worker, and records each finished job in
`benchmarks/results/proof.json` (committed as it grows; a re-run skips what is recorded, and a killed
distillation resumes from its checkpoint).

    python -m benchmarks.proof.run [--workers 1] [--hours H] [--only proof|fresh]

Jobs, in priority order: the hand-designed baselines and the naive choices on seed 0 (distil, then SST-2 and
MRPC fine-tunes), then seeds 1 and 2; once `benchmarks/proof/freeze.json` exists (the frozen supernet, its
picks and the fresh draw), the picks and the 16 fresh students join the queue.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.estimator_rank_jobs import Job, Store, run_jobs
from benchmarks.estimator_rank_truth import Budget, _nas, distill, settings_id
from benchmarks.proof import design
from nas_common.io import file_sha256

RESULTS = design.ROOT / "benchmarks" / "results" / "proof.json"
FREEZE = design.HERE / "freeze.json"
WORK = Path.home() / ".cache" / "nas" / "proof"
CORPUS = "corpus/wikitext2-valid.txt"
EVAL_CORPUS = "corpus/wikitext2-test.txt"


def data_root() -> Path:
    from nas_common.paths import data_dir

    root = data_dir()
    if root is None:
        sys.exit("error: the public data folder was not found: set NAS_DATA_DIR")
    return root


def student_dir(group: str, sid: str, key: str, seed: int) -> Path:
    return WORK / group / sid / key / f"s{seed}"


def distill_job(group: str, budget: Budget, sid: str, key: str, arch: Any, seed: int) -> Job:
    data = data_root()

    def run() -> dict[str, Any]:
        from nas.accuracy.proxy import body_params

        seconds, heldout = distill(arch, student_dir(group, sid, key, seed), design.TEACHER_DIR, data / CORPUS,
                                   data / EVAL_CORPUS, budget, seed)
        return {"seconds": seconds, "heldout": heldout, "body_params": body_params(arch), "params": arch.num_params()}

    return Job(f"{group}/{sid}/distill/{key}/s{seed}", run)


def finetune_job(group: str, sid: str, key: str, seed: int, task: str, settings: dict[str, Any]) -> Job:
    glue = data_root() / "glue"

    def run() -> dict[str, Any]:
        model = student_dir(group, sid, key, seed)
        out = model / task
        args = ["finetune", "--model", str(model), "--task", task, "--data-dir", str(glue),
                "--epochs", str(settings["epochs"]), "--lr", str(settings["lr"]),
                "--batch-size", str(settings["batch_size"]), "--seq-len", str(settings["seq_len"]),
                "--seed", str(seed), "--out", str(out)]
        if settings.get("max_train_examples"):
            args += ["--max-train-examples", str(settings["max_train_examples"])]
        if out.exists():
            args.append("--overwrite")
        seconds = _nas(args, model.parent / f"{model.name}.log")
        return {"seconds": seconds, "metrics": json.loads((out / "metrics.json").read_text())}

    return Job(f"{group}/{sid}/finetune-{task}/{key}/s{seed}", run,
               needs=[f"{group}/{sid}/distill/{key}/s{seed}"])


def proof_archs() -> dict[str, Any]:
    """Every arch of the comparison known so far: the baselines and naive choices (fixed by the plan), and the
    picks once freeze.json exists."""
    from search_spaces.arch import Arch

    plan = json.loads(design.PLAN.read_text())
    archs = {name: Arch(**s["arch"]) for name, s in plan["baselines"]["shapes"].items()}
    for budget, fields in plan["searched"]["naive"]["archs"].items():
        archs[f"naive-{budget}ms"] = Arch.from_dict(fields)
    if FREEZE.is_file():
        for name, fields in json.loads(FREEZE.read_text()).get("picks", {}).items():
            archs[name] = Arch.from_dict(fields["arch"])
    return archs


def fresh_archs() -> dict[str, Any]:
    from search_spaces.arch import Arch

    if not FREEZE.is_file():
        return {}
    return {d["key"]: Arch.from_dict(d["arch"]) for d in json.loads(FREEZE.read_text())["fresh"]}


def jobs(only: str | None) -> tuple[list[Job], dict[str, Any]]:
    proof_sid = settings_id(design.PROOF_BUDGET, design.TEACHER_DIR)
    fresh_sid = settings_id(design.FRESH_BUDGET, design.TEACHER_DIR)
    settings = {proof_sid: {"budget": asdict(design.PROOF_BUDGET), "group": "proof"},
                fresh_sid: {"budget": asdict(design.FRESH_BUDGET), "group": "fresh"}}
    queue: list[Job] = []
    if only in (None, "proof"):
        archs = proof_archs()
        for seed in design.SEEDS:
            queue += [distill_job("proof", design.PROOF_BUDGET, proof_sid, name, arch, seed)
                      for name, arch in archs.items()]
            queue += [finetune_job("proof", proof_sid, name, seed, task, task_settings)
                      for name in archs for task, task_settings in design.FINETUNE.items()]
    if only in (None, "fresh"):
        fresh_ft = {"epochs": 2.0, "lr": 1e-4, "batch_size": 32, "seq_len": 64, "max_train_examples": 2000}
        for key, arch in fresh_archs().items():
            queue.append(distill_job("fresh", design.FRESH_BUDGET, fresh_sid, key, arch, 0))
            queue.append(finetune_job("fresh", fresh_sid, key, 0, "sst2", fresh_ft))
    return queue, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="Jobs at once (each one thread).")
    parser.add_argument("--hours", type=float, default=None, help="Start no job after this many hours.")
    parser.add_argument("--only", choices=("proof", "fresh"), default=None)
    args = parser.parse_args()
    if not (design.TEACHER_DIR / "model.safetensors").is_file():
        sys.exit(f"error: no teacher at {design.TEACHER_DIR}: build it first (plan.json 'teacher')")
    plan = json.loads(design.PLAN.read_text())
    if plan["teacher"]["model_safetensors_sha256"] != file_sha256(design.TEACHER_DIR / "model.safetensors"):
        sys.exit("error: the teacher on disk is not the plan's (sha256 differs): the plan's teacher must be used")
    queue, settings = jobs(args.only)
    store = Store(RESULTS)
    for sid, value in settings.items():
        store.put_settings(sid, value)
    deadline = time.time() + args.hours * 3600 if args.hours else None
    pending = [j for j in queue if not store.has(j.key)]
    print(f"proof: {len(queue) - len(pending)} of {len(queue)} jobs recorded; running the rest", flush=True)
    run_jobs(queue, store, args.workers, deadline, lambda line: print(time.strftime("%H:%M:%S"), line, flush=True))


if __name__ == "__main__":
    main()
