"""Times the documented small CPU sequence of nas/distill/README.md (teacher → distill → finetune),
from fresh directories, as a user would run it. Acceptance (issue 5): under 20 minutes, writes metrics.json.

Usage: NAS_DATA_DIR=../shared/data python -m benchmarks.distill_small_sequence [--work DIR]
Writes benchmarks/results/distill_small_sequence.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.data_folder import data_folder
from benchmarks.latency_common import command

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/tmp/nas-distill-sequence")
    args = parser.parse_args()
    data = data_folder()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    corpus = str(data / "corpus/wikitext2-valid.txt")
    steps = {
        "teacher": ["teacher", "--init-from", "minilm", "--corpus", corpus, "--steps", "40", "--batch-size", "16",
                    "--seq-len", "64", "--lr", "5e-4", "--warmup", "10", "--out", str(work / "teacher")],
        "distill": ["distill", "--student", "nas/distill/examples/student-small.json", "--teacher",
                    str(work / "teacher"), "--corpus", corpus, "--schedule", "pkt", "--steps-per-layer", "15",
                    "--pd-steps", "60", "--batch-size", "16", "--seq-len", "64", "--lr", "1e-3", "--warmup", "10",
                    "--checkpoint-every", "50", "--out", str(work / "student")],
        "finetune": ["finetune", "--model", str(work / "student"), "--task", "sst2", "--data-dir",
                     str(data / "glue"), "--epochs", "2", "--lr", "1e-4", "--batch-size", "32", "--seq-len", "64",
                     "--max-train-examples", "3000", "--out", str(work / "sst2")],
    }
    wall: dict[str, float] = {}
    load_before = os.getloadavg()
    for name, argv in steps.items():
        start = time.time()
        subprocess.run([sys.executable, "-m", "nas.cli", *argv], check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
        wall[name] = round(time.time() - start, 1)
        print(f"{name:<9} {wall[name]:>7.1f} s", flush=True)
    total = sum(wall.values())
    metrics = json.loads((work / "sst2/metrics.json").read_text())
    print(f"{'total':<9} {total:>7.1f} s ({total / 60:.1f} min); SST-2 dev accuracy {metrics['dev']['accuracy']:.3f}")
    record = {"date": datetime.now(UTC).isoformat(), "produced_by": command(),
              "machine": platform.platform(), "cpus": os.cpu_count(),
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "wall_s": wall, "total_minutes": total / 60, "sst2_dev": metrics["dev"],
              "commands": {k: "nas " + " ".join(v) for k, v in steps.items()}}
    (ROOT / "benchmarks/results/distill_small_sequence.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
