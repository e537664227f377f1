"""Which teacher layer and heads each student layer learns from.

Layers: student layer l (0-based, of L_s) learns from teacher layer ⌊(l+1)·L_t/L_s⌋ − 1, so the top
student layer always matches the top teacher layer and an equal depth maps one to one (the paper's case:
24 → 24). E.g. the MiniLM teacher (6 layers) and a 4-layer student: 0→0, 1→2, 2→3, 3→5.

Heads (attention transfer): with H_t teacher heads and H_s student heads, when H_s divides H_t the
teacher's heads are grouped in consecutive runs of H_t/H_s and their attention distributions averaged
(a mean of distributions is a distribution); when H_t divides H_s each teacher head is repeated H_s/H_t
times. E.g. MiniLM's 12 heads → a 4-head student: heads 0–2 → 0, 3–5 → 1, 6–8 → 2, 9–11 → 3.

Widths (feature-map transfer) must be equal (the paper's IB-BERT shares the student's inter-block
width for exactly this reason); with `projection=True` a trainable Linear(student → teacher width) maps
the student's layer outputs before the loss (it is part of the distillation state, not of the student).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from nas_common.errors import UserInputError
from search_spaces.teacher_fit import heads_compatible


@dataclass(frozen=True)
class LayerMap:
    teacher_layer: tuple[int, ...]  # per student layer, the teacher layer index
    teacher_heads: int
    student_heads: int
    student_width: int
    teacher_width: int
    projection: bool

    def group_teacher_heads(self, attention: torch.Tensor) -> torch.Tensor:
        """Teacher attention (batch, H_t, q, k) → (batch, H_s, q, k)."""
        if self.teacher_heads == self.student_heads:
            return attention
        if self.teacher_heads > self.student_heads:
            b, h, q, k = attention.shape
            return attention.reshape(b, self.student_heads, h // self.student_heads, q, k).mean(2)
        return attention.repeat_interleave(self.student_heads // self.teacher_heads, dim=1)


def build_layer_map(student_layers: int, teacher_layers: int, student_heads: int, teacher_heads: int,
                    student_width: int, teacher_width: int, projection: bool = False) -> LayerMap:
    if student_width != teacher_width and not projection:
        raise UserInputError(
            f"student inter-block width (hidden_size {student_width}) differs from the teacher's "
            f"({teacher_width}): feature-map transfer needs equal widths (or pass --projection)"
        )
    if not heads_compatible(student_heads, teacher_heads):
        raise UserInputError(
            f"student heads ({student_heads}) and teacher heads ({teacher_heads}) must divide one another "
            "for attention transfer"
        )
    mapping = tuple((layer + 1) * teacher_layers // student_layers - 1 for layer in range(student_layers))
    return LayerMap(tuple(max(m, 0) for m in mapping), teacher_heads, student_heads, student_width,
                    teacher_width, projection and student_width != teacher_width)


def check_pair(student_config: Any, teacher_config: Any, projection: bool = False) -> LayerMap:
    """The distillation's validation of a student against its teacher (both HF configs): one vocabulary,
    equal widths (or a projection), mappable heads. `nas search --teacher` keeps its space inside these
    constraints (`search_spaces/teacher_fit.py`); a test checks every front point passes this."""
    check_vocabulary(student_config, teacher_config)
    return build_layer_map(student_config.num_hidden_layers, teacher_config.num_hidden_layers,
                           student_config.num_attention_heads, teacher_config.num_attention_heads,
                           student_config.hidden_size, teacher_config.hidden_size, projection)


def check_vocabulary(student_config: Any, teacher_config: Any) -> None:
    if teacher_config.vocab_size != student_config.vocab_size:
        raise UserInputError(f"teacher vocabulary ({teacher_config.vocab_size}) differs from the student's "
                             f"({student_config.vocab_size})")
