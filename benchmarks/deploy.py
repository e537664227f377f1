"""Does the shipped file score what the torch model scored? Torch vs fp32 `.tflite` vs int8 `.tflite` (dynamic-range
and full-integer) on a GLUE dev set, with paired 95 % intervals, and each file's host latency (issue 35, item 7).

    python -m benchmarks.deploy                          # its own student, fine-tuned on SST-2 (a few minutes)
    python -m benchmarks.deploy --model DIR [--model DIR ...] --out benchmarks/results/deploy/mine.json

Without --model it builds a small MobileBERT-family student (random initial weights: no distillation, the point is
the conversion, not the accuracy), fine-tunes it with `nas finetune`'s code on --train-examples of SST-2's training
split, then, as for every --model: `nas export --model` (fp32, dynamic-range int8, full-integer int8 calibrated on
--calibration-examples training examples), `nas evaluate` of the directory and the three files on the whole dev
set (the first is the reference of the paired differences), and the files' LiteRT latency on this machine
(1 thread, the `nas measure` protocol). Needs the tflite extra and $NAS_DATA_DIR (or --data-dir) with glue/.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks.latency_common import command
from nas_common.writing import write_json
from search_spaces.arch import Arch

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "benchmarks" / "results" / "deploy" / "deploy.json"
# A small student of the family: 4 layers, 128 wide, 64-wide bottleneck, 2 FFNs (about 2.7 M parameters, most of
# them the 30,522 × 64 embedding table).
STUDENT = Arch(num_hidden_layers=4, hidden_size=128, intra_bottleneck_size=64, num_attention_heads=4,
               intermediate_size=256, num_feedforward_networks=2, embedding_size=64)


def build_student(work: Path, data: Path, task: str, train_examples: int, epochs: float, seq_len: int,
                  lr: float) -> Path:
    import torch
    from transformers import MobileBertForPreTraining

    from nas.distill.finetune import FinetuneConfig, finetune
    from nas.distill.vocab import resolve_vocab

    encoder = work / "student"
    torch.manual_seed(0)
    MobileBertForPreTraining(STUDENT.to_hf_config()).save_pretrained(encoder)
    shutil.copyfile(resolve_vocab(None), encoder / "vocab.txt")
    cfg = FinetuneConfig(epochs=epochs, lr=lr, batch_size=32, max_seq_len=seq_len,
                         max_train_examples=train_examples, progress=True)
    finetune(encoder, task, data, work / task, cfg, overwrite=True)
    return work / task


def ship(model: Path, work: Path, data: Path, calibration: int) -> dict:
    from nas.cli.deploy import export_trained
    from nas.deploy.evaluate import candidate, common_seq_len, score
    from nas.deploy.export_model import host_latencies
    from nas.deploy.model_dir import read_model_dir
    from nas.distill.data_glue import read_split

    trained = read_model_dir(model)
    out = work / f"{model.name}-export"
    start = time.perf_counter()
    lines = export_trained(model, out, None, None, True, True, True, calibration, False, str(data), True)
    export_seconds = time.perf_counter() - start
    files = [out / name for name in ("model.tflite", "model_int8.tflite", "model_int8_full.tflite")]
    candidates = [candidate(path, trained.task) for path in (model, *files)]
    seq_len = common_seq_len(candidates, None)
    result = score(candidates, trained.task, read_split(data, trained.task, "dev"), seq_len)
    timings = host_latencies(files)
    return {"model": str(model), "task": trained.task, "parameters": _parameters(model),
            "export_lines": lines, "export_seconds": round(export_seconds, 1),
            "files": {p.name: {"bytes": p.stat().st_size, "host_latency_ms": round(t.median_ms, 3),
                               "latency_spread": round(t.spread, 3)} for p, t in zip(files, timings, strict=True)},
            "evaluate": result}


def _parameters(model: Path) -> int:
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(model).num_parameters()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, help="A fine-tuned model directory (repeatable).")
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--train-examples", type=int, default=3000)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--calibration-examples", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nas-deploy-bench"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    from nas_common.paths import data_dir

    data = data_dir(args.data_dir, sub="glue")
    if data is None:
        sys.exit("set NAS_DATA_DIR or pass --data-dir (the GLUE TSV layout)")
    args.work.mkdir(parents=True, exist_ok=True)
    models = args.model or [build_student(args.work, data, args.task, args.train_examples, args.epochs,
                                          args.seq_len, args.lr)]
    rows = [ship(model, args.work, data, args.calibration_examples) for model in models]
    versions = {p: metadata.version(p) for p in ("torch", "transformers", "ai-edge-litert", "litert-torch",
                                                 "ai-edge-quantizer")}
    record = {"produced_by": command(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "versions": versions,
              "student": None if args.model else {**STUDENT.to_dict(), "train_examples": args.train_examples,
                                                  "epochs": args.epochs, "seq_len": args.seq_len, "lr": args.lr},
              "models": rows}
    write_json(args.out, record)
    for row in rows:
        ev = row["evaluate"]
        print(f"{row['model']} ({row['parameters']:,} parameters), {ev['task']} dev, {ev['examples']} examples:")
        for model, (name, info) in zip(ev["models"], [("torch", None), *row["files"].items()], strict=True):
            latency = f", {info['host_latency_ms']:.2f} ms host" if info else ""
            print(f"  {name}: {model['metrics']}{latency}")
        for c in ev["comparisons"]:
            acc = c["metrics"]["accuracy"]
            print(f"  {Path(c['model']).name} - torch: {100 * acc['difference']:+.2f} points "
                  f"[{100 * acc['interval95'][0]:+.2f}, {100 * acc['interval95'][1]:+.2f}], "
                  f"{c['predictions_differ']} predictions differ")
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
