"""A supernet directory from a training checkpoint, to measure how the supernet's ranking moves along one run.

    python -m benchmarks.supernet_snapshot CHECKPOINT --out DIR [--space FILE] [--vocab FILE]

`nas supernet train` writes its weights only when the run ends; its `checkpoint.pt` (every `--checkpoint-every`
steps) holds the model's state at that step. Copied aside while the run goes on (the file is replaced atomically),
each copy becomes a complete supernet directory here (`nas supernet score`, `benchmarks/estimator_rank.py
--supernet DIR`), its `steps_done` the checkpoint's global step.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from nas.distill.checkpoint import read_checkpoint
from nas.distill.vocab import resolve_vocab
from nas.supernet import store
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.space import DEFAULT_SPACE, check_space
from search_spaces.space import SearchSpace


def snapshot(checkpoint: Path, out: Path, space_file: Path, vocab: str | None) -> int:
    state = read_checkpoint(checkpoint, "cpu", "fingerprint")
    fingerprint = state["fingerprint"]
    space = check_space(SearchSpace.load(space_file))
    elastic = ElasticMobileBert(space, fingerprint["depth_order"], head_layout=store.head_layout(fingerprint))
    if elastic.arch.to_dict() != fingerprint["supernet"]:
        raise SystemExit(f"{checkpoint} was trained in another space than {space_file}")
    elastic.model.load_state_dict(state["model"])
    meta = {"steps_done": int(state["global_step"]), "snapshot_of": str(checkpoint.resolve()),
            "options": {"rule": fingerprint["rule"], "seed": fingerprint["seed"],
                        "random_subnets": fingerprint["random_subnets"]},
            "phases": fingerprint["phases"]}
    with torch.no_grad():
        store.save(elastic, out, space_file.read_text(), resolve_vocab(vocab), meta)
    return meta["steps_done"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--space", type=Path, default=DEFAULT_SPACE, help="The run's space (default: the built-in).")
    parser.add_argument("--vocab", default=None, help="The run's vocabulary (default: the built-in one).")
    args = parser.parse_args()
    if (args.out / store.META).exists():
        raise SystemExit(f"{args.out} already holds a supernet")
    print(f"{args.out}: step {snapshot(args.checkpoint, args.out, args.space, args.vocab)}")


if __name__ == "__main__":
    main()
