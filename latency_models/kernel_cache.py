"""Kernel formulas per (part, structural variant, target), cached in memory and on disk.

Lowering one part takes ~0.3–2 s; its formulas are a few kB of JSON, so they are kept under
`$NAS_CACHE_DIR` (default `~/.cache/nas/kernels`), keyed by the part's variant fields, the target, the TVM
version and a hash of the lowering code (a change there invalidates old entries).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from latency_models.graph import Variant, part_key
from latency_models.lowering import KernelSpec, kernel_specs, lower

_MEMORY: dict[str, list[KernelSpec]] = {}


def cache_dir() -> Path:
    if os.environ.get("NAS_CACHE_DIR"):
        return Path(os.environ["NAS_CACHE_DIR"]) / "kernels"
    return Path.home() / ".cache" / "nas" / "kernels"


@dataclasses.dataclass
class CacheStats:
    lowered: int = 0
    disk_hits: int = 0


STATS = CacheStats()


def _code_hash() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in ("graph.py", "lowering.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:12]


# Hashed once, at import: a long-running process keeps the code it loaded, so it must keep its key too.
_CODE_HASH = _code_hash()


def _key(variant: Variant, part: str, target: dict[str, Any]) -> str:
    import tvm

    text = json.dumps([part_key(variant, part), target, tvm.__version__, _CODE_HASH], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def part_specs(variant: Variant, part: str, target: dict[str, Any], use_disk: bool = True) -> list[KernelSpec]:
    """The kernels of one part of `variant` lowered for `target` (lowering only on a cache miss)."""
    key = _key(variant, part, target)
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir() / f"{key}.json"
    specs: list[KernelSpec] | None = None
    if use_disk and path.is_file():
        try:
            specs = [KernelSpec(**row) for row in json.loads(path.read_text())]
            STATS.disk_hits += 1
        except (json.JSONDecodeError, TypeError, OSError):
            specs = None  # a corrupt entry is rebuilt
    if specs is None:
        specs = kernel_specs(lower(variant, target, (part,)))
        STATS.lowered += 1
        if use_disk:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps([dataclasses.asdict(s) for s in specs]))
                tmp.replace(path)
            except OSError:
                pass  # a read-only cache only costs time
    _MEMORY[key] = specs
    return specs


def clear_memory() -> None:
    _MEMORY.clear()
