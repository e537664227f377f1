"""The models distillation trains, built in one place: the student's and the teacher's HF configs, the
`MobileBertForPreTraining` around a config, and the attention implementation every trained or loaded model
uses.

`nas distill` (pipeline.py), `nas teacher` (teacher.py) and the elastic supernet (nas/supernet/elastic.py:
the supernet at the space's maxima, its sub-network skeletons and the students it extracts) all build their
models here, so a student distilled standalone and one extracted from a supernet have the same config.
"""

from __future__ import annotations

import warnings
from typing import Any

from search_spaces.arch import Arch

# Attention maps are what the layer-wise transfer compares, and only the eager implementation returns them
# (sdpa, the default of `from_pretrained`, does not).
ATTENTION = "eager"
TEACHER_HIDDEN_DROPOUT = 0.1  # the official teacher config (uncased_L-24_H-1024_B-512_A-4.json)
# HF's MLM head holds a Linear(vocab, hidden − embedding) that is empty when embedding_size = hidden_size.
_ZERO_ELEMENT = "Initializing zero-element tensors is a no-op"


def student_config(arch: Arch) -> Any:
    """The student's `MobileBertConfig` (a sub-network of a supernet and the model extracted from it are
    students too). Attention maps are compared as distributions, so its attention dropout is off; the official
    student has no pooler (`classifier_activation: false`): NSP and fine-tuning read the raw [CLS] vector."""
    return arch.to_hf_config(attention_probs_dropout_prob=0.0, classifier_activation=False,
                             attn_implementation=ATTENTION)


def teacher_config(arch: Arch) -> Any:
    """The teacher's `MobileBertConfig` (IB-BERT): transformers' defaults but hidden dropout 0.1, as the
    official teacher config."""
    return arch.to_hf_config(hidden_dropout_prob=TEACHER_HIDDEN_DROPOUT, attn_implementation=ATTENTION)


def pretraining_model(config: Any) -> Any:
    """A new `MobileBertForPreTraining` of `config`, initialised from torch's global generator (seed it first).
    Under `with torch.device("meta")` it owns no memory (a skeleton whose weights are supplied later)."""
    from transformers import MobileBertForPreTraining

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_ZERO_ELEMENT)
        return MobileBertForPreTraining(config)


def ensure_eager_attention(model: Any) -> Any:
    """Switch `model` to `ATTENTION` (a model loaded by `from_pretrained` without it defaults to sdpa); the
    saved config then records it too."""
    if getattr(model.config, "_attn_implementation", ATTENTION) != ATTENTION:
        model.set_attn_implementation(ATTENTION)
    return model
