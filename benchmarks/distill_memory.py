"""Is the analytic per-example memory estimate of `nas/distill/memory.py` an upper bound of what one training
example really takes? For each (model, sequence length): two one-step `nas distill --schedule none` runs at
micro-batch 1 and 4 (same global batch 4), each in a fresh process; the peak RSS difference / 3 is the
measured memory of one example, compared with `example_bytes` (which includes the ×2 safety factor).
Writes benchmarks/results/distill_memory.json.

Usage: NAS_DATA_DIR=../shared/data nice python -m benchmarks.distill_memory
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.data_folder import data_folder
from benchmarks.latency_common import command

ROOT = Path(__file__).resolve().parents[1]
CASES = [("nas/distill/examples/student-small.json", 128), ("nas/distill/examples/student-small.json", 512),
         ("mobilebert", 128)]


def peak_rss(student: str, seq_len: int, micro: int, corpus: str) -> int:
    """Peak RSS (bytes) of a fresh process running one PD-free MLM step of `student`."""
    with tempfile.TemporaryDirectory() as out:
        code = ("import resource, sys; from nas.cli import main; sys.argv = sys.argv[1:]\n"
                "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
                "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        result = subprocess.run(
            [sys.executable, "-c", code, "nas", "distill", "--student", student, "--schedule", "none",
             "--steps-per-layer", "0", "--pd-steps", "1", "--batch-size", "4", "--micro-batch-size", str(micro),
             "--seq-len", str(seq_len), "--corpus", corpus, "--checkpoint-every", "0", "--out", out],
            cwd=ROOT, capture_output=True, text=True, check=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("RSS"))
    return int(line.split()[1]) * 1024


def main() -> None:
    from nas.distill.memory import example_bytes
    from nas.distill.models import student_config
    from nas.distill.options import RunOptions
    from nas.distill.pipeline import mlm_positions
    from search_spaces.presets import resolve_arch

    data = data_folder()
    corpus = str(data / "corpus/wikitext2-valid.txt")
    rows = []
    for student, seq_len in CASES:
        one, four = peak_rss(student, seq_len, 1, corpus), peak_rss(student, seq_len, 4, corpus)
        measured = max(0, four - one) / 3
        config = student_config(resolve_arch(str(ROOT / student) if student.endswith(".json") else student))
        positions = mlm_positions(RunOptions(corpus="", out=Path("."), seq_len=seq_len))
        estimate = example_bytes(config, seq_len, positions)
        rows.append({"student": Path(student).stem, "seq_len": seq_len, "peak_rss_micro1_mib": one / 2**20,
                     "peak_rss_micro4_mib": four / 2**20, "measured_per_example_mib": measured / 2**20,
                     "estimate_per_example_mib": estimate / 2**20, "estimate_is_upper_bound": estimate >= measured})
        print(f"{rows[-1]['student']:<14} {seq_len:>4}  measured {measured / 2**20:8.1f} MiB/example  "
              f"estimate {estimate / 2**20:8.1f} MiB", flush=True)
    record = {"date": datetime.now(UTC).isoformat(), "produced_by": command(),
              "machine": platform.platform(), "cpus": os.cpu_count(),
              "load_average": os.getloadavg(), "self_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
              / 1024, "rows": rows}
    (ROOT / "benchmarks/results/distill_memory.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
