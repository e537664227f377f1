"""Tiny trained models for the tests of shipping (nas/deploy): a classifier fine-tuned for a few steps on a tiny
GLUE-format folder of real sentences, an encoder directory as `nas distill` writes it."""

from __future__ import annotations

import shutil
from pathlib import Path

GOOD = ("a delight from start to finish", "warm , funny and wise", "one of the best films of the year",
        "beautifully acted", "a moving , generous story", "smart and sharp", "the cast is wonderful",
        "it made me laugh out loud , twice", "fresh", "an unexpected pleasure with a terrific ending")
BAD = ("a dull , lifeless mess", "overlong and tedious", "the plot makes no sense at all", "badly written",
       "a waste of a fine cast", "boring", "i wanted my two hours back", "flat , predictable and loud",
       "nothing works here", "the jokes fall flat one after another")


def write_sst2(root: Path) -> Path:
    """`root/SST-2/{train,dev}.tsv`: 20 sentences of very different lengths, labelled; returns `root`."""
    folder = root / "SST-2"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [(s, 1) for s in GOOD] + [(s, 0) for s in BAD]
    text = "sentence\tlabel\n" + "".join(f"{s} .\t{label}\n" for s, label in rows)
    for split in ("train", "dev"):
        (folder / f"{split}.tsv").write_text(text)
    return root


def encoder_dir(out: Path, seed: int = 0) -> Path:
    """A tiny `MobileBertForPreTraining` directory with its vocab.txt: what `nas distill` leaves."""
    from nas.distill.vocab import resolve_vocab
    from tests.distill_helpers import tiny_models

    _, student = tiny_models(seed)
    student.save_pretrained(out)
    shutil.copyfile(resolve_vocab(None), out / "vocab.txt")
    return out


def fine_tuned(tmp: Path, seq_len: int = 24) -> tuple[Path, Path]:
    """`nas finetune` of the tiny encoder on `write_sst2` for a few steps: (the model directory, the GLUE root)."""
    from nas.distill.finetune import FinetuneConfig, finetune

    glue = write_sst2(tmp / "glue")
    encoder = encoder_dir(tmp / "encoder")
    cfg = FinetuneConfig(epochs=2, lr=1e-3, batch_size=4, max_seq_len=seq_len, progress=False)
    finetune(encoder, "sst2", glue, tmp / "sst2", cfg)
    return tmp / "sst2", glue
