"""PKT vs JKT vs AKT vs no teacher vs embeddings-only, at equal budget with a competent small CPU teacher.

1. The teacher (issue 13 item 8), built once with the tool's own commands and cached outside the repository
   at ~/.cache/nas/teachers/minilm-384/ (README.txt there holds the commands and held-out losses): the MiniLM
   encoder with its MLM/NSP heads trained first with the encoder frozen, then briefly unfrozen.
2. One 384-wide student (`nas/distill/examples/student-small.json`) per schedule, all on the same data seed
   (same batches and masks: paired), the same budget (L·steps_per_layer layer-wise + pd_steps, or the same
   total without a teacher), each with `--eval-corpus` (held-out per-term losses on fixed batches of
   wikitext2-test) and `encoder_weight_change` (‖W − W₀‖/‖W₀‖ of the encoder: did the transfer move it?).
3. SST-2 dev accuracy after a short fine-tune of each.
Resumable: every finished run is skipped on a re-run, and the JSON is rewritten after each (marked partial
until all jobs are done). Writes benchmarks/results/distill_compare.json.

Usage: NAS_DATA_DIR=../shared/data nice python -m benchmarks.distill_compare [--work DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.data_folder import data_folder
from benchmarks.latency_common import command as benchmark_command

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ROOT / "nas/distill/examples/student-small.json"
TEACHER = Path.home() / ".cache/nas/teachers/minilm-384"
SEQ = ["--seq-len", "64", "--max-predictions", "20"]


def teacher_commands(corpus: str, heldout: str) -> list[list[str]]:
    """The two `nas teacher` runs that build the cached teacher (also written to its README.txt)."""
    common = ["--corpus", corpus, "--eval-corpus", heldout, "--batch-size", "32", *SEQ, "--checkpoint-every", "50"]
    return [["teacher", "--init-from", "minilm", "--freeze-encoder", "--steps", "200", "--lr", "5e-3",
             "--warmup", "10", *common, "--out", str(TEACHER / "stage1-heads")],
            ["teacher", "--init-from", str(TEACHER / "stage1-heads"), "--steps", "60", "--lr", "1e-3",
             "--warmup", "6", *common, "--out", str(TEACHER)]]


SIZES = {"full": {"steps_per_layer": 10, "pd_steps": 40, "ft_examples": 3000},
         "quick": {"steps_per_layer": 1, "pd_steps": 2, "ft_examples": 64}}
SCHEDULES = ("pkt", "none", "jkt", "akt", "none-emb")  # priority order


def nas(*args: str) -> None:
    print("$ nas " + " ".join(shlex.quote(a) for a in args), flush=True)
    subprocess.run([sys.executable, "-m", "nas.cli", *args], check=True, cwd=ROOT, stderr=subprocess.DEVNULL)


def heldout(model_dir: Path) -> dict[str, float]:
    return json.loads((model_dir / "metrics.json").read_text())["heldout"][-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default=str(Path.home() / ".cache/nas/distill-compare"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    data = data_folder()
    corpus, test = str(data / "corpus/wikitext2-valid.txt"), str(data / "corpus/wikitext2-test.txt")
    size = SIZES["quick" if args.quick else "full"]
    work = Path(args.work) / ("quick" if args.quick else "full")
    if not (TEACHER / "config.json").is_file():
        for command in teacher_commands(corpus, test):
            if not (Path(command[-1]) / "config.json").is_file():
                nas(*command, "--overwrite")
    record: dict = {"teacher": {"dir": str(TEACHER), "heldout": heldout(TEACHER)}, "students": {}, "size": size,
                    "student_arch": json.loads(STUDENT.read_text()), "data_seed": 0, "partial": True}
    for schedule in SCHEDULES:
        out = work / f"student-{schedule}"
        start = time.time()
        if not (out / "nas_distill.json").is_file():
            teacher = [] if schedule == "none" else ["--teacher", str(TEACHER)]
            nas("distill", "--student", str(STUDENT), *teacher, "--schedule", schedule.removesuffix("-emb"),
                "--steps-per-layer", str(size["steps_per_layer"]), "--pd-steps", str(size["pd_steps"]),
                "--corpus", corpus, "--eval-corpus", test, "--batch-size", "16", *SEQ, "--lr", "1e-3",
                "--warmup", "10", "--checkpoint-every", "0", "--seed", "0", "--overwrite", "--out", str(out))
        card = json.loads((out / "nas_distill.json").read_text())
        ft = work / f"sst2-2ep-{schedule}"
        if not (ft / "metrics.json").is_file():
            nas("finetune", "--model", str(out), "--task", "sst2", "--epochs", "2", "--lr", "1e-4", "--batch-size",
                "32", "--seq-len", "64", "--max-train-examples", str(size["ft_examples"]), "--overwrite",
                "--out", str(ft))
        sst2 = json.loads((ft / "metrics.json").read_text())
        record["students"][schedule] = {
            "heldout": heldout(out), "encoder_weight_change": card["encoder_weight_change"],
            "distill_seconds": card["seconds"], "sst2_dev": sst2["dev"], "finetune_seconds": sst2["train_seconds"],
            "wall_seconds_this_invocation": round(time.time() - start, 1)}
        students = record["students"]
        record["partial"] = len(students) < len(SCHEDULES)
        record["teacher_below_every_student_mlm"] = all(
            record["teacher"]["heldout"]["mlm"] < s["heldout"]["mlm"] for s in students.values())
        record.update({"date": datetime.now(UTC).isoformat(), "produced_by": benchmark_command(),
                       "machine": platform.platform(),
                       "cpus": os.cpu_count(), "load_average": os.getloadavg()})
        if not args.quick:
            (ROOT / "benchmarks/results/distill_compare.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"{'schedule':<10} {'mlm':>7} {'pd_kd':>7} {'fm':>8} {'attn':>7} {'Δenc':>7} {'sst2':>6}")
    print(f"{'teacher':<10} {record['teacher']['heldout']['mlm']:>7.3f}")
    for name, s in record["students"].items():
        h = s["heldout"]
        print(f"{name:<10} {h['mlm']:>7.3f} {h.get('pd_kd', float('nan')):>7.3f} {h.get('fm', float('nan')):>8.3f} "
              f"{h.get('attn', float('nan')):>7.3f} {s['encoder_weight_change']:>7.4f} "
              f"{s['sst2_dev']['accuracy']:>6.3f}")


if __name__ == "__main__":
    main()
