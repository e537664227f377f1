"""What a training run keeps on disk so that `--resume` continues exactly: the checkpoint (written atomically,
read with one-line errors), the RNG states, and the per-step loss CSV cut back to the checkpoint's step.
Shared by `nas teacher`/`nas distill` (trainer.py) and `nas supernet train` (nas/supernet/trainer.py).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nas_common.errors import UserInputError
from nas_common.io import complete_lines, csv_rows, finite, read_text
from nas_common.writing import append_own_csv, csv_text, write_text

LOG_WHAT = "loss log"


def rng_states() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def restore_rng_states(rng: dict[str, Any]) -> None:
    torch.set_rng_state(rng["torch"].cpu())
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    if rng["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write through a temporary file, so a kill mid-write leaves the previous checkpoint intact."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def read_checkpoint(path: Path, device: str, required_key: str) -> dict[str, Any]:
    """The checkpoint for `--resume`; missing or damaged (no `required_key`) is a one-line error."""
    if not path.is_file():
        raise UserInputError(f"--resume: no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        state[required_key]
    except Exception as err:  # torch raises several types for a damaged file; all mean "unreadable"
        raise UserInputError(f"--resume: {path} is not a readable checkpoint ({type(err).__name__})") from None
    return state


def write_log(path: Path, columns: Sequence[str], rows: list[dict[str, Any]], rewrite: bool = False) -> None:
    """Append `rows` to the loss CSV (header first when new); `rewrite` replaces the file atomically. The run is
    the log's one writer, so an append does not read the file (see `writing.append_own_csv`)."""
    if rewrite or not path.is_file():
        write_text(path, csv_text(rows, columns), LOG_WHAT)
    else:
        append_own_csv(path, rows, columns, LOG_WHAT)


def truncate_log(path: Path, columns: Sequence[str], global_step: int) -> None:
    """Drop the rows logged after the checkpoint's step (they will be trained again on resume); a last row cut
    short by a kill (logged after the checkpoint, so dropped anyway) goes too. A log of other columns or a step
    that is not an integer is one line naming the file and line."""
    if not path.is_file():
        return
    text, _torn = complete_lines(read_text(path, LOG_WHAT, "CSV"))
    label = f"{LOG_WHAT} {path}"
    header, numbered = csv_rows(text, label) if text.strip() else (["global_step"], [])  # killed before its header
    foreign = [c for c in header if c not in columns]
    if "global_step" not in header or foreign:
        raise UserInputError(f"{label}: its columns are not this run's ({(foreign or ['no global_step'])[0]!r}); "
                             "written by another version? (nothing was changed)")
    rows = [r for number, r in numbered
            if finite(r["global_step"], f"{label}: line {number}", "global_step", integer=True) <= global_step]
    write_log(path, columns, rows, rewrite=True)
