"""The teacher's outputs on one batch, computed once and shared by every sub-network trained or scored on it.

`TeacherOnce(teacher, batch)` looks like a `*ForPreTraining` model to nas/distill/objective.py: its
`base_model(...)` returns the teacher's encoder outputs (hidden states and attention maps included) for
`batch`, its `cls.predictions(...)` the MLM logits at `batch`'s masked positions and `cls.seq_relationship`
the NSP logits — each computed on first use, without gradients. It must only ever be used with `batch`:
the arguments of these calls are ignored (objective.py passes exactly that batch's tensors).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import torch


class TeacherOnce:
    def __init__(self, teacher: Any, batch: dict[str, torch.Tensor]) -> None:
        self.teacher, self.batch = teacher, batch
        self._out: Any = None
        self._mlm: torch.Tensor | None = None
        self._nsp: torch.Tensor | None = None
        self.config = teacher.config
        self.cls = SimpleNamespace(predictions=self._predictions, seq_relationship=self._seq_relationship)

    @torch.no_grad()
    def base_model(self, **_: Any) -> Any:
        if self._out is None:
            b = self.batch
            self._out = self.teacher.base_model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                                                token_type_ids=b["token_type_ids"], output_hidden_states=True,
                                                output_attentions=True)
        return self._out

    @torch.no_grad()
    def _predictions(self, _: Any) -> torch.Tensor:
        if self._mlm is None:
            masked = self.batch["labels"] != -100
            self._mlm = self.teacher.cls.predictions(self.base_model().last_hidden_state[masked])
        return self._mlm

    @torch.no_grad()
    def _seq_relationship(self, _: Any) -> torch.Tensor:
        if self._nsp is None:
            self._nsp = self.teacher.cls.seq_relationship(self.base_model().pooler_output)
        return self._nsp
