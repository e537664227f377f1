"""The report of `estimator_rank.py`: estimators scored against the recorded ground truth; table + JSON."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.estimator_rank_archs import ARCHS, PAIRS, by_key
from benchmarks.estimator_rank_jobs import Store
from benchmarks.estimator_rank_stats import (
    correlations,
    neighbour_gaps,
    paired_noise,
    pairs_ordered,
    seed_agreement,
    seed_mean,
)
from benchmarks.estimator_rank_truth import eval_batches, layer_steps
from benchmarks.latency_common import command

GT1, GT2 = "heldout_pd", "sst2_accuracy"
SUPERNET_MEASURES = ("mlm", "pd", "distill", "pd_kd", "fm", "attn")


def truths(store: Store, sid: str) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, float]]]:
    """{seed: {arch: GT1}}, {seed: {arch: GT2}} of the archs in the current arch set."""
    keys = set(by_key())
    gt1: dict[int, dict[str, float]] = {}
    gt2: dict[int, dict[str, float]] = {}
    for (arch, seed), record in store.records(sid, "distill").items():
        if arch in keys:
            gt1.setdefault(seed, {})[arch] = record["heldout"]["pd"]
    for (arch, seed), record in store.records(sid, "finetune").items():
        if arch in keys:
            gt2.setdefault(seed, {})[arch] = record["sst2_accuracy"]
    return gt1, gt2


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def size_and_proxy() -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    from nas.accuracy import get_estimator
    from nas.accuracy.proxy import body_params
    from search_spaces.space import SearchSpace

    estimator = get_estimator("proxy")
    archs = [b.arch for b in ARCHS]
    proxy = estimator.estimate(archs)
    sample = SearchSpace.default().sample_many(2000, np.random.default_rng(2))
    _, seconds = timed(estimator.estimate, sample)
    info = {"quality": estimator.quality, "version": estimator.version,
            "archs_per_s": round(len(sample) / seconds, 1)}
    return {"proxy": dict(zip(by_key(), proxy.tolist(), strict=True)),
            "body_params": {b.key: float(body_params(b.arch)) for b in ARCHS}}, info


def supernet_estimates(directory: str, data: Path, seq_len: int,
                       predictor: bool = True) -> tuple[dict[str, dict[str, float]], dict]:
    """(a) the supernet's score and (b) the predictor's, as the search computes them, plus every supernet
    measure on the ground truth's own held-out batches (to choose the measure), and throughputs. Without
    `predictor`, (b) is left out (fitting it is most of the time: 300 supernet evaluations)."""
    from nas.accuracy.supernet import SupernetEstimator, _scorer, derived_losses

    estimator = SupernetEstimator(directory)
    space = estimator.space
    inside = [b for b in ARCHS if space.contains(b.arch)]
    archs = [b.arch for b in inside]
    keys = [b.key for b in inside]
    out: dict[str, dict[str, float]] = {}
    if predictor:
        predicted, _ = timed(estimator.estimate, archs)  # fits the predictor first when the supernet has none
        out["predictor"] = dict(zip(keys, predicted.tolist(), strict=True))
    _scorer(estimator.directory)  # load the supernet and its held-out batches outside the timing
    scored, seconds = timed(estimator.supernet_scores, archs)
    out["supernet"] = dict(zip(keys, scored.tolist(), strict=True))
    sample = space.sample_many(2000, np.random.default_rng(1))
    predictor_seconds = timed(estimator.estimate, sample)[1] if predictor else None
    batches = eval_batches(data / "corpus/wikitext2-test.txt", seq_len)
    losses = [derived_losses(t) for t in _scorer(estimator.directory).supernet.subnet_losses(archs, batches)]
    for measure in SUPERNET_MEASURES:
        out[f"supernet_gt_batches_{measure}"] = {k: -t[measure] for k, t in zip(keys, losses, strict=True)}
    meta = json.loads((Path(directory) / "supernet.json").read_text())
    info = {"directory": str(directory), "archs_inside_space": len(inside),
            "quality_before": estimator.quality if predictor else None,
            "supernet_archs_per_s": round(len(archs) / seconds, 3),
            "predictor_archs_per_s": round(len(sample) / predictor_seconds, 1) if predictor else None,
            "predictor_meta": estimator.predictor.meta if predictor else None,
            "training": {k: meta.get(k) for k in ("steps_done", "seconds", "training_seconds", "options", "teacher")},
            **training_per_step(meta)}
    return out, info


def training_per_step(meta: dict[str, Any]) -> dict[str, Any]:
    """The supernet's training seconds a step: over every resumed invocation when supernet.json counts them
    (`training_seconds`); a supernet trained before that records only its last invocation's `seconds`, which
    undercounts one that resumed, and is said to."""
    if not meta.get("steps_done"):
        return {"training_seconds_per_step": None}
    if meta.get("training_seconds") is not None:
        return {"training_seconds_per_step": round(meta["training_seconds"] / meta["steps_done"], 2)}
    return {"training_seconds_per_step": round(meta["seconds"] / meta["steps_done"], 2),
            "training_seconds_note": "the last invocation's time only (recorded before the count spanned --resume): "
                                     "a lower bound for a supernet that resumed"}


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def report(store: Store, sid: str, args: argparse.Namespace, data: Path, path: Path) -> dict[str, Any]:
    settings = store.data["settings"][sid]
    seq_len = settings["budget"]["seq_len"]
    gt1, gt2 = truths(store, sid)
    estimates, proxy_info = size_and_proxy()
    supernet_info = None
    if args.supernet:
        extra, supernet_info = supernet_estimates(args.supernet, data, seq_len, not args.no_predictor)
        estimates.update(extra)
    seeds = sorted(gt1)
    result: dict[str, Any] = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                              "produced_by": command(), "machine": machine(), "settings_id": sid, "settings": settings,
                              "archs": len(ARCHS), "pairs": [list(p) for p in PAIRS]}
    counts = {"distilled": {s: len(gt1.get(s, {})) for s in seeds},
              "finetuned": {s: len(v) for s, v in gt2.items()}}
    result["counts"] = counts
    result["partial"] = any(n < len(ARCHS) for n in counts["distilled"].values()) or len(seeds) < 2
    per_seed = {}
    for seed in seeds:
        per_seed[seed] = {
            "gt1": {name: correlations(est, gt1[seed], higher_is_better=False) for name, est in estimates.items()},
            "gt2": {name: correlations(est, gt2.get(seed, {}), higher_is_better=True)
                    for name, est in estimates.items()},
            "pairs": {name: pairs_ordered(est, gt1[seed], list(PAIRS)) for name, est in estimates.items()},
            "neighbour_gaps": neighbour_gaps(gt1[seed])}
    result["per_seed"] = per_seed
    result["noise"] = {**paired_noise(gt1), "gt1_seed_agreement": seed_agreement(gt1)}
    if len(seeds) > 1:
        mean = seed_mean(gt1)
        result["seed_mean"] = {
            "what": f"GT1 averaged over data seeds {seeds} on the {len(mean)} archs distilled on every seed",
            "gt1": {name: correlations(est, mean, higher_is_better=False) for name, est in estimates.items()},
            "pairs": {name: pairs_ordered(est, mean, list(PAIRS)) for name, est in estimates.items()},
            "neighbour_gaps": neighbour_gaps(mean)}
    result["ground_truth"] = {"gt1": {s: gt1[s] for s in seeds}, "gt2": gt2,
                              "teacher_heldout_mlm_ce": settings.get("teacher_mlm_ce")}
    result["estimates"] = estimates
    result["timing"] = timing(store, sid)
    result["proxy"] = proxy_info
    if supernet_info:
        result["supernet"] = supernet_info
        largest = result["timing"].get("largest_standalone")
        if largest and supernet_info["training_seconds_per_step"]:
            result["supernet_step_vs_standalone"] = {
                "supernet_s_per_step": supernet_info["training_seconds_per_step"], "standalone": largest,
                "ratio": round(supernet_info["training_seconds_per_step"] / largest["seconds_per_step"], 2),
                "note": "the largest ground-truth student, distilled alone; both wall time on this machine, whose "
                        "load differed between the runs"}
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print_table(result)
    return result


def timing(store: Store, sid: str) -> dict[str, Any]:
    distill = store.records(sid, "distill")
    finetune = store.records(sid, "finetune")
    budget = store.data["settings"][sid]["budget"]

    def steps(arch: str) -> int:
        return layer_steps(budget, int(arch.split("-")[0][1:])) + budget["pd_steps"]

    rows = {f"{a}/s{s}": {"distill_s": r["seconds"], "distill_s_per_step": round(r["seconds"] / steps(a), 2)}
            for (a, s), r in distill.items()}
    for (a, s), r in finetune.items():
        rows.setdefault(f"{a}/s{s}", {})["finetune_s"] = r["seconds"]
    total = {"distill_s": sum(r["seconds"] for r in distill.values()),
             "finetune_s": sum(r["seconds"] for r in finetune.values())}
    largest = max(distill.items(), key=lambda kv: kv[1]["body_params"], default=None)
    out: dict[str, Any] = {"per_job": rows, "total": total}
    if largest:
        arch = largest[0][0]
        out["largest_standalone"] = {"arch": arch, "seconds_per_step": round(largest[1]["seconds"] / steps(arch), 2)}
    return out


def print_table(result: dict[str, Any]) -> None:
    print(f"\nestimator ranking vs ground truth ({'PARTIAL ' if result['partial'] else ''}counts {result['counts']})")
    for seed, block in result["per_seed"].items():
        print(f"seed {seed}: neighbour gaps of GT1 {block['neighbour_gaps']}")
        print(f"  {'estimator':<28} {'GT1 n':>5} {'Spearman':>9} {'Kendall':>8} {'GT2 n':>6} {'Spearman':>9} "
              f"{'Kendall':>8} {'pairs':>6}")
        for name in block["gt1"]:
            a, b, p = block["gt1"][name], block["gt2"][name], block["pairs"][name]

            def fmt(v: Any) -> str:
                return "—" if v is None else f"{v:+.3f}"

            print(f"  {name:<28} {a['n']:>5} {fmt(a['spearman']):>9} {fmt(a['kendall']):>8} {b['n']:>6} "
                  f"{fmt(b['spearman']):>9} {fmt(b['kendall']):>8} {p['correct']:>3}/{p['of']:<2}")
    if "seed_mean" in result:
        block = result["seed_mean"]
        print(f"{block['what']}:")
        for name, a in block["gt1"].items():
            rho = "—" if a["spearman"] is None else f"{a['spearman']:+.3f}"
            pairs = block["pairs"][name]
            print(f"  {name:<28} {a['n']:>5} {rho:>9} {pairs['correct']:>3}/{pairs['of']}")
    print(f"paired noise: {result['noise']}")
    if "supernet" in result:
        s = result["supernet"]
        print(f"supernet {s['supernet_archs_per_s']} archs/s, predictor {s['predictor_archs_per_s']} archs/s")
    print(f"proxy {result['proxy']['archs_per_s']} archs/s; quality: {result['proxy']['quality']}")
    print(f"timing totals: {result['timing']['total']}")
