"""The index of benchmarks/results: for each result file, what it measures, when, on which machine, n, and the
command that produced it, read from the file's own fields where it has them (`date`, `machine`, `n`,
`produced_by`: latency_common.provenance) and from WHAT below; older files say what they lack.

    python -m benchmarks.index            # writes benchmarks/results/README.md
    python -m benchmarks.index --check    # exits 1 if the index is out of date (a file added or removed)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
INDEX = RESULTS / "README.md"

# What each result measures and the benchmark (module under benchmarks/) that writes it. A result that lacks
# `produced_by` (written before it was recorded) gets `python -m benchmarks.MODULE` with its options unknown.
WHAT: dict[str, tuple[str, str]] = {
    "confirm.json": ("confirm", "`nas confirm` (ASHA) against training every point in full: wall time, same winner"),
    "deploy/deploy.json": ("deploy", "a fine-tuned student exported (`nas export --model`) and scored "
                           "(`nas evaluate`): torch vs fp32 vs int8 `.tflite`"),
    "distill_compare.json": ("distill_compare", "distillation schedules (PKT/JKT/AKT/none) at one budget"),
    "distill_memory.json": ("distill_memory", "peak RSS of `nas distill` against its memory estimate"),
    "distill_small_sequence.json": ("distill_small_sequence", "the documented small distill sequence, timed"),
    "estimator_rank_split_s9600.json": ("estimator_rank", "accuracy estimators (supernet run 17, predictor, "
                                        "proxy, parameters) ranked against 18 distilled students"),
    "estimator_rank_truth.json": ("estimator_rank", "the ground-truth store: every distilled / fine-tuned "
                                  "student (read by the estimator_rank family and the proxy fit)"),
    "estimator_rank_truths_pkt_vs_fixed.json": ("estimator_rank_compare_truths",
                                                "two ground truths compared (paper schedule vs fixed budget)"),
    "latency_calibration_recorded_tflite.json": ("calibration_recorded",
                                                 "calibration rounds resampled from recorded LiteRT rows"),
    "latency_calibration_stability_tflite.json": ("calibration_stability", "calibration stability, LiteRT"),
    "latency_calibration_stability_torch.json": ("calibration_stability", "calibration stability, torch"),
    "latency_interval_rules.json": ("interval_rules", "interval residual-scale rules compared on recorded "
                                    "calibration rounds (exploration)"),
    "latency_external.json": ("latency_external", "the predictor on public latency sets (HAT, SuperShaper)"),
    "latency_host_accuracy.json": ("latency_host_accuracy", "host (torch) latency prediction, first version"),
    "latency_litert_single_head.json": ("litert_single_head", "archs differing only in head count on LiteRT: "
                                        "operators, XNNPACK partitions, measured vs pooled-fit prediction"),
    "latency_norm_ablation.json": ("latency_norm_ablation", "LayerNorm/GELU pricing on PyTorch eager"),
    "latency_speed.json": ("latency_speed", "latency predictions per second"),
    "latency_tflite_host.json": ("latency_tflite_host", "LiteRT host latency prediction (untied weights)"),
    "proof.json": ("proof.run", "the proof experiment's students (issue 31; written as it runs)"),
    "proof_fresh_truth.json": ("proof.table", "the fresh students' held-out PD losses, a `--truth` file"),
    "search_memory.json": ("search_memory", "peak memory of `nas search` per trial (the --trials check)"),
    "search_quality.json": ("search_quality", "search strategies' hypervolume against a random-sample front"),
    "search_wall_time.json": ("search_wall_time", "wall time of the default `nas search`"),
    "supernet_depth_order.json": ("supernet_depth_order", "supernet depth order (spread vs first)"),
    "supernet_part_levels.json": ("supernet_part_levels", "split supernets' part levels against ground truth"),
    "supernet_rank_diagnosis.json": ("supernet_rank_diagnosis", "why the one-shot supernet ranks poorly"),
    "supernet_rank_diagnosis_split.json": ("supernet_rank_diagnosis", "the same, split supernet (held-out size)"),
    "supernet_search_s9600.json": ("supernet_ensemble_search", "`nas search --estimator supernet` wall time, "
                                   "run 17"),
    "supernet_seeds_s1000.json": ("supernet_seeds", "seed spread and ensemble of 200-step-a-part supernets"),
    "supernet_seeds_s9600.json": ("supernet_seeds", "run 17 on two data seeds (the guide's recipe)"),
    "supernet_sequence.json": ("supernet_sequence", "the toy supernet sequence, timed"),
    "supernet_step_time.json": ("supernet_step_time", "a supernet step against a standalone step"),
    "supernet_workers.json": ("supernet_workers", "`nas supernet train --workers` speed-up"),
}


def _date(record: dict[str, Any]) -> str:
    machine = record.get("machine")
    for value in (record.get("date"), machine.get("date") if isinstance(machine, dict) else None):
        if isinstance(value, str):
            return value[:10]
    return "not recorded"


def _machine(record: dict[str, Any]) -> str:
    machine = record.get("machine")
    if isinstance(machine, dict):
        cpu = machine.get("cpu") or machine.get("platform", "")
        cores = machine.get("cores") or machine.get("cpus")
        return f"{cpu}, {cores} cores" if cores else str(cpu)
    if isinstance(machine, str) and machine:
        cpus = record.get("cpus")
        return f"{machine}, {cpus} cores" if cpus else machine
    return "not recorded"


def _n(record: dict[str, Any]) -> str:
    for key in ("n", "n_archs", "archs", "records", "rows"):
        value = record.get(key)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, list | dict) and key != "n" and value:
            return str(len(value))
    return "—"


def _command(record: dict[str, Any], module: str) -> str:
    if isinstance(record.get("produced_by"), str):
        return record["produced_by"]
    return f"python -m benchmarks.{module} (options not recorded)"


def rows() -> list[list[str]]:
    out = []
    for path in sorted(p for p in RESULTS.rglob("*") if p.is_file() and p != INDEX):
        name = path.relative_to(RESULTS).as_posix()
        module, what = WHAT.get(name, ("?", "not described: add it to benchmarks/index.py WHAT"))
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            record = {}
        record = record if isinstance(record, dict) else {}
        out.append([f"[{name}]({name})", what, _date(record), _machine(record), _n(record),
                    f"`{_command(record, module)}`"])
    return out


def render() -> str:
    lines = ["# Benchmark results", "",
             "Generated by `python -m benchmarks.index` (do not edit): one current result per benchmark. Raw rows "
             "a result was computed from are in `benchmarks/measurements/`; superseded results are in the git "
             "history (`git log --all -- benchmarks/results/NAME`) and described in `docs/history.md`. Run a "
             "benchmark from the repository root as its command says. n: the size of the file's main sample "
             "(archs, rows or records), where it records one.", "",
             "| file | what it measures | date | machine | n | command |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Exit 1 if the index differs from what it would write.")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = INDEX.read_text() if INDEX.is_file() else ""
        if current != text:
            print(f"{INDEX} is out of date: run python -m benchmarks.index", file=sys.stderr)
            raise SystemExit(1)
        return
    INDEX.write_text(text)
    print(f"wrote {INDEX} ({len(rows())} results)")


if __name__ == "__main__":
    main()
