"""Wall time of the main job, `nas search --device pixel4 --budget 62ms` (2000 trials, its default estimator), as a user
waits for it: a fresh process each time, writing the run directory (best/config.json, TRAIN.md, pareto.html) included.

    python -m benchmarks.search_wall_time [--repeats 3] [--code DIR] [--out search_wall_time.json]
    python -m benchmarks.search_wall_time --proof --out search_wall_time_proof.json

`--proof` times the proof experiment's search step from shipped files instead (issue 31: at each budget of
benchmarks/proof/plan.json, its space, `--estimator predictor --predictor proof-seed0`: no weights, no training).

`--code DIR` times another checkout of this repository (`git worktree add DIR REV`: before and after a change);
its `python -m nas.cli` runs from DIR with this interpreter. Writes benchmarks/results/OUT (date, machine).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.latency_common import RESULTS, command, machine_info
from benchmarks.search_quality import DEFAULT_SEARCH, NAS, default_search_wall_time

PROOF_PREDICTOR = "proof-seed0"


def proof_searches() -> list[tuple[str, ...]]:
    """The proof's search step at each of its budgets, scored by the shipped predictor."""
    from benchmarks.proof import design

    return [("--device", design.DEVICE, "--budget", f"{budget:g}ms", "--space", str(design.SPACE_FILE),
             "--estimator", "predictor", "--predictor", PROOF_PREDICTOR) for budget in design.BUDGETS_MS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--code", default=None, help="Another checkout to time (default: the installed `nas`).")
    parser.add_argument("--proof", action="store_true", help="Time the proof's search step from shipped files.")
    parser.add_argument("--out", default="search_wall_time.json")
    args = parser.parse_args()
    launcher = (sys.executable, "-m", "nas.cli") if args.code else (NAS,)
    searches = proof_searches() if args.proof else [DEFAULT_SEARCH]
    runs = [default_search_wall_time(launcher, args.code, search) for search in searches for _ in range(args.repeats)]
    seconds = [r["seconds"] for r in runs]
    code = args.code or str(Path(__file__).resolve().parents[1])
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code, capture_output=True, text=True)
    result = {"produced_by": command(),
              "machine": machine_info(), "command": runs[0]["command"], "code": head.stdout.strip(),
              "trials": runs[0]["trials"], "seconds": seconds, "median_seconds": float(np.median(seconds)),
              "max_seconds": max(seconds), "runs": runs}
    (RESULTS / args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{result['code']}: {result['trials']} trials, {' / '.join(f'{s:.2f}' for s in seconds)} s "
          f"(median {result['median_seconds']:.2f} s); wrote {RESULTS / args.out}")


if __name__ == "__main__":
    main()
