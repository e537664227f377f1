"""Two ground truths of `estimator_rank.py` side by side (issue 9): do students distilled under two budgets or
schedules rank alike, and how does each treat depth?

    python -m benchmarks.estimator_rank_compare_truths SID_A SID_B [--seed 0] [--out estimator_rank_truths.json]

For the archs both settings ids distilled on data seed `--seed` (estimator_rank_truth.json): a table of their
held-out PD loss (GT1) and its difference, and Spearman and Kendall (scipy, via estimator_rank_stats) of GT1 A vs
B, GT2 (SST-2) A vs B, GT1 vs GT2 within each, and each GT1 against depth (negative: deeper students have lower
loss). Writes benchmarks/results/OUT (date, machine, n with every figure).
"""

from __future__ import annotations

import argparse
import datetime
import json

from benchmarks.estimator_rank_archs import by_key
from benchmarks.estimator_rank_jobs import Store
from benchmarks.estimator_rank_report import truths
from benchmarks.estimator_rank_stats import correlations
from benchmarks.latency_common import RESULTS, command, machine_info


def spearman(a: dict[str, float], b: dict[str, float]) -> dict[str, float | int | None]:
    """Rank agreement of a with b on their common archs (+1: same order)."""
    return correlations(a, b, higher_is_better=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings_ids", nargs=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="estimator_rank_truths.json")
    args = parser.parse_args()
    store = Store(RESULTS / "estimator_rank_truth.json")
    (gt1_a, gt2_a), (gt1_b, gt2_b) = ((g1.get(args.seed, {}), g2.get(args.seed, {}))
                                      for g1, g2 in (truths(store, sid) for sid in args.settings_ids))
    common = sorted(set(gt1_a) & set(gt1_b), key=lambda k: gt1_a[k])
    if len(common) < 3:
        raise SystemExit(f"error: the two settings ids share {len(common)} distilled archs on seed {args.seed}")
    a, b = args.settings_ids
    layers = {k: float(arch.num_hidden_layers) for k, arch in by_key().items() if k in common}
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "produced_by": command(),
        "machine": machine_info(),
        "settings_ids": args.settings_ids, "data_seed": args.seed,
        "table": [{"arch": k, "gt1": {a: gt1_a[k], b: gt1_b[k]}, "difference": round(gt1_a[k] - gt1_b[k], 4),
                   "gt2": {a: gt2_a.get(k), b: gt2_b.get(k)}} for k in common],
        "gt1_a_vs_b": spearman(gt1_a, gt1_b), "gt2_a_vs_b": spearman(gt2_a, gt2_b),
        "gt1_vs_gt2": {a: spearman(gt1_a, {k: -v for k, v in gt2_a.items()}),
                       b: spearman(gt1_b, {k: -v for k, v in gt2_b.items()})},
        "gt1_vs_depth": {sid: spearman({k: g[k] for k in common}, layers)
                         for sid, g in ((a, gt1_a), (b, gt1_b))},
        "note": "gt1_vs_gt2 is Spearman of the loss against minus the accuracy (+1: they agree)",
    }
    (RESULTS / args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{'arch':<22} {a[:10]:>10} {b[:10]:>10}   diff")
    for row in result["table"]:
        print(f"{row['arch']:<22} {row['gt1'][a]:10.3f} {row['gt1'][b]:10.3f} {row['difference']:+7.3f}")
    for key in ("gt1_a_vs_b", "gt2_a_vs_b"):
        print(f"{key}: {result[key]}")
    print(f"gt1_vs_gt2: {result['gt1_vs_gt2']}\ngt1_vs_depth: {result['gt1_vs_depth']}\nwrote {RESULTS / args.out}")


if __name__ == "__main__":
    main()
