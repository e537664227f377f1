"""How much memory a search holds per trial: peak RSS of `nas search` at several trial counts, and the slope.

    python -m benchmarks.search_memory                     # 2 000, 20 000 and 60 000 trials (about 2 min)

Each count runs `nas search --device pixel4 --budget 62ms` (the README's defaults, the proxy estimator) in a
fresh process and records its peak resident set size (`ru_maxrss`). A search keeps every trial until it writes
the run (trials.csv, the front, the report), so memory grows with --trials; the slope, least squares over the
counts, is what `nas search` uses to refuse a --trials that cannot fit in the memory available
(`nas/search/capacity.py` cites this file).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.latency_common import RESULTS, provenance, table

RUN_ONE = """
import resource, sys
from nas.cli import main
sys.argv = ["nas", "search", "--device", "pixel4", "--budget", "62ms", "--trials", sys.argv[1], "--out", sys.argv[2]]
try:
    main()
except SystemExit:
    pass
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_kb(trials: int, out: Path) -> int:
    result = subprocess.run([sys.executable, "-c", RUN_ONE, str(trials), str(out)], capture_output=True, text=True,
                            check=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("PEAK_KB"))
    return int(line.split()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, nargs="+", default=[2000, 20000, 60000])
    ap.add_argument("--out", default=str(RESULTS / "search_memory.json"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for trials in args.trials:
            kb = peak_kb(trials, Path(tmp) / f"run-{trials}")
            rows.append({"trials": trials, "peak_rss_mib": round(kb / 1024, 1)})
            print(f"  {trials} trials: peak RSS {kb / 1024:.0f} MiB", flush=True)
    x = np.array([r["trials"] for r in rows], dtype=float)
    y = np.array([r["peak_rss_mib"] for r in rows]) * 1024  # KiB
    slope, intercept = np.polyfit(x, y, 1)
    print(table(rows, ["trials", "peak_rss_mib"]))
    print(f"slope: {slope:.2f} KiB a trial, intercept {intercept / 1024:.0f} MiB")
    payload = {"benchmark": "search_memory", **provenance(len(rows)), "rows": rows,
               "kib_per_trial": round(float(slope), 3), "base_mib": round(float(intercept) / 1024, 1),
               "setup": "nas search --device pixel4 --budget 62ms --trials N (proxy estimator), fresh process each"}
    Path(args.out).write_text(json.dumps(payload, indent=2) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
