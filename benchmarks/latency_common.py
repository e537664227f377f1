"""Shared helpers of the latency benchmarks: metrics, machine info, result files."""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

from device_profiles.host import cpu_model

RESULTS = Path(__file__).parent / "results"


def machine_info() -> dict[str, Any]:
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "date": datetime.datetime.now(datetime.UTC).isoformat()}


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"latency_{name}.json"
    payload = {"benchmark": name, "machine": machine_info(), **payload}
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
