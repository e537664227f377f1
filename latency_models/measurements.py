"""Measurements files (CSV or JSONL): one measured model per row (a `Measurement`). Schema: `MEASUREMENTS.md`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from device_profiles.measurement import COUNT_LIMITS, Measurement, check_count, check_latency_ms
from nas_common.errors import UserInputError
from nas_common.io import check_finite_tree, csv_header, read_csv, read_jsonl
from nas_common.writing import append_csv, append_jsonl
from search_spaces.arch import PER_LAYER_FIELDS, Arch
from search_spaces.family import check_seq_len
from search_spaces.hf_config import REDUNDANT
from search_spaces.presets import PRESETS, find_preset

ARCH_FIELDS = tuple(f.name for f in dataclasses.fields(Arch))
EXTRA_FIELDS = ("seq_len", "batch", "latency_ms", "threads", "source", "spread", "repeats", "reference_ms", "drift",
                "raw_latency_ms")
FLOAT_FIELDS = ("latency_ms", "spread", "reference_ms", "drift", "raw_latency_ms")
OPTIONAL_CSV_COLUMNS = ("source", "spread", "repeats", "reference_ms", "drift", "raw_latency_ms")
BOOL_FIELDS = {f.name for f in dataclasses.fields(Arch) if f.type in ("bool", bool)}
STR_FIELDS = ("normalization_type", "hidden_act")
PRESET_FIELD = "arch"  # a preset name in place of the Arch fields (as a profile's [[calibration]] points allow)


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    raise UserInputError(f"{path}: measurements file must end in .csv or .jsonl")


def _csv_value(name: str, text: str) -> Any:
    text = text.strip()
    if name in BOOL_FIELDS:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"{name} must be true or false, got {text!r}")
    if name in STR_FIELDS or name in ("source", PRESET_FIELD):
        return text
    if name in FLOAT_FIELDS:
        return float(text)
    if name in PER_LAYER_FIELDS and " " in text:
        return [int(x) for x in text.split()]
    return int(text)


def _parse_row(data: dict[str, Any], where: str, line: int = 0) -> Measurement:
    if not isinstance(data, dict):
        raise UserInputError(f"{where}: expected an object of fields")
    unknown = unknown_fields(data)
    if unknown:
        raise UserInputError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if "latency_ms" not in data:
        raise UserInputError(f"{where}: missing latency_ms")
    latency = data["latency_ms"]
    if isinstance(latency, bool) or not isinstance(latency, (int, float)):  # JSON true was 1 ms, "62" a number
        raise UserInputError(f"{where}: latency_ms must be a number (milliseconds), got {latency!r}")
    latency = float(latency)
    if not latency > 0:
        raise UserInputError(f"{where}: latency_ms must be positive, got {data['latency_ms']!r}")
    check_latency_ms(latency, where)
    spread = data.get("spread")
    if spread is not None and (isinstance(spread, bool) or not isinstance(spread, (int, float))
                               or not 0 <= spread < float("inf")):
        raise UserInputError(f"{where}: spread must be a number >= 0 (std/median of the runs), got {spread!r}")
    drift_fields: dict[str, float | None] = {}
    for name in ("reference_ms", "drift", "raw_latency_ms"):
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not -1 < value < float("inf") or (name != "drift" and value <= 0)):
            raise UserInputError(f"{where}: {name} must be a finite number"
                                 + (" > -1" if name == "drift" else " > 0") + f", got {value!r}")
        drift_fields[name] = None if value is None else float(value)
    ints = {}
    for name, default in (("seq_len", 128), ("batch", 1), ("threads", None), ("repeats", None)):
        value = default if data.get(name) is None else data[name]  # null: as if the field were absent
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise UserInputError(f"{where}: {name} must be a positive integer, got {value!r}")
        ints[name] = value if value is None or name not in COUNT_LIMITS else check_count(name, value, where)
    check_seq_len(ints["seq_len"], f"{where}: seq_len")
    source = data.get("source", "")
    # Redundant HF fields (true_hidden_size, ...) are checked against the arch, never taken.
    arch = Arch.from_dict({**preset_fields(data, where),
                           **{k: v for k, v in data.items() if k in ARCH_FIELDS or k in REDUNDANT}}, source=where)
    return Measurement(arch, latency, ints["seq_len"], ints["batch"], ints["threads"], str(source or ""), line,
                       None if spread is None else float(spread), ints["repeats"], **drift_fields)


def unknown_fields(names: Any) -> list[str]:
    return sorted(set(names) - set(ARCH_FIELDS) - set(REDUNDANT) - set(EXTRA_FIELDS) - {PRESET_FIELD})


def preset_fields(data: dict[str, Any], where: str) -> dict[str, Any]:
    """The Arch fields of the preset a row names in `arch` (none: {}); a row gives either that or Arch fields."""
    name = data.get(PRESET_FIELD)
    if name is None:
        return {}
    preset = find_preset(name) if isinstance(name, str) else None
    if preset is None:
        raise UserInputError(f"{where}: arch {name!r} is not a preset ({', '.join(PRESETS)}); give a preset name "
                             "or the Arch fields (MEASUREMENTS.md)")
    both = [k for k in data if k in ARCH_FIELDS]
    if both:
        raise UserInputError(f"{where}: arch names the preset {name!r} and the row also sets {', '.join(both)}; "
                             "give either the preset or the Arch fields, not both")
    return dict(preset.arch.to_dict())


def read_measurements(path: str | Path) -> list[Measurement]:
    """All rows of a measurements file; a bad row raises UserInputError naming the file and line."""
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise UserInputError(f"{path}: no such measurements file")
    rows: list[Measurement] = []
    if fmt == "jsonl":
        for number, data in read_jsonl(path, comments=True):
            rows.append(_parse_row(data, f"{path}: line {number}", number))
    else:
        header, cells = read_csv(path)
        unknown = unknown_fields(header)
        if unknown:  # before any cell is parsed: a typo'd column is named as one, not as a bad number
            shown = ", ".join(name if name.isprintable() else repr(name) for name in unknown)  # a quoted header
            raise UserInputError(f"{path}: line 1: unknown column(s) {shown[:300]} (MEASUREMENTS.md lists "
                                 "the columns)")
        for number, raw in cells:
            where = f"{path}: line {number}"
            data = {}
            for name, value in raw.items():
                if value.strip() == "":
                    continue
                try:
                    data[name] = _csv_value(name, value)
                except ValueError as err:
                    raise UserInputError(f"{where}: bad {name} ({err})") from None
            check_finite_tree(data, where)
            rows.append(_parse_row(data, where, number))
    if not rows:
        raise UserInputError(f"{path}: no measurements in the file")
    return rows


def check_appendable(path: str | Path) -> Path:
    """`path` can take more rows: a new or empty file, or a measurements file of its format (a CSV whose
    header holds latency_ms and only known columns; a JSONL whose rows all read)."""
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file() or path.stat().st_size == 0:
        return path
    if fmt == "jsonl":
        read_measurements(path)
        return path
    header = csv_header(path)
    unknown = unknown_fields(header)
    if unknown or "latency_ms" not in header:
        raise UserInputError(f"{path}: its header ({','.join(header)[:60]}) is not a measurements file's "
                             "(latency_ms and Arch fields, see MEASUREMENTS.md); choose another file")
    return path


def append_measurements(path: str | Path, rows: list[Measurement]) -> Path:
    """Append rows (JSONL: one object a line; CSV: a header is written for a new file)."""
    path = check_appendable(path)
    if file_format(path) == "jsonl":
        return append_jsonl(path, [dict(sorted(m.to_row().items())) for m in rows])
    table = []
    for m in rows:
        row = m.to_row()
        for name in PER_LAYER_FIELDS:
            if isinstance(row[name], list):
                row[name] = " ".join(str(x) for x in row[name])
        table.append(row)
    # A file written before a column existed takes the row without it; Arch fields and the latency are never lost.
    return append_csv(path, table, list(ARCH_FIELDS) + list(EXTRA_FIELDS), optional=OPTIONAL_CSV_COLUMNS)
