"""What TVM takes as a profile's `[target]`, checked when the profile loads (not at first compile).

TVM itself is not imported here: it takes seconds, and every command loads a profile. The table below is
TVM 0.27's (`tvm.target.Target.list_kinds()` and the "Known options" of its error for an unknown key);
tests/test_io_layer.py checks it against the installed TVM, so an upgrade that changes it fails a test
rather than a user's first compile.
"""

from __future__ import annotations

from typing import Any

from nas_common.errors import UserInputError

KINDS = ("c", "composite", "cuda", "cuda_host", "ext_dev", "hexagon", "llvm", "metal", "nvptx", "opencl", "rocm",
         "test", "trn", "vulkan", "webgpu")
_COMMON = ("kind", "keys", "tag", "device", "model", "libs", "host", "from_device", "target_device_type")
# Options by kind, for the kinds a CPU profile uses; other kinds are checked by their name only.
OPTIONS: dict[str, tuple[str, ...]] = {
    "llvm": (*_COMMON, "mattr", "mcpu", "mtriple", "mfloat-abi", "mabi", "num-cores", "fast-math", "fast-math-nnan",
             "fast-math-ninf", "fast-math-nsz", "fast-math-arcp", "fast-math-contract", "fast-math-reassoc",
             "opt-level", "cl-opt", "jit", "vector-width"),
    "c": (*_COMMON, "mcpu", "march", "workspace-byte-alignment", "constants-byte-alignment"),
}
_STRINGS = ("mcpu", "mtriple", "mabi", "mfloat-abi", "march", "device", "model", "tag")
_STRING_LISTS = ("mattr", "keys", "libs", "cl-opt")
_INTEGERS = ("num-cores", "opt-level", "vector-width", "workspace-byte-alignment", "constants-byte-alignment")


def check_target(target: dict[str, Any], where: str) -> None:
    """One line naming the key when TVM would refuse `target`."""
    kind = target.get("kind")
    if kind not in KINDS:
        raise UserInputError(f"{where}: key 'target.kind' must be a TVM target kind ({', '.join(KINDS)}), "
                             f"got {kind!r}")
    known = OPTIONS.get(kind)
    if known is not None:
        unknown = sorted(set(target) - set(known))
        if unknown:
            raise UserInputError(f"{where}: key 'target.{unknown[0]}' is not an option of TVM's {kind} target "
                                 f"(known: {', '.join(k for k in known if k != 'kind')})")
    for key, value in target.items():
        if key in _STRINGS and not isinstance(value, str):
            raise UserInputError(f"{where}: key 'target.{key}' must be a string, got {value!r}")
        if key in _STRING_LISTS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise UserInputError(f"{where}: key 'target.{key}' must be a list of strings (e.g. [\"+neon\"]), "
                                 f"got {value!r}")
        if key in _INTEGERS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise UserInputError(f"{where}: key 'target.{key}' must be an integer ≥ 0, got {value!r}")
