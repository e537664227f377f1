"""The I/O layer is the one place data files are opened (issue 33): a walk of the code for `open(`,
`json.load(s)`/`json.dump(s)`, `tomllib.load(s)`, `read_csv`/`to_csv` and `.read_text`/`.write_text`/
`.read_bytes`/`.write_bytes`/`.open` outside it, against one explicit list, ALLOWED: calls that are not a data
file a command takes or a result it writes (kernel files under /proc, a hash key, a binary model) — each with its
reason. Every other reader and writer is routed (the list of those not yet routed emptied and went with issue 33),
so a new direct call fails this test, and so does an ALLOWED entry whose call is gone (remove it).

Also here: the layer's own guarantees that no command table shows (read-only commands never write, a torn
journal on a read-only run), and the TVM target table of `device_profiles/targets.py` against TVM itself.
"""

from __future__ import annotations

import ast
import json
import os
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nas", "nas_common", "search_spaces", "latency_models", "device_profiles")  # benchmarks: scripts
LAYER = ("nas_common/io.py", "nas_common/writing.py", "nas_common/run_lock.py", "nas_common/paths.py")
MODULE_CALLS = {"json": {"load", "loads", "dump", "dumps"}, "tomllib": {"load", "loads"}, "os": {"open"},
                "pd": {"read_csv"}, "pandas": {"read_csv"}}
METHOD_CALLS = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "to_csv", "read_csv"}

ALLOWED: dict[tuple[str, str], str] = {
    ("device_profiles/host.py", "open"): "/proc/cpuinfo: a kernel interface, not a data file",
    ("nas_common/machine.py", ".read_text"): "/proc/meminfo and cgroup limits: kernel interfaces",
    ("latency_models/tflite_backend.py", "open"): "os.devnull, to silence the converter's prints",
    ("latency_models/tflite_backend.py", ".write_bytes"): "a .tflite flatbuffer: a binary model, not data",
    ("latency_models/kernel_cache.py", "json.dumps"): "the text of a cache key that is hashed",
    ("latency_models/kernel_cache.py", ".read_bytes"): "the tool's own source files, hashed into the cache key",
    ("nas/accuracy/proxy.py", "json.dumps"): "the text of coefficients that is hashed into a digest",
    ("nas/supernet/split.py", "json.dumps"): "quotes a string inside generated TOML text",
    ("search_spaces/arch.py", "json.dumps"): "Arch.to_json: a string a caller prints or writes",
}

def _in_memory(call: ast.Call) -> bool:
    """`frame.to_csv()` (returns the text) and `read_csv(StringIO(text))` (parses text the layer read)."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    if name == "to_csv":
        return not call.args and not any(k.arg == "path_or_buf" for k in call.keywords)
    if name == "read_csv" and call.args:
        first = call.args[0]
        return isinstance(first, ast.Call) and getattr(first.func, "id", "") == "StringIO"
    return False


def _direct_calls(path: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if _in_memory(node):
            continue
        if isinstance(func, ast.Name) and func.id == "open":
            found["open"] += 1
        elif isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id in MODULE_CALLS:
                if func.attr in MODULE_CALLS[func.value.id]:
                    found[f"{func.value.id}.{func.attr}"] += 1
            elif func.attr in METHOD_CALLS:
                found[f".{func.attr}"] += 1
    return found


def test_no_data_file_is_opened_outside_the_io_layer() -> None:
    found: Counter[tuple[str, str]] = Counter()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name not in LAYER:
                for call, count in _direct_calls(path).items():
                    found[(name, call)] += count
    new = {k: n for k, n in found.items() if k not in ALLOWED}
    assert not new, ("files opened outside the I/O layer (use nas_common.io / nas_common.writing, or add a "
                     f"commented ALLOWED entry): {sorted(new.items())}")
    stale = sorted(k for k in ALLOWED if k not in found)
    assert not stale, f"ALLOWED entries whose call is gone (remove them): {stale}"


def test_read_only_commands_never_write_a_torn_read_only_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`nas pareto` and `nas validate` on a run/file they may not write: every write primitive is trapped."""
    from nas import cli
    from nas_common import run_lock, writing
    from tests.bad_input_support import snapshot
    from tests.confirm_helpers import make_run

    run = make_run(tmp_path / "run")
    with (run / "trials.jsonl").open("ab") as handle:
        handle.write(b'{"id": 5, "generat')  # a writer killed mid-line
    measurements = tmp_path / "m.jsonl"
    measurements.write_text(json.dumps({"latency_ms": 60.0, "num_hidden_layers": 24}) + "\n")
    for path in (run, *run.iterdir(), measurements):
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = {p: snapshot(p) for p in (run, measurements)}

    def trap(original):  # a write to the run or the measurements file fails; caches elsewhere may be written
        def trapped(*args: object, **kwargs: object) -> object:
            targets = [Path(str(getattr(a, "directory", a))) for a in args]
            if any(t == measurements or t == run or run in t.parents for t in targets):
                raise AssertionError(f"a read-only command wrote: {args}")
            return original(*args, **kwargs)
        return trapped

    for module, name in ((writing, "write_bytes"), (writing, "_append"), (run_lock.RunLock, "acquire"),
                         (os, "truncate"), (os, "replace")):
        monkeypatch.setattr(module, name, trap(getattr(module, name)))
    try:
        for argv in (["pareto", str(run)], ["pareto", str(run), "--json"],
                     ["validate", "--measurements", str(measurements), "--device", "pixel4"]):
            with pytest.raises(SystemExit) as stop:
                cli.main(argv)
            out, err = capsys.readouterr()
            assert stop.value.code in (0, None), err
            assert "Traceback" not in out + err
            if "--json" in argv:
                assert [p["id"] for p in json.loads(out)] == [3, 2, 1, 0]
        assert {p: snapshot(p) for p in before} == before
    finally:
        for path in (run, *run.iterdir(), measurements):
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_cut_torn_tail_cuts_a_torn_record_only(tmp_path: Path) -> None:
    """A writer's first append after a kill: a torn last line goes, an editor's last line without its line end
    stays (append_jsonl then ends it), and what follows reads back row for row."""
    from nas_common.io import read_jsonl
    from nas_common.writing import append_jsonl, cut_torn_tail

    path = tmp_path / "e.jsonl"
    assert cut_torn_tail(path) == 0  # no file yet
    path.write_bytes(b'{"a": 1}\n{"a": 2}')
    assert cut_torn_tail(path) == 0
    path.write_bytes(b'{"a": 1}\n{"a": \xc3')
    assert cut_torn_tail(path) == len(b'{"a": \xc3')
    assert path.read_bytes() == b'{"a": 1}\n'
    append_jsonl(path, [{"a": 3}])
    assert [v for _, v in read_jsonl(path)] == [{"a": 1}, {"a": 3}]


def test_the_tvm_target_table_is_tvm_s() -> None:
    tvm = pytest.importorskip("tvm")
    from device_profiles.targets import KINDS, OPTIONS

    assert tuple(sorted(tvm.target.Target.list_kinds())) == KINDS
    for kind, options in OPTIONS.items():
        with pytest.raises(Exception) as refused:
            tvm.target.Target({"kind": kind, "not-an-option": 1})
        known = str(refused.value).split("Known options:")[1].split(".")[0]
        assert sorted(o.strip(" '") for o in known.split(",")) == sorted(options), kind
