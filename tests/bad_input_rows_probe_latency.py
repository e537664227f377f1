"""Rows of `tests/test_bad_input.py` (the held-out probe of 2026-12-08, group: latency): see that file's docstring for
what a row checks. Setups used only here are defined here."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.bad_input_support import REPO_ROOT, Case, Setup

PIXEL4 = REPO_ROOT / "device_profiles" / "pixel4.toml"


def _pixel4_edit(old: str, new: str) -> Setup:
    """A copy of pixel4.toml (`d.toml`) with the first `old` replaced by `new`."""
    def make(tmp: Path) -> dict[str, str]:
        text = PIXEL4.read_text()
        assert old in text, old
        (tmp / "d.toml").write_text(text.replace(old, new, 1))
        return {"profile": str(tmp / "d.toml")}

    return make


def _pixel4_cores(cores: str) -> Setup:
    """A copy of pixel4.toml (`d.toml`) whose [[cores]] tables are replaced by `cores = <cores>`."""
    def make(tmp: Path) -> dict[str, str]:
        text = re.sub(r"(?ms)^\[\[cores\]\]\n.*?\n\n", "", PIXEL4.read_text())
        assert "[[cores]]" not in text
        (tmp / "d.toml").write_text(text.replace("threads = 4\n", f"threads = 4\ncores = {cores}\n", 1))
        return {"profile": str(tmp / "d.toml")}

    return make


def _file(name: str, content: str) -> Setup:
    """One file `name` holding `content`, as `{f}`; a measurements file, `{m}`, beside it."""
    def make(tmp: Path) -> dict[str, str]:
        (tmp / name).write_text(content)
        (tmp / "m.jsonl").write_text('{"arch": "mobilebert", "latency_ms": 62.0}\n'
                                     '{"arch": "bert-base", "latency_ms": 342.0}\n')
        return {"f": str(tmp / name), "m": str(tmp / "m.jsonl")}

    return make


def _user_devices(tmp: Path) -> dict[str, str]:
    """A user devices folder holding a copy of pixel4.toml saved as myphone.toml (its name key still pixel4)."""
    (tmp / "devices").mkdir()
    (tmp / "devices" / "myphone.toml").write_text(PIXEL4.read_text().replace('name = "pixel4"', 'name = "other"'))
    return {"dir": str(tmp / "devices")}


def _huge_arch(tmp: Path) -> dict[str, str]:
    """An arch with every field within the family's limits, yet 870 billion parameters (3.5 TB of weights)."""
    (tmp / "big.json").write_text(json.dumps({
        "num_hidden_layers": 96, "hidden_size": 8192, "intra_bottleneck_size": 8192, "intermediate_size": 32768,
        "num_feedforward_networks": 16, "num_attention_heads": 128, "embedding_size": 8192}))
    return {"big": str(tmp / "big.json")}


_LATENCY = ("latency", "--arch", "mobilebert", "--profile", "{profile}")
_VALIDATE = ("validate", "--device", "pixel4", "--measurements", "{f}")
_MEASURE = ("measure", "--device", "host", "--repeat", "1", "--seq-len", "8", "--out", "{tmp}/m.csv")

CASES: list[Case] = [
    # ---- failures found by the probe, fixed
    # a [[cores]] entry that is no table was an internal error (exit 1), in every command that loads the profile
    Case("probe_latency_profile_cores_not_tables", _LATENCY, _pixel4_cores("[1, 2]"), 2,
         "d.toml [[cores]] #1: must be a table", ("profile",)),
    Case("probe_latency_profile_cores_strings", ("devices", "--profile", "{profile}"),
         _pixel4_cores('["A76"]'), 2, "d.toml [[cores]] #1: must be a table"),
    # a calibration point beyond the position table or with a batch of 10^11 printed "interval 0.0-558232628289 ms"
    Case("probe_latency_profile_point_seq_len_huge", _LATENCY, _pixel4_edit("seq_len = 128", "seq_len = 100000"), 2,
         "[[calibration]] #1: key 'seq_len' 100000 is longer than the model's max_position_embeddings"),
    Case("probe_latency_profile_point_batch_huge", _LATENCY, _pixel4_edit("batch = 1", "batch = 100000000000"), 2,
         "[[calibration]] #1: batch 100,000,000,000 is above this tool's limit"),
    Case("probe_latency_profile_threads_huge", _LATENCY, _pixel4_edit("threads = 4", "threads = 100000000000"), 2,
         "d.toml: threads 100,000,000,000 is above this tool's limit"),
    # a typo'd key silently became a default (`runtme` left the runtime "other")
    Case("probe_latency_profile_unknown_key", _LATENCY, _pixel4_edit('runtime = "tflite"', 'runtme = "tflite"'), 2,
         "d.toml: unknown key(s) 'runtme'"),
    Case("probe_latency_profile_unknown_peaks_key", _LATENCY,
         _pixel4_edit("memory_gbs = 34.1", "memory_gbs = 34.1\nmemory_gb = 20"), 2,
         "d.toml [peaks]: unknown key(s) 'memory_gb'"),
    Case("probe_latency_profile_unknown_point_key", _LATENCY,
         _pixel4_edit("latency_ms = 342.0", "latency_ms = 342.0\nthread = 2"), 2,
         "d.toml [[calibration]] #1: unknown key(s) 'thread'"),
    # measurements: a batch of 10^11 gave MAPE 3e12 %; JSON true was read as 1 ms and "62" as a number
    Case("probe_latency_measurements_batch_huge", _VALIDATE,
         _file("b.csv", "arch,latency_ms,batch\nmobilebert,62,100000000000\n"), 2,
         "b.csv: line 2: batch 100,000,000,000 is above this tool's limit"),
    Case("probe_latency_measurements_threads_huge", _VALIDATE,
         _file("t.jsonl", '{"arch": "mobilebert", "latency_ms": 62, "threads": 100000000000}\n'), 2,
         "t.jsonl: line 1: threads 100,000,000,000 is above"),
    Case("probe_latency_measurements_latency_true", _VALIDATE,
         _file("t.jsonl", '{"arch": "mobilebert", "latency_ms": true}\n'), 2,
         "t.jsonl: line 1: latency_ms must be a number (milliseconds), got True"),
    Case("probe_latency_measurements_latency_string", _VALIDATE,
         _file("t.jsonl", '{"arch": "mobilebert", "latency_ms": "62"}\n'), 2,
         "t.jsonl: line 1: latency_ms must be a number (milliseconds), got '62'"),
    # outputs of the wrong kind were written: a profile TOML as x.txt, a plotly HTML page as p.png
    Case("probe_latency_calibrate_out_not_toml", ("calibrate", "--measurements", "{m}", "--from", "pixel4", "--name",
                                                  "mine", "--out", "{tmp}/mine.txt"), _file("x", ""), 2,
         "mine.txt: a device profile is a .toml file", ("m",)),
    Case("probe_latency_validate_plot_not_html", (*_VALIDATE[:-1], "{m}", "--plot", "{tmp}/p.png"), _file("x", ""), 2,
         "the plot is an interactive HTML page; give a .html file", ("m",)),
    # measurements no fit can keep: the error named a key of the profile, not the row
    Case("probe_latency_calibrate_inconsistent_rows", ("calibrate", "--measurements", "{f}", "--from", "pixel4",
                                                       "--name", "mine", "--out", "{tmp}/mine.toml", "--keep-lowering"),
         _file("w.csv", "arch,latency_ms\nmobilebert,0.000001\nmobilebert,80000000\nmobilebert,62\n"), 2,
         "w.csv: line 2 (1e-06 ms) is a factor", ("f",)),
    # `nas devices` listed a copied profile by its name key, which `--device` does not find
    Case("probe_latency_devices_file_name_differs", ("devices",), _user_devices, 0, "myphone (a profile named other)",
         env=(("NAS_DEVICES_DIR", "{dir}"),)),
    # an arch within the family's limits but with 870 billion parameters was built (the whole machine's memory)
    Case("probe_latency_measure_arch_beyond_memory", ("measure", "--arch", "{big}", *_MEASURE[1:]), _huge_arch, 2,
         "more than the"),
    Case("probe_latency_measure_reference_beyond_memory", ("measure", "--arch", "mobilebert-tiny", "--reference",
                                                           "{big}", *_MEASURE[1:]), _huge_arch, 2, "more than the"),
    # a port out of range reached TVM (10 s of imports) and failed there
    Case("probe_latency_measure_rpc_port_out_of_range", ("measure", "--arch", "mobilebert-tiny", "--device", "pixel4",
                                                         "--backend", "rpc", "--rpc", "phone:99999", "--out",
                                                         "{tmp}/m.csv"), None, 2, "a port from 1 to 65535"),
    # a .tflite file for a device was told to use --backend rpc, which cannot time a file
    Case("probe_latency_measure_model_on_device", ("measure", "--model", "{f}", "--backend", "tflite", "--device",
                                                   "pixel4"), _file("m.tflite", "junk"), 2,
         "--backend rpc cannot time a file"),
    # ---- refused correctly already: pinned
    Case("probe_latency_interval_in_percent", ("latency", "--arch", "mobilebert", "--interval", "90"), None, 2,
         "--interval must be a probability between 0 and 1"),
    Case("probe_latency_validate_measurements_txt", _VALIDATE, _file("m.txt", "arch,latency_ms\nmobilebert,62\n"), 2,
         "must end in .csv or .jsonl"),
    Case("probe_latency_validate_semicolon_csv", _VALIDATE, _file("s.csv", "arch;latency_ms\nmobilebert;62\n"), 2,
         "unknown column(s) arch;latency_ms"),
    Case("probe_latency_measure_archs_holds_measurements", ("measure", "--archs", "{m}", *_MEASURE[1:]),
         _file("x", ""), 2, "unknown field(s) arch, latency_ms"),
    Case("probe_latency_measure_out_broken_jsonl", ("measure", "--arch", "mobilebert-tiny", *_MEASURE[1:-1],
                                                    "{f}"),
         _file("old.jsonl", '{"latency_ms": 62.0}\n{"latency_ms": 6\n'), 2, "old.jsonl: line 2: not valid json",
         ("f",)),
    Case("probe_latency_calibrate_name_with_space", ("calibrate", "--measurements", "{m}", "--from", "pixel4",
                                                     "--name", "my phone", "--out", "{tmp}/p.toml"), _file("x", ""),
         2, "--name must be a device name"),
    Case("probe_latency_measure_model_with_arch", ("measure", "--model", "{f}", "--arch", "mobilebert"),
         _file("m.tflite", "junk"), 2, "give no --arch, --archs, --out or --reference with it"),
    Case("probe_latency_measure_model_not_tflite", ("measure", "--model", "{f}", "--backend", "tflite"),
         _file("m.onnx", "junk"), 2, "is not a .tflite file"),
    Case("probe_latency_profile_duplicate_key", _LATENCY, _pixel4_edit("threads = 4", "threads = 4\nthreads = 5"), 2,
         "d.toml: not valid TOML"),
]
