"""What a device profile holds (`DeviceProfile`) and how its TOML table is validated.

Every error names the file and the key, as a `UserInputError`. Finding and loading the files is
`profile.py`'s job; describing this machine is `host.py`'s; both build on this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_profiles.measurement import MAX_LATENCY_MS, Measurement, check_count, check_latency_ms
from device_profiles.targets import check_target
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.family import check_seq_len
from search_spaces.presets import PRESETS, find_preset

RUNTIMES = ("tflite", "torch", "tvm", "onnxruntime", "other")
# The fitted cost-model parameters a `[cost]` table may hold (meaning: latency_models/cost_model.py).
COST_KEYS = ("matmul_eff", "bmm_eff", "mm_gbs", "ew_gbs", "ew_gflops", "kernel_us", "const_ms")
# What `nas calibrate` adds beside them (latency_models/calibration.py): the cost model's weight in a log blend
# with a FLOPs-linear fit (1: the model alone) and that fit, and the leave-one-out model error for the intervals.
# flops_ms (the line's intercept) may be negative; the others are positive (flops_weight in [0, 1]).
CALIBRATION_KEYS = ("flops_weight", "flops_ms_per_gflop", "flops_ms", "flops_floor_ms", "loo_sigma", "loo_rows")
# ... and each calibration point's leave-one-out log error (same order as the points), from which the intervals
# take the model error net of each row's leverage (latency_models/uncertainty.py).
LOO_LOG = "loo_log"
# The `[lowering]` switches (true or false; absent: true), which kernels a runtime fuses (latency_models/variant.py);
# beside them `cross_compiler` (the rpc backend's compiler, a string) and `fit` (what `nas calibrate` fitted, a table).
LOWERING_SWITCHES = ("fuse_layer_norm", "fuse_gelu", "fuse_epilogue", "fuse_bias")
LOWERING_KEYS = (*LOWERING_SWITCHES, "cross_compiler", "fit")

# Bounds (inclusive) of a profile's numbers. Each lies far outside any real device yet keeps every latency the
# cost model computes finite: a value of 1e308 overflowed it into RuntimeWarnings and "interval 0.0-inf ms".
PEAK_BOUNDS = {
    # from a microcontroller without an FPU (~1 MFLOP/s, ~1 MB/s) to 100 times the largest accelerator's fp32
    # (an H100: ~67 TFLOP/s, ~3.4 TB/s)
    "fp32_gflops": (1e-3, 1e7),
    "memory_gbs": (1e-3, 1e6),
}
COST_BOUNDS = {
    # fractions of fp32_gflops; a fit may put matmul_eff above 1 (it is the packing-free asymptote: cost_model.py,
    # on mm_gbs), but not at a hundred times the peak
    "matmul_eff": (1e-6, 100.0),
    "bmm_eff": (1e-6, 100.0),
    # rates in GB/s and GFLOP/s: 1e9 is how an ablation switches a term off (benchmarks/latency_host_accuracy.py)
    "mm_gbs": (1e-6, 1e9),
    "ew_gbs": (1e-6, 1e9),
    "ew_gflops": (1e-6, 1e9),
    # times: one kernel launch at most a second (in µs), the per-inference constant at most a day (in ms)
    "kernel_us": (0.0, 1e6),
    "const_ms": (0.0, MAX_LATENCY_MS),
}
# The calibration keys: the FLOPs line's slope and intercept and its floor in ms (per GFLOP) at most a day; the
# log errors at most 10 (a factor e^10 = 22 026 between a prediction and a measurement: a fit that bad predicts
# nothing, and a larger one overflows the intervals).
CALIBRATION_BOUNDS = {
    "flops_weight": (0.0, 1.0),
    "flops_ms_per_gflop": (0.0, MAX_LATENCY_MS),
    "flops_ms": (-MAX_LATENCY_MS, MAX_LATENCY_MS),
    "flops_floor_ms": (1e-6, MAX_LATENCY_MS),  # the line's log is taken: positive
    "loo_sigma": (0.0, 10.0),
    "loo_rows": (1, 1_000_000),  # the intervals' degrees of freedom grow with it
}
MAX_LOG_ERROR = 10.0  # each of loo_log, in absolute value (as loo_sigma)
# The keys of a profile, of its [peaks] table and of a [[calibration]] point (what `to_toml_dict` writes): any other
# is a typo that would silently become a default (`runtme = "torch"` left the runtime "other").
PROFILE_KEYS = ("name", "description", "soc", "runtime", "threads", "cores", "target", "peaks", "lowering",
                "calibration", "cost")
PEAK_KEYS = ("fp32_gflops", "memory_gbs")
POINT_KEYS = ("arch", "latency_ms", "seq_len", "batch", "threads", "source")


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    description: str
    target: dict[str, Any]
    threads: int
    fp32_gflops: float
    memory_gbs: float
    runtime: str = "other"
    soc: str = ""
    cores: tuple[dict[str, Any], ...] = ()
    lowering: dict[str, Any] = field(default_factory=dict)
    calibration: tuple[Measurement, ...] = ()
    cost: dict[str, Any] = field(default_factory=dict)  # fitted cost-model parameters (latency_models)
    path: Path | None = None
    content_hash: str = ""

    def tvm_target(self):
        import tvm

        return tvm.target.Target(dict(self.target))

    def to_toml_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "description": self.description, "soc": self.soc, "runtime": self.runtime,
            "threads": self.threads, "cores": [dict(c) for c in self.cores], "target": dict(self.target),
            "peaks": {"fp32_gflops": self.fp32_gflops, "memory_gbs": self.memory_gbs},
            "lowering": dict(self.lowering),
            "calibration": [p.to_toml() for p in self.calibration],
        }
        if self.cost:
            out["cost"] = self.cost
        return out


def _require(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, *,
             positive: bool = False, default: Any = ...) -> Any:
    if key not in data:
        if default is not ...:
            return default
        raise UserInputError(f"{where}: missing key '{key}'")
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise UserInputError(f"{where}: key '{key}' must be {names}, got {value!r}")
    if positive and not value > 0:
        raise UserInputError(f"{where}: key '{key}' must be positive, got {value!r}")
    if positive and value == math.inf:  # TOML writes inf as a float
        raise UserInputError(f"{where}: key '{key}' must be finite, got {value!r}")
    return value


def parse_profile(data: dict[str, Any], origin: str, path: Path | None = None,
                  content_hash: str = "") -> DeviceProfile:
    """Validate a profile's TOML table; `origin` names the file in every error."""
    _known_keys(data, PROFILE_KEYS, origin)
    name = check_name(_require(data, "name", str, origin), f"{origin}: key 'name'")
    target = _require(data, "target", dict, origin)
    kind = _require(target, "kind", str, origin, default=None)
    if kind is None:
        raise UserInputError(f"{origin}: missing key 'target.kind'")
    check_target(target, origin)  # what TVM would refuse at the first compile, refused now
    peaks = _require(data, "peaks", dict, origin)
    _known_keys(peaks, PEAK_KEYS, f"{origin} [peaks]")
    fp32 = _bounded(peaks, "fp32_gflops", f"{origin} [peaks]", PEAK_BOUNDS)
    memory = _bounded(peaks, "memory_gbs", f"{origin} [peaks]", PEAK_BOUNDS)
    runtime = _require(data, "runtime", str, origin, default="other")
    if runtime not in RUNTIMES:
        raise UserInputError(f"{origin}: key 'runtime' must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    calibration = []
    for i, point in enumerate(_require(data, "calibration", list, origin, default=[])):
        where = f"{origin} [[calibration]] #{i + 1}"
        if not isinstance(point, dict):
            raise UserInputError(f"{where}: must be a table")
        _known_keys(point, POINT_KEYS, where)
        calibration.append(Measurement(
            arch=_calibration_arch(_require(point, "arch", (str, dict), where), where),
            latency_ms=check_latency_ms(_require(point, "latency_ms", (int, float), where, positive=True), where),
            seq_len=check_seq_len(_require(point, "seq_len", int, where, positive=True, default=128),
                                  f"{where}: key 'seq_len'"),
            batch=check_count("batch", _require(point, "batch", int, where, positive=True, default=1), where),
            threads=_threads(point, where, optional=True),
            source=_require(point, "source", str, where, default=""),
            line=i + 1,
        ))
    cores = _require(data, "cores", list, origin, default=[])
    for i, core in enumerate(cores):
        if not isinstance(core, dict):
            raise UserInputError(f"{origin} [[cores]] #{i + 1}: must be a table (type, count, clock_ghz, ...), got "
                                 f"{core!r}")
    return DeviceProfile(
        name=name,
        description=_one_line(_require(data, "description", str, origin, default=""), "description", origin),
        target=dict(target),
        threads=_threads(data, origin),
        fp32_gflops=float(fp32),
        memory_gbs=float(memory),
        runtime=runtime,
        soc=_require(data, "soc", str, origin, default=""),
        cores=tuple(dict(c) for c in cores),
        lowering=_lowering(_require(data, "lowering", dict, origin, default={}), origin),
        calibration=tuple(calibration),
        cost=_cost(_require(data, "cost", dict, origin, default={}), origin),
        path=path,
        content_hash=content_hash,
    )


# What `--device NAME`, a file name in the user's devices folder and `nas devices`' one line per device can hold:
# no separator, no space or newline, no quote, no leading '.' (a hidden file) or '-' (an option).
DEVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_name(name: str, what: str) -> str:
    """A device name (`DEVICE_NAME`), not ending in .toml (which names a file)."""
    if not DEVICE_NAME.fullmatch(name) or name.endswith(".toml"):
        raise UserInputError(f"{what} must be a device name (letters, digits, '-', '_' and '.', starting with a "
                             f"letter or digit, not ending in '.toml'), got {name!r}")
    return name


def _calibration_arch(arch: str | dict[str, Any], where: str) -> Arch:
    if isinstance(arch, dict):
        return Arch.from_dict(arch, source=f"{where} key 'arch'")
    preset = find_preset(arch)
    if preset is None:
        raise UserInputError(f"{where}: key 'arch' must be a preset ({', '.join(PRESETS)}) or a table of Arch "
                             f"fields, got {arch!r}")
    return preset.arch


def _threads(data: dict[str, Any], where: str, *, optional: bool = False) -> Any:
    """`data["threads"]`: a positive integer up to `COUNT_LIMITS["threads"]` (None when `optional` and absent)."""
    threads = _require(data, "threads", int, where, positive=True, **({"default": None} if optional else {}))
    return None if threads is None else check_count("threads", threads, where)


def _known_keys(table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise UserInputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}")


def _one_line(text: str, key: str, origin: str) -> str:
    """`text` when it is one line (`nas devices` prints a profile's name and description on one)."""
    if "\n" in text or "\r" in text:
        raise UserInputError(f"{origin}: key '{key}' must be one line, got {text!r}")
    return text


def _bounded(data: dict[str, Any], key: str, where: str, bounds: dict[str, tuple[float, float]], *,
             default: Any = ...) -> Any:
    """`data[key]`, a positive number within `bounds[key]`."""
    low, high = bounds[key]
    value = _require(data, key, (int, float), where, positive=True, default=default)
    if value is None:
        return value
    if not low <= value <= high:
        span = f"a positive number up to {high:g}" if low == 0 else f"a number from {low:g} to {high:g}"
        raise UserInputError(f"{where}: key '{key}' must be {span}, got {value!r}")
    return value


def _lowering(lowering: dict[str, Any], origin: str) -> dict[str, Any]:
    """The `[lowering]` table: each switch true or false (a string or a number is no switch: "no" was read as
    true), the rpc cross compiler a string, the fit's record a table."""
    where = f"{origin} [lowering]"
    unknown = sorted(set(lowering) - set(LOWERING_KEYS))
    if unknown:
        raise UserInputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; known: "
                             f"{', '.join(LOWERING_KEYS)}")
    for key in LOWERING_SWITCHES:
        if key in lowering and not isinstance(lowering[key], bool):
            raise UserInputError(f"{where}: key '{key}' must be true or false, got {lowering[key]!r}")
    _require(lowering, "cross_compiler", str, where, default=None)
    _require(lowering, "fit", dict, where, default=None)
    return dict(lowering)


def _cost(cost: dict[str, Any], origin: str) -> dict[str, Any]:
    """The fitted `[cost]` table: every value a number within its bounds (no silent fallback to the priors)."""
    where = f"{origin} [cost]"
    unknown = sorted(set(cost) - set(COST_KEYS) - set(CALIBRATION_KEYS) - {"fitted_on", LOO_LOG})
    if unknown:
        raise UserInputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; known: "
                             f"{', '.join(COST_KEYS + CALIBRATION_KEYS)}, {LOO_LOG}, fitted_on")
    out: dict[str, Any] = {}
    for key in COST_KEYS:
        value = _bounded(cost, key, where, COST_BOUNDS, default=None)
        if value is not None:
            out[key] = float(value)
    for key in CALIBRATION_KEYS:
        low, high = CALIBRATION_BOUNDS[key]
        value = _require(cost, key, (int, float), where, default=None)
        if value is None:
            continue
        if not low <= value <= high:
            raise UserInputError(f"{where}: key '{key}' must be a number from {low:g} to {high:g}, got {value!r}")
        out[key] = int(value) if key == "loo_rows" else float(value)
    if out.get("flops_weight", 1.0) < 1.0 and not {"flops_ms_per_gflop", "flops_ms"} <= set(out):
        raise UserInputError(f"{where}: flops_weight below 1 needs flops_ms_per_gflop and flops_ms (the FLOPs fit)")
    if LOO_LOG in cost:
        errors = _require(cost, LOO_LOG, list, where)
        if not all(isinstance(e, (int, float)) and not isinstance(e, bool) and abs(e) <= MAX_LOG_ERROR
                   for e in errors):
            raise UserInputError(f"{where}: key '{LOO_LOG}' must be a list of numbers from -{MAX_LOG_ERROR:g} to "
                                 f"{MAX_LOG_ERROR:g}")
        out[LOO_LOG] = [float(e) for e in errors]
    if "fitted_on" in cost:
        out["fitted_on"] = _require(cost, "fitted_on", str, where)
    return out
