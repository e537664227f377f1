"""`trials.jsonl`: one JSON object per finished trial, appended as soon as it is scored.

A run killed at any moment leaves at worst a half-written last line; `load` drops it (and truncates the file
to the last complete line, so the next append starts clean). Trial ids are unique: a repeated id is an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nas.trial import Trial
from nas_common.errors import UserInputError

FILE_NAME = "trials.jsonl"


class Journal:
    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / FILE_NAME
        self._handle: Any = None

    def load(self) -> dict[int, Trial]:
        """Finished trials by id; repairs a torn last line."""
        if not self.path.exists():
            return {}
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        if len(complete) != len(raw):
            with self.path.open("r+b") as handle:
                handle.truncate(len(complete))
        trials: dict[int, Trial] = {}
        for number, line in enumerate(complete.decode("utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = Trial.from_json(json.loads(line))
            except (json.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError, UserInputError):
                raise UserInputError(f"{self.path}:{number}: not a trial record (the journal is corrupt; "
                                     "fix or remove that line, or start a new run)") from None
            if record.id in trials:
                raise UserInputError(f"{self.path}:{number}: trial id {record.id} appears twice")
            trials[record.id] = record
        return trials

    def append(self, records: list[Trial]) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        # One write per batch: a kill leaves the batch either wholly on disk or not at all (or, at worst, a
        # torn last line that `load` drops).
        self._handle.write("".join(json.dumps(r.to_json(), separators=(",", ":")) + "\n" for r in records))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
