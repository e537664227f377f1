"""A supernet directory on disk.

    DIR/supernet.json   format, depth order, teacher, training options, steps done, held-out losses
    DIR/space.toml      the supernet's search space (its width and maxima)
    DIR/weights/        the supernet's `MobileBertForPreTraining` at the maxima (`transformers` format)
    DIR/vocab.txt       the vocabulary it was trained with
    DIR/losses.csv, DIR/checkpoint.pt   training log and resumable state (`nas supernet train`)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from nas.distill.models import ATTENTION
from nas.distill.teacher import load_weights, quiet_transformers
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.ensemble import SUPERNET_FORMAT as FORMAT
from nas.supernet.ensemble import SUPERNET_META as META
from nas.supernet.ensemble import WEIGHTS, is_ensemble, read_supernet_meta
from nas.supernet.space import check_space
from nas.supernet.split import load_parts
from nas_common.errors import UserInputError
from nas_common.writing import write_json, write_text
from search_spaces.space import SearchSpace

SPACE = "space.toml"
VOCAB = "vocab.txt"


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    write_json(directory / META, {"format": FORMAT, **meta})


def head_layout(meta: dict[str, Any]) -> str:
    """A supernet's head layout (elastic.py); directories written before the field existed are "prefix"."""
    return meta.get("head_layout", "prefix")


def read_meta(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / META
    if not path.is_file() and is_ensemble(directory):
        raise UserInputError(f"{directory} is an ensemble of supernets: it has no weights of its own; use one of "
                             "the members listed in its ensemble.json")
    if not path.is_file():
        raise UserInputError(f"{directory} is not a supernet directory (no {META}; run `nas supernet train`)")
    return read_supernet_meta(path)


def save(elastic: ElasticMobileBert, directory: Path, space_text: str, vocab: Path, meta: dict[str, Any]) -> None:
    """Write the weights, space and vocabulary, then the metadata last (a directory with supernet.json is complete)."""
    directory.mkdir(parents=True, exist_ok=True)
    write_text(directory / SPACE, space_text)
    with quiet_transformers():
        elastic.model.save_pretrained(directory / WEIGHTS)
    if vocab.resolve() != (directory / VOCAB).resolve():
        shutil.copyfile(vocab, directory / VOCAB)
    write_meta(directory, {"depth_order": elastic.depth_order, "head_layout": elastic.head_layout, **meta})


def save_split(directory: Path, space_text: str, vocab: Path, meta: dict[str, Any]) -> None:
    """A split supernet (nas/supernet/split.py): its parts are saved already; the space, vocabulary and metadata."""
    write_text(directory / SPACE, space_text)
    if vocab.resolve() != (directory / VOCAB).resolve():
        shutil.copyfile(vocab, directory / VOCAB)
    write_meta(directory, meta)


def is_split(meta: dict[str, Any]) -> bool:
    return bool(meta.get("split"))


def load(directory: str | Path, torch_device: str = "cpu") -> tuple[ElasticMobileBert, dict[str, Any]]:
    """The trained elastic model (eval mode) and its metadata; a split supernet's parts behind one
    ElasticMobileBert interface (`SplitElastic`)."""
    from transformers import MobileBertForPreTraining

    directory = Path(directory)
    meta = read_meta(directory)
    if is_split(meta):
        space = check_space(SearchSpace.load(directory / SPACE))
        return load_parts(directory, meta, space, lambda part: load(part, torch_device)).to(torch_device).eval(), meta
    if not (directory / WEIGHTS / "config.json").is_file():
        raise UserInputError(f"{directory} holds no trained weights ({WEIGHTS}/ is missing)")
    space = check_space(SearchSpace.load(directory / SPACE))
    # the one model builder's attention (nas/distill/models.py); a damaged weights file is a one-line error
    model = load_weights(MobileBertForPreTraining, directory / WEIGHTS, attn_implementation=ATTENTION)
    elastic = ElasticMobileBert(space, meta.get("depth_order", "spread"), model=model, head_layout=head_layout(meta))
    return elastic.to(torch_device).eval(), meta
