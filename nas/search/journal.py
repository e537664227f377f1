"""`trials.jsonl`: one JSON object per finished trial, appended as soon as it is scored.

A run killed at any moment leaves at worst a half-written last line. `load` leaves it out and never writes
(readers such as `nas pareto` work on a read-only run); the writer's first `append` cuts it off, so the next
record starts on a line of its own. Only the holder of the run's lock (`nas_common/run_lock.py`) appends.
Trial ids are unique: a repeated id is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

from nas.search.trial import Trial
from nas_common.errors import UserInputError
from nas_common.io import loads_json, read_bytes
from nas_common.writing import append_jsonl, last_line

FILE_NAME = "trials.jsonl"


class Journal:
    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / FILE_NAME
        self._repaired = False

    def load(self) -> dict[int, Trial]:
        """Finished trials by id (a torn last line left out; the file is not changed)."""
        if not self.path.exists():
            return {}
        raw = read_bytes(self.path)
        raw = raw[: raw.rfind(b"\n") + 1]  # a torn last line (even one cut inside a character) is left out
        trials: dict[int, Trial] = {}
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                record = Trial.from_json(loads_json(line.decode("utf-8"), f"{self.path}:{number}"))
            except (TypeError, KeyError, ValueError, AttributeError, UserInputError):  # UnicodeDecodeError too
                raise UserInputError(f"{self.path}:{number}: not a trial record (the journal is corrupt; "
                                     "fix or remove that line, or start a new run)") from None
            if record.id in trials:
                raise UserInputError(f"{self.path}:{number}: trial id {record.id} appears twice")
            trials[record.id] = record
        return trials

    def append(self, records: list[Trial]) -> None:
        """One write per batch: a kill leaves the batch wholly on disk, not at all, or a torn last line."""
        if not self._repaired:
            self._cut_torn_tail()
            self._repaired = True
        if records:
            append_jsonl(self.path, [r.to_json() for r in records])

    def _cut_torn_tail(self) -> None:
        if not self.path.exists():
            return
        size = self.path.stat().st_size
        torn = len(last_line(self.path))
        if torn:
            os.truncate(self.path, size - torn)

    def close(self) -> None:
        """Nothing stays open between appends (kept for callers that close a journal)."""
