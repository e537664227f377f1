"""How long `nas search --estimator supernet` takes with an ensemble of supernets (issue 9: ≤ 60 s for 2000
trials with one supernet; an ensemble re-scores the front with every member).

    NAS_DATA_DIR=../shared/data python -m benchmarks.supernet_ensemble_search --supernet DIR [--out NAME.json]
        [--profile] [--code DIR]

Runs `nas search --device pixel4 --budget 62ms --estimator supernet --supernet DIR --seed 0` (2000 trials, the
members' predictors already fitted) in a fresh process into a temporary run directory; records the wall time,
the estimator's quality label from run.json and the best pick. `--profile` runs it under cProfile and records
where the time goes (PARTS: the front's re-scoring, loading the supernet, the strategy's proposals, the MLM head's
weight concatenation; cProfile slows the run, so its total is not the timed one); `--code DIR` runs the search
from another checkout of this repository (e.g. `git worktree add DIR REV`: before and after a change). Writes
benchmarks/results/OUT.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.latency_common import RESULTS, machine_info
from benchmarks.latency_common import command as benchmark_command
from nas.supernet.ensemble import members as ensemble_members

ROOT = Path(__file__).resolve().parents[1]
PARTS = {"re-scoring the front": ("accuracy/supernet.py", "refine_front"),
         "loading the supernet and held-out batches": ("accuracy/supernet.py", "_scorer"),
         "its held-out forward passes": ("accuracy/supernet.py", "mlm_losses"),
         "strategy proposals (ask)": ("strategies/nsga2.py", "ask"),
         "concatenating the MLM head's weight": ("~", "<built-in method torch.cat>")}


def profile_parts(path: Path) -> dict[str, float]:
    """Cumulative seconds of each of PARTS in a cProfile file."""
    import pstats

    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    out = {}
    for part, (file_end, function) in PARTS.items():
        out[part] = round(sum(row[3] for (file, _, name), row in stats.items()
                              if file.endswith(file_end) and name == function), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supernet", required=True, help="A supernet or ensemble directory (predictors fitted).")
    parser.add_argument("--out", default="supernet_ensemble_search.json")
    parser.add_argument("--profile", action="store_true", help="Run under cProfile and record where time goes.")
    parser.add_argument("--code", default=str(ROOT), help="The checkout whose `nas` runs (default: this one).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        command = ["search", "--device", "pixel4", "--budget", "62ms", "--estimator", "supernet", "--supernet",
                   args.supernet, "--seed", "0", "--out", str(run)]
        profile = Path(tmp) / "search.prof"
        runner = ["-m", "cProfile", "-o", str(profile)] if args.profile else []
        start = time.perf_counter()
        subprocess.run([sys.executable, *runner, "-m", "nas.cli", *command], check=True, cwd=args.code,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = round(time.perf_counter() - start, 1)
        record = json.loads((run / "run.json").read_text())
        parts = profile_parts(profile) if args.profile else None
    members = [str(m) for m in ensemble_members(args.supernet)]
    result = {"produced_by": benchmark_command(),
              "machine": machine_info(), "command": "nas " + " ".join(command[:-2]), "members": members,
              "trials": record["options"]["trials"], "seconds": seconds,
              "estimator": record["estimator"], "best": record["summary"]["best"], "code": commit(Path(args.code))}
    if parts:
        result["profiled_seconds"] = {"note": "under cProfile (slower than the timed run)", **parts}
    (RESULTS / args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{len(members)} supernet(s), {result['trials']} trials: {seconds} s; {record['estimator']['quality']}")
    for part, value in (parts or {}).items():
        print(f"  {part}: {value} s (profiled)")


def commit(code: Path) -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!benchmarks/results"], cwd=code, capture_output=True, text=True).stdout.strip()
    return head.stdout.strip() + (" + uncommitted changes" if dirty else "")


if __name__ == "__main__":
    main()
