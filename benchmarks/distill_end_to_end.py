"""End-to-end CPU run of the distillation protocol at toy scale, and its controls.

1. The documented small sequence (timed): `nas teacher --init-from minilm` → `nas distill --strategy pkt`
   → `nas finetune --task sst2` (acceptance: < 20 min on CPU, writes metrics.json).
2. The same student without a teacher (`--strategy none`, same steps), JKT and AKT at the same budget.
3. SST-2 and MRPC dev figures for each. Writes benchmarks/results/distill_end_to_end.json.

Usage: NAS_DATA_DIR=../shared/data python benchmarks/distill_end_to_end.py [--work DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ROOT / "nas/distill/examples/student-small.json"
SIZES = {"full": {"teacher_steps": 40, "steps_per_layer": 15, "pd_steps": 60, "ft_examples": 3000},
         "quick": {"teacher_steps": 4, "steps_per_layer": 2, "pd_steps": 4, "ft_examples": 200}}


def nas(*args: str) -> float:
    start = time.time()
    cmd = [sys.executable, "-m", "nas.cli", *args]
    print("$ nas " + " ".join(shlex.quote(a) for a in args), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
    return time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/tmp/nas-distill-bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reuse-teacher", action="store_true", help="keep WORK/teacher from an earlier run")
    args = parser.parse_args()
    data = Path(os.environ.get("NAS_DATA_DIR", ROOT.parent / "shared/data"))
    size = SIZES["quick" if args.quick else "full"]
    work = Path(args.work)
    corpus = str(data / "corpus/wikitext2-valid.txt")
    common = ["--corpus", corpus, "--batch-size", "16", "--seq-len", "64", "--warmup", "10"]
    timings: dict[str, float] = {}
    if args.reuse_teacher and (work / "teacher/config.json").is_file():
        timings["teacher"] = json.loads((work / "teacher/nas_distill.json").read_text())["seconds"]
    else:
        timings["teacher"] = nas("teacher", "--init-from", "minilm", "--steps", str(size["teacher_steps"]),
                                 "--lr", "5e-4", "--out", str(work / "teacher"), *common)
    results: dict[str, dict[str, dict]] = {}
    for strategy in ("pkt", "none", "jkt", "akt"):
        out = work / f"student-{strategy}"
        timings[f"distill_{strategy}"] = nas(
            "distill", "--student", str(STUDENT), "--teacher", str(work / "teacher"), "--strategy", strategy,
            "--steps-per-layer", str(size["steps_per_layer"]), "--pd-steps", str(size["pd_steps"]),
            "--lr", "1e-3", "--checkpoint-every", "50", "--out", str(out), *common)
        results[strategy] = {}
        for task in ("sst2", "mrpc"):
            ft_out = work / f"ft-{strategy}-{task}"
            timings[f"finetune_{strategy}_{task}"] = nas(
                "finetune", "--model", str(out), "--task", task, "--data-dir", str(data / "glue"),
                "--epochs", "2", "--lr", "1e-4", "--batch-size", "32",
                "--seq-len", "64" if task == "sst2" else "96",
                "--max-train-examples", str(size["ft_examples"]), "--out", str(ft_out))
            results[strategy][task] = json.loads((ft_out / "metrics.json").read_text())["dev"]
    sequence = timings["teacher"] + timings["distill_pkt"] + timings["finetune_pkt_sst2"]
    print(f"\ndocumented sequence teacher → distill (pkt) → finetune sst2: {sequence / 60:.1f} min")
    print(f"{'student':<10} {'SST-2 acc':>10} {'MRPC acc':>10} {'MRPC F1':>9} {'distill s':>10}")
    for strategy, r in results.items():
        print(f"{strategy:<10} {r['sst2']['accuracy']:>10.3f} {r['mrpc']['accuracy']:>10.3f} "
              f"{r['mrpc']['f1']:>9.3f} {timings['distill_' + strategy]:>10.0f}")
    record = {"date": datetime.now(UTC).isoformat(), "machine": platform.platform(),
              "processor": platform.processor(), "cpus": os.cpu_count(), "size": size,
              "sequence_minutes": sequence / 60, "timings_s": timings, "dev": results,
              "student": json.loads(STUDENT.read_text()), "teacher": "all-MiniLM-L6-v2 + MLM/NSP heads"}
    if not args.quick:
        out = ROOT / "benchmarks/results/distill_end_to_end.json"
        out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
