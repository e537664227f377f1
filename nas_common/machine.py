"""What this machine has to give: the memory available now (training batches and search sizes are checked
against it before any long work starts) and the cores this process may run on (thread options are checked
against them)."""

from __future__ import annotations

import os
from pathlib import Path

from nas_common.errors import UserInputError

GIB = 1024**3
BUDGET_SHARE = 0.7  # of the available memory a long job may plan to use: room for the rest of the machine


def available_memory() -> int:
    """MemAvailable from /proc/meminfo (psutil where present), capped by a cgroup v2 limit."""
    try:
        import psutil

        available = int(psutil.virtual_memory().available)
    except ImportError:
        text = Path("/proc/meminfo").read_text()
        line = next(x for x in text.splitlines() if x.startswith("MemAvailable:"))
        available = int(line.split()[1]) * 1024
    limit_file, usage_file = Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")
    try:
        limit = limit_file.read_text().strip()
        if limit != "max":
            available = min(available, int(limit) - int(usage_file.read_text()))
    except (OSError, ValueError):
        pass
    return max(0, available)


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check_threads(threads: int, what: str = "--threads") -> int:
    """`threads` when this process may run that many at once; more is one line (a runtime asked for 100 000
    threads fails to start them, after the work began)."""
    cores = usable_cores()
    if threads > cores:
        raise UserInputError(f"{what} {threads} is more than the {cores} cores this process may use here")
    return threads
