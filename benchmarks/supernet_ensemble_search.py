"""How long `nas search --estimator supernet` takes with an ensemble of supernets (issue 9: ≤ 60 s for 2000
trials with one supernet; an ensemble re-scores the front with every member).

    NAS_DATA_DIR=../shared/data python benchmarks/supernet_ensemble_search.py --supernet DIR [--out NAME.json]

Runs `nas search --device pixel4 --budget 62ms --estimator supernet --supernet DIR --seed 0` (2000 trials, the
members' predictors already fitted) in a fresh process into a temporary run directory; records the wall time,
the estimator's quality label from run.json and the best pick. Writes benchmarks/results/OUT.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency_common import RESULTS, machine_info  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supernet", required=True, help="A supernet or ensemble directory (predictors fitted).")
    parser.add_argument("--out", default="supernet_ensemble_search.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        command = ["search", "--device", "pixel4", "--budget", "62ms", "--estimator", "supernet", "--supernet",
                   args.supernet, "--seed", "0", "--out", str(run)]
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nas.cli", *command], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        seconds = round(time.perf_counter() - start, 1)
        record = json.loads((run / "run.json").read_text())
    members = json.loads((Path(args.supernet) / "ensemble.json").read_text())["members"] \
        if (Path(args.supernet) / "ensemble.json").is_file() else [args.supernet]
    result = {"machine": machine_info(), "command": "nas " + " ".join(command[:-2]), "members": members,
              "trials": record["options"]["trials"], "seconds": seconds,
              "estimator": record["estimator"], "best": record["summary"]["best"]}
    (RESULTS / args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{len(members)} supernet(s), {result['trials']} trials: {seconds} s; {record['estimator']['quality']}")


if __name__ == "__main__":
    main()
