"""What a training run keeps on disk so that `--resume` continues exactly: the checkpoint (written atomically,
read with one-line errors), the RNG states, and the per-step loss CSV cut back to the checkpoint's step.
Shared by `nas teacher`/`nas distill` (trainer.py) and `nas supernet train` (nas/supernet/trainer.py).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nas_common.errors import UserInputError


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
    """Append `rows` to the loss CSV (header first when new); `rewrite` replaces the file."""
    new = rewrite or not path.is_file()
    with path.open("w" if new else "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        if new:
            writer.writeheader()
        writer.writerows(rows)


def truncate_log(path: Path, columns: Sequence[str], global_step: int) -> None:
    """Drop the rows logged after the checkpoint's step (they will be trained again on resume)."""
    if not path.is_file():
        return
    with path.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["global_step"]) <= global_step]
    write_log(path, columns, rows, rewrite=True)
