"""A trained model directory (`nas distill`, `nas finetune`, a confirmed trial, `nas supernet extract`, `nas
teacher`): what it holds, read without loading weights, and its app module with the trained weights.

A directory with a `*ForSequenceClassification` architecture is a fine-tuned classifier: its config names the
task (`finetuning_task`) and the labels (`id2label`); any other is an encoder (its output: `last_hidden_state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nas.distill.data_glue import check_task
from nas_common.errors import UserInputError
from nas_common.io import read_json

WEIGHTS = ("model.safetensors", "pytorch_model.bin")
DEFAULT_SEQ_LEN = 128  # BERT's fine-tuning length (Devlin et al. 2019), the project's default
WRITERS = "nas distill, nas finetune, nas supernet extract or a confirmed trial"
CONFIRMED = "confirmed.json"  # nas confirm's note in a search run's best/ (nas/confirm/publish.py)
Output = Literal["logits", "last_hidden_state"]


@dataclass(frozen=True)
class TrainedModel:
    directory: Path
    config: Any  # transformers config
    has_head: bool  # a sequence-classification head (a fine-tuned model)
    task: str | None  # the GLUE task it was fine-tuned on
    labels: tuple[str, ...]  # what each logit means, in order
    vocab: Path
    seq_len: int  # the length it was fine-tuned at (tokenizer_config.json), else DEFAULT_SEQ_LEN
    via: str | None = None  # how a named search run led here (`confirmed_winner`)

    @property
    def output(self) -> Output:
        """What an export gives by default: the logits of a fine-tuned model, the encoder output otherwise."""
        return "logits" if self.has_head else "last_hidden_state"

    @property
    def what(self) -> str:
        return (f"a {self.task} classifier ({', '.join(self.labels)})" if self.has_head
                else f"an encoder (hidden size {self.config.hidden_size}; no task head)")


def read_model_dir(path: str | Path, what: str = "--model") -> TrainedModel:
    """`path` as a `TrainedModel`; a path that is not a trained model directory is one line."""
    from nas.distill.teacher import read_config

    path = Path(path)
    if not path.is_dir():
        raise UserInputError(f"{what} {path} is not a directory: give a model directory written by {WRITERS}")
    via = None
    winner = confirmed_winner(path, what)
    if winner is not None:
        path, via = winner
    if not (path / "config.json").is_file():
        raise UserInputError(f"{what} {path} is not a model directory (no config.json): give one written by "
                             f"{WRITERS}")
    if not any((path / name).is_file() for name in WEIGHTS):
        raise UserInputError(f"{what} {path} holds a config but no weights ({' or '.join(WEIGHTS)})")
    if not (path / "vocab.txt").is_file():
        raise UserInputError(f"{what} {path} has no vocab.txt (the tokenizer's vocabulary an app needs)")
    config = read_config(path)
    has_head = any(str(a).endswith("ForSequenceClassification") for a in (config.architectures or []))
    task = labels = None
    if has_head:
        task = check_task(str(getattr(config, "finetuning_task", None) or "")) \
            if getattr(config, "finetuning_task", None) else None
        labels = tuple(str(config.id2label[i]) for i in range(config.num_labels))
    return TrainedModel(path, config, has_head, task, labels or (), path / "vocab.txt", _seq_len(path), via)


def confirmed_winner(path: Path, what: str = "--model") -> tuple[Path, str] | None:
    """A search run after `nas confirm --task T` (the run or its best/): the confirmed winner's fine-tuned model,
    RUN/confirm/models/<id>/model/dev-<steps>/ (the fine-tune of its top dev rung: nas/confirm/trial.py), and a
    phrase saying so; None for any other directory. Found from the run, so a moved run still works."""
    from nas.confirm.plan import CONFIRM_DIR, MODELS

    best = path / "best" if (path / "best" / CONFIRMED).is_file() else path
    if not (best / CONFIRMED).is_file():
        return None
    note = read_json(best / CONFIRMED)
    row = note.get("row") if isinstance(note, dict) else None
    arch_id = str(note.get("arch_id", row.get("arch_id") if isinstance(row, dict) else None))
    if not isinstance(row, dict) or not arch_id.isdigit():
        raise UserInputError(f"{what} {path}: {best / CONFIRMED} names no confirmed trial (arch_id)")
    trained = best.parent / CONFIRM_DIR / MODELS / arch_id / "model"
    steps = row.get("dev_steps")
    if not isinstance(steps, int | float) or steps != steps:  # None (no --task), or NaN
        raise UserInputError(f"{what} {path}: the confirmed winner (trial {arch_id}) was not fine-tuned (nas confirm "
                             f"ran without --task): nas finetune --model {trained} --task T --out DIR, then export "
                             "DIR")
    tuned = trained / f"dev-{int(steps)}"
    if not (tuned / "config.json").is_file():
        raise UserInputError(f"{what} {path}: the confirmed winner's fine-tuned model {tuned} is missing (moved or "
                             "deleted)")
    return tuned, (f"the confirmed winner of {best.parent}: trial {arch_id}, fine-tuned on {row.get('task')} after "
                   f"{int(steps)} distillation steps, {tuned}")


def _seq_len(path: Path) -> int:
    settings = path / "tokenizer_config.json"
    record = read_json(settings, "tokenizer settings") if settings.is_file() else {}
    if not isinstance(record, dict):
        raise UserInputError(f"tokenizer settings {settings}: not a tokenizer config (expected a JSON object, as "
                             "nas finetune writes it)")
    length = record.get("model_max_length")
    return int(length) if isinstance(length, int) and 8 <= length <= 4096 else DEFAULT_SEQ_LEN


def check_output(model: TrainedModel, output: Output, flag: str = "--output logits") -> None:
    """Task logits need a task head: one line naming the command that adds one."""
    if output == "logits" and not model.has_head:
        raise UserInputError(f"{model.directory} has no task head (it was not fine-tuned), so it has no task logits "
                             f"for {flag}: fine-tune it first (nas finetune --model {model.directory} --task T "
                             "--out DIR), or export its encoder output (--output encoder)")


def check_task_of(model: TrainedModel, task: str) -> str:
    """`task` is the one the model was fine-tuned on; returns it normalised."""
    task = check_task(task)
    check_output(model, "logits", f"--task {task}")
    if model.task is None:
        raise UserInputError(f"{model.directory} does not say which task it was fine-tuned on (no finetuning_task "
                             "in config.json); fine-tune it again with nas finetune")
    if task != model.task:
        raise UserInputError(f"{model.directory} was fine-tuned on {model.task}, not {task}: its outputs mean "
                             f"{', '.join(model.labels)}")
    return task


def load_module(model: TrainedModel, output: Output) -> Any:
    """The trained model as `hf_model.app_module` (input_ids, attention_mask, token_type_ids → `output`), eager
    attention, eval mode; a damaged weights file is one line."""
    from transformers import AutoModel, AutoModelForSequenceClassification

    from latency_models.hf_model import ATTN_IMPLEMENTATION, app_module
    from nas.distill.teacher import load_weights

    check_output(model, output)
    cls = AutoModelForSequenceClassification if output == "logits" else AutoModel
    return app_module(load_weights(cls, model.directory, attn_implementation=ATTN_IMPLEMENTATION), output)
