"""Device profiles: one TOML file per device, found, loaded and saved; the one device resolver.

Where a name is looked up, in order: a path given explicitly (`--profile FILE`, or a `--device` value that
is a path), the user's directory (`$NAS_DEVICES_DIR`, else `$XDG_CONFIG_HOME/nas/devices`, else
`~/.config/nas/devices`), the profiles shipped with the package. `host` and `host-tflite` are generated on
first use when no file names them (see `host.py`). A broken file is reported by file name and key, as a
`UserInputError`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import tomli_w

from device_profiles.host import HOST_NAMES, host_profile, host_tflite_profile
from device_profiles.schema import DeviceProfile, parse_profile
from nas_common.errors import UserInputError
from nas_common.io import decode, loads_toml, read_bytes
from nas_common.writing import write_text

__all__ = ["DeviceProfile", "known_devices", "load_profile", "load_profile_file", "save_profile",
           "user_devices_dir"]

BUILTIN_DIR = Path(__file__).parent


def user_devices_dir() -> Path:
    if os.environ.get("NAS_DEVICES_DIR"):
        return Path(os.environ["NAS_DEVICES_DIR"])
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "nas" / "devices"


def load_profile_file(path: str | Path) -> DeviceProfile:
    path = Path(path)
    if path.is_dir():
        raise UserInputError(f"{path}: is a directory, expected a TOML profile")
    if not path.exists():
        raise UserInputError(f"{path}: no such profile file")
    raw = read_bytes(path)
    data = loads_toml(decode(raw, str(path), "TOML"), str(path))
    return parse_profile(data, str(path), path=path, content_hash=hashlib.sha256(raw).hexdigest())


def _profile_files() -> dict[str, Path]:
    """Known profile files by name; user files shadow the built-in ones."""
    found = {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.toml"))}
    user_dir = user_devices_dir()
    if user_dir.is_dir():
        found.update({p.stem: p for p in sorted(user_dir.glob("*.toml"))})
    return found


def known_devices() -> list[str]:
    names = set(_profile_files()) | set(HOST_NAMES)
    return sorted(names)


def load_profile(device: str | Path | None = None, profile: str | Path | None = None, *,
                 default: str | None = None) -> DeviceProfile:
    """The one device resolver: `device` is a name (`pixel4`, `host`, a user profile) or the path of a TOML
    file; `profile` (`--profile FILE`) is a path. At most one of them; with neither, `default` (a name), and
    without a default that is an error."""
    if device is not None and profile is not None:
        raise UserInputError("give --device or --profile, not both")
    if profile is not None:
        return load_profile_file(profile)
    if device is None:
        if default is None:
            raise UserInputError("give --device NAME or --profile FILE")
        device = default
    text = str(device)
    if text.endswith(".toml") or os.sep in text:
        return load_profile_file(text)
    files = _profile_files()
    if text in files:
        return load_profile_file(files[text])
    if text == "host":
        return host_profile()
    if text == "host-tflite":
        return host_tflite_profile()
    raise UserInputError(f"unknown device {text!r}; known devices: {', '.join(known_devices())} "
                         f"(or pass --profile FILE)")


def save_profile(profile: DeviceProfile, path: str | Path) -> Path:
    return write_text(path, tomli_w.dumps(profile.to_toml_dict()))
