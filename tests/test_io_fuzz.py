"""Damaged inputs for every reader of the I/O layer (issue 33), generated rather than listed: encodings,
truncation at every byte, non-finite numbers, wrong types, extra and missing fields, foreign headers.

Every reader must either return a correct result or raise one `UserInputError` of one line (the CLI turns it
into exit 2); never another exception; the input is byte-identical afterwards; an append leaves a file that
reads back row for row, or is refused with the file unchanged. Readers are called in-process (the CLI's
mapping of UserInputError to one line and exit 2 is tests/test_bad_input.py's).

Bounded by default (well under a minute); `NAS_FUZZ_EXAMPLES=2000 pytest tests/test_io_fuzz.py` or
`-m slow` runs the long mode.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nas_common.errors import UserInputError

EXAMPLES = int(os.environ.get("NAS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 40,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LONG = settings(FUZZ, max_examples=max(EXAMPLES, 1500), derandomize=False)

ROW = {"num_hidden_layers": 4, "hidden_size": 128, "intra_bottleneck_size": 64, "num_attention_heads": 2,
       "intermediate_size": 256, "latency_ms": 12.5, "seq_len": 128}
JSONL = "".join(json.dumps({**ROW, "latency_ms": 10.0 + i}) + "\n" for i in range(3)).encode()
CSV = ("num_hidden_layers,hidden_size,latency_ms\n" + "".join(f"{2 + i},128,{10 + i}.5\n" for i in range(3))).encode()
PROFILE = (Path(__file__).resolve().parents[1] / "device_profiles" / "pixel4.toml").read_bytes()
NASTY = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1", b"0", b"nan", b"inf", b'"12"', b"true", b"null",
         b"[]", b"{}", b"\xff", b"\xef\xbb\xbf", b"\r\n", b"\r", b"\x00", b",", b'"', b"\n", b"#", b"=", b"["]


def _one_line(err: UserInputError) -> None:
    text = str(err)
    assert text and "\n" not in text.strip() and "Traceback" not in text, text


def check_reader(path: Path, data: bytes, read: Callable[[Path], Any], valid: Callable[[Any], None]) -> None:
    """`read(path)` on `data`: a valid result or one UserInputError line; the bytes on disk unchanged."""
    path.write_bytes(data)
    try:
        result = read(path)
    except UserInputError as err:
        _one_line(err)
    else:
        valid(result)
    assert path.read_bytes() == data, "a reader changed its input"


@st.composite
def damaged(draw: st.DrawFn, good: bytes) -> bytes:
    """`good` cut, spliced with a nasty token, re-encoded (BOM, CRLF, UTF-16) or with random bytes."""
    how = draw(st.sampled_from(["cut", "splice", "replace", "encode", "random"]))
    at = draw(st.integers(0, len(good)))
    if how == "cut":
        return good[:at]
    if how == "splice":
        return good[:at] + draw(st.sampled_from(NASTY)) + good[at:]
    if how == "replace":
        end = draw(st.integers(at, min(len(good), at + 8)))
        return good[:at] + draw(st.sampled_from(NASTY)) + good[end:]
    if how == "encode":
        text = good.decode()
        return draw(st.sampled_from([b"\xef\xbb\xbf" + good, good.replace(b"\n", b"\r\n"), text.encode("utf-16"),
                                     good.rstrip(b"\n"), good.replace(b"\n", b"\r")]))
    return good[:at] + draw(st.binary(max_size=12)) + good[at:]


# ------------------------------------------------------------------------------------------- measurements
def _measurements_ok(rows: list) -> None:
    assert rows
    for m in rows:
        assert math.isfinite(m.latency_ms) and m.latency_ms > 0 and m.seq_len > 0 and m.batch > 0


def _read_measurements(path: Path) -> list:
    from latency_models.measurements import read_measurements

    return read_measurements(path)


@pytest.mark.parametrize("suffix,good", [(".jsonl", JSONL), (".csv", CSV)])
def test_measurements_cut_at_every_byte(tmp_path: Path, suffix: str, good: bytes) -> None:
    for at in range(len(good) + 1):
        check_reader(tmp_path / f"m{suffix}", good[:at], _read_measurements, _measurements_ok)


@pytest.mark.parametrize("suffix,good", [(".jsonl", JSONL), (".csv", CSV)])
def test_measurements_in_any_editor_encoding_read_the_same(tmp_path: Path, suffix: str, good: bytes) -> None:
    path = tmp_path / f"m{suffix}"
    path.write_bytes(good)
    expected = [(m.arch, m.latency_ms) for m in _read_measurements(path)]
    for variant in (b"\xef\xbb\xbf" + good, good.replace(b"\n", b"\r\n"), good.rstrip(b"\n"),
                    good.replace(b"\n", b"\r")):
        path.write_bytes(variant)
        assert [(m.arch, m.latency_ms) for m in _read_measurements(path)] == expected


@FUZZ
@given(data=st.data())
def test_damaged_measurements(tmp_path: Path, data: st.DataObject) -> None:
    suffix, good = data.draw(st.sampled_from([(".jsonl", JSONL), (".csv", CSV)]))
    check_reader(tmp_path / f"m{suffix}", data.draw(damaged(good)), _read_measurements, _measurements_ok)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                          max_size=3), max_leaves=8)


@FUZZ
@given(field=st.sampled_from(sorted(ROW) + ["threads", "batch", "spread", "repeats", "bogus", "hidden_act"]),
       value=JSON_VALUES, drop=st.booleans())
def test_measurement_fields_of_any_type(tmp_path: Path, field: str, value: Any, drop: bool) -> None:
    row = dict(ROW)
    if drop:
        row.pop(field, None)
    else:
        row[field] = value
    check_reader(tmp_path / "m.jsonl", (json.dumps(row) + "\n").encode(), _read_measurements, _measurements_ok)


# ------------------------------------------------------------------------------------------- profiles
def _read_profile(path: Path) -> Any:
    from device_profiles.profile import load_profile_file

    return load_profile_file(path)


def _profile_ok(profile: Any) -> None:
    from device_profiles.targets import KINDS

    assert profile.target["kind"] in KINDS and profile.threads > 0
    assert math.isfinite(profile.fp32_gflops) and profile.fp32_gflops > 0 and math.isfinite(profile.memory_gbs)
    assert all(math.isfinite(v) for v in profile.cost.values() if isinstance(v, float))


def test_profile_cut_at_every_byte(tmp_path: Path) -> None:
    for at in range(0, len(PROFILE) + 1, 3):
        check_reader(tmp_path / "p.toml", PROFILE[:at], _read_profile, _profile_ok)


@FUZZ
@given(bad=damaged(PROFILE))
def test_damaged_profiles(tmp_path: Path, bad: bytes) -> None:
    check_reader(tmp_path / "p.toml", bad, _read_profile, _profile_ok)


# ------------------------------------------------------------------------------------------- run directories
def _journal(tmp_path: Path) -> bytes:
    from tests.confirm_helpers import make_run

    run = make_run(tmp_path / "seed-run")
    return (run / "trials.jsonl").read_bytes()


def _read_journal(path: Path) -> Any:
    from nas.search.journal import Journal

    return Journal(path.parent).load()


def _journal_ok(trials: dict) -> None:
    for trial in trials.values():
        assert math.isfinite(trial.latency_ms) and (trial.accuracy is None or math.isfinite(trial.accuracy))


def test_journal_cut_at_every_byte_loses_only_the_torn_line(tmp_path: Path) -> None:
    good = _journal(tmp_path)
    (tmp_path / "run").mkdir()
    for at in range(len(good) + 1):
        path = tmp_path / "run" / "trials.jsonl"
        check_reader(path, good[:at], _read_journal, _journal_ok)
        assert len(_read_journal(path)) == good[:at].count(b"\n")  # a torn last line only is left out


@FUZZ
@given(data=st.data())
def test_damaged_journal_and_run_json(tmp_path: Path, data: st.DataObject) -> None:
    from nas.search.run_dir import read_run

    good = _journal(tmp_path) if not (tmp_path / "seed-run").exists() else \
        (tmp_path / "seed-run" / "trials.jsonl").read_bytes()
    (tmp_path / "run").mkdir(exist_ok=True)
    check_reader(tmp_path / "run" / "trials.jsonl", data.draw(damaged(good)), _read_journal, _journal_ok)
    run_json = (tmp_path / "seed-run" / "run.json").read_bytes()
    check_reader(tmp_path / "run" / "run.json", data.draw(damaged(run_json)), lambda p: read_run(p.parent),
                 lambda record: json.dumps(record, allow_nan=False))


CONFIRMED = (b"arch_id,pick,estimate,latency_ms,status,steps,heldout_mlm\n3,0,0.8,4.0,survived,40,6.1\n"
             b"2,1,0.7,3.0,stopped,20,\n")


@FUZZ
@given(bad=damaged(CONFIRMED))
def test_damaged_confirmed_csv(tmp_path: Path, bad: bytes) -> None:
    from nas.confirm.table import by_arch

    def ok(rows: dict) -> None:
        assert all(isinstance(k, int) for k in rows)
        assert all(not (isinstance(v, float) and math.isinf(v)) for row in rows.values() for v in row.values())

    check_reader(tmp_path / "confirmed.csv", bad, lambda p: by_arch(p.parent), ok)


# ------------------------------------------------------------------------------------------- writing
@FUZZ
@given(value=JSON_VALUES)
def test_strict_json_is_always_strict(value: Any) -> None:
    from nas_common.writing import dumps_json

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-strict constant {constant}")

    json.loads(dumps_json(value), parse_constant=refuse)


@FUZZ
@given(existing=st.sampled_from([JSONL, JSONL.rstrip(b"\n"), JSONL.replace(b"\n", b"\r\n"), b"", b"{\"a\": 1",
                                 b"\xef\xbb\xbf" + JSONL]),
       rows=st.integers(1, 3))
def test_jsonl_appends_read_back_row_for_row(tmp_path: Path, existing: bytes, rows: int) -> None:
    from nas_common.io import read_jsonl
    from nas_common.writing import append_jsonl

    path = tmp_path / "a.jsonl"
    path.write_bytes(existing)
    try:
        before = read_jsonl(path)
    except UserInputError:
        before = None
    new = [{"n": i, "x": 0.5} for i in range(rows)]
    try:
        append_jsonl(path, new)
    except UserInputError as err:
        _one_line(err)
        assert before is None and path.read_bytes() == existing
        return
    assert [v for _, v in read_jsonl(path)] == [v for _, v in (before or [])] + new


@FUZZ
@given(order=st.permutations(["num_hidden_layers", "hidden_size", "latency_ms"]),
       ending=st.sampled_from(["\n", "\r\n"]), final=st.booleans(), foreign=st.booleans())
def test_csv_appends_keep_the_file_s_order_or_refuse(tmp_path: Path, order: list[str], ending: str, final: bool,
                                                    foreign: bool) -> None:
    from nas_common.io import read_csv
    from nas_common.writing import append_csv

    header = [*order, "note"] if foreign else list(order)
    text = ending.join([",".join(header), ",".join("7" if c != "note" else "x" for c in header)])
    path = tmp_path / "a.csv"
    path.write_bytes((text + (ending if final else "")).encode())
    before = path.read_bytes()
    row = {"num_hidden_layers": 2, "hidden_size": 64, "latency_ms": 9.5, "extra": "lost" if foreign else None}
    try:
        append_csv(path, [row], ["num_hidden_layers", "hidden_size", "latency_ms", "extra"])
    except UserInputError as err:
        _one_line(err)
        assert path.read_bytes() == before
        return
    columns, rows = read_csv(path)
    assert columns == header and len(rows) == 2
    assert {k: rows[1][1][k] for k in order} == {"num_hidden_layers": "2", "hidden_size": "64", "latency_ms": "9.5"}


# ------------------------------------------------------------------------------------------- long mode
@pytest.mark.slow
@LONG
@given(data=st.data())
def test_long_damaged_inputs(tmp_path: Path, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["jsonl", "csv", "profile"]))
    if kind == "profile":
        check_reader(tmp_path / "p.toml", data.draw(damaged(PROFILE)), _read_profile, _profile_ok)
    else:
        good = JSONL if kind == "jsonl" else CSV
        check_reader(tmp_path / f"m.{kind}", data.draw(damaged(good)), _read_measurements, _measurements_ok)
