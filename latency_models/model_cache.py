"""A size-bounded folder of converted model files (the LiteRT conversions `nas measure` re-times).

Every arch a user times is converted once and kept, and a 24-layer fp32 model at 128 tokens is 1-2 GB: unbounded,
the cache filled this machine's disk in one calibration benchmark (59 GB of models) and took the trainings
running beside it down. So the folder keeps at most `NAS_TFLITE_CACHE_GB` gigabytes (default 20) of models,
evicting the least recently used first (a hit refreshes the file's modification time), and clears conversions
abandoned by a killed process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from nas_common.errors import UserInputError

LIMIT_ENV = "NAS_TFLITE_CACHE_GB"
DEFAULT_LIMIT_GB = 20.0
ABANDONED_AFTER_S = 3600.0  # a `.partial` file this old belongs to no running conversion


def limit_bytes() -> int:
    """The cache's size limit from `NAS_TFLITE_CACHE_GB` (a positive number of gigabytes)."""
    text = os.environ.get(LIMIT_ENV, "").strip()
    if not text:
        return int(DEFAULT_LIMIT_GB * 1e9)
    try:
        gb = float(text)
    except ValueError:
        gb = -1.0
    if not gb > 0:
        raise UserInputError(f"{LIMIT_ENV} must be a positive number of gigabytes, not {text!r}")
    return int(gb * 1e9)


def touch(path: Path) -> None:
    """Mark a cached file as just used (eviction takes the least recently used first)."""
    os.utime(path)


def prune(directory: Path, limit: int, keep: Path | None = None, suffix: str = ".tflite") -> list[Path]:
    """Delete the least recently used `*suffix` files until the folder's total is at most `limit` bytes (never
    `keep`, the file just written), and `.partial` files older than an hour. Returns what was deleted."""
    now = time.time()
    deleted: list[Path] = []
    files = []
    for path in directory.iterdir():
        try:
            stat = path.stat()
        except FileNotFoundError:  # another process evicted it meanwhile
            continue
        if path.name.endswith(".partial") and now - stat.st_mtime > ABANDONED_AFTER_S:
            path.unlink(missing_ok=True)
            deleted.append(path)
        elif path.name.endswith(suffix):
            files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files, key=lambda f: f[0]):
        if total <= limit:
            break
        if keep is not None and path == keep:
            continue
        path.unlink(missing_ok=True)
        deleted.append(path)
        total -= size
    return deleted
