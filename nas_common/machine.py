"""What this machine has to give: the memory available now (training batches and search sizes are checked
against it before any long work starts)."""

from __future__ import annotations

from pathlib import Path

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
