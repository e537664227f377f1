"""Where a split supernet's ranking is won or lost: within its parts or between them (issue 9).

    python -m benchmarks.supernet_part_levels estimator_rank_split_s1000.json estimator_rank_split_s4800.json ...
        [--settings-id SID] [--out supernet_part_levels.json]

Reads estimator_rank reports (no training, no scoring: their stored estimates) and, against GT1 of the first
data seed of their ground truth (or of `--settings-id`), prints per report:
- the held-out MLM cross-entropy each part's archs get (the estimate is exp(−CE)), and their spread — how far
  the supernet is trained;
- Spearman over all archs; *within parts*: estimates and GT1 each centred on their part's mean, pooled;
  *between parts*: the parts' mean estimates against their mean GT1 (five points: read it as an order).
A split supernet trains each part alone, so a part's level against the others is where seed noise can enter
that within-part training does not see.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import re
from typing import Any

import numpy as np

from benchmarks.estimator_rank_jobs import Store
from benchmarks.estimator_rank_report import truths
from benchmarks.estimator_rank_stats import correlations
from benchmarks.latency_common import RESULTS, command, machine_info

PART = re.compile(r"-b(\w+?)-")


def part_of(arch_key: str) -> str:
    return PART.search(arch_key).group(1)


def centred(values: dict[str, float]) -> dict[str, float]:
    """Each arch's value minus its part's mean."""
    means = {p: float(np.mean([v for k, v in values.items() if part_of(k) == p])) for p in map(part_of, values)}
    return {k: v - means[part_of(k)] for k, v in values.items()}


def part_means(values: dict[str, float]) -> dict[str, float]:
    parts = sorted({part_of(k) for k in values})
    return {p: float(np.mean([v for k, v in values.items() if part_of(k) == p])) for p in parts}


def analyse(report: dict[str, Any], gt1: dict[str, float]) -> dict[str, Any]:
    estimate = {k: v for k, v in report["estimates"]["supernet"].items() if k in gt1}
    mlm = {k: -math.log(v) for k, v in estimate.items()}
    truth = {k: gt1[k] for k in estimate}
    return {
        "n": len(estimate),
        "steps": (report.get("supernet", {}).get("training") or {}).get("steps_done"),
        "mlm_ce_range": [round(min(mlm.values()), 4), round(max(mlm.values()), 4)],
        "part_mean_mlm_ce": {p: round(v, 4) for p, v in part_means(mlm).items()},
        "part_mean_gt1": {p: round(v, 4) for p, v in part_means(truth).items()},
        "all": correlations(estimate, truth, higher_is_better=False),
        "within_parts": correlations(centred(mlm), centred(truth), higher_is_better=True)
        | {"note": "MLM CE and GT1 centred on their part's mean, pooled (both losses: lower = better)"},
        "between_parts": correlations(part_means(mlm), part_means(truth), higher_is_better=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", nargs="+", help="estimator_rank reports under benchmarks/results/")
    parser.add_argument("--settings-id", default=None, help="Judge against this ground truth (same held-out set).")
    parser.add_argument("--out", default="supernet_part_levels.json")
    args = parser.parse_args()
    reports = {name: json.loads((RESULTS / name).read_text()) for name in args.reports}
    store = Store(RESULTS / "estimator_rank_truth.json")
    sid = args.settings_id or next(iter(reports.values()))["settings_id"]
    gt1_by_seed, _ = truths(store, sid)
    if not gt1_by_seed:
        raise SystemExit(f"error: no ground truth recorded under settings id {sid}")
    seed = min(gt1_by_seed)
    rows = {name: analyse(report, gt1_by_seed[seed]) for name, report in reports.items()}
    result = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "produced_by": command(),
              "machine": machine_info(),
              "settings_id": sid, "data_seed": seed, "reports": rows}
    (RESULTS / args.out).write_text(json.dumps(result, indent=1) + "\n")
    parts = sorted({p for r in rows.values() for p in r["part_mean_mlm_ce"]}, key=lambda p: (p == "none", len(p), p))
    print(f"{'report':<44} {'n':>3} {'MLM CE range':>14} " + " ".join(f"{'b' + p:>7}" for p in parts)
          + f" {'all':>6} {'within':>7} {'between':>8}")
    for name, r in rows.items():
        levels = " ".join(f"{r['part_mean_mlm_ce'].get(p, float('nan')):7.3f}" for p in parts)
        lo, hi = r["mlm_ce_range"]
        print(f"{name:<44} {r['n']:>3} {lo:6.3f}–{hi:6.3f} {levels} {r['all']['spearman']:+6.2f} "
              f"{r['within_parts']['spearman']:+7.2f} {r['between_parts']['spearman']:+8.2f}")
    truth_levels = " ".join(f"{next(iter(rows.values()))['part_mean_gt1'].get(p, float('nan')):7.3f}" for p in parts)
    print(f"{'GT1 (held-out PD loss), part means':<44} {'':>3} {'':>14} {truth_levels}")
    print(f"wrote {RESULTS / args.out}")


if __name__ == "__main__":
    main()
