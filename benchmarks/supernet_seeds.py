"""Supernets of one recipe trained on different seeds: how much does the rank correlation move with the
supernet's seed, and does averaging their estimates rank the students better? (issue 9)

    python -m benchmarks.supernet_seeds estimator_rank_split_s1000.json estimator_rank_split_s1000_seed1.json
        [more reports ...] [--out supernet_seeds_s1000.json] [--ensemble DIR]

Reads estimator_rank reports (each made with `--supernet DIR` against the same stored ground truth) and scores,
against GT1 of every data seed recorded now (estimator_rank_truth.json), of the seed mean, and against GT2
(SST-2, first data seed) — of their ground truth, or with `--settings-id SID` of another made on the same
held-out batches (the students' held-out set is the estimates' scoring set; e.g. the paper's schedule):
each report's supernet estimate and predictor, and the plain mean of the supernets' estimates (each is minus
the held-out MLM cross-entropy on the same batches, so the values share one scale) and of their predictors
(with three or more reports, also every pair's mean); beside them the parameter count and the proxy. Which
means were judged, and when each rule was declared, is in nas/supernet/README.md. No new training or scoring:
the reports hold every estimate. Writes benchmarks/results/OUT; with `--ensemble DIR` (`nas supernet ensemble`
of the reports' supernets) also the ensemble's measured quality into DIR, which `nas search --supernet DIR`
shows on the plot's axis and in run.json.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.estimator_rank_archs import PAIRS, by_key
from benchmarks.estimator_rank_jobs import Store
from benchmarks.estimator_rank_report import size_and_proxy
from benchmarks.estimator_rank_report import truths as recorded_truths
from benchmarks.estimator_rank_stats import correlations, pairs_ordered, seed_mean
from benchmarks.estimator_rank_truth import students_label
from benchmarks.latency_common import RESULTS, command, machine_info

ESTIMATORS = ("supernet", "predictor")


def mean_estimate(reports: list[dict[str, Any]], name: str) -> dict[str, float]:
    """Each arch's mean over the reports that have it (the archs every report scored)."""
    tables = [r["estimates"][name] for r in reports if name in r["estimates"]]
    if len(tables) < len(reports):
        return {}
    common = set.intersection(*(set(t) for t in tables))
    return {k: float(np.mean([t[k] for t in tables])) for k in sorted(common)}


def score(estimates: dict[str, dict[str, float]], truth: dict[str, float], accuracy: bool = False) -> dict[str, Any]:
    """Correlations against a loss (GT1, with the equal-size pairs) or an accuracy (GT2)."""
    if accuracy:
        return {name: {**correlations(est, truth, higher_is_better=True), "pairs": None}
                for name, est in estimates.items()}
    return {name: {**correlations(est, truth, higher_is_better=False),
                   "pairs": pairs_ordered(est, truth, list(PAIRS))["correct"]} for name, est in estimates.items()}


def record_quality(directory: str, reports: list[dict[str, Any]], result: dict[str, Any], students: str,
                   gt1: dict[int, dict[str, float]]) -> None:
    """The ensemble's measured Spearman against GT1 of the first data seed (as estimator_rank.py records a single
    supernet's), into the ensemble directory, by the product command `nas supernet quality`."""
    import tempfile

    from nas.accuracy.supernet import record_quality as record
    from nas.supernet.ensemble import members

    listed = {str(Path(m).resolve()) for m in members(directory)}
    scored = {str(Path(r["supernet"]["directory"]).resolve()) for r in reports if r.get("supernet")}
    if listed != scored:
        raise SystemExit(f"error: {directory} groups {sorted(listed)}, the reports scored {sorted(scored)}")
    seed = min(gt1)
    archs = by_key()
    truth_file = {"note": f"GT1 seed {seed}, settings {result['settings_id']}", "students": students,
                  "archs": len(archs), "measured_by": "benchmarks/supernet_seeds.py", "date": result["date"],
                  "seed": seed, "budget": result["budget"],
                  "data": [{"key": k, "arch": archs[k].to_dict(), "loss": gt1[seed][k]} for k in sorted(gt1[seed])]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gt1.json"
        path.write_text(json.dumps(truth_file) + "\n")
        written = record(Path(directory), path, overwrite=True, predictor=False)
    print(f"recorded in {directory}: {written['text']}")

def check_same_heldout(scored: dict[str, Any], judged: dict[str, Any]) -> None:
    """The reports' estimates were made on their ground truth's held-out batches: another truth may judge them
    only if its students were evaluated on the same batches (corpus, sequence length, predictions)."""
    def batches(settings: dict[str, Any]) -> tuple[Any, ...]:
        return settings.get("eval"), settings["budget"]["seq_len"]

    if batches(scored) != batches(judged):
        raise SystemExit(f"error: that ground truth's held-out set {batches(judged)} is not the reports' "
                         f"{batches(scored)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="estimator_rank report file names under benchmarks/results")
    parser.add_argument("--out", default="supernet_seeds.json")
    parser.add_argument("--settings-id", default=None, help="Score the reports' estimates against the ground truth "
                        "recorded under this id instead of theirs (it must share their held-out batches).")
    parser.add_argument("--ensemble", default=None, help="The ensemble directory of these supernets: record its "
                        "measured rank correlation there.")
    args = parser.parse_args()
    if len(args.reports) < 2:
        raise SystemExit("error: name at least two reports (one per supernet seed)")
    reports = [json.loads((RESULTS / name).read_text()) for name in args.reports]
    if len({r["settings_id"] for r in reports}) != 1:
        raise SystemExit("error: the reports were scored against different ground truths (settings ids differ)")
    estimates: dict[str, dict[str, float]] = {}
    for name, report in zip(args.reports, reports, strict=True):
        for est in ESTIMATORS:
            if est in report["estimates"]:
                estimates[f"{est} ({name})"] = report["estimates"][est]
    for est in ESTIMATORS:
        if len(reports) > 2:  # every pair too: does any two seeds' mean beat its members?
            for (i, a), (j, b) in itertools.combinations(enumerate(args.reports), 2):
                pair = mean_estimate([reports[i], reports[j]], est)
                if pair:
                    estimates[f"{est}, mean of {Path(a).stem} + {Path(b).stem}"] = pair
        mean = mean_estimate(reports, est)
        if mean:
            estimates[f"{est}, mean of {len(reports)} supernets"] = mean
    estimates.update(size_and_proxy()[0])  # the parameter count and today's proxy
    store = Store(RESULTS / "estimator_rank_truth.json")
    sid = args.settings_id or reports[0]["settings_id"]
    if sid not in store.data["settings"]:
        raise SystemExit(f"error: no ground truth recorded under settings id {sid}")
    check_same_heldout(store.data["settings"][reports[0]["settings_id"]], store.data["settings"][sid])
    gt1, gt2 = recorded_truths(store, sid)
    truths = {f"GT1 seed {s}": v for s, v in sorted(gt1.items())}
    if len(gt1) > 1:
        truths["GT1 seed mean"] = seed_mean(gt1)
    result = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "produced_by": command(),
              "machine": machine_info(),
              "reports": args.reports, "settings_id": sid, "budget": store.data["settings"][sid]["budget"],
              "supernets": [r.get("supernet", {}).get("directory") for r in reports],
              "ensemble": "plain mean of the supernets' estimates (minus held-out MLM CE, same batches) and of "
                          "their predictors",
              "scores": {t: score(estimates, truth) for t, truth in truths.items()}}
    first_gt2 = min(gt2) if gt2 else None
    if first_gt2 is not None:  # GT2: SST-2 dev accuracy on the first data seed (every arch fine-tuned)
        truths[f"GT2 seed {first_gt2}"] = gt2[first_gt2]
        result["scores"][f"GT2 seed {first_gt2}"] = score(estimates, gt2[first_gt2], accuracy=True)
    (RESULTS / args.out).write_text(json.dumps(result, indent=1) + "\n")
    if args.ensemble:
        record_quality(args.ensemble, reports, result, students_label(store.data["settings"][sid]["budget"]), gt1)
    width = max(len(n) for n in estimates)
    print(f"{'estimator':<{width}} " + " ".join(f"{t:>22}" for t in truths))
    for name in estimates:
        cells = []
        for t in truths:
            s = result["scores"][t][name]
            pairs = f" {s['pairs']}/6" if s["pairs"] is not None else "    "
            cells.append(f"{s['spearman']:+.3f} n={s['n']:<2}{pairs}".rjust(22) if s["spearman"] is not None
                         else "—".rjust(22))
        print(f"{name:<{width}} " + " ".join(cells))
    print(f"wrote {RESULTS / args.out}")


if __name__ == "__main__":
    main()
