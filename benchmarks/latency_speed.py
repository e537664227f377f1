"""Predictor speed: warm predictions/s over 100k random archs, cold time for 10k (fresh process state,
empty kernel cache: every (part, variant) is lowered by TVM once), and cold with the disk cache filled.

Warm: best of 3 runs, as wall-clock and as this thread's CPU time (on a machine shared with other jobs the
wall clock counts the time the thread waited for a core; the CPU time is what the prediction costs).

    python -m benchmarks.latency_speed   (run with fixed threads, e.g. OMP_NUM_THREADS=1)
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from benchmarks.latency_common import table, write_result
from latency_models import kernel_cache, load_predictor
from search_spaces.space import SearchSpace


def main() -> None:
    space = SearchSpace.default()
    archs_10k = space.sample_many(10_000, np.random.default_rng(1))
    archs_100k = space.sample_many(100_000, np.random.default_rng(2))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NAS_CACHE_DIR"] = tmp
        kernel_cache.clear_memory()
        start = time.perf_counter()
        p = load_predictor("pixel4")
        p.predict(archs_10k)
        cold = time.perf_counter() - start
        lowered = kernel_cache.STATS.lowered
        kernel_cache.clear_memory()
        start = time.perf_counter()
        load_predictor("pixel4").predict(archs_10k)
        cold_disk = time.perf_counter() - start
    p.predict(archs_100k[:1000])
    warm = warm_cpu = float("inf")
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.thread_time()
        ms = p.predict(archs_100k)
        warm, warm_cpu = min(warm, time.perf_counter() - start), min(warm_cpu, time.thread_time() - start_cpu)
    rows = [{"case": "cold 10k (empty cache, TVM lowering)", "seconds": cold, "per_s": 1e4 / cold},
            {"case": "cold 10k (disk kernel cache)", "seconds": cold_disk, "per_s": 1e4 / cold_disk},
            {"case": "warm 100k (wall clock)", "seconds": warm, "per_s": 1e5 / warm},
            {"case": "warm 100k (thread CPU time)", "seconds": warm_cpu, "per_s": 1e5 / warm_cpu}]
    print(table(rows, ["case", "seconds", "per_s"]))
    print(f"parts lowered by TVM: {lowered}; median prediction {np.median(ms):.1f} ms")
    print("wrote", write_result("speed", {"rows": rows, "parts_lowered": lowered, "device": "pixel4",
                                          "load_average_1min": os.getloadavg()[0],
                                          "formulas": "polynomials as data (latency_models/formulas.py)",
                                          "goal": {"warm_per_s": 1e5, "cold_10k_s": 30}}))


if __name__ == "__main__":
    main()
