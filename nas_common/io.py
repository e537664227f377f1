"""The one I/O layer, reading side: every data file a command takes is decoded, parsed and checked here.

Decoding accepts what common editors save (UTF-8 with or without a byte-order mark, CRLF or CR line ends).
Parsing names the file, the line and the field in its one-line `UserInputError`. Numbers are finite: JSON's
`NaN`/`Infinity`, TOML's `nan`/`inf` and overflowing literals such as `1e400` are refused where they are read,
never passed on to a fit or a table. Nothing here writes (see `writing.py`; the run lock is `run_lock.py`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import tomllib
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError


def _label(path: Path, what: str) -> str:
    return f"{what} {path}" if what else str(path)


def read_bytes(path: str | Path, what: str = "") -> bytes:
    """The bytes of a file the user named; missing, a folder or unreadable is one line."""
    path = Path(path)
    label = _label(path, what)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise UserInputError(f"{label}: a directory, not a file") from None
    except OSError as err:
        raise UserInputError(f"{label}: cannot read ({err.strerror or err})") from None


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes (hex), read in 1 MiB chunks so that a weights file is never held whole."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode(raw: bytes, label: str, kind: str = "") -> str:
    """UTF-8 text (a byte-order mark dropped) with `\\n` line ends, whatever the editor saved. `kind` (e.g.
    "JSON") words the error as "not valid JSON (...)"."""
    prefix, suffix = (f"not valid {kind} (", ")") if kind else ("", "")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise UserInputError(f"{label}: line {line}: {prefix}not UTF-8 text at byte {err.start}{suffix}; save it "
                             "as UTF-8") from None
    if "\x00" in text:
        raise UserInputError(f"{label}: {prefix}holds NUL bytes, so it is not a text file{suffix}")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | Path, what: str = "", kind: str = "") -> str:
    """The text of a file the user named, decoded as `decode` does; `what` (e.g. "--archs") prefixes errors."""
    path = Path(path)
    return decode(read_bytes(path, what), _label(path, what), kind)


# ---------------------------------------------------------------------------------------------- numbers
def _named(field: str, toml: bool) -> str:
    if not field:
        return "a value"
    if not toml:
        return f"field {field}"
    table, _, key = field.rpartition(".")  # TOML's own words: `[cost]: key 'kernel_us'`
    return f"[{table}]: key '{key}'" if table else f"key '{key}'"


def check_finite_tree(value: Any, where: str, field: str = "", toml: bool = False) -> Any:
    """`value` unchanged when every number in it is finite; else one line naming the field (`a.b[2]`; in
    `toml` style `[a]: key 'b'`)."""
    if isinstance(value, float) and not math.isfinite(value):
        sep = " " if toml and field and "." in field else ": "
        raise UserInputError(f"{where}{sep}{_named(field, toml)} must be a finite number, got {value!r}")
    if isinstance(value, dict):
        for key, item in value.items():
            check_finite_tree(item, where, f"{field}.{key}" if field else str(key), toml)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_finite_tree(item, where, f"{field}[{index}]", toml)
    return value


def finite(value: Any, where: str, field: str, *, minimum: float | None = None, maximum: float | None = None,
           positive: bool = False, integer: bool = False) -> float | int:
    """A number read from a file or an option: a number (or its text), finite, within the bounds; else one line
    naming `where` and `field`. `integer` also refuses fractions and returns an int."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserInputError(f"{where}: {field} must be {kind}, got {value!r}")
    try:
        if integer:
            number: float | int = int(value.strip()) if isinstance(value, str) else value
            if not isinstance(number, int):
                raise ValueError(value)
        else:
            number = float(value.strip()) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError):
        raise UserInputError(f"{where}: {field} must be {kind}, got {value!r}") from None
    if not math.isfinite(number):
        raise UserInputError(f"{where}: {field} must be a finite number, got {value!r}")
    if positive and not number > 0:
        raise UserInputError(f"{where}: {field} must be positive, got {value!r}")
    if minimum is not None and number < minimum:
        raise UserInputError(f"{where}: {field} must be ≥ {minimum:g}, got {value!r}")
    if maximum is not None and number > maximum:
        raise UserInputError(f"{where}: {field} must be ≤ {maximum:g}, got {value!r}")
    return number


# ---------------------------------------------------------------------------------------------- JSON
def loads_json(text: str, where: str) -> Any:
    """One JSON value; broken JSON or a non-finite number (`NaN`, `Infinity`, `1e400`) is one line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        at = f"line {err.lineno} column {err.colno}: " if text.count("\n") else ""
        raise UserInputError(f"{where}: {at}not valid JSON ({err.msg})") from None
    except (ValueError, RecursionError) as err:  # an integer of too many digits, nesting too deep
        raise UserInputError(f"{where}: not valid JSON ({str(err)[:80]})") from None
    return check_finite_tree(value, where)


def read_json(path: str | Path, what: str = "") -> Any:
    """The JSON value in a file; missing, unreadable, broken or non-finite is one line."""
    path = Path(path)
    return loads_json(read_text(path, what, "JSON"), _label(path, what))


def complete_lines(text: str) -> tuple[str, str]:
    """(the text up to its last line end, the torn rest): a file whose writer was killed mid-line."""
    cut = text.rfind("\n") + 1
    return text[:cut], text[cut:]


def jsonl_lines(text: str, label: str, torn_tail: str = "keep") -> Iterator[tuple[int, str]]:
    """(line number, line) of each non-blank line of a JSONL text. `torn_tail`: "keep" reads a last line without
    its line end as any other (an editor's file); "drop" leaves it out (a journal whose writer was killed)."""
    if torn_tail not in ("keep", "drop"):
        raise ValueError(torn_tail)
    if torn_tail == "drop":
        text, _ = complete_lines(text)
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, line


def read_jsonl(path: str | Path, what: str = "", torn_tail: str = "keep",
               comments: bool = False) -> list[tuple[int, Any]]:
    """(line number, value) of each record of a JSONL file; `comments`: lines starting with `#` are skipped."""
    path = Path(path)
    label = _label(path, what)
    rows = []
    for number, line in jsonl_lines(read_text(path, what, "JSON"), label, torn_tail):
        if comments and line.lstrip().startswith("#"):
            continue
        rows.append((number, loads_json(line, f"{label}: line {number}")))
    return rows


# ---------------------------------------------------------------------------------------------- TOML
def loads_toml(text: str, where: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UserInputError(f"{where}: not valid TOML ({err})") from None
    except RecursionError:
        raise UserInputError(f"{where}: not valid TOML (nested too deep)") from None
    return check_finite_tree(data, where, toml=True)


def read_toml(path: str | Path, what: str = "") -> dict[str, Any]:
    """A TOML table; broken TOML or a `nan`/`inf` value is one line naming the key."""
    path = Path(path)
    return loads_toml(read_text(path, what, "TOML"), _label(path, what))


# ---------------------------------------------------------------------------------------------- CSV
def csv_rows(text: str, label: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line number, {column: cell})]) of a CSV text; a row of another width, an empty or repeated
    column name is one line naming the line. Blank lines are skipped."""
    reader = csv.reader(StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
        if not header or not any(header):
            raise UserInputError(f"{label}: no header line")
        blank = [i + 1 for i, name in enumerate(header) if not name]
        if blank:
            raise UserInputError(f"{label}: line 1: column {blank[0]} has no name")
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise UserInputError(f"{label}: line 1: column {repeated[0]!r} appears twice")
        rows = []
        for cells in reader:
            number = reader.line_num
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise UserInputError(f"{label}: line {number}: {len(cells)} columns, the header has {len(header)}")
            rows.append((number, dict(zip(header, cells, strict=True))))
    except csv.Error as err:
        raise UserInputError(f"{label}: line {reader.line_num}: not valid CSV ({err})") from None
    return header, rows


def read_csv(path: str | Path, what: str = "") -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    path = Path(path)
    return csv_rows(read_text(path, what, "CSV"), _label(path, what))


def csv_header(path: str | Path, what: str = "") -> list[str]:
    """The header of an existing CSV file (the columns an append must follow)."""
    path = Path(path)
    text = read_text(path, what)
    first = text.split("\n", 1)[0]
    try:
        return [name.strip() for name in next(csv.reader([first]), [])]
    except csv.Error as err:
        raise UserInputError(f"{_label(path, what)}: line 1: not valid CSV ({err})") from None
