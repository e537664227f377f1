"""What every MobileBERT-family model shares, and the bounds a sane architecture stays within.

The vocabulary and the position and token-type tables are those of every BERT-family checkpoint we target
(HF `MobileBertConfig` defaults; MobileBERT, Sun et al. ACL 2020, uses BERT's uncased 30522-word vocabulary
and 512 positions). This module imports nothing of the project, so `arch.py` and `counting.py` both build
on it without importing each other in a cycle.
"""

from __future__ import annotations

from nas_common.errors import UserInputError

VOCAB_SIZE = 30522
MAX_POSITION_EMBEDDINGS = 512
TYPE_VOCAB_SIZE = 2

PER_LAYER_FIELDS = (
    "intra_bottleneck_size",
    "intermediate_size",
    "num_attention_heads",
    "num_feedforward_networks",
)

# Upper bounds: far above any published BERT-family model (BERT-large, Devlin et al. NAACL 2019: 24 layers,
# 1024 wide, FFN 4096, 16 heads; MobileBERT, Sun et al. ACL 2020, Table 1: 4 stacked FFNs), low enough that a
# typo (10,000 layers) is caught before anything tries to count, build or time it.
LIMITS: dict[str, int] = {
    "num_hidden_layers": 96,
    "hidden_size": 8192,
    "intra_bottleneck_size": 8192,
    "embedding_size": 8192,
    "intermediate_size": 32768,
    "num_attention_heads": 128,
    "num_feedforward_networks": 16,
    "vocab_size": 1_000_000,
}


def check_limit(name: str, value: int) -> None:
    limit = LIMITS.get(name)
    if limit is not None and value > limit:
        raise UserInputError(f"{name} {value:,} is above this tool's limit of {limit:,} (the largest "
                             "BERT-family models stay far below it); is it a typo?")


def check_seq_len(seq_len: int, what: str = "--seq-len",
                  max_position_embeddings: int = MAX_POSITION_EMBEDDINGS) -> int:
    """A sequence length the model can take: 1 ≤ seq_len ≤ its position table (`max_position_embeddings`)."""
    if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
        raise UserInputError(f"{what} must be a positive number of tokens, got {seq_len!r}")
    if seq_len > max_position_embeddings:
        raise UserInputError(f"{what} {seq_len} is longer than the model's max_position_embeddings "
                             f"({max_position_embeddings} positions)")
    return seq_len
