"""Kernel formulas per (part, structural variant, target), cached in memory and on disk as JSON data.

Lowering one part takes ~0.3–2 s and imports TVM (~5 s); its formulas are a few kB of polynomials
(`formulas.py`), so they are kept under `$NAS_CACHE_DIR/kernels` (default `~/.cache/nas/kernels`), one
readable JSON file per entry, keyed by the part's variant fields, the target, the TVM version, the format and
a hash of the code that builds and lowers the graph (a change there invalidates old entries). A corrupt
or foreign entry is lowered again and rewritten; a cache that cannot be written only costs time.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from latency_models.formulas import KernelSpec
from latency_models.lowering import kernel_specs, lower  # TVM itself is imported on a miss only
from latency_models.variant import Variant, part_key
from nas_common.errors import UserInputError
from nas_common.io import read_json
from nas_common.writing import dumps_json, write_text

FORMAT = 3  # 1: formulas as Python source (exec'd); 2: polynomials as JSON objects; 3: + passes per kernel
_MEMORY: dict[str, list[KernelSpec]] = {}
_LOWERING_CODE = ("graph.py", "lowering.py", "formulas.py", "variant.py")


def cache_dir() -> Path:
    if os.environ.get("NAS_CACHE_DIR"):
        return Path(os.environ["NAS_CACHE_DIR"]) / "kernels"
    return Path.home() / ".cache" / "nas" / "kernels"


@dataclasses.dataclass
class CacheStats:
    lowered: int = 0
    disk_hits: int = 0
    rebuilt: int = 0  # corrupt entries replaced


STATS = CacheStats()


def _code_hash() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in _LOWERING_CODE:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:12]


# Hashed once, at import: a long-running process keeps the code it loaded, so it must keep its key too.
CODE_HASH = _code_hash()


@functools.cache
def _tvm_version() -> str:
    try:
        return metadata.version("apache-tvm")
    except metadata.PackageNotFoundError:  # a source build of TVM
        import tvm

        return str(tvm.__version__)


def entry_key(variant: Variant, part: str, target: dict[str, Any]) -> str:
    text = json.dumps([part_key(variant, part), target, _tvm_version(), FORMAT, CODE_HASH], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _read(path: Path) -> list[KernelSpec] | None:
    """The entry at `path`, None when there is none; a corrupt one counts in STATS and reads as None."""
    if not path.is_file():
        return None
    try:  # the I/O layer: unreadable, not UTF-8, broken, too deep or non-finite JSON is a UserInputError here
        data = read_json(path, "kernel cache entry")
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("kernels"), list):
            raise ValueError("not a kernel cache entry of this format")
        specs = [KernelSpec.from_json(row) for row in data["kernels"]]
    except (UserInputError, ValueError):  # ValueError: KernelSpec.from_json's verdict on a foreign entry
        STATS.rebuilt += 1
        return None
    STATS.disk_hits += 1
    return specs


def _write(path: Path, variant: Variant, part: str, target: dict[str, Any], specs: list[KernelSpec]) -> None:
    entry = {"format": FORMAT, "part": part, "variant": dataclasses.asdict(variant), "target": target,
             "kernels": [dataclasses.asdict(s) for s in specs]}
    try:  # atomic: a reader (another process) sees the old entry or the new one
        write_text(path, dumps_json(entry, indent=1) + "\n", "kernel cache entry")
    except UserInputError:
        pass  # a read-only cache only costs time


def part_specs(variant: Variant, part: str, target: dict[str, Any], use_disk: bool = True) -> list[KernelSpec]:
    """The kernels of one part of `variant` lowered for `target` (lowering only on a cache miss)."""
    key = entry_key(variant, part, target)
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir() / f"{key}.json"
    specs = _read(path) if use_disk else None
    if specs is None:
        specs = kernel_specs(lower(variant, target, (part,)))
        STATS.lowered += 1
        if use_disk:
            _write(path, variant, part, target, specs)
    _MEMORY[key] = specs
    return specs


def clear_memory() -> None:
    _MEMORY.clear()
