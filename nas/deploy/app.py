"""What an app needs beside the model file: the tokenizer's settings, the sequence length, the label names, in one
small JSON (`app.json`), and the one tokenisation every shipped format and `nas evaluate` use (`encode`).

Every format takes the same fixed-length inputs: `[CLS] a [SEP]` (or `[CLS] a [SEP] b [SEP]` for a pair),
lower-cased WordPiece, cut to the sequence length (the longer text first) and padded to it with `[PAD]`; the
attention mask is 0 on the padding, so padding changes no output (checked: tests/test_deploy.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nas.distill.data_glue import Example
from nas_common.errors import UserInputError
from nas_common.io import finite, read_json

APP_JSON = "app.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def encode(tokenizer: Any, examples: list[Example], seq_len: int) -> dict[str, np.ndarray]:
    """`INPUTS` for `examples` (one row each) as int64 arrays of shape (len(examples), seq_len)."""
    pairs = [e.text_b for e in examples]
    encoded = tokenizer([e.text_a for e in examples], pairs if all(p is not None for p in pairs) else None,
                        truncation=True, max_length=seq_len, padding="max_length", return_tensors="np")
    return {name: np.asarray(encoded[name], dtype=np.int64) for name in INPUTS}


def tokenizer_settings(tokenizer: Any, seq_len: int) -> dict[str, Any]:
    """How to turn text into the model's inputs, as an app's tokenizer needs it."""
    special = {name: {"token": getattr(tokenizer, f"{name}_token"), "id": getattr(tokenizer, f"{name}_token_id")}
               for name in ("cls", "sep", "pad", "unk", "mask")}
    return {"type": "BERT WordPiece (as transformers' BertTokenizerFast)",
            "vocab": "vocab.txt", "vocab_size": len(tokenizer), "lower_case": bool(tokenizer.do_lower_case),
            "strip_accents": bool(tokenizer.do_lower_case), "special_tokens": special,
            "sequence_length": seq_len,
            "single": "[CLS] text [SEP]", "pair": "[CLS] text_a [SEP] text_b [SEP]",
            "token_type_ids": "0 up to and including the first [SEP], 1 after it",
            "truncation": f"longest_first to {seq_len} tokens, special tokens included",
            "padding": f"to {seq_len} tokens with [PAD] (id {tokenizer.pad_token_id}); attention_mask 1 on tokens, "
                       "0 on padding"}


def app_record(model: Any, seq_len: int, output: str, tokenizer: Any, files: dict[str, str],
               weights: str) -> dict[str, Any]:
    """`app.json`: the model files, their inputs and output, the labels and the tokenizer settings."""
    record: dict[str, Any] = {
        "source": str(model.directory.resolve()), "weights": weights, "files": files,
        "inputs": {name: {"shape": [1, seq_len], "dtype": "int32 (TFLite), int64 (ONNX)"} for name in INPUTS},
        "output": {"name": output, "shape": [1, model.config.num_labels] if output == "logits"
                   else [1, seq_len, model.config.hidden_size]},
        "sequence_length": seq_len, "tokenizer": tokenizer_settings(tokenizer, seq_len)}
    if output == "logits":
        record["task"] = model.task
        record["labels"] = list(model.labels)
        record["output"]["meaning"] = ("a similarity score, 0-5 (STS-B)" if model.task == "stsb"
                                       else "unnormalised class scores (softmax gives probabilities), in the "
                                            "order of labels")
    return record


def read_app(file: Path) -> dict[str, Any]:
    """The `app.json` beside an exported `.tflite` or `.onnx` file (what `nas evaluate` needs to tokenise)."""
    path = Path(file).parent / APP_JSON
    if not path.is_file():
        raise UserInputError(f"{file} has no {APP_JSON} beside it (its tokenizer settings, sequence length and "
                             "labels): evaluate a file written by nas export --model")
    return check_app(read_json(path), str(path))


def check_app(record: Any, where: str) -> dict[str, Any]:
    """`record` (an app.json) when the fields `nas evaluate` reads have their types: `sequence_length` (and the
    tokenizer's, when given) the same positive integer, `output`/`tokenizer` objects, names and labels text."""
    if not isinstance(record, dict):
        raise UserInputError(f"{where}: not an app record (expected a JSON object, got {type(record).__name__})")
    length = finite(record.get("sequence_length"), where, "sequence_length", integer=True, positive=True)
    for name in ("output", "tokenizer"):
        if not isinstance(record.get(name, {}), dict):
            raise UserInputError(f"{where}: {name} must be a JSON object, got {record[name]!r}")
    tokenizer = record.get("tokenizer", {})
    if "sequence_length" in tokenizer:
        given = finite(tokenizer["sequence_length"], where, "tokenizer.sequence_length", integer=True, positive=True)
        if given != length:
            raise UserInputError(f"{where}: tokenizer.sequence_length {given} differs from sequence_length {length}")
    for field, value in (("output.name", record.get("output", {}).get("name", "")), ("task", record.get("task", "")),
                         ("tokenizer.vocab", tokenizer.get("vocab", "vocab.txt"))):
        if not isinstance(value, str):
            raise UserInputError(f"{where}: {field} must be text, got {value!r}")
    labels = record.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise UserInputError(f"{where}: labels must be a list of names, got {labels!r}")
    return record
