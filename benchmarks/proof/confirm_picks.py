"""The plan's third searched candidate (plan.json "searched" confirmed): after the freeze, `nas confirm --top 4`
on each budget's pick-0 search run, on the plan commit's code; the winners are written to
benchmarks/proof/confirmed.json (commit it before they are distilled), then distilled and fine-tuned on the
plan's seeds into the runner's store, exactly like the other proof students.

The runner at the plan's commit reads only freeze.json's picks, so this script lives beside it and borrows its
jobs: run it with the plan commit's code first on the path, from this checkout's root:

    PYTHONPATH=~/proof/code OMP_NUM_THREADS=1 .venv/bin/python benchmarks/proof/confirm_picks.py [--confirm-only]

A winner whose arch is its budget's pick 0 is not distilled twice: confirmed.json says `same_as`, and the
table reads pick 0's students for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.estimator_rank_jobs import Job, Store, run_jobs
from benchmarks.proof import design
from benchmarks.proof import run as runner
from benchmarks.proof.freeze import FREEZE, _nas

CONFIRMED = Path(__file__).resolve().parent / "confirmed.json"


def confirm(budget: float, pick: dict[str, Any]) -> dict[str, Any]:
    data = runner.data_root()
    run = Path(pick["run"])
    args = ["confirm", str(run), "--top", "4", "--teacher", str(design.TEACHER_DIR),
            "--corpus", str(data / runner.CORPUS), "--eval-corpus", str(data / runner.EVAL_CORPUS),
            "--task", "sst2", "--data-dir", str(data / "glue"), "--max-steps", "960",
            "--finetune-examples", "2000", "--seed", "0"]
    if (run / "confirm").exists():
        args.append("--resume")
    _nas(*args)
    from search_spaces.arch import Arch

    winner = Arch.from_dict(json.loads((run / "best" / "arch.json").read_text()))
    key = design.arch_key(winner)
    return {"arch": winner.to_dict(), "key": key, "predicted_ms": round(float(design.frozen_ms([winner])[0]), 2),
            "run": str(run), "note": json.loads((run / "best" / "confirmed.json").read_text()),
            "same_as": f"pick0-{budget:g}ms" if key == pick["key"] else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--confirm-only", action="store_true", help="Write confirmed.json and stop.")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if not FREEZE.is_file():
        sys.exit(f"error: {FREEZE} is missing: freeze the estimator first (benchmarks/proof/freeze.py)")
    picks = json.loads(FREEZE.read_text())["picks"]
    confirmed = json.loads(CONFIRMED.read_text()) if CONFIRMED.is_file() else {}
    for budget in design.BUDGETS_MS:
        name = f"confirmed-{budget:g}ms"
        if name not in confirmed:
            confirmed[name] = confirm(budget, picks[f"pick0-{budget:g}ms"])
            CONFIRMED.write_text(json.dumps(confirmed, indent=1) + "\n")
            print(f"{name}: {confirmed[name]['key']} ({confirmed[name]['predicted_ms']} ms)", flush=True)
    if args.confirm_only:
        return
    run_jobs(winner_jobs(confirmed), Store(runner.RESULTS), args.workers, None, lambda line: print(line, flush=True))


def winner_jobs(confirmed: dict[str, Any]) -> list[Job]:
    """Distil and fine-tune, on every seed, each confirmed winner that is not its budget's pick 0."""
    from search_spaces.arch import Arch

    sid = runner.settings_id(design.PROOF_BUDGET, design.TEACHER_DIR)
    queue = []
    for seed in design.SEEDS:
        for name, entry in confirmed.items():
            if entry["same_as"] is None:
                queue.append(runner.distill_job("proof", design.PROOF_BUDGET, sid, name,
                                                Arch.from_dict(entry["arch"]), seed))
                queue += [runner.finetune_job("proof", sid, name, seed, task, settings)
                          for task, settings in design.FINETUNE.items()]
    return queue


if __name__ == "__main__":
    main()
