"""What the supernet benchmarks share: their training options and how a result file is written."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

from benchmarks.latency_common import command


def add_training_options(parser: argparse.ArgumentParser, steps: int) -> None:
    """--teacher, --corpus, --space and the small CPU training size (`steps` steps of 16 × 64 tokens)."""
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--space", default=None, help="supernet space TOML [default: the small CPU space]")
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--max-predictions", type=int, default=10)


def write_result(path: Path, record: dict[str, Any], **machine: Any) -> None:
    """`record` under the date and the machine (platform, CPUs, `machine`, load average) as JSON at `path`."""
    stamped = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "produced_by": command(), "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), **machine,
                           "load_average": os.getloadavg()}, **record}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stamped, indent=2) + "\n")
    print(f"written to {path}")
