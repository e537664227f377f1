"""The supernet's public interface (stable: the accuracy estimator, the benchmark and the CLI call these).

    sn = load_supernet(DIR)                  # trained elastic MobileBERT + its space, teacher and options
    sn.space                                 # the restricted SearchSpace (its width and maxima)
    batches = sn.eval_batches(CORPUS)        # fixed held-out batches (same for every arch)
    sn.subnet_losses(archs, batches)         # per arch: {"mlm", "distill", "pd_kd", "nsp", "fm", ...}
    sn.score(archs, batches, measure="mlm")  # per arch: one held-out loss, lower is better
    extract(DIR, arch, OUT)                  # a standalone MobileBertForPreTraining directory

Importing this module loads torch; the search imports it only for `--estimator supernet`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nas.supernet import evaluate, store
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.ensemble import ENSEMBLE
from nas.supernet.space import require_member
from nas_common.errors import UserInputError
from nas_common.io import read_bytes
from nas_common.paths import check_output_dir, corpus_path
from nas_common.writing import write_bytes, write_json
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

# what an extraction writes: an --out holding any of them is refused without --overwrite (vocab.txt too: a
# vocabulary of the user's there would be replaced by the supernet's)
EXTRACT_FILES = ("config.json", "arch.json", "model.safetensors", "vocab.txt", "nas_supernet.json")
MEASURES = evaluate.MEASURES
DEFAULT_MEASURE = evaluate.DEFAULT_MEASURE


@dataclass
class Supernet:
    directory: Path
    elastic: ElasticMobileBert
    meta: dict[str, Any]
    torch_device: str = "cpu"
    teacher_model: Any = field(default=None, repr=False)  # None: the meta's teacher, loaded on first use
    tokenizer_model: Any = field(default=None, repr=False)  # None: the directory's vocab.txt, read on first use

    @property
    def space(self) -> SearchSpace:
        return self.elastic.space

    @property
    def hidden_size(self) -> int:
        return self.elastic.maxima.hidden

    @property
    def teacher(self) -> Any:
        """The teacher the supernet was trained against (loaded on first use, frozen)."""
        if self.teacher_model is None:
            from nas.distill.teacher import load_teacher

            self.teacher_model = load_teacher(self.meta["teacher"]).to(self.torch_device)
        return self.teacher_model

    @property
    def tokenizer(self) -> Any:
        """The vocabulary the supernet was trained with (given to the constructor while it is being trained: its
        directory holds no vocab.txt until it is saved)."""
        if self.tokenizer_model is None:
            from nas.distill.vocab import load_tokenizer

            self.tokenizer_model = load_tokenizer(self.directory / store.VOCAB)
        return self.tokenizer_model

    def contains(self, arch: Arch) -> bool:
        return self.space.contains(arch)

    def eval_batches(self, corpus: str | Path | None = None, batches: int | None = None,
                     batch_size: int | None = None) -> list[dict[str, torch.Tensor]]:
        """Fixed held-out batches of `corpus` (default: the supernet's `--eval-corpus`) at its training
        sequence length, from nas/distill/evaluate.py (fixed seed: the same pairs and masks every time)."""
        from nas.distill.evaluate import EVAL_BATCH, EVAL_BATCHES, HeldOut

        corpus = corpus_path(corpus or self.meta.get("eval_corpus"), "--eval-corpus", in_data=None,
                             why="the supernet was trained without one")
        options = self.meta.get("options", {})
        held = HeldOut(corpus, self.tokenizer, int(options.get("seq_len", 128)), options.get("max_predictions"),
                       batches or EVAL_BATCHES, batch_size or EVAL_BATCH)
        return [held.data.batch(i) for i in range(held.batches)]

    def subnet_losses(self, archs: Sequence[Arch], eval_batches: Sequence[dict[str, torch.Tensor]],
                      ) -> list[dict[str, float]]:
        """Held-out loss terms of each arch's inherited sub-network (see nas/supernet/evaluate.py)."""
        for arch in archs:
            require_member(self.space, arch)
        return evaluate.subnet_losses(self.elastic, self.teacher, archs, eval_batches, self.torch_device)

    def score(self, archs: Sequence[Arch], eval_batches: Sequence[dict[str, torch.Tensor]],
              measure: str = DEFAULT_MEASURE) -> list[float]:
        """One held-out loss per arch (lower is better): `measure` is one of `MEASURES`."""
        if measure not in MEASURES:
            raise UserInputError(f"unknown supernet measure {measure!r}; choose one of {', '.join(MEASURES)}")
        return [losses[measure] for losses in self.subnet_losses(archs, eval_batches)]


def load_supernet(directory: str | Path, torch_device: str = "cpu") -> Supernet:
    elastic, meta = store.load(directory, torch_device)
    return Supernet(Path(directory), elastic, meta, torch_device)


def check_extract_out(supernet_dir: str | Path, out: str | Path) -> None:
    """`--out` of an extraction must lie outside the supernet: its config.json, model.safetensors and vocab.txt
    would land among the supernet's own files (in weights/, over its weights); nor be another supernet or an
    ensemble (a model mixed into their files, a supernet's vocab.txt replaced), even with --overwrite."""
    source = Path(supernet_dir).expanduser().resolve()
    target = Path(out).expanduser().resolve()
    if target == source or source in target.parents:
        raise UserInputError(f"--out {out} is inside the supernet directory {supernet_dir}; extract to a directory "
                             "outside it (nothing was changed)")
    for record, what in ((store.META, "a supernet directory"), (ENSEMBLE, "an ensemble of supernets")):
        if (target / record).is_file():
            raise UserInputError(f"--out {out} is {what} (it holds {record}); extract to a directory of its own "
                                 "(nothing was changed)")


def extract(supernet_dir: str | Path | Supernet, arch: Arch, out: str | Path, overwrite: bool = False) -> Path:
    """Write `arch`'s inherited weights as a standalone `MobileBertForPreTraining` directory (loads with
    `transformers`; `arch.json` beside it; the supernet's vocabulary) — the warm start of `nas distill`."""
    supernet = supernet_dir if isinstance(supernet_dir, Supernet) else None
    check_extract_out(supernet.directory if supernet is not None else supernet_dir, out)
    out = check_output_dir(out, overwrite, result_files=EXTRACT_FILES)
    if supernet is None:
        supernet = load_supernet(supernet_dir)
    require_member(supernet.space, arch)
    vocab = read_bytes(supernet.directory / store.VOCAB, "the supernet's vocabulary")  # read before a file is written
    model = supernet.elastic.extract(arch)
    out.mkdir(parents=True, exist_ok=True)
    with store.quiet_transformers():
        model.save_pretrained(out)
    arch.save(out / "arch.json")
    write_bytes(out / store.VOCAB, vocab)
    card = {"kind": "supernet_subnet", "supernet": str(supernet.directory.resolve()),
            "teacher": supernet.meta.get("teacher"), "depth_order": supernet.elastic.depth_order,
            "head_layout": supernet.elastic.head_layout,
            "kept_layers": list(supernet.elastic.kept(arch)), "steps": supernet.meta.get("steps_done")}
    write_json(out / "nas_supernet.json", card)
    return out
