"""Which layers should a shallower sub-network keep? Two supernets trained alike except `--depth-order` (spread:
⌊(l+1)·L_max/L⌋−1, the top layer always kept; first: layers 0..L−1), then the held-out losses of the same
sub-networks (3 random archs per depth, seeded) on the same held-out batches. Each supernet is trained once
into WORK/<order> and reused by a re-run.

    python -m benchmarks.supernet_depth_order --teacher runs/teacher --corpus C --eval-corpus E --work /tmp/depth
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

from benchmarks.supernet_common import add_training_options, write_result
from nas.supernet.api import load_supernet
from nas.supernet.pipeline import SupernetOptions, run_supernet
from nas.supernet.space import load_space

RESULTS = Path(__file__).parent / "results" / "supernet_depth_order.json"
ORDERS = ("spread", "first")
PER_DEPTH = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_training_options(parser, steps=40)
    parser.add_argument("--eval-corpus", required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    space = load_space(args.space)
    rng = np.random.default_rng(0)
    depths = space.dimensions["num_hidden_layers"]
    archs = []
    for depth in depths:
        archs += [a for a in space.sample_many(200, rng) if a.num_hidden_layers == depth][:PER_DEPTH]
    results: dict[str, dict] = {}
    for order in ORDERS:
        directory = args.work / order
        if not (directory / "supernet.json").is_file():
            run_supernet(SupernetOptions(args.teacher, args.corpus, directory, args.space, steps=args.steps,
                                         split="none", batch_size=args.batch_size, seq_len=args.seq_len,
                                         max_predictions=args.max_predictions, lr=1e-3, warmup=10,
                                         checkpoint_every=10, depth_order=order,
                                         overwrite=True, progress=False))
        supernet = load_supernet(directory)
        losses = supernet.subnet_losses(archs, supernet.eval_batches(args.eval_corpus, 4, 32))
        by_depth = {}
        for depth in depths:
            rows = [t for a, t in zip(archs, losses, strict=True) if a.num_hidden_layers == depth]
            by_depth[str(depth)] = {m: round(statistics.mean(r[m] for r in rows), 4) for m in ("mlm", "distill")}
        results[order] = {"by_depth": by_depth, "per_arch": losses}
    print(f"{'depth':>5} " + " ".join(f"{o + ' ' + m:>16}" for o in ORDERS for m in ("mlm", "distill")))
    for depth in depths:
        print(f"{depth:>5} " + " ".join(f"{results[o]['by_depth'][str(depth)][m]:>16.4f}" for o in ORDERS
                                          for m in ("mlm", "distill")))
    write_result(args.out, {"settings": {k: str(v) for k, v in vars(args).items()},
                            "archs": [a.to_dict() for a in archs], "results": results})


if __name__ == "__main__":
    main()
