"""The proof students' latency on a real runtime (plan.json "metrics" host_tflite_ms): every arch of the
comparison exported to a fp32 `.tflite` and timed in LiteRT on this machine, 1 thread, interleaved in one
process so that load on a shared machine falls on every arch alike, with `nas measure --backend tflite`.

    python -m benchmarks.proof.measure --results ~/proof/code/benchmarks/results/proof.json [--repeat 30]

Records `proof/host-tflite/<arch>` in the runner's store, i.e. the worktree's proof.json that is copied into this
checkout's benchmarks/results/ to be committed. New archs may be timed while the runner runs (the store locks); to
re-time archs already recorded, stop the runner first: the runner at the plan's commit keeps its own copy of
every record and writes it back over the new one (this checkout's store lets the file win).
Latency does not depend on the weights, so untrained archs are timed (the exported students have the same graph).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.estimator_rank_jobs import Store
from benchmarks.proof import design
from benchmarks.proof.run import RESULTS, proof_archs
from benchmarks.proof.table import CONFIRMED
from device_profiles.host import cpu_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30, help="Timed runs per arch.")
    parser.add_argument("--clock", choices=("wall", "thread"), default="thread",
                        help="thread: CPU time of the timing thread (robust on a shared machine).")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    archs = proof_archs()
    from search_spaces.arch import Arch

    confirmed = json.loads(CONFIRMED.read_text()) if CONFIRMED.is_file() else {}
    archs |= {name: Arch.from_dict(e["arch"]) for name, e in confirmed.items() if not e.get("same_as")}
    with tempfile.TemporaryDirectory() as tmp:
        names, files = [], []
        for name, arch in archs.items():
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps(arch.to_dict()))
            names.append(name)
            files.append(path)
        out = Path(tmp) / "measured.jsonl"
        command = [sys.executable, "-m", "nas.cli", "measure", "--device", "host", "--backend", "tflite",
                   "--threads", "1", "--seq-len", str(design.SEQ_LEN), "--repeat", str(args.repeat),
                   "--clock", args.clock, "--out", str(out)]
        for path in files:
            command += ["--arch", str(path)]
        subprocess.run(command, check=True)
        rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    if len(rows) != len(names):
        sys.exit(f"error: measured {len(rows)} rows for {len(names)} archs")
    store = Store(args.results)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=design.ROOT).stdout.strip()
    print(f"{'arch':24s} {'host-tflite ms':>14s} {'spread':>7s}")
    for name, row in zip(names, rows, strict=True):
        record = {"ms": row["latency_ms"], "spread": row.get("spread"), "runs": row.get("repeats"),
                  "clock": args.clock, "threads": 1, "seq_len": design.SEQ_LEN, "backend": "tflite (LiteRT, fp32)",
                  "cpu": cpu_model(),
                  "code": commit, "row": row}
        store.put(f"proof/host-tflite/{name}", record)
        print(f"{name:24s} {row['latency_ms']:14.2f} {row.get('spread') or 0:7.3f}")


if __name__ == "__main__":
    main()
