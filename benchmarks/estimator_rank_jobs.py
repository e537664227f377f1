"""Resumable ground-truth jobs of `estimator_rank.py`: a JSON store written after every finished job, and a
small pool that runs jobs in priority order (a fine-tune only after its student is distilled).

The store (`benchmarks/results/estimator_rank_truth.json`) is committed: a re-run in another session skips
every job recorded there under the same settings id (same budget, same teacher weights, same held-out set).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
        self.data.setdefault("settings", {})
        self.data.setdefault("records", {})

    def has(self, key: str) -> bool:
        return key in self.data["records"]

    def get(self, key: str) -> dict[str, Any] | None:
        return self.data["records"].get(key)

    def put(self, key: str, record: dict[str, Any]) -> None:
        with self._synced():
            record = {**record, "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
            self.data["records"][key] = record
            self._write()

    def put_settings(self, sid: str, settings: dict[str, Any]) -> None:
        with self._synced():
            self.data["settings"][sid] = {**self.data["settings"].get(sid, {}), **settings}
            self._write()

    def refresh(self) -> None:
        with self._synced():
            pass

    @contextlib.contextmanager
    def _synced(self) -> Any:
        """Several runners (say one distilling, one fine-tuning) may share the store: one writer at a time, and
        each starts from what the others wrote."""
        with self.lock, open(self.path.with_suffix(".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._merge_from_disk()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _merge_from_disk(self) -> None:
        """Records another runner wrote since this one read the file. Every `put` writes through, so for a key
        both hold the file's record is the newer one (another process may have re-written it, e.g. a re-timed
        latency): the file wins, and this store keeps only the records the file lacks."""
        if not self.path.is_file():
            return
        disk = json.loads(self.path.read_text())
        self.data["records"] = {**self.data["records"], **disk.get("records", {})}
        for sid, settings in disk.get("settings", {}).items():
            self.data["settings"][sid] = {**settings, **self.data["settings"].get(sid, {})}

    def records(self, sid: str, kind: str) -> dict[tuple[str, int], dict[str, Any]]:
        """{(arch key, seed): record} of one kind ('distill' or 'finetune') under one settings id."""
        out = {}
        for key, record in self.data["records"].items():
            parts = key.split("/")
            if parts[0] == sid and parts[1] == kind:
                out[(parts[2], int(parts[3].removeprefix("s")))] = record
        return out

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True) + "\n")
        tmp.replace(self.path)


def job_key(sid: str, kind: str, arch: str, seed: int) -> str:
    return f"{sid}/{kind}/{arch}/s{seed}"


@dataclass
class Job:
    key: str
    run: Callable[[], dict[str, Any]]
    needs: list[str] = field(default_factory=list)


def priority(arch_keys: list[str], seeds: list[int], noise_archs: int) -> list[tuple[str, str, int]]:
    """(kind, arch, seed) in priority order: every arch distilled on the first seed; a second seed for the
    first `noise_archs` (paired noise); fine-tunes on the first seed; then the remaining seeds."""
    first, rest = seeds[0], seeds[1:]
    order = [("distill", a, first) for a in arch_keys]
    if rest:
        order += [("distill", a, rest[0]) for a in arch_keys[:noise_archs]]
    order += [("finetune", a, first) for a in arch_keys]
    for seed in rest:
        order += [("distill", a, seed) for a in arch_keys] + [("finetune", a, seed) for a in arch_keys]
    seen: set[tuple[str, str, int]] = set()
    return [o for o in order if not (o in seen or seen.add(o))]


def run_jobs(jobs: list[Job], store: Store, workers: int, deadline: float | None, log: Callable[[str], None]) -> None:
    """Runs the jobs not yet in the store, `workers` at a time, starting none after `deadline` (epoch s)."""
    pending = [j for j in jobs if not store.has(j.key)]
    running: dict[Future, Job] = {}
    failed: set[str] = set()

    def ready(job: Job) -> bool:
        return all(store.has(n) for n in job.needs)

    def blocked(job: Job) -> bool:
        return any(n in failed for n in job.needs)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        while pending or running:
            store.refresh()
            pending = [j for j in pending if not blocked(j) and not store.has(j.key)]
            while len(running) < workers and (deadline is None or time.time() < deadline):
                candidates = [j for j in pending if ready(j)]
                if not candidates:
                    break
                job = candidates[0]
                pending.remove(job)
                log(f"start {job.key}")
                running[pool.submit(job.run)] = job
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                try:
                    store.put(job.key, future.result())
                    log(f"done  {job.key}: {store.get(job.key)}")
                except Exception:  # one failed job must not stop the others; it is retried on a re-run
                    failed.add(job.key)
                    log(f"FAILED {job.key}:\n{traceback.format_exc()}")
