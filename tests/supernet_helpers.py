"""A tiny teacher, corpus and supernet space shared by the tests of nas/supernet."""

from __future__ import annotations

import json
from pathlib import Path

from tests.distill_helpers import tiny_models, write_corpus

# The tiny teacher of tests/distill_helpers.py: 2 layers, 32 wide, 4 heads, embedding 16 with trigram input.
SPACE_TOML = """name = "tiny-supernet"
[dimensions]
num_hidden_layers = [1, 2, 3]
intra_bottleneck_size = [8, 16, "none"]
num_attention_heads = [1, 2, 4]
intermediate_size = [16, 32]
num_feedforward_networks = [1, 2]
[fixed]
hidden_size = 32
embedding_size = 16
normalization_type = "layer_norm"
hidden_act = "gelu"
"""
TRAIN_ARGS = ["--steps", "4", "--batch-size", "4", "--seq-len", "24", "--lr", "1e-3", "--warmup", "1",
              "--max-predictions", "4", "--split", "none"]  # one set of weights; test_supernet_split.py splits


def toy_inputs(root: Path) -> dict[str, Path]:
    """teacher/ (a saved MobileBertForPreTraining), corpus.txt and space.toml under `root` (made once)."""
    paths = {"teacher": root / "teacher", "corpus": root / "corpus.txt", "space": root / "space.toml"}
    if not (paths["teacher"] / "config.json").is_file():
        teacher, _ = tiny_models()
        teacher.save_pretrained(paths["teacher"])
        write_corpus(paths["corpus"])
        paths["space"].write_text(SPACE_TOML)
    return paths


def train_argv(paths: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["supernet", "train", "--teacher", str(paths["teacher"]), "--corpus", str(paths["corpus"]),
            "--space", str(paths["space"]), "--out", str(out), *TRAIN_ARGS, *extra]


def inline(**choices: object) -> str:
    return json.dumps(choices)
