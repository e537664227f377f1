"""Rows of `tests/test_bad_input.py` (the held-out probe of 2026-12-07, group: options): see that file's docstring for
what a row checks. Setups used only here are defined here."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bad_input_support import REPO_ROOT, Case, Setup

PIXEL4 = REPO_ROOT / "device_profiles" / "pixel4.toml"


def _measurements(tmp: Path) -> dict[str, str]:
    """A two-row measurements file (as `_latency_files` in tests/test_bad_input.py writes it)."""
    (tmp / "m.jsonl").write_text('{"latency_ms": 62.0}\n{"num_hidden_layers": 12, "latency_ms": 31.0}\n')
    return {"m": str(tmp / "m.jsonl")}


def _pixel4_with(*lines: str) -> Setup:
    """A copy of pixel4.toml (`d.toml`) whose `key = ...` lines are replaced by `lines`, and a measurements file."""
    def make(tmp: Path) -> dict[str, str]:
        text = PIXEL4.read_text()
        for line in lines:
            key = line.split(" = ")[0]
            text, found = re.subn(rf"(?m)^{re.escape(key)} = .*$", line.replace("\\", "\\\\"), text)
            assert found == 1, key
        (tmp / "d.toml").write_text(text)
        return {**_measurements(tmp), "profile": str(tmp / "d.toml")}

    return make


_CALIBRATE = ("calibrate", "--measurements", "{m}", "--out", "{tmp}/p.toml", "--from", "pixel4", "--name", "a")
_MEASURE = ("measure", "--arch", "mobilebert-tiny", "--device", "host", "--repeat", "1", "--seq-len", "8", "--out",
            "{tmp}/m.csv")
_NO_OPT = ("latency", "--arch", "mobilebert-no-opt", "--profile", "{profile}")

CASES: list[Case] = [
    # 1: a lowering switch that is not a boolean was read as true (fuse_gelu = "no" predicted the fused graph)
    Case("probe11-lowering-switch-string", _NO_OPT, _pixel4_with('fuse_gelu = "no"'), 2,
         "d.toml [lowering]: key 'fuse_gelu' must be true or false, got 'no'", ("profile",)),
    Case("probe11-lowering-switch-integer", _NO_OPT, _pixel4_with("fuse_layer_norm = 1"), 2,
         "d.toml [lowering]: key 'fuse_layer_norm' must be true or false, got 1"),
    Case("probe11-lowering-switch-misspelt", _NO_OPT, _pixel4_with("fuse_gelu = false\nfuse_gleu = false"), 2,
         "d.toml [lowering]: unknown key(s) 'fuse_gleu'"),
    Case("probe11-calibrate-from-lowering-string", (*_CALIBRATE[:5], "--from", "{profile}", "--name", "a"),
         _pixel4_with('fuse_gelu = "no"'), 2, "key 'fuse_gelu' must be true or false", ("profile", "m")),
    # 2: huge or non-physical cost parameters overflowed the cost model (RuntimeWarnings, a 300-digit latency)
    Case("probe11-cost-huge", ("latency", "--arch", "mobilebert", "--profile", "{profile}"),
         _pixel4_with("matmul_eff = 1e308", "const_ms = 1e308"), 2, "d.toml [cost]: key 'matmul_eff' must be"),
    Case("probe11-cost-const-ms-huge", ("latency", "--arch", "mobilebert", "--profile", "{profile}"),
         _pixel4_with("const_ms = 1e308"), 2, "d.toml [cost]: key 'const_ms' must be"),
    Case("probe11-cost-efficiency-tiny", ("latency", "--arch", "mobilebert", "--profile", "{profile}"),
         _pixel4_with("bmm_eff = 1e-300"), 2, "d.toml [cost]: key 'bmm_eff' must be"),
    Case("probe11-cost-loo-sigma-huge", ("latency", "--arch", "mobilebert", "--profile", "{profile}"),
         _pixel4_with("const_ms = 0.44587\nloo_sigma = 1e308\nloo_rows = 3"), 2,
         "d.toml [cost]: key 'loo_sigma' must be"),
    Case("probe11-peaks-huge", ("latency", "--arch", "mobilebert", "--profile", "{profile}"),
         _pixel4_with("fp32_gflops = 1e308"), 2, "d.toml [peaks]: key 'fp32_gflops' must be"),
    Case("probe11-search-cost-huge", ("search", "--profile", "{profile}", "--budget", "62ms", "--trials", "4",
                                      "--out", "{tmp}/run"),
         _pixel4_with("matmul_eff = 1e308", "const_ms = 1e308"), 2, "key 'matmul_eff' must be"),
    # 3: options of another mode were silently ignored
    Case("probe11-measure-reference-every-without-reference", (*_MEASURE, "--reference-every", "3"), None, 2,
         "--reference-every needs --reference ARCH"),
    Case("probe11-calibrate-design-without-suggest", (*_CALIBRATE, "--design", "D"), _measurements, 2,
         "--design needs --suggest N"),
    Case("probe11-calibrate-seed-without-suggest", (*_CALIBRATE, "--seed", "5"), _measurements, 2,
         "--seed needs --suggest N"),
    Case("probe11-calibrate-default-seed-without-suggest", (*_CALIBRATE, "--seed", "0"), _measurements, 2,
         "--seed needs --suggest N"),
    Case("probe11-calibrate-suggest-keep-lowering", ("calibrate", "--suggest", "2", "--out", "{tmp}/s.jsonl",
                                                     "--keep-lowering"), None, 2,
         "--keep-lowering needs --measurements FILE"),
    Case("probe11-validate-overwrite-without-plot", ("validate", "--measurements", "{m}", "--device", "pixel4",
                                                     "--overwrite"), _measurements, 2, "--overwrite needs --plot FILE"),
    # 4: a level whose interval is unbounded printed "100% interval 0.0-inf ms"
    Case("probe11-latency-interval-nearly-one", ("latency", "--arch", "mobilebert", "--interval",
                                                 "0.9999999999999999"), None, 2, "--interval must be"),
    Case("probe11-latency-interval-highest", ("latency", "--arch", "mobilebert", "--interval", "0.999"), None, 0,
         "99.9% interval"),
    # 5: a profile name with a newline broke `nas devices`' one line per device
    Case("probe11-calibrate-name-newline", (*_CALIBRATE[:-1], 'x"y\nz'), _measurements, 2,
         "--name must be a device name"),
    Case("probe11-calibrate-name-space", (*_CALIBRATE[:-1], "my phone"), _measurements, 2,
         "--name must be a device name"),
    Case("probe11-profile-name-newline", ("latency", "--arch", "mobilebert", "--profile", "{profile}"),
         _pixel4_with('name = "pixel4\\nfast"'), 2, "d.toml: key 'name' must be a device name"),
    Case("probe11-profile-description-newline", ("latency", "--arch", "mobilebert", "--profile", "{profile}"),
         _pixel4_with('description = "Pixel 4\\nfast"'), 2, "d.toml: key 'description' must be one line"),
]
