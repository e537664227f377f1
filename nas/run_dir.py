"""The run directory: `run.json` (command, seed, options, versions, profile hash), `trials.jsonl` (the journal),
`trials.csv`, `pareto.html`, `best/`.

A directory that already holds a run is never overwritten: without `--resume` the search refuses; with it,
the options must match the recorded ones (only `--trials` may grow).
"""

from __future__ import annotations

import csv
import datetime
import importlib.metadata
import json
import platform
import sys
from pathlib import Path
from typing import Any

from nas.journal import FILE_NAME as JOURNAL_NAME
from nas_common.errors import UserInputError

RUN_FILE = "run.json"
_VERSIONED = ("mobilebert-nas", "numpy", "transformers", "apache-tvm", "nni", "ray", "optuna", "plotly")
MAY_CHANGE_ON_RESUME = ("trials",)


def default_out(device: str, budget_text: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{device}-{budget_text}-{stamp}"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def holds_run(out: Path) -> bool:
    return (out / RUN_FILE).exists() or (out / JOURNAL_NAME).exists()


def prepare(out: Path, options: dict[str, Any], seed: int, resume: bool) -> dict[str, Any]:
    """Create or reopen `out`; returns the run.json content."""
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} exists and is not a directory")
    if holds_run(out):
        if not resume:
            raise UserInputError(f"{out} already holds a search run; pass --resume to continue it, or choose "
                                 "another --out (nothing was changed)")
        return _check_resumable(out, options)
    if out.exists() and any(out.iterdir()):
        raise UserInputError(f"--out {out} is a non-empty directory that holds no run; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    run = {"command": sys.argv, "seed": seed, "options": options, "versions": versions(),
           "created": datetime.datetime.now().isoformat(timespec="seconds")}
    write_run(out, run)
    return run


def _check_resumable(out: Path, options: dict[str, Any]) -> dict[str, Any]:
    run = read_run(out)
    recorded = run.get("options", {})
    changed = [k for k in sorted(set(recorded) | set(options))
               if k not in MAY_CHANGE_ON_RESUME and recorded.get(k) != options.get(k)]
    if changed:
        detail = ", ".join(f"{k}: {recorded.get(k)!r} → {options.get(k)!r}" for k in changed)
        raise UserInputError(f"cannot resume {out} with different options ({detail}); rerun the original command")
    run["options"] = options
    run.setdefault("resumed", []).append(datetime.datetime.now().isoformat(timespec="seconds"))
    write_run(out, run)
    return run


def read_run(out: Path) -> dict[str, Any]:
    path = Path(out) / RUN_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserInputError(f"{out} is not a search run directory (no {RUN_FILE})") from None
    except json.JSONDecodeError as err:
        raise UserInputError(f"{path}: not valid JSON ({err})") from None


def write_run(out: Path, run: dict[str, Any]) -> None:
    tmp = Path(out) / (RUN_FILE + ".tmp")
    tmp.write_text(json.dumps(run, indent=2) + "\n")
    tmp.replace(Path(out) / RUN_FILE)


def write_trials_csv(out: Path, records: list[dict[str, Any]]) -> Path:
    """One row per trial: id, scores, then every Arch field."""
    path = Path(out) / "trials.csv"
    arch_fields = list(records[0]["arch"]) if records else []
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "batch", "latency_ms", "accuracy", "feasible", "params", *arch_fields])
        for r in records:
            writer.writerow([r["id"], r["batch"], r["latency_ms"], "" if r["accuracy"] is None else r["accuracy"],
                             r["feasible"], r["params"], *(r["arch"][f] for f in arch_fields)])
    return path
