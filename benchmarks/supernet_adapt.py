"""Does a short warm-started distillation of each inherited sub-network rank the students better than the
inherited weights alone? (issue 9: the supernet's depth bias, see supernet_rank_diagnosis_split_s4800.json)

    NAS_DATA_DIR=../shared/data python benchmarks/supernet_adapt.py --supernet DIR --teacher DIR
        [--steps 48] [--settings-id ID] [--out NAME.json]

For every ground-truth arch of estimator_rank: `nas supernet extract`, then `nas distill --student EXTRACTED
--steps-per-layer 0 --pd-steps K` (pre-training distillation only, the students' batch, lr, seq-len and data
seed 0) with `--eval-corpus` = the students' held-out set. Scores: held-out PD loss (pd_kd + 0.5·MLM, GT1's
measure) before (from the estimator_rank report's `supernet_gt_batches_pd`) and after the K steps; Spearman
and Kendall of each against GT1 (data seed 0). K is fixed before looking (5 % of the students' 960 steps).
Resumable: an arch whose adapted metrics exist is not redone. Writes benchmarks/results/OUT.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_folder import data_folder  # noqa: E402
from estimator_rank_archs import ARCHS  # noqa: E402
from estimator_rank_stats import correlations  # noqa: E402
from latency_common import RESULTS, machine_info  # noqa: E402

CACHE = Path.home() / ".cache/nas"
NAS = [sys.executable, "-m", "nas.cli"]


def run_nas(args: list[str], log: Path) -> float:
    start = time.time()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    with log.open("a") as handle:
        subprocess.run([*NAS, *args], check=True, stdout=handle, stderr=subprocess.STDOUT, env=env)
    return round(time.time() - start, 1)


def adapt(key: str, arch_file: Path, args: argparse.Namespace, work: Path, corpus: Path, test: Path) -> dict:
    extracted, adapted = work / f"{key}-inherited", work / f"{key}-adapted"
    log = work / f"{key}.log"
    extract_s = run_nas(["supernet", "extract", args.supernet, "--arch", str(arch_file), "--out", str(extracted),
                         "--overwrite"], log)
    distill_s = run_nas(["distill", "--student", str(extracted), "--teacher", args.teacher, "--corpus", str(corpus),
                         "--schedule", "jkt", "--steps-per-layer", "0", "--pd-steps", str(args.steps),
                         "--batch-size", "16", "--seq-len", "64", "--lr", "1e-3", "--warmup", "10",
                         "--checkpoint-every", "0", "--seed", "0", "--max-predictions", "20",
                         "--eval-corpus", str(test), "--out", str(adapted), "--overwrite"], log)
    final = json.loads((adapted / "metrics.json").read_text())["heldout"][-1]
    return {"pd": round(final["pd_kd"] + 0.5 * final["mlm"], 5), "mlm": final["mlm"], "pd_kd": final["pd_kd"],
            "extract_s": extract_s, "distill_s": distill_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supernet", required=True)
    parser.add_argument("--teacher", default=str(CACHE / "teachers/minilm-384"))
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--report", default="estimator_rank_split_s4800.json",
                        help="The estimator_rank report with GT1 and the inherited scores.")
    parser.add_argument("--work", default=str(CACHE / "supernet_adapt"))
    parser.add_argument("--out", default="supernet_adapt.json")
    args = parser.parse_args()
    data = data_folder()
    corpus, test = data / "corpus/wikitext2-valid.txt", data / "corpus/wikitext2-test.txt"
    report = json.loads((RESULTS / args.report).read_text())
    gt1 = report["ground_truth"]["gt1"]["0"]
    inherited = report["estimates"]["supernet_gt_batches_pd"]  # −PD loss: higher is better
    work = Path(args.work) / f"{Path(args.supernet).name}-k{args.steps}"
    work.mkdir(parents=True, exist_ok=True)
    out = RESULTS / args.out
    done: dict[str, dict] = json.loads(out.read_text())["archs"] if out.is_file() else {}
    for index, bench in enumerate(ARCHS):
        if bench.key in done or bench.key not in gt1:
            continue
        arch_file = work / f"{bench.key}.arch.json"
        bench.arch.save(arch_file)
        done[bench.key] = adapt(bench.key, arch_file, args, work, corpus, test)
        print(f"[{index + 1}/{len(ARCHS)}] {bench.key}: inherited PD {-inherited[bench.key]:.4f} → "
              f"after {args.steps} steps {done[bench.key]['pd']:.4f}  (GT1 {gt1[bench.key]:.4f})", flush=True)
        write(out, args, done, gt1, inherited)
    write(out, args, done, gt1, inherited)


def write(out: Path, args: argparse.Namespace, done: dict, gt1: dict, inherited: dict) -> None:
    adapted = {k: -v["pd"] for k, v in done.items()}  # scores: higher is better
    before = {k: inherited[k] for k in adapted}
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine_info(),
              "supernet": args.supernet, "steps": args.steps, "report": args.report,
              "measure": "held-out PD loss (pd_kd + 0.5·MLM) on the students' held-out set; lower is better",
              "vs_gt1": {"inherited": correlations(before, gt1, higher_is_better=False),
                         "adapted": correlations(adapted, gt1, higher_is_better=False)},
              "seconds_per_arch": round(sum(v["extract_s"] + v["distill_s"] for v in done.values()) / len(done), 1),
              "archs": done}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["vs_gt1"]), flush=True)


if __name__ == "__main__":
    main()
