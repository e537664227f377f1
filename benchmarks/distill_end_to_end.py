"""End-to-end CPU run of the distillation protocol at toy scale, and its controls.

1. The documented small sequence (timed): `nas teacher --init-from minilm` → `nas distill --schedule pkt`
   → `nas finetune --task sst2` (acceptance: < 20 min on CPU, writes metrics.json).
2. The same student without a teacher (`--schedule none`, same steps), JKT and AKT at the same budget.
3. SST-2 and MRPC dev figures, and the last PD losses of each schedule (equal budget).
Jobs run in priority order; finished ones are skipped on a re-run and the JSON is rewritten after each,
so a run cut short still records what it measured. Writes benchmarks/results/distill_end_to_end.json.

Usage: NAS_DATA_DIR=../shared/data python benchmarks/distill_end_to_end.py [--work DIR] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from data_folder import data_folder

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ROOT / "nas/distill/examples/student-small.json"
SIZES = {"full": {"teacher_steps": 40, "steps_per_layer": 15, "pd_steps": 60, "ft_examples": 3000},
         "quick": {"teacher_steps": 4, "steps_per_layer": 2, "pd_steps": 4, "ft_examples": 200}}
# (what, schedule, task) in priority order: the acceptance pair first.
JOBS = [("distill", "pkt", None), ("finetune", "pkt", "sst2"), ("distill", "none", None),
        ("finetune", "none", "sst2"), ("distill", "jkt", None), ("distill", "akt", None),
        ("finetune", "pkt", "mrpc"), ("finetune", "none", "mrpc"), ("finetune", "jkt", "sst2"),
        ("finetune", "akt", "sst2"), ("finetune", "jkt", "mrpc"), ("finetune", "akt", "mrpc"),
        # ablation: no transfer losses, but the student starts from the teacher's embeddings and heads
        ("distill", "none-emb", None), ("finetune", "none-emb", "sst2")]
FINETUNE = {"sst2": ["--epochs", "2", "--seq-len", "64"], "mrpc": ["--epochs", "1", "--seq-len", "96"]}


def nas(*args: str) -> float:
    start = time.time()
    print("$ nas " + " ".join(shlex.quote(a) for a in args), flush=True)
    subprocess.run([sys.executable, "-m", "nas.cli", *args], check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
    return round(time.time() - start, 1)


def last_losses(run: Path, rows: int = 10) -> dict[str, float]:
    with (run / "losses.csv").open() as handle:
        tail = list(csv.DictReader(handle))[-rows:]
    return {k: sum(float(r[k]) for r in tail) / len(tail) for k in ("pd_kd", "pd_mlm", "mlm", "nsp")
            if all(r[k] for r in tail)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/tmp/nas-distill-bench")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    data = data_folder()
    size = SIZES["quick" if args.quick else "full"]
    work = Path(args.work)
    result_path = ROOT / "benchmarks/results/distill_end_to_end.json"
    corpus = str(data / "corpus/wikitext2-valid.txt")
    common = ["--corpus", corpus, "--batch-size", "16", "--seq-len", "64", "--warmup", "10"]
    timings: dict[str, float] = {}
    if (work / "teacher/nas_distill.json").is_file():
        timings["teacher"] = json.loads((work / "teacher/nas_distill.json").read_text())["seconds"]
    else:
        timings["teacher"] = nas("teacher", "--init-from", "minilm", "--steps", str(size["teacher_steps"]),
                                 "--lr", "5e-4", "--out", str(work / "teacher"), *common)
    dev: dict[str, dict[str, dict]] = {}
    final_losses: dict[str, dict[str, float]] = {}
    for what, schedule, task in JOBS:
        student = work / f"student-{schedule}"
        if what == "distill":
            if not (student / "nas_distill.json").is_file():
                nas("distill", "--student", str(STUDENT), "--teacher", str(work / "teacher"), "--schedule",
                    schedule.removesuffix("-emb"), "--steps-per-layer", str(size["steps_per_layer"]), "--pd-steps",
                    str(size["pd_steps"]), "--lr", "1e-3", "--checkpoint-every", "50", "--out", str(student),
                    *common)
            timings[f"distill_{schedule}"] = json.loads((student / "nas_distill.json").read_text())["seconds"]
            final_losses[schedule] = last_losses(student)
        else:
            ft_out = work / f"ft-{schedule}-{task}"
            if not (ft_out / "metrics.json").is_file():
                nas("finetune", "--model", str(student), "--task", task, "--data-dir", str(data / "glue"),
                    "--lr", "1e-4", "--batch-size", "32", "--max-train-examples", str(size["ft_examples"]),
                    "--out", str(ft_out), *FINETUNE[task])
            metrics = json.loads((ft_out / "metrics.json").read_text())
            timings[f"finetune_{schedule}_{task}"] = metrics["train_seconds"]
            dev.setdefault(schedule, {})[task] = metrics["dev"]
        record = {"date": datetime.now(UTC).isoformat(), "machine": platform.platform(),
                  "cpus": os.cpu_count(), "load_average": os.getloadavg(), "size": size,
                  "finetune_args": FINETUNE, "timings_s": timings, "dev": dev,
                  "final_pd_losses_mean_last_10_steps": final_losses,
                  "student": json.loads(STUDENT.read_text()), "teacher": "all-MiniLM-L6-v2 + MLM/NSP heads"}
        if not args.quick:
            result_path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({"dev": dev, "final_losses": final_losses, "timings_s": timings}, indent=1))


if __name__ == "__main__":
    main()
