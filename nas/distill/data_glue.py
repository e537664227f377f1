"""GLUE readers (MRPC, SST-2, RTE, STS-B) for a directory in the GLUE TSV layout (`DIR/MRPC/dev.tsv`, …)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from nas_common.errors import UserInputError
from nas_common.io import read_text

TASKS = ("mrpc", "sst2", "rte", "stsb")
TASK_DIRS = {"mrpc": "MRPC", "sst2": "SST-2", "rte": "RTE", "stsb": "STS-B"}
# Column names per task: (first text, second text or None, label)
COLUMNS = {
    "mrpc": ("#1 String", "#2 String", "Quality"),
    "sst2": ("sentence", None, "label"),
    "rte": ("sentence1", "sentence2", "label"),
    "stsb": ("sentence1", "sentence2", "score"),
}
RTE_LABELS = {"entailment": 0, "not_entailment": 1}  # GLUE's label order
# What each output of a fine-tuned model means (GLUE's label order; STS-B: one similarity score, 0-5).
LABEL_NAMES = {"sst2": ("negative", "positive"), "mrpc": ("not_equivalent", "equivalent"),
               "rte": ("entailment", "not_entailment"), "stsb": ("similarity",)}


@dataclass(frozen=True)
class Example:
    text_a: str
    text_b: str | None
    label: float  # class index for classification tasks, score 0–5 for STS-B


def check_task(task: str) -> str:
    task = task.lower().replace("-", "")
    if task not in TASKS:
        raise UserInputError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    return task


def num_labels(task: str) -> int:
    return 1 if task == "stsb" else 2


def read_split(data_dir: str | Path, task: str, split: str) -> list[Example]:
    """Rows of `split` (train or dev). MRPC is UTF-8 with BOM and unquoted; the others plain TSV."""
    task = check_task(task)
    path = Path(data_dir) / TASK_DIRS[task] / f"{split}.tsv"
    if not path.is_file():
        raise UserInputError(f"{path} not found (expected the GLUE TSV layout under --data-dir)")
    a_col, b_col, label_col = COLUMNS[task]
    examples = []
    text = read_text(path, kind="TSV")  # BOM (MRPC's) dropped, CRLF as \n: the rows csv read from the file before
    reader = csv.reader(StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    wanted = ", ".join(c for c in (a_col, b_col, label_col) if c)  # single-sentence tasks have no second text
    if header is None:  # an empty file (a copy cut short, a download that failed)
        raise UserInputError(f"{path}: the file is empty (expected a header with the {task} columns {wanted}, then "
                             f"the {split} examples)")
    if any(c and c not in header for c in (a_col, b_col, label_col)):
        raise UserInputError(f"{path}: header {header} lacks the {task} columns {wanted}")
    ia, il = header.index(a_col), header.index(label_col)
    ib = header.index(b_col) if b_col else None
    for line_no, row in enumerate(reader, start=2):
        if len(row) < len(header):
            raise UserInputError(f"{path}:{line_no}: expected {len(header)} columns, got {len(row)}")
        examples.append(Example(row[ia].strip(), row[ib].strip() if ib is not None else None,
                                _label(task, row[il], path, line_no)))
    if not examples:
        raise UserInputError(f"{path}: no examples (only a header): the {split} split is empty")
    return examples


STSB_RANGE = (0.0, 5.0)  # GLUE's STS-B similarity scores


def _label(task: str, raw: str, path: Path, line_no: int) -> float:
    """The row's label, refused with its line when the task's model cannot learn it: a class index outside the
    task's classes, or an STS-B score that is not a finite number in 0–5."""
    try:
        if task == "rte":
            return RTE_LABELS[raw.strip()]
        value = float(raw) if task == "stsb" else int(raw)
    except (KeyError, ValueError):
        raise UserInputError(f"{path}:{line_no}: bad label {raw!r}") from None
    if task == "stsb":
        if not math.isfinite(value) or not STSB_RANGE[0] <= value <= STSB_RANGE[1]:
            raise UserInputError(f"{path}:{line_no}: score {raw!r} is outside STS-B's 0–5")
    elif not 0 <= value < num_labels(task):
        raise UserInputError(f"{path}:{line_no}: label {raw!r} is not one of {task}'s classes "
                             f"({', '.join(f'{i} = {n}' for i, n in enumerate(LABEL_NAMES[task]))})")
    return value
