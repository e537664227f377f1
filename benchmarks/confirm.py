"""`nas confirm` on a small run: ASHA against training all K front points to the top rung.

Runs the README's small CPU sequence from fresh directories (teacher, search, `nas confirm --top K`), then
the same confirmation of a copy of the search run with one rung (`--rungs 1`: every trial trains to the top
rung, no early stopping). Reports both wall times (the time ASHA saved), whether both find the same winner,
the survivors' final metrics in both (the same seeds and bit-exact rung resumes: they should be equal), and
the Spearman rank correlation between the estimator's order of the K front points and the confirmed order
(dev metric of the full run; held-out MLM loss too), with n stated. Then the README block's last two lines: the
confirmed winner's fine-tuned model (`--model RUN/best`) exported as fp32 and dynamic-range int8 `.tflite` and
`nas evaluate`d on SST-2 dev (torch vs fp32 vs int8, paired), with the export's predicted pixel4 latency and the
files' host latency (`ship`).

Usage: NAS_DATA_DIR=../shared/data python -m benchmarks.confirm [--work DIR] [--teacher DIR]
Writes benchmarks/results/confirm.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.latency_common import command

ROOT = Path(__file__).resolve().parents[1]


def nas(argv: list[str], log: Path, cache: Path, stdout: Path | None = None) -> float:
    """`nas ARGV` with an empty kernel cache of its own (as on a fresh clone); wall seconds. Its output goes to
    `log` (with `stdout`: only its stderr, the standard output to that file)."""
    start = time.time()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NAS_CACHE_DIR": str(cache)}
    with log.open("w") as handle, (stdout or log).open("a") as out:
        subprocess.run([sys.executable, "-m", "nas.cli", *argv], check=True, cwd=ROOT,
                       stdout=out if stdout else handle, stderr=handle if stdout else subprocess.STDOUT, env=env)
    return round(time.time() - start, 1)


def spearman(a: list[float], b: list[float]) -> float | None:
    from scipy import stats

    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return None
    return round(float(stats.spearmanr(a, b)[0]), 3)


def shipped(work: Path, ship: Path) -> dict:
    """The confirmed winner shipped: the model exported, the export's latencies (predicted on the device, measured
    here), each file's size, and `nas evaluate`'s dev metrics and paired comparisons."""
    exported = json.loads((ship / "export.json").read_text())
    evaluated = json.loads((work / "evaluate.out").read_text())
    return {"model": json.loads((ship / "app.json").read_text())["source"],
            "files_bytes": {p.name: p.stat().st_size for p in sorted(ship.glob("*.tflite"))},
            "latency": exported["latency"], "evaluate": evaluated,
            "export_lines": (work / "export.out").read_text().splitlines()}


def keep_previous(record: dict, out: Path) -> None:
    """The run this one replaces, kept in `record` as `previous_run` (docs/history.md cites it; its own previous
    run dropped), and the first benchmark's `earlier_run_dev_rungs_2` carried over unchanged."""
    if not out.is_file():
        return
    before = json.loads(out.read_text())
    earlier = before.pop("earlier_run_dev_rungs_2", None)
    before.pop("previous_run", None)
    record["previous_run"] = before
    if earlier is not None:
        record["earlier_run_dev_rungs_2"] = earlier


def main() -> None:
    import pandas as pd

    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/tmp/nas-confirm-benchmark")
    parser.add_argument("--teacher", help="reuse this teacher instead of training the README's 40-step one")
    parser.add_argument("--top", type=int, default=4)
    parser.add_argument("--max-steps", type=int, default=24)
    args = parser.parse_args()
    data = Path(os.environ.get("NAS_DATA_DIR", ROOT.parent / "shared/data"))
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    corpus = str(data / "corpus/wikitext2-valid.txt")
    teacher = args.teacher or str(work / "teacher")
    commands = {
        "teacher": ["teacher", "--init-from", "minilm", "--corpus", corpus, "--steps", "40", "--batch-size", "16",
                    "--seq-len", "64", "--lr", "5e-4", "--warmup", "10", "--out", teacher],
        "search": ["search", "--device", "pixel4", "--budget", "8ms", "--teacher", teacher, "--trials", "200",
                   "--out", str(work / "run")],
    }
    confirm = ["--top", str(args.top), "--teacher", teacher, "--corpus", corpus, "--task", "sst2", "--data-dir",
               str(data / "glue"), "--max-steps", str(args.max_steps), "--finetune-examples", "1000"]
    commands["confirm_asha"] = ["confirm", str(work / "run"), *confirm]
    ship = work / "ship"  # the README block's export and evaluate of the ASHA run's confirmed winner
    commands["export"] = ["export", "--model", str(work / "run/best"), "--to", str(ship), "--tflite",
                          "--tflite-int8"]
    commands["evaluate"] = ["evaluate", "--model", str(work / "run/best"), "--model", str(ship / "model.tflite"),
                            "--model", str(ship / "model_int8.tflite"), "--task", "sst2", "--data-dir",
                            str(data / "glue"), "--json"]
    commands["confirm_full"] = ["confirm", str(work / "full"), *confirm, "--rungs", "1", "--dev-rungs", "1"]
    load_before = os.getloadavg()
    wall: dict[str, float] = {}
    for name, argv in commands.items():
        if name == "teacher" and args.teacher:
            continue
        if name == "confirm_full":  # the search run as it was before the ASHA confirmation
            shutil.copytree(work / "run", work / "full", ignore=shutil.ignore_patterns("confirm", "confirmed.csv"))
        stdout = work / f"{name}.out" if name in ("export", "evaluate") else None
        wall[name] = nas(argv, work / f"{name}.log", work / "cache", stdout)
        print(f"{name:<13} {wall[name]:>7.1f} s", flush=True)
    asha = pd.read_csv(work / "run/confirmed.csv").sort_values("pick")
    full = pd.read_csv(work / "full/confirmed.csv").sort_values("pick")
    survivors = asha[asha["status"] == "survived"]
    same_final = {int(r.arch_id): {"asha": r.dev, "full": float(full[full.arch_id == r.arch_id].dev.iloc[0])}
                  for r in survivors.itertuples()}
    winner_asha = json.loads((work / "run/run.json").read_text())["confirmed"]["best"]
    winner_full = json.loads((work / "full/run.json").read_text())["confirmed"]["best"]
    record = {
        "date": datetime.now(UTC).isoformat(), "produced_by": command(),
        "machine": platform.platform(), "cpus": os.cpu_count(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(), "wall_s": wall,
        "asha_over_full_wall": round(wall["confirm_asha"] / wall["confirm_full"], 3),
        "same_winner": winner_asha["arch_id"] == winner_full["arch_id"],
        "winner": {"asha": winner_asha, "full": winner_full},
        "survivors_final_dev": same_final,
        "n": len(full),
        "spearman_estimate_vs_full_dev": spearman(list(full.estimate), list(full.dev)),
        "spearman_estimate_vs_full_heldout_mlm": spearman(list(full.estimate), list(-full.heldout_mlm)),
        "note": "n front points is tiny: a rank correlation over n = 4 is ±1, ±0.8, ±0.6, ±0.4, ±0.2 or 0 and is "
                "noise-dominated; the SST-2 dev set has 872 sentences (sd of an accuracy ≈ 0.017)",
        "asha": asha.to_dict("records"), "full": full.to_dict("records"),
        "ship": shipped(work, ship),
        "commands": {k: "nas " + " ".join(v) for k, v in commands.items()},
    }
    out = ROOT / "benchmarks/results/confirm.json"
    keep_previous(record, out)
    out.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(json.dumps({k: record[k] for k in ("wall_s", "asha_over_full_wall", "same_winner", "n",
                                             "spearman_estimate_vs_full_dev",
                                             "spearman_estimate_vs_full_heldout_mlm")}, indent=2))
    print(f"→ {out}")


if __name__ == "__main__":
    main()
