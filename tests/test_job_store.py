"""The benchmarks' shared job store (benchmarks/estimator_rank_jobs.Store): several processes add records to one
JSON file under a lock; a record another process re-wrote (a re-timed latency) survives a long-running runner
that still holds the old copy."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.estimator_rank_jobs import Store


def test_records_of_two_writers_are_merged_and_the_later_rewrite_wins(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    runner = Store(path)
    runner.put("distill/a", {"loss": 1.0})
    runner.put("latency/a", {"ms": 10.0})
    other = Store(path)                      # a second process, started later
    other.put("latency/a", {"ms": 9.5})     # re-times a record the runner also holds
    other.put("latency/b", {"ms": 7.0})
    runner.put("distill/b", {"loss": 2.0})  # the runner writes again, holding its stale latency/a
    records = json.loads(path.read_text())["records"]
    assert set(records) == {"distill/a", "distill/b", "latency/a", "latency/b"}
    assert records["latency/a"]["ms"] == 9.5
