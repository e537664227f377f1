"""Plain-text corpus → BERT pre-training examples: sentence pairs for NSP, 15 % masking 80/10/10.

Corpus layout: one paragraph (document) per line, or a folder of such `.txt` files; WikiText headings
(` = Title = `) and blank lines are skipped. Pairs are built once with a seeded RNG; masking is drawn per
batch from a generator seeded by (seed, step), so a batch depends only on the step number — which is
what makes `--resume` reproduce an uninterrupted run exactly.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nas_common.errors import UserInputError
from nas_common.io import decode, read_bytes

# BERT (Devlin et al. 2019, §3.1 and appendix A.1): mask 15 % of tokens; of those 80 % [MASK],
# 10 % a random token, 10 % unchanged; NSP pairs are 50 % the true next segment, 50 % random.
MASK_PROB = 0.15
MASK_TOKEN_SHARE = 0.8
RANDOM_TOKEN_SHARE = 0.1
NSP_RANDOM_PROB = 0.5
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_PAIRS = 8


@dataclass(frozen=True)
class PairExample:
    tokens_a: list[int]
    tokens_b: list[int]
    is_random_next: bool


def read_paragraphs(path: str | Path) -> list[str]:
    """Paragraphs from a text file or a folder of `.txt` files; a bad path is a UserInputError."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.rglob("*.txt"))
        if not files:
            raise UserInputError(f"corpus folder {path} holds no .txt files")
    elif path.is_file():
        files = [path]
    else:
        raise UserInputError(f"corpus {path} does not exist")
    paragraphs: list[str] = []
    for file in files:
        raw = read_bytes(file, "corpus file")
        try:  # the layer's decoding (a BOM dropped, CRLF/CR as \n: the lines splitlines() gave before)
            text = decode(raw, f"corpus file {file}")
        except UserInputError:  # the corpus's own words for the two ways decoding refuses
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UserInputError(f"corpus file {file} is not UTF-8 text (corrupt or binary?)") from None
            raise UserInputError(f"corpus file {file} contains NUL bytes (corrupt or binary?)") from None
        for line in text.splitlines():
            line = line.strip()
            if line and not (line.startswith("=") and line.endswith("=")):
                paragraphs.append(line)
    return paragraphs


def check_has_text(path: str | Path, option: str) -> None:
    """Refuse, before any model is built, a corpus that holds no sentence (empty, headings only) or cannot be
    read, naming the option it came from."""
    if not read_paragraphs(path):  # what `build_pairs` refuses as "corpus holds no text"
        raise UserInputError(f"{option} {path} holds no text")


def build_pairs(paragraphs: list[str], tokenizer: Any, max_seq_len: int, seed: int) -> list[PairExample]:
    """Split each paragraph into sentences, then greedily pack segments A and B (BERT's recipe)."""
    docs_text = [SENTENCE_END.split(p) for p in paragraphs]
    flat = [s for doc in docs_text for s in doc]
    if not flat:
        raise UserInputError("corpus holds no text")
    ids = tokenizer(flat, add_special_tokens=False)["input_ids"]
    docs: list[list[list[int]]] = []
    pos = 0
    for doc in docs_text:
        docs.append([t for t in ids[pos:pos + len(doc)] if t])
        pos += len(doc)
    docs = [d for d in docs if d]
    rng = random.Random(seed)
    budget = max_seq_len - 3  # [CLS] A [SEP] B [SEP]
    pairs: list[PairExample] = []
    for d_index, doc in enumerate(docs):
        i = 0
        while i < len(doc):
            chunk, length = [], 0
            while i < len(doc) and (length < budget or not chunk):
                chunk.append(doc[i])
                length += len(doc[i])
                i += 1
            split = rng.randint(1, len(chunk) - 1) if len(chunk) > 1 else 1
            a = [t for s in chunk[:split] for t in s]
            b = [t for s in chunk[split:] for t in s]
            random_next = not b or (len(docs) > 1 and rng.random() < NSP_RANDOM_PROB)
            if random_next and len(docs) > 1:
                other = rng.randrange(len(docs) - 1)
                other += other >= d_index
                start = rng.randrange(len(docs[other]))
                b = [t for s in docs[other][start:] for t in s]
            elif random_next:
                continue
            while len(a) + len(b) > budget:  # truncate the longer side, as BERT does
                (a if len(a) > len(b) else b).pop()
            if a and b:
                pairs.append(PairExample(a, b, bool(random_next)))
    if len(pairs) < MIN_PAIRS:
        raise UserInputError(f"corpus too small: {len(pairs)} sentence pairs (need at least {MIN_PAIRS})")
    return pairs


class PretrainingData:
    """Batches of MLM + NSP inputs; `batch(step)` is a pure function of the step (resumable)."""

    def __init__(self, corpus: str | Path, tokenizer: Any, max_seq_len: int = 128, batch_size: int = 32,
                 seed: int = 0, rank: int = 0, world_size: int = 1, max_predictions: int | None = None) -> None:
        if max_seq_len < 8:
            raise UserInputError("--seq-len must be at least 8")
        self.max_predictions = max_predictions
        self.tokenizer = tokenizer
        self.pairs = build_pairs(read_paragraphs(corpus), tokenizer, max_seq_len, seed)
        self.max_seq_len = max_seq_len
        self.batch_size = batch_size
        self.seed = seed
        self.rank, self.world_size = rank, world_size
        self.vocab_size = len(tokenizer)
        self.special_ids = set(tokenizer.all_special_ids)

    def _order(self, epoch: int) -> list[int]:
        order = list(range(len(self.pairs)))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        return order

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        """The global batch of `step`, this rank's slice of it under DDP."""
        n = len(self.pairs)
        start = step * self.batch_size
        orders: dict[int, list[int]] = {}
        indices = []
        for k in range(self.batch_size):
            epoch = (start + k) // n
            if epoch not in orders:
                orders[epoch] = self._order(epoch)
            indices.append(orders[epoch][(start + k) % n])
        batch = self.collate([self.pairs[i] for i in indices], step)  # the same padding and masks on every rank
        if self.world_size == 1:
            return batch
        return {k: v[self.rank::self.world_size] for k, v in batch.items()}

    def collate(self, examples: list[PairExample], step: int) -> dict[str, torch.Tensor]:
        tok = self.tokenizer
        length = max(len(e.tokens_a) + len(e.tokens_b) + 3 for e in examples)
        input_ids = torch.full((len(examples), length), tok.pad_token_id, dtype=torch.long)
        token_type = torch.zeros_like(input_ids)
        attention = torch.zeros_like(input_ids)
        for row, e in enumerate(examples):
            seq = [tok.cls_token_id, *e.tokens_a, tok.sep_token_id, *e.tokens_b, tok.sep_token_id]
            input_ids[row, :len(seq)] = torch.tensor(seq)
            token_type[row, len(e.tokens_a) + 2:len(seq)] = 1
            attention[row, :len(seq)] = 1
        gen = torch.Generator().manual_seed(self.seed * 7919 + step)
        masked_ids, labels = mask_tokens(input_ids, attention, self.special_ids, tok.mask_token_id,
                                         self.vocab_size, gen, self.max_predictions)
        return {
            "input_ids": masked_ids, "token_type_ids": token_type, "attention_mask": attention,
            "labels": labels,
            "next_sentence_label": torch.tensor([int(e.is_random_next) for e in examples]),
        }


def mask_tokens(input_ids: torch.Tensor, attention: torch.Tensor, special_ids: set[int], mask_id: int,
                vocab_size: int, gen: torch.Generator, max_predictions: int | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking; labels are -100 where no prediction is made. At most `max_predictions` positions a
    sequence (BERT's `max_predictions_per_seq`; the official MobileBERT distillation uses 20 at 512 tokens):
    beyond that, a random subset of the chosen positions is kept."""
    candidates = attention.bool()
    for special in special_ids:
        candidates &= input_ids != special
    chosen = (torch.rand(input_ids.shape, generator=gen) < MASK_PROB) & candidates
    if max_predictions is not None:
        keys = torch.rand(input_ids.shape, generator=gen).masked_fill(~chosen, 2.0)
        rank = keys.argsort(1).argsort(1)
        chosen &= rank < max_predictions
    if not chosen.any():  # never a batch without targets
        first = candidates.nonzero()[0]
        chosen[first[0], first[1]] = True
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    draw = torch.rand(input_ids.shape, generator=gen)
    random_tokens = torch.randint(vocab_size, input_ids.shape, generator=gen)
    out = input_ids.clone()
    out[chosen & (draw < MASK_TOKEN_SHARE)] = mask_id
    use_random = chosen & (draw >= MASK_TOKEN_SHARE) & (draw < MASK_TOKEN_SHARE + RANDOM_TOKEN_SHARE)
    out[use_random] = random_tokens[use_random]
    return out, labels
