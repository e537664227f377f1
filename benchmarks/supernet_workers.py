"""Wall time of a split supernet's training: one process (torch's default threads) against `--workers N`.

Both run `nas supernet train` as a user does, in a fresh process, on the same teacher, corpus, space, steps and
seed (start-up included: teacher, corpus, and with --workers one spawned process per part). Run it on an idle
machine: the load average before each run is recorded beside its time.

    python -m benchmarks.supernet_workers --teacher ~/.cache/nas/teachers/minilm-384 \
        --corpus $NAS_DATA_DIR/corpus/wikitext2-valid.txt [--steps 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.supernet_common import add_training_options, write_result

RESULTS = Path(__file__).parent / "results" / "supernet_workers.json"
NAS = str(Path(sys.executable).with_name("nas"))


def train(args: argparse.Namespace, out: Path, workers: int) -> dict[str, object]:
    command = [NAS, "supernet", "train", "--teacher", args.teacher, "--corpus", args.corpus, "--out", str(out),
               "--steps", str(args.steps), "--split", "bottleneck", "--batch-size", str(args.batch_size),
               "--seq-len", str(args.seq_len), "--max-predictions", str(args.max_predictions), "--lr", "1e-3",
               "--warmup", "2", "--checkpoint-every", "0", "--workers", str(workers)]
    if args.space:
        command += ["--space", args.space]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    meta = json.loads((out / "supernet.json").read_text())
    parts = {name: json.loads((out / "parts" / name / "supernet.json").read_text())["seconds"]
             for name in meta["split"]["parts"].values()}
    return {"workers": workers, "wall_s": round(seconds, 1), "load_average_before": load,
            "part_training_s": parts, "steps_done": meta["steps_done"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_training_options(parser, steps=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="supernet_workers_"))
    try:
        runs = [train(args, scratch / f"w{w}", w) for w in (1, args.workers)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    one, many = runs
    print(f"{'processes':>10} {'wall s':>8} {'load before':>12}")
    for run in runs:
        print(f"{run['workers']:>10} {run['wall_s']:>8} {run['load_average_before']:>12.2f}")
    speedup = round(one["wall_s"] / many["wall_s"], 2)
    print(f"--workers {args.workers}: {speedup}× the speed of one process")
    write_result(args.out, {"steps": args.steps, "batch_size": args.batch_size, "seq_len": args.seq_len,
                            "max_predictions": args.max_predictions, "space": args.space or "default (minilm-384)",
                            "teacher": args.teacher, "runs": runs, "speedup": speedup},
                 torch_threads_one_process="torch default (the machine's cores)")


if __name__ == "__main__":
    main()
