"""`confirmed.csv` in the run: one row per confirmed front point (pandas), written from Tune's results and
read back by `nas pareto`, pareto.html and the choice of `best/`.

Columns: arch_id (the search trial id), pick (front position), estimate (the estimator's score exp(−L)),
est_loss_nats (L: the held-out loss it predicted, nats, lower is better), latency_ms, status (`survived`: reached
the top rung; `stopped`: ASHA stopped it at a lower rung; `failed`), rung, steps, heldout_mlm and the other
held-out terms at that rung, dev (the task's primary metric, at dev_steps) and every dev metric, task,
wall_s (the trial's training time, all attempts), model_dir (kept for the survivors), reason (why a
failed trial failed, one line).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

from nas.accuracy.resolution import loss_of
from nas.confirm.plan import METRIC, ConfirmOptions
from nas_common.errors import UserInputError
from nas_common.io import finite, read_csv
from nas_common.writing import write_text

FILE_NAME = "confirmed.csv"
_FIRST = ("arch_id", "pick", "estimate", "est_loss_nats", "latency_ms", "status", "rung", "steps", METRIC, "dev",
          "dev_steps", "task", "wall_s", "model_dir", "reason")
_REQUIRED = ("arch_id", "pick", "status", "steps")  # what the table, best/ and pareto.html read of every row
_INTEGERS = {"arch_id": 0, "pick": 0, "rung": -1, "steps": 0, "dev_steps": 0}  # each with its least value
_TEXTS = ("status", "task", "model_dir", "reason")  # every other column is a number (a held-out or dev metric)
_STATUSES = ("survived", "stopped", "failed")


def rows_from_results(options: ConfirmOptions, results: Any) -> list[dict[str, Any]]:
    """One row per candidate from a Tune `ResultGrid` (its last report; a failed trial keeps what it had)."""
    from nas.confirm.trial import refusal, trial_dir

    by_index = {}
    for result in results:
        by_index[result.config["candidate"]] = result
    rows = []
    for index, c in enumerate(options.candidates):
        result = by_index.get(index)
        metrics = dict(result.metrics or {}) if result is not None else {}
        refused = refusal(options, c.arch_id)
        failed = result is None or result.error is not None or refused is not None
        steps = metrics.get("distill_steps", 0)
        status = "failed" if failed else "survived" if steps >= options.max_steps else "stopped"
        model = trial_dir(options, c.arch_id) / "model"
        row = {"arch_id": c.arch_id, "pick": c.pick, "estimate": c.estimate, "latency_ms": c.latency_ms,
               "status": status, "rung": metrics.get("rung", -1), "steps": steps, METRIC: metrics.get(METRIC),
               "dev": metrics.get("dev"), "dev_steps": metrics.get("dev_steps"), "task": options.task,
               "wall_s": metrics.get("wall_s"), "model_dir": str(model) if status == "survived" else "",
               "reason": refused or (_error_line(result) if failed else "")}
        row.update({k: v for k, v in metrics.items() if k.startswith(("heldout_", "dev_")) and k not in row})
        rows.append(row)
    return rows


def _error_line(result: Any) -> str:
    if result is None:
        return "no result (the trial never ran)"
    return " ".join(f"{type(result.error).__name__}: {result.error}".split())[:300] if result.error else ""


def write(run: Path, rows: list[dict[str, Any]]) -> Path:
    import pandas as pd

    frame = pd.DataFrame(rows)
    if "estimate" in frame.columns:
        frame["est_loss_nats"] = [loss_of(v) for v in frame["estimate"]]
    ordered = [c for c in _FIRST if c in frame.columns] + sorted(c for c in frame.columns if c not in _FIRST)
    path = Path(run) / FILE_NAME
    return write_text(path, frame[ordered].sort_values("pick").to_csv(index=False))


def read(run: Path) -> list[dict[str, Any]]:
    """The rows of RUN/confirmed.csv (empty when the run has none), each cell typed by its column (`_INTEGERS`,
    `_TEXTS`, every other column a number); an empty cell is None. A damaged cell is one line naming the file,
    the line and the column."""
    path = Path(run) / FILE_NAME
    if path.is_dir():  # not "no confirmation": a search --resume or confirm would fail on it after the work
        raise UserInputError(f"{path} is a folder, not `nas confirm`'s results file: move it away (nothing was "
                             "changed)")
    if not path.is_file():
        return []
    header, lines = read_csv(path)  # BOM, CRLF, not UTF-8, a row of another width: the I/O layer's one line
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise UserInputError(f"{path}: no {missing[0]} column (not written by `nas confirm`)")
    rows = [_typed_row(f"{path}: line {number}", cells) for number, cells in lines]
    seen: dict[int, int] = {}
    for (number, _), row in zip(lines, rows, strict=True):
        if row["arch_id"] in seen:
            raise UserInputError(f"{path}: line {number}: arch_id {row['arch_id']} appears twice (also on line "
                                 f"{seen[row['arch_id']]})")
        seen[row["arch_id"]] = number
    return rows


def _typed_row(where: str, cells: dict[str, str]) -> dict[str, Any]:
    row = {column: _typed_cell(where, column, text.strip()) for column, text in cells.items()}
    for column in _REQUIRED:
        if row[column] is None:
            raise UserInputError(f"{where}: {column} is empty")
    if row["status"] not in _STATUSES:
        raise UserInputError(f"{where}: status must be one of {', '.join(_STATUSES)}, got {row['status']!r}")
    if row.get("dev") is not None and row.get("dev_steps") is None:
        raise UserInputError(f"{where}: dev_steps is empty though dev is given (the steps dev was measured at)")
    return row


def _typed_cell(where: str, column: str, text: str) -> Any:
    """An empty cell is None; else text, an integer (pandas writes `400.0` in a column with empty cells) or a
    finite number."""
    if not text or column in _TEXTS:
        return text or None
    if column not in _INTEGERS:
        return float(finite(text, where, column))
    number = finite(text, where, column, minimum=_INTEGERS[column])
    if not float(number).is_integer():
        raise UserInputError(f"{where}: {column} must be an integer, got {text!r}")
    return int(number)


def by_arch(run: Path) -> dict[int, dict[str, Any]]:
    return {int(row["arch_id"]): row for row in read(run)}


def measured(row: dict[str, Any], compact: bool = False) -> str:
    """A short text of a confirmed result: the dev metric where measured, else the held-out MLM loss, each
    with the distillation steps it was measured at (`compact`: `0.812@40`, `L6.10@10`, for narrow tables)."""
    if row.get("dev") is not None:
        if compact:
            return f"{row['dev']:.3f}@{int(row['dev_steps'])}"
        return f"{row['task']} {row['dev']:.3f} @{int(row['dev_steps'])}"
    if row.get(METRIC) is not None:
        return f"L{row[METRIC]:.2f}@{int(row['steps'])}" if compact else f"MLM {row[METRIC]:.3f} @{int(row['steps'])}"
    return str(row.get("status", ""))


def winner(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The best confirmed point: the furthest-trained first (ASHA kept it), then the best dev metric (higher is
    better for every GLUE metric used), then the lowest held-out MLM loss."""
    done = [r for r in rows if r.get("status") != "failed" and r.get(METRIC) is not None]
    if not done:
        return None
    return max(done, key=lambda r: (r["steps"], -math.inf if r.get("dev") is None else r["dev"], -r[METRIC]))


def drop_stopped_models(options: ConfirmOptions, rows: list[dict[str, Any]]) -> None:
    """Remove the model directories of trials ASHA stopped (the survivors' are kept: `transformers`-loadable)."""
    from nas.confirm.trial import trial_dir

    for row in rows:
        if row["status"] == "stopped":
            shutil.rmtree(trial_dir(options, int(row["arch_id"])) / "model", ignore_errors=True)
