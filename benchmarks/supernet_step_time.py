"""Supernet training time per step against distilling the largest sub-network alone (issue 9, item 5).

Per phase kind (layer-wise transfer, pre-training distillation) and at the same batch, sequence length and
teacher: (a) a supernet step under the sandwich rule (largest, smallest, k random sub-networks), (b) a
supernet step training only the largest sub-network (`--rule largest`), (c) a `nas distill` (nas/distill
Trainer) step of the largest arch as a standalone model. Per-step cost = (T(n + 1 steps) − T(1 step)) / n,
so start-up and first-step allocation are left out; CPU time of this process with one torch thread (robust
to other jobs on a shared machine), wall time beside it.

    python -m benchmarks.supernet_step_time --teacher runs/teacher --corpus $NAS_DATA_DIR/corpus/wikitext2-valid.txt
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.supernet_common import add_training_options, write_result
from nas.distill.data_corpus import PretrainingData
from nas.distill.schedules import Phase
from nas.distill.teacher import copy_shared_weights, load_teacher
from nas.distill.trainer import TrainConfig, Trainer
from nas.distill.vocab import load_tokenizer
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.evaluate import subnet_layer_map
from nas.supernet.space import largest, load_space
from nas.supernet.trainer import SupernetConfig, SupernetTrainer

RESULTS = Path(__file__).parent / "results" / "supernet_step_time.json"


def timed(run) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def per_step(make_run, steps: int) -> dict[str, float]:
    """(T(steps + 1) − T(1)) / steps, CPU and wall seconds."""
    cpu1, wall1 = timed(make_run(1))
    cpun, walln = timed(make_run(steps + 1))
    return {"cpu_s": round((cpun - cpu1) / steps, 4), "wall_s": round((walln - wall1) / steps, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_training_options(parser, steps=4)
    parser.add_argument("--random-subnets", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    space = load_space(args.space)
    teacher = load_teacher(args.teacher)
    data = PretrainingData(args.corpus, load_tokenizer(None), args.seq_len, args.batch_size, 0,
                           max_predictions=args.max_predictions)
    big = largest(space)
    scratch = Path(tempfile.mkdtemp(prefix="supernet_step_time_"))
    torch.manual_seed(0)
    elastic = ElasticMobileBert(space)
    copy_shared_weights(elastic.model, teacher)
    initial = {k: v.clone() for k, v in elastic.model.state_dict().items()}
    standalone = elastic.extract(big).train()
    layers = tuple(range(big.num_hidden_layers))
    rows = []
    for kind in ("layers", "pd"):
        def supernet(rule: str, kind: str = kind):
            def make(n: int):
                def run() -> None:
                    elastic.model.load_state_dict(initial)
                    phase = Phase(f"sn_{kind}", kind, n, tuple(range(elastic.maxima.layers)))
                    cfg = SupernetConfig(scratch, 1e-3, 1, rule=rule, random_subnets=args.random_subnets,
                                         progress=False)
                    SupernetTrainer(elastic, teacher, [phase], data, cfg).run()
                return run
            return make

        def alone(n: int, kind: str = kind):
            def run() -> None:
                phase = Phase(f"alone_{kind}", kind, n, layers, layer_scale=1.0 / len(layers))
                Trainer(standalone, [phase], data, TrainConfig(scratch, 1e-3, 1, progress=False), teacher,
                        subnet_layer_map(big, teacher.config)).run()
            return run

        sandwich, only_largest, distill = (per_step(supernet("sandwich"), args.steps),
                                           per_step(supernet("largest"), args.steps), per_step(alone, args.steps))
        rows.append({"phase": kind, "sandwich": sandwich, "supernet_largest_only": only_largest,
                     "distill_largest_alone": distill,
                     "sandwich_vs_alone_cpu": round(sandwich["cpu_s"] / distill["cpu_s"], 2),
                     "largest_only_vs_alone_cpu": round(only_largest["cpu_s"] / distill["cpu_s"], 2)})
    sandwich_label = f"sandwich (k={args.random_subnets})"
    print(f"{'phase':<8} {sandwich_label:>16} {'largest only':>14} {'distill alone':>14} "
          f"{'ratio':>6}   (CPU s/step, 1 thread)")
    for r in rows:
        print(f"{r['phase']:<8} {r['sandwich']['cpu_s']:>16.3f} {r['supernet_largest_only']['cpu_s']:>14.3f} "
              f"{r['distill_largest_alone']['cpu_s']:>14.3f} {r['sandwich_vs_alone_cpu']:>6.2f}")
    write_result(args.out, {"settings": {**{k: str(v) for k, v in vars(args).items()}, "space": space.name,
                                         "largest": big.to_dict()}, "rows": rows}, torch_threads=1)


if __name__ == "__main__":
    main()
