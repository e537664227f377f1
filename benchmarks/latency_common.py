"""Shared helpers of the benchmarks: machine info, provenance, result files; metrics of the latency ones."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

from device_profiles.host import cpu_model

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
MEASUREMENTS = Path(__file__).parent / "measurements"  # raw rows a current result was computed from (inputs)


def machine_info() -> dict[str, Any]:
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "date": datetime.datetime.now(datetime.UTC).isoformat()}


def command() -> str:
    """How this benchmark was started, as `python -m benchmarks.NAME ARGS` (recorded in every result)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = spec.name if spec is not None else Path(sys.argv[0]).stem
    return shlex.join(["python", "-m", name, *sys.argv[1:]])


def provenance(n: int | None = None) -> dict[str, Any]:
    """The fields the results index reads from every result: when, on which machine, how started, and n (the
    sample size of the result's headline figure, where it has one)."""
    record: dict[str, Any] = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                              "machine": machine_info(), "produced_by": command()}
    if n is not None:
        record["n"] = n
    return record


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"latency_{name}.json"
    payload = {"benchmark": name, **provenance(), **payload}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def repeatability_stats(first_ms: list[float], second_ms: list[float]) -> dict[str, float]:
    """How far two measurements of the same models lie apart (percent): the ceiling of any predictor's
    within-±10 % share."""
    import numpy as np

    diff = 100 * np.abs(np.asarray(second_ms) / np.asarray(first_ms) - 1)
    return {"n": len(diff), "abs_diff_pct_median": float(np.median(diff)),
            "abs_diff_pct_p90": float(np.percentile(diff, 90)), "share_over_10pct": float(np.mean(diff > 10))}


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    widths = [max(len(c), *(len(fmt(r.get(c, ""))) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(fmt(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)) for r in rows]
    return "\n".join(lines)
