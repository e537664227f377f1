"""How well does the training-free `proxy` rank architectures? A small, real training signal.

Trains a dozen small MobileBERT-family archs (HF `MobileBertForMaskedLM`, random init) for the same number of
steps on masked-language modelling over WikiText-2 (valid split; held-out tail for evaluation) and reports the
Spearman rank correlation between the proxy score and the final held-out MLM loss (negated, so +1 is perfect).
To keep this minutes on 2 CPU cores, the vocabulary is cut to the most frequent WordPiece ids of the corpus
(others become [UNK]); the proxy ignores embeddings, so this does not change what it scores.

    NAS_DATA_DIR=../shared/data python benchmarks/accuracy_proxy.py [--steps 200] [--archs 12]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from data_folder import data_folder
from scipy.stats import spearmanr

from nas.accuracy.proxy import body_params, proxy_score
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

RESULTS = Path(__file__).parent / "results" / "accuracy_proxy.json"
SEQ_LEN, BATCH, MASK_RATE = 64, 16, 0.15
SMALL_SPACE = SearchSpace.from_dict({"name": "proxy-bench", "dimensions": {
    "num_hidden_layers": [2, 4], "hidden_size": [128], "intra_bottleneck_size": ["none", 32, 64],
    "num_feedforward_networks": [1, 2, 4], "intermediate_size": [64, 128, 256, 512],
    "num_attention_heads": [2, 4], "embedding_size": [64], "attention_form": ["kq_shared", "bottleneck"],
}}, origin="benchmark")


def load_tokens(data_dir: Path, vocab_keep: int) -> tuple[np.ndarray, int]:
    from tokenizers import BertWordPieceTokenizer

    tokenizer = BertWordPieceTokenizer(str(data_dir / "vocab" / "bert-base-uncased-vocab.txt"), lowercase=True)
    text = (data_dir / "corpus" / "wikitext2-valid.txt").read_text().splitlines()
    lines = [line for line in text if line.strip() and not line.strip().startswith("=")]
    encoded = tokenizer.encode_batch(lines, add_special_tokens=False)
    ids = np.concatenate([np.asarray(e.ids, dtype=np.int64) for e in encoded])
    # Remap to a compact vocabulary: 0..4 special ([PAD], [UNK], [CLS], [SEP], [MASK]), then frequent ids.
    size = tokenizer.get_vocab_size()
    counts = np.bincount(ids, minlength=size)
    frequent = np.argsort(-counts)[: vocab_keep - 5]
    table = np.ones(size, dtype=np.int64)  # 1 = [UNK]
    table[frequent] = np.arange(5, 5 + len(frequent))
    return table[ids], vocab_keep


def mask_batch(chunk: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    labels = chunk.copy()
    masked = rng.random(chunk.shape) < MASK_RATE
    inputs = chunk.copy()
    inputs[masked] = 4  # [MASK] in the compact vocabulary
    labels[~masked] = -100
    return torch.from_numpy(inputs), torch.from_numpy(labels)


def masked_lm_loss(model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """MLM loss with the output layer applied at the masked positions only (the vocab matmul dominates)."""
    hidden = model.mobilebert(input_ids=inputs).last_hidden_state
    where = labels != -100
    logits = model.cls(hidden[where])
    return torch.nn.functional.cross_entropy(logits, labels[where])


def train_and_eval(arch: Arch, tokens: np.ndarray, steps: int, seed: int, lr: float) -> float:
    from transformers import MobileBertForMaskedLM

    torch.manual_seed(seed)
    model = MobileBertForMaskedLM(arch.to_hf_config())
    chunks = tokens[: len(tokens) // SEQ_LEN * SEQ_LEN].reshape(-1, SEQ_LEN)
    n_eval = max(len(chunks) // 10, BATCH * 4)
    train, held_out = chunks[:-n_eval], chunks[-n_eval:][: BATCH * 8]
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 20) * (1 - s / steps))
    model.train()
    for _ in range(steps):
        inputs, labels = mask_batch(train[rng.integers(len(train), size=BATCH)], rng)
        loss = masked_lm_loss(model, inputs, labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
    model.eval()
    eval_rng = np.random.default_rng(12345)  # the same masks for every arch
    losses = []
    with torch.no_grad():
        for start in range(0, len(held_out), BATCH):
            inputs, labels = mask_batch(held_out[start:start + BATCH], eval_rng)
            losses.append(float(masked_lm_loss(model, inputs, labels)))
    return float(np.mean(losses))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--archs", type=int, default=12)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 behaves best on a shared machine)")
    args = parser.parse_args()
    data_dir = data_folder()
    if not (data_dir / "corpus" / "wikitext2-valid.txt").is_file():
        raise SystemExit(f"no corpus under {data_dir}: set NAS_DATA_DIR")
    torch.set_num_threads(args.threads)
    tokens, vocab = load_tokens(data_dir, args.vocab)
    rng = np.random.default_rng(args.seed)
    archs: list[Arch] = []
    while len(archs) < args.archs:  # distinct archs spread over the proxy's range
        arch = SMALL_SPACE.sample(rng).replace(vocab_size=vocab)
        if arch not in archs:
            archs.append(arch)
    rows = []
    for i, arch in enumerate(archs):
        start = time.perf_counter()
        loss = train_and_eval(arch, tokens, args.steps, args.seed, args.lr)
        rows.append({"arch": arch.to_dict(), "proxy": proxy_score(arch), "body_params": body_params(arch),
                     "mha_ffn_ratio": arch.mha_ffn_param_ratio(), "mlm_loss": loss,
                     "seconds": time.perf_counter() - start})
        print(f"{i:2d} proxy {rows[-1]['proxy']:.3f} body {rows[-1]['body_params'] / 1e6:6.2f}M "
              f"ratio {rows[-1]['mha_ffn_ratio']:.2f} loss {loss:.3f} ({rows[-1]['seconds']:.0f}s)", flush=True)
    proxy = [r["proxy"] for r in rows]
    neg_loss = [-r["mlm_loss"] for r in rows]
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus".strip(),
        "steps": args.steps, "lr": args.lr, "batch": BATCH, "seq_len": SEQ_LEN, "vocab": vocab, "archs": len(rows),
        "spearman_proxy_vs_neg_loss": float(spearmanr(proxy, neg_loss).statistic),
        "spearman_body_params_vs_neg_loss": float(spearmanr([r["body_params"] for r in rows], neg_loss).statistic),
        "rows": rows,
    }
    print(f"Spearman(proxy, -MLM loss) = {result['spearman_proxy_vs_neg_loss']:.3f}; "
          f"body params alone {result['spearman_body_params_vs_neg_loss']:.3f} ({len(rows)} archs, {args.steps} steps)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
