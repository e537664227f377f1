"""Held-out losses (`--eval-corpus`): every loss term on fixed batches of a held-out corpus, the same
batches for every model (fixed seed, batch size and count; only `--seq-len` must match to compare).

Terms: `mlm` (cross-entropy at the masked positions) and `nsp` always; with a teacher also the transfer
terms over all student layers (`fm`, `fm_mean`, `fm_var`, `attn`, through the layer map) and `pd_kd`.
Dropout is off while evaluating; the model's train/eval mode is restored afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from nas.distill.accumulate import accumulate
from nas.distill.data_corpus import PretrainingData
from nas.distill.layer_map import LayerMap
from nas.distill.objective import phase_losses
from nas.distill.schedules import Phase

EVAL_SEED = 20200405  # fixed: the same pairs and masks for every model (MobileBERT's arXiv date)
EVAL_BATCH = 32
EVAL_BATCHES = 8
EVAL_TERMS = ("mlm", "nsp", "pd_kd", "fm", "fm_mean", "fm_var", "attn")


class HeldOut:
    """Fixed held-out batches and the per-term losses of a model on them."""

    def __init__(self, corpus: str | Path, tokenizer: Any, seq_len: int, max_predictions: int | None = None,
                 batches: int = EVAL_BATCHES, batch_size: int = EVAL_BATCH) -> None:
        self.data = PretrainingData(corpus, tokenizer, seq_len, batch_size, EVAL_SEED,
                                    max_predictions=max_predictions)
        self.batches = max(1, min(batches, len(self.data.pairs) // batch_size or 1))

    @torch.no_grad()
    def losses(self, model: Any, teacher: Any | None = None, layer_map: LayerMap | None = None,
               projection: Any | None = None, micro_batch_size: int | None = None,
               device: str = "cpu") -> dict[str, float]:
        was_training = model.training
        model.eval()
        phases = [Phase("eval_mlm", "mlm", 1)]
        if teacher is not None and layer_map is not None:
            layers = tuple(range(model.config.num_hidden_layers))
            phases.append(Phase("eval_transfer", "akt", 1, layers, layer_scale=1.0))
        totals: dict[str, float] = {}
        try:
            for index in range(self.batches):
                batch = {k: v.to(device) for k, v in self.data.batch(index).items()}
                for phase in phases:
                    def compute(micro: dict[str, torch.Tensor], phase: Phase = phase) -> dict[str, torch.Tensor]:
                        return phase_losses(model, teacher, layer_map, projection, phase, micro)

                    terms = accumulate(compute, batch, micro_batch_size or len(batch["input_ids"]), backward=False)
                    for name, value in terms.items():
                        if name in EVAL_TERMS and (phase.kind == "mlm" or name not in ("mlm", "nsp")):
                            totals[name] = totals.get(name, 0.0) + float(value) / self.batches
        finally:
            model.train(was_training)
        return {k: round(totals[k], 5) for k in EVAL_TERMS if k in totals}
