"""Device profiles: one TOML file per device, loaded and validated.

Where a name is looked up, in order: a path given explicitly (`--profile FILE`), the user's directory
(`$NAS_DEVICES_DIR`, else `$XDG_CONFIG_HOME/nas/devices`, else `~/.config/nas/devices`), the profiles
shipped with the package. `host` is generated on first use when no file names it (see `host.py`).
A broken file is reported by file name and key, as a `UserInputError`.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError

BUILTIN_DIR = Path(__file__).parent
RUNTIMES = ("tflite", "torch", "tvm", "onnxruntime", "other")


def user_devices_dir() -> Path:
    if os.environ.get("NAS_DEVICES_DIR"):
        return Path(os.environ["NAS_DEVICES_DIR"])
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "nas" / "devices"


@dataclass(frozen=True)
class CalibrationPoint:
    arch: str | dict[str, Any]  # a preset name or a dict of Arch fields
    latency_ms: float
    seq_len: int = 128
    batch: int = 1
    threads: int | None = None
    source: str = ""


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
    calibration: tuple[CalibrationPoint, ...] = ()
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
            "calibration": [
                {k: v for k, v in vars(p).items() if v is not None} for p in self.calibration
            ],
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
    if positive and value <= 0:
        raise UserInputError(f"{where}: key '{key}' must be positive, got {value!r}")
    return value


def parse_profile(data: dict[str, Any], origin: str, path: Path | None = None,
                  content_hash: str = "") -> DeviceProfile:
    """Validate a profile's TOML table; `origin` names the file in every error."""
    name = _require(data, "name", str, origin)
    target = _require(data, "target", dict, origin)
    kind = _require(target, "kind", str, origin, default=None)
    if kind is None:
        raise UserInputError(f"{origin}: missing key 'target.kind'")
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
        arch = _require(point, "arch", (str, dict), where)
        calibration.append(CalibrationPoint(
            arch=arch,
            latency_ms=float(_require(point, "latency_ms", (int, float), where, positive=True)),
            seq_len=_require(point, "seq_len", int, where, positive=True, default=128),
            batch=_require(point, "batch", int, where, positive=True, default=1),
            threads=_require(point, "threads", int, where, positive=True, default=None),
            source=_require(point, "source", str, where, default=""),
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
        cost=dict(_require(data, "cost", dict, origin, default={})),
        path=path,
        content_hash=content_hash,
    )


def load_profile_file(path: str | Path) -> DeviceProfile:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such profile file") from None
    except IsADirectoryError:
        raise UserInputError(f"{path}: is a directory, expected a TOML profile") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UserInputError(f"{path}: not valid TOML ({err})") from None
    return parse_profile(data, str(path), path=path, content_hash=hashlib.sha256(raw).hexdigest())


def _profile_files() -> dict[str, Path]:
    """Known profile files by name; user files shadow the built-in ones."""
    found = {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.toml"))}
    user_dir = user_devices_dir()
    if user_dir.is_dir():
        found.update({p.stem: p for p in sorted(user_dir.glob("*.toml"))})
    return found


def known_devices() -> list[str]:
    names = set(_profile_files()) | {"host"}
    return sorted(names)


def load_profile(name_or_path: str | Path) -> DeviceProfile:
    """A device name (`pixel4`, `host`, a user profile) or the path of a TOML file."""
    text = str(name_or_path)
    if text.endswith(".toml") or os.sep in text:
        return load_profile_file(text)
    files = _profile_files()
    if text in files:
        return load_profile_file(files[text])
    if text == "host":
        from device_profiles.host import host_profile

        return host_profile()
    raise UserInputError(f"unknown device {text!r}; known devices: {', '.join(known_devices())} "
                         f"(or pass --profile FILE)")


def save_profile(profile: DeviceProfile, path: str | Path) -> Path:
    import tomli_w

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(profile.to_toml_dict()))
    return path
