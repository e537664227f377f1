"""Tiny models and a tiny corpus shared by the tests of nas/distill."""

from __future__ import annotations

import random
from pathlib import Path

from search_spaces.arch import Arch

WORDS = ("the cat sat on a mat while dogs ran across green fields and birds sang over quiet rivers "
         "people walked to town markets sold bread fish apples music played late into night").split()

TEACHER_ARCH = Arch(num_hidden_layers=2, hidden_size=32, intra_bottleneck_size=64, num_attention_heads=4,
                    intermediate_size=64, num_feedforward_networks=1, embedding_size=16,
                    normalization_type="layer_norm", hidden_act="gelu")
STUDENT_ARCH = Arch(num_hidden_layers=3, hidden_size=32, intra_bottleneck_size=16, num_attention_heads=2,
                    intermediate_size=32, num_feedforward_networks=2, embedding_size=16)


def write_corpus(path: Path, paragraphs: int = 60, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = [" = Heading = "]
    for _ in range(paragraphs):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) + " ." for _ in range(5)]
        lines.append(" ".join(sentences))
    path.write_text("\n".join(lines) + "\n")
    return path


def tiny_models(seed: int = 0):
    import torch
    from transformers import MobileBertForPreTraining

    from nas.distill.models import student_config

    torch.manual_seed(seed)
    teacher = MobileBertForPreTraining(TEACHER_ARCH.to_hf_config()).eval()
    student = MobileBertForPreTraining(student_config(STUDENT_ARCH))
    return teacher, student


def tiny_data(folder: Path, batch_size: int = 4):
    """The tiny corpus written into `folder` and tokenised: 24-token sequences, a fixed seed."""
    from nas.distill.data_corpus import PretrainingData
    from nas.distill.vocab import load_tokenizer

    corpus = write_corpus(folder / "c.txt")
    return PretrainingData(corpus, load_tokenizer(None), max_seq_len=24, batch_size=batch_size, seed=0)


def tiny_distill_setup(seed: int = 0):
    """The tiny teacher and student (the shared weights copied into the student) and their layer map."""
    from nas.distill.layer_map import build_layer_map
    from nas.distill.teacher import copy_shared_weights, model_shape

    teacher, student = tiny_models(seed)
    copy_shared_weights(student, teacher)
    t, s = model_shape(teacher.config), model_shape(student.config)
    return teacher, student, build_layer_map(s.layers, t.layers, s.heads, t.heads, s.width, t.width)
