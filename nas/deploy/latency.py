"""The latency an export reports (issue 35 item 5), two figures that are never mixed up:

- **predicted**: the model's architecture (its `config.json` as an `Arch`) on a target device (`--device`, default
  pixel4) at the export's sequence length, batch 1, from the device profile's calibrated cost model with its
  interval, exactly as `nas latency` gives it. It is a prediction, labelled so in the output and the files.
- **measured**: each written `.tflite` file timed in the LiteRT interpreter (XNNPACK) on *this* machine, by the
  protocol of `nas measure --backend tflite --model FILE` (warm-up until stable, interleaved rounds, median,
  re-timed while the spread is above 10 %).

Why the export measures instead of printing the command only: timing costs seconds (the files of a 24-layer
MobileBERT at 128 tokens run in about 0.1-0.3 s here, 20 rounds after the warm-up) next to conversions that cost a
minute or more, and a figure in `export.json` beats a command left to run; the command to time a file again (more
threads, more repeats) is printed and recorded beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_DEVICE = "pixel4"
LEVEL = 0.9  # the interval `nas latency` prints by default
REPEAT = 20
PREDICTION = "prediction (the device profile's calibrated cost model, as nas latency gives it; not a measurement)"


def target_profile(device: str | None) -> Any:
    """The profile of `--device` (default pixel4): an unknown name is one line, before anything is written."""
    from device_profiles.profile import load_profile

    return load_profile(device, None, default=DEFAULT_DEVICE)


def predicted(config: Any, profile: Any, seq_len: int, level: float = LEVEL) -> dict[str, Any]:
    """The predicted latency of the architecture of `config` (a transformers MobileBertConfig) on `profile`."""
    from latency_models.predictor import load_predictor
    from search_spaces.arch import Arch

    arch = Arch.from_hf_config(config)
    band = load_predictor(profile).predict([arch], seq_len, interval=level)
    points = len(profile.calibration)
    basis = (f"fit on {points} calibration point(s)" if points else
             "no calibration points: parameter priors only" if not profile.cost else
             "no calibration points kept in the profile: the fitted parameters with the priors' uncertainty")
    return {"what": PREDICTION, "device": profile.name, "seq_len": seq_len, "batch": 1,
            "latency_ms": round(float(band.ms[0]), 3),
            "interval": {"level": level, "lower_ms": round(float(band.lower[0]), 3),
                         "upper_ms": round(float(band.upper[0]), 3), "calibration_points": points},
            "basis": basis, "calibrated": bool(profile.cost),
            "scope": "the encoder of the model's architecture (the task head's pooler and classifier are not in "
                     "the cost model)", "arch": arch.to_dict()}


def predicted_line(record: dict[str, Any]) -> str:
    interval = record["interval"]
    return (f"predicted latency on {record['device']} (a prediction, not a measurement: the device profile's cost "
            f"model; seq {record['seq_len']}, batch 1): {record['latency_ms']:.1f} ms, {100 * interval['level']:g}% "
            f"interval {interval['lower_ms']:.1f}-{interval['upper_ms']:.1f} ms ({record['basis']})"
            + ("" if record["calibrated"] else "  [uncalibrated profile]"))


def measured(paths: list[Path], threads: int = 1, repeat: int = REPEAT) -> dict[str, Any]:
    """Each file's measured latency on this machine (`tflite_backend.time_files`), keyed by file name."""
    from device_profiles.profile import load_profile
    from latency_models.tflite_backend import time_files

    machine = load_profile("host-tflite").description
    timings = time_files(paths, threads, repeat)
    return {p.name: {"what": "measured on this machine (not the target device)", "machine": machine,
                     "runtime": "LiteRT XNNPACK", "threads": threads, "statistic": f"median of {t.repeats} runs",
                     "median_ms": round(t.median_ms, 3), "spread": round(t.spread, 4),
                     "again": f"nas measure --backend tflite --model {p}"}
            for p, t in zip(paths, timings, strict=True)}


def measured_line(records: dict[str, Any]) -> str:
    first = next(iter(records.values()))
    parts = ", ".join(f"{name} {r['median_ms']:.2f} ms (spread {100 * r['spread']:.0f} %)"
                      for name, r in records.items())
    return (f"measured host latency (this machine, not the device: LiteRT XNNPACK, {first['threads']} thread, "
            f"{first['statistic']}): {parts}; again: nas measure --backend tflite --model FILE")
