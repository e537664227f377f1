"""What a device profile holds (`DeviceProfile`) and how its TOML table is validated.

Every error names the file and the key, as a `UserInputError`. Finding and loading the files is
`profile.py`'s job; describing this machine is `host.py`'s; both build on this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_profiles.measurement import Measurement, check_latency_ms
from device_profiles.targets import check_target
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
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
    name = check_name(_require(data, "name", str, origin), f"{origin}: key 'name'")
    target = _require(data, "target", dict, origin)
    kind = _require(target, "kind", str, origin, default=None)
    if kind is None:
        raise UserInputError(f"{origin}: missing key 'target.kind'")
    check_target(target, origin)  # what TVM would refuse at the first compile, refused now
    peaks = _require(data, "peaks", dict, origin)
    fp32 = _require(peaks, "fp32_gflops", (int, float), f"{origin} [peaks]", positive=True)
    memory = _require(peaks, "memory_gbs", (int, float), f"{origin} [peaks]", positive=True)
    runtime = _require(data, "runtime", str, origin, default="other")
    if runtime not in RUNTIMES:
        raise UserInputError(f"{origin}: key 'runtime' must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    calibration = []
    for i, point in enumerate(_require(data, "calibration", list, origin, default=[])):
        where = f"{origin} [[calibration]] #{i + 1}"
        if not isinstance(point, dict):
            raise UserInputError(f"{where}: must be a table")
        calibration.append(Measurement(
            arch=_calibration_arch(_require(point, "arch", (str, dict), where), where),
            latency_ms=check_latency_ms(_require(point, "latency_ms", (int, float), where, positive=True), where),
            seq_len=_require(point, "seq_len", int, where, positive=True, default=128),
            batch=_require(point, "batch", int, where, positive=True, default=1),
            threads=_require(point, "threads", int, where, positive=True, default=None),
            source=_require(point, "source", str, where, default=""),
            line=i + 1,
        ))
    cores = _require(data, "cores", list, origin, default=[])
    return DeviceProfile(
        name=name,
        description=_require(data, "description", str, origin, default=""),
        target=dict(target),
        threads=_require(data, "threads", int, origin, positive=True),
        fp32_gflops=float(fp32),
        memory_gbs=float(memory),
        runtime=runtime,
        soc=_require(data, "soc", str, origin, default=""),
        cores=tuple(dict(c) for c in cores),
        lowering=dict(_require(data, "lowering", dict, origin, default={})),
        calibration=tuple(calibration),
        cost=_cost(_require(data, "cost", dict, origin, default={}), origin),
        path=path,
        content_hash=content_hash,
    )


def check_name(name: str, what: str) -> str:
    """A device name: what `--device NAME` and a file name in the user's devices folder can hold."""
    if not name.strip() or name != name.strip() or any(c in name for c in "/\\") or name.endswith(".toml"):
        raise UserInputError(f"{what} must be a device name (not empty, no spaces around it, no '/' or "
                             f"'.toml'), got {name!r}")
    return name


def _calibration_arch(arch: str | dict[str, Any], where: str) -> Arch:
    if isinstance(arch, dict):
        return Arch.from_dict(arch, source=f"{where} key 'arch'")
    preset = find_preset(arch)
    if preset is None:
        raise UserInputError(f"{where}: key 'arch' must be a preset ({', '.join(PRESETS)}) or a table of Arch "
                             f"fields, got {arch!r}")
    return preset.arch


def _cost(cost: dict[str, Any], origin: str) -> dict[str, Any]:
    """The fitted `[cost]` table: every value a positive number (no silent fallback to the priors)."""
    where = f"{origin} [cost]"
    unknown = sorted(set(cost) - set(COST_KEYS) - set(CALIBRATION_KEYS) - {"fitted_on", LOO_LOG})
    if unknown:
        raise UserInputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; known: "
                             f"{', '.join(COST_KEYS + CALIBRATION_KEYS)}, {LOO_LOG}, fitted_on")
    out: dict[str, Any] = {}
    for key in COST_KEYS:
        value = _require(cost, key, (int, float), where, positive=True, default=None)
        if value is not None:
            if not math.isfinite(value):
                raise UserInputError(f"{where}: key '{key}' must be a finite number, got {value!r}")
            out[key] = float(value)
    for key in CALIBRATION_KEYS:
        value = _require(cost, key, (int, float), where, default=None)
        if value is None:
            continue
        if not math.isfinite(value) or (key != "flops_ms" and value < 0) or (key == "flops_weight" and value > 1):
            raise UserInputError(f"{where}: key '{key}' must be a finite number"
                                 + (" in [0, 1]" if key == "flops_weight" else "" if key == "flops_ms" else " >= 0")
                                 + f", got {value!r}")
        out[key] = int(value) if key == "loo_rows" else float(value)
    if out.get("flops_weight", 1.0) < 1.0 and not {"flops_ms_per_gflop", "flops_ms"} <= set(out):
        raise UserInputError(f"{where}: flops_weight below 1 needs flops_ms_per_gflop and flops_ms (the FLOPs fit)")
    if LOO_LOG in cost:
        errors = _require(cost, LOO_LOG, list, where)
        if not all(isinstance(e, (int, float)) and not isinstance(e, bool) and math.isfinite(e) for e in errors):
            raise UserInputError(f"{where}: key '{LOO_LOG}' must be a list of finite numbers")
        out[LOO_LOG] = [float(e) for e in errors]
    if "fitted_on" in cost:
        out["fitted_on"] = _require(cost, "fitted_on", str, where)
    return out
