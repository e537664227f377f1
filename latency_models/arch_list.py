"""Lists of archs to measure (`nas measure --archs FILE`, written by `nas calibrate --suggest`).

One arch per line: a JSON object of `Arch` fields (optionally with `name`, and `why`, which say which arch
it is and why it was chosen; neither is an Arch field), or a preset name / arch file path as plain text.
Blank lines and lines starting with `#` are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from nas_common.io import loads_json
from nas_common.paths import read_text
from nas_common.writing import dumps_json, write_text
from search_spaces.arch import Arch
from search_spaces.presets import resolve_arch

LABELS = ("name", "why")


def read_arch_list(path: str | Path) -> list[tuple[str, Arch]]:
    """(label, arch) of every line of `path`."""
    path = Path(path)
    text = read_text(path, "--archs")
    out: list[tuple[str, Arch]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}: line {number}"
        if line.startswith("{"):
            data = loads_json(line, where)  # broken JSON or a NaN/Infinity/1e400 is one line
            label = str(data.get("name") or f"line {number}")
            arch = Arch.from_dict({k: v for k, v in data.items() if k not in LABELS}, source=where)
        else:
            label, arch = line, resolve_arch(line)
        out.append((label, arch))
    if not out:
        raise UserInputError(f"--archs {path}: no architecture in the file")
    return out


def write_arch_list(path: str | Path, entries: list[dict[str, Any]]) -> Path:
    """`entries`: {"name": ..., "why": ..., "arch": Arch}; one JSON object a line, the file replaced atomically."""
    lines = [dumps_json({"name": e["name"], "why": e["why"], **e["arch"].to_dict()}, indent=None) + "\n"
             for e in entries]
    return write_text(path, "".join(lines), "--out")
