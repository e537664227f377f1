"""The proof experiment's tables (plan.json "analysis"), regenerated from benchmarks/results/proof.json,
benchmarks/proof/plan.json and benchmarks/proof/freeze.json:

    python -m benchmarks.proof.table                 # print the markdown
    python -m benchmarks.proof.table --readme        # also replace the block between the markers in
                                                     # benchmarks/proof/README.md

Per budget: every arch's seed means, then each searched candidate minus each hand-designed shape, paired by seed,
with its 95 % t-interval; the answer per metric follows the plan's rule. Then the frozen estimators on the fresh
students: Spearman with a bootstrap interval, within each bottleneck group, and the paired bootstrap against
body-parameter count. Rows with fewer seeds than planned are marked; nothing is dropped or imputed.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from benchmarks.proof import design
from nas.accuracy.rank_quality import bootstrap_draws, resampled_spearman, spearman

RESULTS = design.ROOT / "benchmarks" / "results" / "proof.json"
FREEZE = design.HERE / "freeze.json"
FRESH_TRUTH = design.ROOT / "benchmarks" / "results" / "proof_fresh_truth.json"
CONFIRMED = design.HERE / "confirmed.json"  # benchmarks/proof/confirm_picks.py
README = design.HERE / "README.md"
BEGIN, END = "<!-- proof-table: begin (python -m benchmarks.proof.table --readme) -->", "<!-- proof-table: end -->"
TEACHER = design.HERE / "teacher.json"  # amendment 1: the teacher (and so the settings ids) records are read under
PLAN_SIDS = {"proof": "967a3bb42e", "fresh": "845f5c18a4"}  # the plan's first teacher
RESTORED = design.ROOT / "benchmarks" / "results" / "proof_restored.json"  # lane.py: re-distilled students
METRIC_KIND = {"heldout_pd": "distill", "heldout_mlm": "distill", "sst2_acc": "finetune-sst2",
               "mrpc_f1": "finetune-mrpc"}  # the record each metric is read from
FROZEN_PREDICTOR = "proof-seed0"  # the frozen supernet's predictor, shipped (nas/accuracy/shipped/)


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    lower_is_better: bool
    digits: int


METRICS = (Metric("heldout_pd", "held-out PD loss (nats)", True, 3),
           Metric("heldout_mlm", "held-out MLM (nats)", True, 3),
           Metric("sst2_acc", "SST-2 dev acc", False, 3),
           Metric("mrpc_f1", "MRPC dev F1", False, 3))


def student_metrics(records: dict[str, Any], sid: str, group: str, name: str, seed: int) -> dict[str, float]:
    """One student's metrics from the runner's records (absent ones are left out)."""
    out: dict[str, float] = {}
    distilled = records.get(f"{group}/{sid}/distill/{name}/s{seed}")
    if distilled:
        out["heldout_pd"] = distilled["heldout"]["pd"]
        out["heldout_mlm"] = distilled["heldout"]["mlm"]
    sst2 = records.get(f"{group}/{sid}/finetune-sst2/{name}/s{seed}")
    if sst2:
        out["sst2_acc"] = sst2["metrics"]["dev"]["accuracy"]
    mrpc = records.get(f"{group}/{sid}/finetune-mrpc/{name}/s{seed}")
    if mrpc:
        out["mrpc_f1"] = mrpc["metrics"]["dev"]["f1"]
        out["mrpc_acc"] = mrpc["metrics"]["dev"]["accuracy"]
    return out


def t_interval(diffs: list[float]) -> tuple[float, float | None, float | None]:
    """Mean and 95 % t-interval of paired differences (None below 2 pairs)."""
    mean = float(np.mean(diffs))
    if len(diffs) < 2:
        return mean, None, None
    half = float(stats.t.ppf(0.975, len(diffs) - 1)) * float(np.std(diffs, ddof=1)) / math.sqrt(len(diffs))
    return mean, mean - half, mean + half


def verdict(metric: Metric, low: float | None, high: float | None) -> str:
    """The plan's rule for searched − hand-designed: a win needs the interval to exclude 0 on the better side."""
    if low is None or high is None:
        return "too few seeds"
    if low > 0 or high < 0:
        searched_better = (high < 0) == metric.lower_is_better
        return "searched wins" if searched_better else "searched loses"
    return "no difference resolved"


def candidates(plan: dict[str, Any], freeze: dict[str, Any], confirmed: dict[str, Any],
               ) -> dict[float, dict[str, dict[str, Any]]]:
    """Per budget: {name: {"kind", "predicted_ms", "students"}} for the hand-designed shapes within [0.9·B, B]
    and the searched candidates (naive, pick0, confirmed); `students` names whose records hold the arch's
    students (a confirmed winner that is pick 0 reads pick 0's)."""
    from search_spaces.arch import Arch

    out: dict[float, dict[str, dict[str, Any]]] = {}
    naive_ms = naive_predicted(plan)
    for budget in plan["budgets_ms"]:
        rows: dict[str, dict[str, Any]] = {}
        for name, shape in plan["baselines"]["shapes"].items():
            if (1 - design.UNDER) * budget <= shape["predicted_ms"] <= budget:
                rows[name] = {"kind": "hand-designed", "predicted_ms": shape["predicted_ms"], "students": name,
                              "arch": Arch(**shape["arch"])}
        naive = f"naive-{budget:g}ms"
        rows[naive] = {"kind": "searched (naive)", "predicted_ms": naive_ms[f"{budget:g}"], "students": naive,
                       "arch": Arch.from_dict(plan["searched"]["naive"]["archs"][f"{budget:g}"])}
        for name, pick in {**freeze.get("picks", {}), **confirmed}.items():
            if name.endswith(f"-{budget:g}ms"):
                rows[name] = {"kind": f"searched ({name.split('-')[0]})", "predicted_ms": pick["predicted_ms"],
                              "students": pick.get("same_as") or name,
                              "arch": Arch.from_dict(pick["arch"]) if "arch" in pick else None}
        out[budget] = rows
    return out


def naive_predicted(plan: dict[str, Any]) -> dict[str, float]:
    from search_spaces.arch import Arch

    archs = plan["searched"]["naive"]["archs"]
    return {budget: float(design.frozen_ms([Arch.from_dict(fields)])[0]) for budget, fields in archs.items()}


def equivalence_passed(build: dict[str, Any], restored: dict[str, Any]) -> bool:
    """Amendment 2: every student of the rebuild's equivalence check re-distilled and within its bound."""
    from benchmarks.proof.lane import check_keys  # the lane's own keys of the check (one definition)

    if not build.get("equivalence") or not build.get("pooled_with"):
        return False
    return all((restored.get(key) or {}).get("reproduced") for key in check_keys(build))


def pooled(records: dict[str, Any], teacher_file: Path = TEACHER, restored_file: Path = RESTORED) -> dict[str, Any]:
    """The records with each rebuild's (amendment 2) read under the settings id it is pooled with, once its
    equivalence check has passed; a key both builds hold keeps the first build's record. A pooled record carries
    `build`, the settings id that computed it (the sensitivity analysis pairs only students of one build)."""
    if not teacher_file.is_file():
        return records
    rebuilds = json.loads(teacher_file.read_text()).get("rebuilds", [])
    restored = json.loads(restored_file.read_text()).get("records", {}) if restored_file.is_file() else {}
    out = dict(records)
    for build in rebuilds:
        if not equivalence_passed(build, restored):
            continue
        aliases = {build["settings_ids"][group]: first for group, first in build["pooled_with"].items()}
        for key, record in records.items():
            parts = key.split("/")
            if len(parts) > 1 and parts[1] in aliases and isinstance(record, dict):
                target = "/".join([parts[0], aliases[parts[1]], *parts[2:]])
                out.setdefault(target, {**record, "build": parts[1]})
    return out


def build_of(records: dict[str, Any], sid: str, metric: str, name: str, seed: int) -> str:
    """The settings id of the build that computed a student's metric (its own id unless pooled)."""
    record = records.get(f"proof/{sid}/{METRIC_KIND[metric]}/{name}/s{seed}") or {}
    return str(record.get("build", sid))


def fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def settings_ids(teacher_file: Path = TEACHER) -> tuple[dict[str, str], dict[str, str] | None]:
    """(the settings ids of the experiment's teacher, those of the pilot under the plan's first teacher or None)."""
    if not teacher_file.is_file():
        return PLAN_SIDS, None
    amendment = json.loads(teacher_file.read_text())
    return amendment["settings_ids"], amendment["pilot"]["settings_ids"]


@functools.cache
def frozen_predictor() -> Any:
    """FROZEN_PREDICTOR, loaded and checksum-checked once for every table (None where it is not shipped)."""
    from nas.accuracy.shipping import ShippedPredictorEstimator
    from nas_common.errors import UserInputError

    try:
        return ShippedPredictorEstimator(FROZEN_PREDICTOR)
    except UserInputError:
        return None


def frozen_estimates(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The frozen supernet's shipped predictor (FROZEN_PREDICTOR): the held-out MLM loss (nats) it predicts for
    each arch it covers as a sub-network of the supernet (its measure; the standalone students trained longer, so
    only the order compares with the measured losses). A diagnostic beside them (did the estimator order these
    archs right?), not part of the plan's answer; {} where the predictor is not shipped."""
    from nas.accuracy import supernet as sn

    estimator = frozen_predictor()
    if estimator is None:
        return {}
    archs = {name: row["arch"] for name, row in rows.items()
             if row.get("arch") is not None and estimator.covers(row["arch"])}
    losses = sn.predicted_losses(estimator.predictors, list(archs.values())) if archs else []
    return {name: float(loss) for name, loss in zip(archs, losses, strict=True)}


def budget_section(budget: float, rows: dict[str, dict[str, Any]], records: dict[str, Any],
                   seeds: tuple[int, ...], sid: str) -> list[str]:
    per_seed = {name: {seed: student_metrics(records, sid, "proof", row["students"], seed) for seed in seeds}
                for name, row in rows.items()}
    estimates = frozen_estimates(rows)
    lines = [f"#### At {budget:g} ms (pixel4, 128 tokens)", "",
             "| arch | kind | predicted pixel4 ms | host-tflite ms | frozen predictor (sub-network MLM, nats) | "
             + " | ".join(m.label for m in METRICS) + " | seeds |",
             "|---|---|---|---|---|" + "---|" * len(METRICS) + "---|"]
    for name, row in rows.items():
        tflite = records.get(f"proof/host-tflite/{row['students']}")
        cells = []
        for metric in METRICS:
            values = [m[metric.name] for m in per_seed[name].values() if metric.name in m]
            cells.append(fmt(float(np.mean(values)) if values else None, metric.digits))
        done = sum(1 for m in per_seed[name].values() if "heldout_pd" in m)
        lines.append(f"| {name} | {row['kind']} | {row['predicted_ms']:.1f} | "
                     f"{fmt(tflite['ms'] if tflite else None, 1)} | {fmt(estimates.get(name), 3)} | "
                     + " | ".join(cells) + f" | {done}/{len(seeds)} |")
    lines += ["", "Searched − hand-designed, paired by seed (mean [95 % t-interval], n seeds):", "",
              "| searched | hand-designed | " + " | ".join(m.label for m in METRICS) + " |",
              "|---|---|" + "---|" * len(METRICS)]
    hand = [n for n, r in rows.items() if r["kind"] == "hand-designed"]
    searched = [n for n in rows if n not in hand]
    for s in searched:
        for h in hand:
            cells = []
            for metric in METRICS:
                diffs = [per_seed[s][seed][metric.name] - per_seed[h][seed][metric.name] for seed in seeds
                         if metric.name in per_seed[s][seed] and metric.name in per_seed[h][seed]]
                if not diffs:
                    cells.append("–")
                    continue
                mean, low, high = t_interval(diffs)
                interval = f" [{low:+.{metric.digits}f}, {high:+.{metric.digits}f}]" if low is not None else ""
                cells.append(f"{mean:+.{metric.digits}f}{interval} (n={len(diffs)})")
            lines.append(f"| {s} | {h} | " + " | ".join(cells) + " |")
    def same_build(metric: str, a: str, b: str, seed: int) -> bool:
        return (build_of(records, sid, metric, rows[a]["students"], seed)
                == build_of(records, sid, metric, rows[b]["students"], seed))

    lines += ["", *answers(budget, per_seed, hand, seeds, same_build), *estimator_order(estimates, per_seed, rows),
              ""]
    return lines


def estimator_order(estimates: dict[str, float], per_seed: dict[str, dict[int, dict[str, float]]],
                    rows: dict[str, dict[str, Any]]) -> list[str]:
    """Diagnosis (plan: "if the searched model does not win, say why"): how the frozen predictor's order of this
    budget's archs agrees with their measured held-out PD loss (seed means; distinct archs only)."""
    measured = {}
    for name, row in rows.items():
        values = [m["heldout_pd"] for m in per_seed[name].values() if "heldout_pd" in m]
        if values and name in estimates and row["students"] not in {rows[n]["students"] for n in measured}:
            measured[name] = float(np.mean(values))
    if len(measured) < 3:
        return []
    names = sorted(measured)
    rho = spearman(-np.array([estimates[n] for n in names]), -np.array([measured[n] for n in names]))
    return [f"- Diagnosis, not the plan's answer: the frozen predictor orders the {len(names)} archs recorded so "
            f"far against their measured held-out PD loss at Spearman {rho:.2f} (n={len(names)})."]


def answers(budget: float, per_seed: dict[str, dict[int, dict[str, float]]], hand: list[str],
            seeds: tuple[int, ...], same_build: Any = None) -> list[str]:
    """The plan's answer: pick 0 against the hand-designed shape with the best seed mean, per metric; with
    `same_build(metric, a, b, seed)`, also amendment 2's sensitivity analysis (pairs of one build only) wherever
    it differs from the answer's pairs."""
    pick = f"pick0-{budget:g}ms"
    if pick not in per_seed:
        return [f"Answer at {budget:g} ms: not yet (pick 0 is chosen when the supernet is frozen)."]
    out = []
    for metric in METRICS:
        means = {h: np.mean([m[metric.name] for m in per_seed[h].values() if metric.name in m] or [np.nan])
                 for h in hand}
        means = {h: v for h, v in means.items() if not np.isnan(v)}
        if not means:
            continue
        best = (min if metric.lower_is_better else max)(means, key=means.get)
        diffs = [per_seed[pick][s][metric.name] - per_seed[best][s][metric.name] for s in seeds
                 if metric.name in per_seed[pick][s] and metric.name in per_seed[best][s]]
        if not diffs:
            continue
        mean, low, high = t_interval(diffs)
        out.append(f"- {metric.label}: pick 0 − {best} (best hand-designed) = {mean:+.{metric.digits}f}"
                   + (f" [{low:+.{metric.digits}f}, {high:+.{metric.digits}f}]" if low is not None else "")
                   + f", n={len(diffs)}: **{verdict(metric, low, high)}**")
        if same_build is None:
            continue
        kept = [per_seed[pick][s][metric.name] - per_seed[best][s][metric.name] for s in seeds
                if metric.name in per_seed[pick][s] and metric.name in per_seed[best][s]
                and same_build(metric.name, pick, best, s)]
        if len(kept) < len(diffs):
            if kept:
                mean, low, high = t_interval(kept)
                shown = (f"{mean:+.{metric.digits}f}" + (f" [{low:+.{metric.digits}f}, {high:+.{metric.digits}f}]"
                                                          if low is not None else "") + f", n={len(kept)}")
            else:
                shown = "no such pair yet"
            out.append(f"  - sensitivity (amendment 2), pairs distilled on one build only: {shown}")
    return out or [f"Answer at {budget:g} ms: not yet (no student of pick 0 is recorded)."]


def bootstrap(scores: dict[str, np.ndarray], truth: np.ndarray, reference: str) -> dict[str, Any]:
    """Spearman of each score (oriented: higher = predicted better) against the truth (oriented likewise), its
    95 % bootstrap interval over archs, and the paired bootstrap (same resamples) of the difference to
    `reference`."""
    draws = bootstrap_draws(len(truth))  # the plan's 10 000 resamples, seed 0 (nas/accuracy/rank_quality.py)
    ref_rho = spearman(scores[reference], truth)
    ref_boot = resampled_spearman(scores[reference], truth, draws)
    out: dict[str, Any] = {}
    for name, score in scores.items():
        rho = spearman(score, truth)
        boot = resampled_spearman(score, truth, draws)
        out[name] = {"n": len(truth), "spearman": rho, "interval95": np.nanpercentile(boot, [2.5, 97.5]).tolist(),
                     "minus_" + reference: None if rho is None or ref_rho is None else rho - ref_rho,
                     "minus_interval95": np.nanpercentile(boot - ref_boot, [2.5, 97.5]).tolist()}
    return out


def fresh_scores(freeze: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each frozen estimator's score of the fresh archs, oriented so that higher = predicted better."""
    raw = freeze.get("fresh_scores", {})
    out = {"body params": dict(raw.get("body_params", {})), "proxy": dict(raw.get("proxy", {}))}
    rows = raw.get("supernet_rows", {})
    if rows:
        out["supernet"] = {k: -r["score"] for k, r in rows.items()}
        if all(r.get("predictor") is not None for r in rows.values()):
            out["predictor"] = {k: -r["predictor"] for k, r in rows.items()}
    return out


def default_estimator_line(scores: dict[str, dict[str, float]], truth: dict[str, float], drawn: int) -> str:
    """The plan's rule (analysis.default_estimator_rule): once every fresh student is judged, the default
    `--estimator` is the shipped predictor if its Spearman against held-out PD loss is at least body parameters',
    else the body-parameter count."""
    keys = sorted(k for k in truth if all(k in s for s in scores.values()))
    if len(keys) < drawn or "predictor" not in scores:
        return f"Default estimator by the plan's rule: not yet ({len(keys)} of {drawn} fresh students judged)."
    y = np.array([truth[k] for k in keys])
    rho = {name: spearman(np.array([scores[name][k] for k in keys]), y) for name in ("predictor", "body params")}
    chosen = "predictor" if (rho["predictor"] or -1.0) >= (rho["body params"] or -1.0) else "params"
    return (f"Default estimator by the plan's rule: **`--estimator {chosen}`** (predictor ρ {fmt(rho['predictor'], 2)}"
            f", body params ρ {fmt(rho['body params'], 2)}, n={len(keys)}).")


MEASURED_PD = "held-out PD loss itself (measured, not an estimator)"


def _rank_residuals(values: np.ndarray, control: np.ndarray) -> np.ndarray:
    """Ranks of `values` (along the last axis) less their least-squares line on the ranks of `control`."""
    r, c = stats.rankdata(values, axis=-1), stats.rankdata(control, axis=-1)
    c = c - c.mean(axis=-1, keepdims=True)
    r = r - r.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (r * c).sum(axis=-1, keepdims=True) / (c * c).sum(axis=-1, keepdims=True)
    return r - slope * c


def partial_spearman(score: np.ndarray, truth: np.ndarray, control: np.ndarray,
                     draws: np.ndarray | None = None) -> np.ndarray:
    """Spearman of `score` and `truth` with `control` partialled out: the Pearson correlation of their ranks'
    residuals on the ranks of `control`. With `draws` (rows index archs): one value per resample, NaN where one
    is degenerate."""
    if draws is not None:
        score, truth, control = score[draws], truth[draws], control[draws]
    x, y = _rank_residuals(score, control), _rank_residuals(truth, control)
    norm = np.sqrt((x * x).sum(axis=-1) * (y * y).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 1e-9, (x * y).sum(axis=-1) / norm, np.nan)


def equal_latency_lines(fresh: list[dict[str, Any]], scores: dict[str, dict[str, float]],
                        truth: dict[str, float]) -> list[str]:
    """Diagnostic added after the plan (not part of its analysis): how each estimator orders the fresh students
    once the predicted pixel4 latency is held fixed, i.e. what a search at one budget relies on. Slower archs
    distil to lower loss, so part of every ρ above is latency alone."""
    latency = {d["key"]: d["predicted_ms"] for d in fresh if "predicted_ms" in d}
    keys = sorted(k for k in truth if k in latency and all(k in s for s in scores.values()))
    if len(keys) < 5:
        return []
    y, z = np.array([truth[k] for k in keys]), -np.array([latency[k] for k in keys])
    draws = bootstrap_draws(len(keys))
    lines = ["", "Diagnostic added after the plan: the same order **at equal latency** (Spearman with the predicted "
             "pixel4 latency partialled out, [95 % bootstrap interval over archs]), against held-out PD loss; "
             f"the latency alone ranks them at ρ {fmt(spearman(-z, y), 2)} (slower archs distil to lower loss):", "",
             "| estimator | n | partial ρ given latency |", "|---|---|---|"]
    for name, score in scores.items():
        x = np.array([score[k] for k in keys])
        rho = float(partial_spearman(x, y, z))
        low, high = np.nanpercentile(partial_spearman(x, y, z, draws), [2.5, 97.5])
        lines.append(f"| {name} | {len(keys)} | {rho:.2f} [{low:.2f}, {high:.2f}] |")
    return lines


def fresh_section(freeze: dict[str, Any], records: dict[str, Any], sid: str) -> list[str]:
    fresh = freeze.get("fresh", [])
    if not fresh:
        return ["#### The frozen estimators on the fresh students", "", "Not yet: the fresh students are drawn when "
                "the supernet is frozen."]
    scores = fresh_scores(freeze)
    truths = {"held-out PD loss": {}, "SST-2 dev acc": {}}
    group = {}
    for d in fresh:
        m = student_metrics(records, sid, "fresh", d["key"], 0)
        if "heldout_pd" in m:
            truths["held-out PD loss"][d["key"]] = -m["heldout_pd"]
        if "sst2_acc" in m:
            truths["SST-2 dev acc"][d["key"]] = m["sst2_acc"]
        group[d["key"]] = d["key"].split("-")[1]
    lines = ["#### The frozen estimators on the fresh students (scored before distillation)", "",
             "Spearman ρ [95 % bootstrap interval over archs, 10 000 resamples], and ρ − ρ(body params) with its "
             "paired bootstrap interval:", "",
             "| estimator | truth | n | ρ | ρ − ρ(body params) |", "|---|---|---|---|---|"]
    for truth_name, truth in truths.items():
        keys = sorted(k for k in truth if all(k in s for s in scores.values()))
        if len(keys) < 3:
            lines.append(f"| – | {truth_name} | {len(keys)} | not yet | |")
            continue
        against = dict(scores)
        if truth_name != "held-out PD loss" and len(truths["held-out PD loss"]) == len(fresh):
            # not an estimator: how well the quantity the estimators predict orders this metric (their ceiling)
            against[MEASURED_PD] = truths["held-out PD loss"]
            keys = sorted(k for k in keys if k in truths["held-out PD loss"])
        result = bootstrap({e: np.array([s[k] for k in keys]) for e, s in against.items()},
                           np.array([truth[k] for k in keys]), "body params")
        for estimator, r in result.items():
            low, high = r["interval95"]
            diff = "" if estimator == "body params" or r["minus_body params"] is None else \
                f"{r['minus_body params']:+.2f} [{r['minus_interval95'][0]:+.2f}, {r['minus_interval95'][1]:+.2f}]"
            lines.append(f"| {estimator} | {truth_name} | {r['n']} | {fmt(r['spearman'], 2)} [{low:.2f}, {high:.2f}]"
                         f" | {diff} |")
    lines += equal_latency_lines(fresh, scores, truths["held-out PD loss"])
    lines += ["", default_estimator_line(scores, truths["held-out PD loss"], len(fresh))]
    lines += ["", "Within each bottleneck group (n ≥ 4), against held-out PD loss:", "",
              "| group | n | " + " | ".join(scores) + " |", "|---|---|" + "---|" * len(scores)]
    truth = truths["held-out PD loss"]
    for g in sorted(set(group.values())):
        keys = sorted(k for k in truth if group[k] == g and all(k in s for s in scores.values()))
        if len(keys) < 4:
            continue
        y = np.array([truth[k] for k in keys])
        cells = [fmt(spearman(np.array([s[k] for k in keys]), y), 2) for s in scores.values()]
        lines.append(f"| {g} | {len(keys)} | " + " | ".join(cells) + " |")
    return lines


def render(results: Path = RESULTS, freeze_file: Path = FREEZE, teacher_file: Path = TEACHER) -> str:
    plan = json.loads(design.PLAN.read_text())
    freeze = json.loads(freeze_file.read_text()) if freeze_file.is_file() else {}
    confirmed_file = freeze_file.with_name(CONFIRMED.name)
    confirmed = json.loads(confirmed_file.read_text()) if confirmed_file.is_file() else {}
    records = json.loads(results.read_text())["records"] if results.is_file() else {}
    records = pooled(records, teacher_file, results.with_name(RESTORED.name))
    seeds = tuple(plan["distillation"]["proof"]["seeds"])
    sids, pilot = settings_ids(teacher_file)
    lines: list[str] = []
    for budget, rows in candidates(plan, freeze, confirmed).items():
        lines += budget_section(budget, rows, records, seeds, sids["proof"])
    lines += fresh_section(freeze, records, sids["fresh"])
    if pilot is not None:
        lines += ["", "#### Pilot: the plan's first teacher (recorded before amendment 1; not pooled)", "",
                  "The same tables for the records distilled from the plan's first teacher, which this machine "
                  "cannot rebuild (see amendment 1).", ""]
        for budget, rows in candidates(plan, freeze, confirmed).items():
            lines += [line.replace("#### At", "##### Pilot at") for line in
                      budget_section(budget, rows, records, seeds, pilot["proof"])]
        lines += [line.replace("#### The frozen", "##### Pilot: the frozen") for line in
                  fresh_section(freeze, records, pilot["fresh"])]
    return "\n".join(lines) + "\n"


def fresh_truth(results: Path = RESULTS, freeze_file: Path = FREEZE, teacher_file: Path = TEACHER) -> dict[str, Any]:
    """The fresh students judged so far as a ground-truth file (`nas supernet quality --truth`, `nas accuracy
    fit-proxy`): each arch with its held-out PD loss, under the current teacher's settings id."""
    freeze = json.loads(freeze_file.read_text())
    records = json.loads(results.read_text()).get("records", {}) if results.exists() else {}
    records = pooled(records, teacher_file, results.with_name(RESTORED.name))
    sid = settings_ids(teacher_file)[0]["fresh"]
    data = []
    for d in freeze.get("fresh", []):
        m = student_metrics(records, sid, "fresh", d["key"], 0)
        if "heldout_pd" in m:
            data.append({"key": d["key"], "arch": d["arch"], "loss": m["heldout_pd"],
                         **({"sst2_acc": m["sst2_acc"]} if "sst2_acc" in m else {})})
    return {"students": f"the proof's fresh students (settings {sid}, benchmarks/proof)", "archs": len(freeze.get(
        "fresh", [])), "measure": "held-out PD loss", "measured_by": "benchmarks/proof (python -m "
            "benchmarks.proof.table --readme)", "seed": 0, "data": data}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", action="store_true", help="Replace the table block in the proof README and "
                        f"write the fresh students' truth file ({FRESH_TRUTH.relative_to(design.ROOT)}).")
    args = parser.parse_args()
    text = render(args.results)
    print(text)
    if args.readme:
        readme = README.read_text()
        if BEGIN not in readme or END not in readme:
            raise SystemExit(f"error: {README} lacks the markers {BEGIN!r} … {END!r}")
        head, rest = readme.split(BEGIN, 1)
        README.write_text(head + BEGIN + "\n" + text + rest[rest.index(END):])
        FRESH_TRUTH.write_text(json.dumps(fresh_truth(args.results), indent=1) + "\n")


if __name__ == "__main__":
    main()
