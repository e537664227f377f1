"""Why a supernet ranks the ground-truth students as it does: two checks on estimator_rank reports.

    NAS_DATA_DIR=../shared/data python -m benchmarks.supernet_rank_diagnosis REPORT [REPORT ...]
        [--supernet DIR --batches 32] [--out NAME]

1. What each estimate follows: Spearman of the supernet estimate (held-out MLM cross-entropy) of every report,
   and of GT1, against depth, bottleneck width ("none" = the inter-block width) and log body parameters.
2. With `--supernet`: is the held-out sample the problem? The 16 archs on `--batches` held-out batches (the
   scorer uses 4): Spearman vs GT1 of the first 4 and of all, each block of 4, and the agreement of the two
   halves' rankings (split-half Spearman: near 1 means the estimate is a property of the weights, not noise).

Writes benchmarks/results/supernet_rank_diagnosis.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from benchmarks.estimator_rank_archs import by_key
from benchmarks.latency_common import RESULTS, command, machine_info
from nas.accuracy.proxy import body_params


def rho(a: np.ndarray | list, b: np.ndarray | list) -> float:
    return round(float(spearmanr(a, b).statistic), 3)


def ground_truth(report: dict) -> dict[str, float]:
    return report["ground_truth"]["gt1"]["0"]


def what_estimates_follow(reports: list[Path]) -> dict:
    archs = by_key()
    gt = ground_truth(json.loads(reports[0].read_text()))
    keys = sorted(gt)
    features = {"depth": [archs[k].num_hidden_layers for k in keys],
                "bottleneck": [archs[k].intra_bottleneck_size if archs[k].use_bottleneck else archs[k].hidden_size
                               for k in keys],
                "log_body_params": [math.log(body_params(archs[k])) for k in keys]}
    rows = {"GT1 (held-out PD loss)": [gt[k] for k in keys]}
    for path in reports:
        scores = json.loads(path.read_text())["estimates"]["supernet"]  # exp(−MLM CE)
        rows[path.stem] = [-math.log(scores[k]) for k in keys]
    table = {name: {**{f: rho(values, column) for f, column in features.items()},
                    "vs_gt1": rho(values, rows["GT1 (held-out PD loss)"])} for name, values in rows.items()}
    print(f"{'':40}" + "".join(f"{f:>16}" for f in [*features, "vs_gt1"]))
    for name, row in table.items():
        print(f"{name:40}" + "".join(f"{v:16.2f}" for v in row.values()))
    return {"n": len(keys), "spearman_of_estimate_with": table}


def held_out_sample(directory: str, batches: int, gt: dict[str, float], corpus: Path) -> dict:
    from nas.supernet import evaluate
    from nas.supernet.api import load_supernet

    archs = by_key()
    keys = sorted(gt)
    supernet = load_supernet(directory)
    start = time.time()
    held = supernet.eval_batches(corpus, batches=batches)
    per_batch = np.array([[r["mlm"] for r in evaluate.subnet_losses(supernet.elastic, supernet.teacher,
                                                                       [archs[k] for k in keys], [b])]
                          for b in held])
    y = [gt[k] for k in keys]
    half = batches // 2
    result = {"supernet": directory, "batches": batches, "seconds": round(time.time() - start, 1),
              "vs_gt1_first_4": rho(per_batch[:4].mean(0), y), "vs_gt1_all": rho(per_batch.mean(0), y),
              "vs_gt1_blocks_of_4": [rho(per_batch[s:s + 4].mean(0), y) for s in range(0, batches, 4)],
              "split_half_agreement": rho(per_batch[:half].mean(0), per_batch[half:].mean(0))}
    print(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="estimator_rank report names under benchmarks/results")
    parser.add_argument("--supernet", default=None)
    parser.add_argument("--batches", type=int, default=32)
    parser.add_argument("--out", default="supernet_rank_diagnosis", help="Report name under benchmarks/results.")
    args = parser.parse_args()
    paths = [RESULTS / (name if name.endswith(".json") else name + ".json") for name in args.reports]
    result = {"follows": what_estimates_follow(paths)}
    if args.supernet:
        from nas_common.paths import data_dir

        corpus = data_dir(sub="corpus")
        if corpus is None:
            raise SystemExit("set NAS_DATA_DIR (the held-out corpus is its corpus/wikitext2-test.txt)")
        gt = ground_truth(json.loads(paths[0].read_text()))
        result["held_out_sample"] = held_out_sample(args.supernet, args.batches, gt, corpus / "wikitext2-test.txt")
    out = RESULTS / f"{args.out.removesuffix('.json')}.json"
    out.write_text(json.dumps({"benchmark": "supernet_rank_diagnosis", "produced_by": command(),
                               "machine": machine_info(),
                               "reports": args.reports, **result}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
