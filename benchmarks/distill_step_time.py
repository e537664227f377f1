"""Step time of each distillation phase against a plain step (teacher forward + student forward/backward
with MLM + NSP + optimiser step). Goal from issue 5: a PKT step ≤ 1.3× the plain step.

Models: the MiniLM teacher (6 × 384, 12 heads) and nas/distill/examples/student-small.json (4 layers).
Usage: python benchmarks/distill_step_time.py [--threads 1] [--steps 12] [--batch 8] [--seq 64]
Writes benchmarks/results/distill_step_time.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import torch
from data_folder import data_folder

from nas.distill.data_corpus import PretrainingData
from nas.distill.lamb import Lamb
from nas.distill.layer_map import build_layer_map
from nas.distill.objective import forward_features, phase_losses
from nas.distill.schedules import Phase, param_groups
from nas.distill.teacher import copy_shared_weights, load_teacher, model_shape
from nas.distill.vocab import load_tokenizer
from search_spaces.arch import Arch

ROOT = Path(__file__).resolve().parents[1]


def corpus_path() -> Path:
    return data_folder("corpus") / "wikitext2-valid.txt"


def time_steps(step, batches: list[dict]) -> float:
    times = []
    for batch in batches:
        start = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])  # the first two steps warm up


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from transformers import MobileBertForPreTraining

    teacher = load_teacher("minilm")
    arch = Arch.load(ROOT / "nas/distill/examples/student-small.json")
    student = MobileBertForPreTraining(arch.to_hf_config(attention_probs_dropout_prob=0.0)).train()
    copy_shared_weights(student, teacher)
    t, s = model_shape(teacher.config), model_shape(student.config)
    layer_map = build_layer_map(s.layers, t.layers, s.heads, t.heads, s.width, t.width)
    data = PretrainingData(corpus_path(), load_tokenizer(None), args.seq, args.batch)
    batches = [data.batch(i) for i in range(args.steps)]
    named = list(student.named_parameters())

    def make_step(phase: Phase, plain: bool = False):
        optimizer = Lamb(param_groups(named, phase, 0.01), lr=1e-4)

        def step(batch: dict) -> None:
            if plain:
                with torch.no_grad():
                    forward_features(teacher, batch, maps=False, mlm=True)
                losses = phase_losses(student, None, None, None, phase, batch)
            else:
                losses = phase_losses(student, teacher, layer_map, None, phase, batch)
            optimizer.zero_grad(set_to_none=True)
            sum(losses.values()).backward()
            optimizer.step()
        return step

    last = s.layers - 1
    cases = {
        "plain (teacher fwd + student MLM/NSP fwd/bwd)": make_step(Phase("mlm", "mlm", 1), plain=True),
        "PKT layer 0": make_step(Phase("l0", "layers", 1, (0,), 0)),
        f"PKT layer {last} (top)": make_step(Phase("lt", "layers", 1, (last,), last)),
        "JKT (all layers)": make_step(Phase("jkt", "layers", 1, tuple(range(s.layers)))),
        "pre-training distillation": make_step(Phase("pd", "pd", 1)),
        "AKT (everything)": make_step(Phase("akt", "akt", 1, tuple(range(s.layers)))),
    }
    results = {name: time_steps(step, batches) for name, step in cases.items()}
    plain = next(iter(results.values()))
    print(f"{'step':<48} {'ms':>8} {'× plain':>8}")
    for name, seconds in results.items():
        print(f"{name:<48} {seconds * 1e3:>8.1f} {seconds / plain:>8.2f}")
    record = {"date": datetime.now(UTC).isoformat(), "machine": platform.platform(), "cpus": os.cpu_count(),
              "threads": args.threads, "batch": args.batch, "seq_len": args.seq, "steps_timed": args.steps - 2,
              "median_ms": {k: v * 1e3 for k, v in results.items()},
              "ratio_to_plain": {k: v / plain for k, v in results.items()}, "goal": "PKT ≤ 1.3× plain",
              "note": "2 shared cores; other jobs ran at the same time, so absolute times are noisy"}
    out = ROOT / "benchmarks/results/distill_step_time.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
