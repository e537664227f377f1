"""Why LiteRT runs one-head archs slower than the cost model prices them: graph and timing of archs that differ only
in their head count.

    python -m benchmarks.litert_single_head          # ~5 min: 8 conversions, one interleaved timing

Issue 32's lead: one cost-model fit on every recorded LiteRT row (`latency_interval_rules.json`,
`pooled_fit_by_heads`) leaves one-head archs 2.4 % too fast and two-head archs 2.3 % too slow, a pattern the torch
rows do not show. This benchmark converts pairs of archs that are identical except for the head count (8 layers,
two shapes: MobileBERT's bottleneck block at width 128, and a BERT block at width 384), lists each `.tflite`
file's operators and how many XNNPACK partitions the interpreter makes of it, times them interleaved (thread CPU
time, 1 thread, `measure.measure_many`) and predicts them with that pooled fit. What it shows: with one head the
converter writes the attention scores as a FULLY_CONNECTED whose weights are an activation (the keys), which the
XNNPACK delegate does not take, so every layer is split into two delegate partitions around a TFLite built-in
kernel; with two heads or more the scores stay a delegated BATCH_MATMUL. The cost model prices both as one
delegated batched matmul.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.calibration_stability import base_profile
from benchmarks.latency_common import MEASUREMENTS, RESULTS, command, machine_info, table
from latency_models.calibrate import calibrated_profile
from latency_models.measure import measure_many
from latency_models.measurements import read_measurements
from latency_models.predictor import load_predictor
from latency_models.tflite_backend import cached_model, interpreter
from search_spaces.presets import PRESETS

FOLDERS = ("tflite-quiet", "tflite-interleaved")  # every recorded LiteRT row of calibration_stability
HEADS = (1, 2, 4, 8)
LAYERS = 8
SHAPES = {
    "mobilebert block, width 128": {"hidden_size": 512, "intra_bottleneck_size": 128, "use_bottleneck": True,
                                    "intermediate_size": 512, "num_feedforward_networks": 2},
    "bert block, width 384": {"hidden_size": 384, "intra_bottleneck_size": 384, "use_bottleneck": False,
                              "intermediate_size": 1536, "num_feedforward_networks": 1,
                              "key_query_shared_bottleneck": False, "use_bottleneck_attention": False},
}


def pooled_predictor() -> Any:
    """The cost model fitted on every recorded LiteRT row at once (as `interval_rules.pooled_residuals`)."""
    rows = []
    for name in FOLDERS:
        for path in (MEASUREMENTS / "calibration_stability" / name).glob("round-*.jsonl"):
            if re.fullmatch(r"round-\d+", path.stem):
                rows += list({r.arch: r for r in read_measurements(path)}.values())
    base = base_profile(MEASUREMENTS / "calibration_stability" / FOLDERS[-1], "tflite", 1)
    profile, _ = calibrated_profile(base, rows, "pooled", keep_points=False)
    return base, load_predictor(profile), len(rows)


def graph_of(arch: Any) -> dict[str, Any]:
    """The operators of `arch`'s `.tflite` file (the one `nas measure` times) and the XNNPACK partitions the
    interpreter makes of them (`_get_ops_details` lists the original operators and one DELEGATE per partition)."""
    details = interpreter(cached_model(arch))._get_ops_details()
    ops = collections.Counter(d["op_name"] for d in details if d["op_name"] != "DELEGATE")
    dynamic_fc = sum(1 for d in details if d["op_name"] == "FULLY_CONNECTED" and len(d["inputs"]) >= 2
                     and int(d["inputs"][1]) in {int(t) for o in details for t in o["outputs"]})
    return {"operators": dict(sorted(ops.items())), "xnnpack_partitions": sum(d["op_name"] == "DELEGATE"
                                                                              for d in details),
            "fully_connected_on_activations": dynamic_fc}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--note", default="")
    ap.add_argument("--out", default=str(RESULTS / "latency_litert_single_head.json"))
    args = ap.parse_args()
    started = time.perf_counter()
    base, predictor, pooled_rows = pooled_predictor()
    template = PRESETS["mobilebert"].arch
    archs, labels = [], []
    for label, shape in SHAPES.items():
        for heads in HEADS:
            archs.append(dataclasses.replace(template, num_hidden_layers=LAYERS, num_attention_heads=heads, **shape))
            labels.append(label)
    graphs = [graph_of(a) for a in archs]
    measured = measure_many(archs, "tflite", base, threads=1, repeat=args.repeat, clock="thread")
    predicted = predictor.predict(archs)
    rows = []
    for label, arch, graph, row, pred in zip(labels, archs, graphs, measured, predicted, strict=True):
        rows.append({"shape": label, "heads": arch.num_attention_heads, "measured_ms": round(row.latency_ms, 3),
                     "spread": row.spread, "predicted_ms": round(float(pred), 3),
                     "log_error_pct": round(100 * float(np.log(pred / row.latency_ms)), 2),
                     "xnnpack_partitions": graph["xnnpack_partitions"],
                     "fully_connected_on_activations": graph["fully_connected_on_activations"],
                     "operators": graph["operators"]})
    for label in SHAPES:
        two = next(r for r in rows if r["shape"] == label and r["heads"] == 2)
        one = next(r for r in rows if r["shape"] == label and r["heads"] == 1)
        one["extra_ms_per_layer_vs_2_heads"] = round((one["measured_ms"] - two["measured_ms"]) / LAYERS, 4)
    print(table(rows, ["shape", "heads", "measured_ms", "spread", "predicted_ms", "log_error_pct",
                       "xnnpack_partitions", "fully_connected_on_activations"]))
    payload = {"benchmark": "litert_single_head", "produced_by": command(), "machine": machine_info(),
               "note": args.note, "layers": LAYERS, "pooled_fit_rows": pooled_rows,
               "timing": f"thread CPU time, 1 thread, median of {args.repeat} interleaved runs",
               "rows": rows, "seconds": round(time.perf_counter() - started, 1)}
    Path(args.out).write_text(json.dumps(payload, indent=2) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
