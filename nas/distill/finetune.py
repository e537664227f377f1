"""GLUE fine-tuning and dev evaluation of a pre-trained or distilled model directory.

The output directory keeps what was trained: a `transformers` model directory (the task head, the label names
in `id2label`, the task in `finetuning_task`, the tokenizer files with `model_max_length` = the fine-tuning
sequence length) beside `metrics.json`; `AutoModelForSequenceClassification.from_pretrained(OUT)` loads it and
`nas export --model OUT` ships it.

AdamW with linear warm-up (10 %) and decay, as BERT's fine-tuning recipe (Devlin et al. 2019, §4);
the paper's GLUE search space is lr {1e-5 … 1e-4}, batch {16, 32, 48}, epochs {2 … 10} (MobileBERT §4.4).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nas.distill.data_glue import LABEL_NAMES, Example, check_task, num_labels, read_split
from nas.distill.metrics import task_metrics
from nas_common.errors import UserInputError
from nas_common.writing import write_json

WARMUP_SHARE = 0.1
EVAL_BATCH = 64
METRICS = "metrics.json"
# What a fine-tuning writes besides metrics.json (and so what `--overwrite` replaces): the model and tokenizer.
MODEL_FILES = ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json")


@dataclass
class FinetuneConfig:
    epochs: float = 3.0
    lr: float = 5e-5
    batch_size: int = 32
    max_seq_len: int = 128
    max_train_examples: int | None = None
    seed: int = 0
    torch_device: str = "cpu"  # `--torch-device`
    progress: bool = True
    micro_batch_size: int | None = None  # None: the most that fits in the available memory


def check_config(cfg: FinetuneConfig) -> None:
    from nas.distill.options import check_positive
    from nas.distill.pipeline import check_device
    from search_spaces.family import check_seq_len

    check_positive(epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, micro_batch_size=cfg.micro_batch_size,
                   max_train_examples=cfg.max_train_examples)
    check_seq_len(cfg.max_seq_len)
    if cfg.max_seq_len < 8:
        raise UserInputError(f"--seq-len must be at least 8, got {cfg.max_seq_len}")
    if cfg.seed < 0:
        raise UserInputError(f"--seed must be ≥ 0, got {cfg.seed}")
    check_device(cfg.torch_device)


def _encode(tokenizer: Any, examples: list[Example], max_seq_len: int) -> dict[str, torch.Tensor]:
    pairs = [e.text_b for e in examples]
    enc = tokenizer([e.text_a for e in examples], pairs if all(p is not None for p in pairs) else None,
                    truncation=True, max_length=max_seq_len, padding=True, return_tensors="pt")
    return dict(enc)


def load_classifier(model_dir: Path, task: str) -> Any:
    from transformers import AutoModelForSequenceClassification

    from nas.distill.teacher import load_weights, read_config

    if not (model_dir / "config.json").is_file():
        raise UserInputError(f"{model_dir} is not a model directory (no config.json)")
    read_config(model_dir)  # a broken config.json is a one-line error too
    model = load_weights(AutoModelForSequenceClassification, model_dir, num_labels=num_labels(task),
                         problem_type="regression" if task == "stsb" else "single_label_classification")
    name_outputs(model.config, task)
    return model


def name_outputs(config: Any, task: str) -> None:
    """The task and its label names in the config (`finetuning_task`, `id2label`, `label2id`): what an app and
    `nas evaluate` read to know what each logit means."""
    names = LABEL_NAMES[task]
    config.finetuning_task = task
    config.id2label = dict(enumerate(names))
    config.label2id = {name: index for index, name in enumerate(names)}


def save_model(model: Any, tokenizer: Any, vocab: Path, out: Path, max_seq_len: int) -> None:
    """The fine-tuned model, its tokenizer and the vocabulary it read (`MODEL_FILES`) in `out`, loadable by
    `transformers`."""
    import shutil

    from nas.distill.teacher import quiet_transformers

    with quiet_transformers():  # no "Writing model shards" bar
        model.save_pretrained(out)
    tokenizer.model_max_length = max_seq_len
    tokenizer.save_pretrained(out)
    if not (out / "vocab.txt").is_file() or not (out / "vocab.txt").samefile(vocab):
        shutil.copyfile(vocab, out / "vocab.txt")


def eval_batches(examples: list[Example]) -> int:
    return -(-len(examples) // EVAL_BATCH)


def evaluate(model: Any, tokenizer: Any, task: str, examples: list[Example], cfg: FinetuneConfig,
             bar: Any = None) -> dict[str, float]:
    """The task's dev metrics; `bar` (a tqdm bar) advances a batch at a time."""
    model.eval()
    outputs = []
    with torch.no_grad():
        for i in range(0, len(examples), EVAL_BATCH):
            encoded = _encode(tokenizer, examples[i:i + EVAL_BATCH], cfg.max_seq_len)
            batch = {k: v.to(cfg.torch_device) for k, v in encoded.items()}
            outputs.append(model(**batch).logits.float().cpu().numpy())
            if bar is not None:
                bar.update(1)
    labels = np.array([e.label for e in examples])
    return task_metrics(task, np.concatenate(outputs), labels)


def finetune(model_dir: str | Path, task: str, data_dir: str | Path, out: str | Path, cfg: FinetuneConfig,
             vocab: str | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Fine-tune and evaluate; every option and the output directory are checked before training."""
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from nas.distill.accumulate import accumulate
    from nas.distill.memory import plan_micro_batch
    from nas.distill.options import check_not_an_input
    from nas.distill.vocab import load_tokenizer, resolve_vocab
    from nas_common.paths import check_output_dir

    task = check_task(task)
    check_config(cfg)
    model_dir, out = Path(model_dir), Path(out)
    check_not_an_input(out, model=model_dir, data_dir=data_dir)
    check_output_dir(out, overwrite=overwrite, result_files=(METRICS, *MODEL_FILES))
    train = read_split(data_dir, task, "train")
    dev = read_split(data_dir, task, "dev")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    if cfg.max_train_examples and cfg.max_train_examples < len(train):
        train = [train[i] for i in sorted(rng.choice(len(train), cfg.max_train_examples, replace=False))]
    vocab_path = resolve_vocab(vocab or (model_dir if (model_dir / "vocab.txt").is_file() else None))
    tokenizer = load_tokenizer(vocab_path)
    model = load_classifier(model_dir, task).to(cfg.torch_device)
    if len(tokenizer) > model.config.vocab_size:  # token ids the embedding table does not have
        raise UserInputError(f"the vocabulary {vocab_path} has {len(tokenizer)} tokens but the model {model_dir} "
                             f"only {model.config.vocab_size} embeddings: give the vocabulary it was trained with")
    micro = plan_micro_batch(model.config, cfg.max_seq_len, 0, cfg.batch_size, model.num_parameters(),
                             requested=cfg.micro_batch_size, mlm=False, what="this classifier").micro_batch_size
    steps_per_epoch = max(1, len(train) // cfg.batch_size)
    total_steps = max(1, round(cfg.epochs * steps_per_epoch))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(WARMUP_SHARE * total_steps), total_steps)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if cfg.torch_device == "cuda"
                else torch.autocast("cpu", enabled=False))
    start = time.time()
    model.train()
    # one bar over the training steps and the dev batches (a dev batch costs about a step: twice the examples,
    # forward only), so the dev evaluation is not minutes of silence at the end
    bar = tqdm(total=total_steps + eval_batches(dev), desc=f"finetune {task}: train", unit="batch",
               disable=not cfg.progress)
    order: list[int] = []
    for _ in range(total_steps):
        if len(order) < cfg.batch_size:
            order += list(rng.permutation(len(train)))
        batch_examples = [train[i] for i in order[:cfg.batch_size]]
        del order[:cfg.batch_size]
        batch = {k: v.to(cfg.torch_device) for k, v in _encode(tokenizer, batch_examples, cfg.max_seq_len).items()}
        labels = torch.tensor([e.label for e in batch_examples],
                              dtype=torch.float if task == "stsb" else torch.long, device=cfg.torch_device)
        batch["labels"] = labels

        def compute(part: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            with autocast:
                return {"loss": model(**part).loss}

        optimizer.zero_grad(set_to_none=True)
        loss = accumulate(compute, batch, micro)["loss"]
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        bar.update(1)
        bar.set_postfix(loss=f"{float(loss):.4g}")
        model.train()
    bar.set_description(f"finetune {task}: dev evaluation")
    bar.set_postfix()
    metrics = evaluate(model, tokenizer, task, dev, cfg, bar)
    bar.close()
    result = {"task": task, "model": str(model_dir), "dev": metrics, "train_examples": len(train),
              "dev_examples": len(dev), "steps": total_steps, "saved_model": str(out),
              "micro_batch_size": micro, "train_seconds": round(time.time() - start, 1),
              "config": asdict(cfg)}
    out.mkdir(parents=True, exist_ok=True)
    save_model(model, tokenizer, vocab_path, out, cfg.max_seq_len)
    write_json(out / METRICS, result)
    return result
