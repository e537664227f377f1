"""The one I/O layer, writing side: strict JSON, atomic replacement, appends that keep a file's format.

- Strict JSON: every machine-readable output goes through `dumps_json` (`allow_nan=False`). A non-finite number
  becomes `null`, and a dict entry that held one gets a sibling `<key>_reason` saying why, so a strict reader
  (jq, JavaScript, Go) takes the output and a person still learns what was undefined.
- Atomic writes: a temporary file in the same folder, flushed and synced, then `os.replace`d over the target;
  a reader sees the old file or the new one, and a kill leaves no half-written result.
- Appends: one `write` per batch on an `O_APPEND` descriptor. A JSONL file without a final line end gets one
  first; a CSV append follows the file's own header order and line ends, or is refused before a byte is
  written (a column the file lacks would lose data).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import tempfile
from collections.abc import Collection, Iterable, Sequence
from io import StringIO
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from nas_common.io import csv_header, loads_json, read_bytes

REASON_SUFFIX = "_reason"


def _plain(value: Any) -> Any:
    """numpy scalars and arrays, paths, dataclasses and tuples as JSON's own types (anything else: its str)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if hasattr(value, "tolist"):  # numpy scalar or array
        return _plain(value.tolist())
    return str(value)


def _why(number: float) -> str:
    return f"not a finite number ({number!r}): too few values to define it, or out of range"


def strict_value(value: Any) -> Any:
    """`value` with JSON's own types only and every non-finite number replaced by None (plus `<key>_reason`
    beside a dict entry, unless the caller gave one)."""
    value = _plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[key] = strict_value(item)
            if isinstance(item, float) and not math.isfinite(item) and f"{key}{REASON_SUFFIX}" not in value:
                out[f"{key}{REASON_SUFFIX}"] = _why(item)
        return out
    if isinstance(value, list):
        return [strict_value(v) for v in value]
    return value


def dumps_json(value: Any, indent: int | None = 2, compact: bool = False, sort_keys: bool = False) -> str:
    """Strict JSON text of `value` (see the module doc); `compact`: no spaces (a JSONL record)."""
    separators = (",", ":") if compact else None
    return json.dumps(strict_value(value), indent=None if compact else indent, separators=separators,
                      sort_keys=sort_keys, allow_nan=False)


# ---------------------------------------------------------------------------------------------- atomic
def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_bytes(path: str | Path, data: bytes, what: str = "") -> Path:
    """Replace (or create) `path` with `data` atomically; the folder must exist or is created."""
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if path.exists() else _default_mode()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise UserInputError(f"{label}: cannot write ({err.strerror or err})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise UserInputError(f"{label}: cannot write ({err.strerror or err})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str, what: str = "") -> Path:
    return write_bytes(path, text.encode("utf-8"), what)


def write_json(path: str | Path, value: Any, what: str = "", indent: int | None = 2) -> Path:
    """Strict JSON (see `dumps_json`) written atomically, with a final line end."""
    return write_text(path, dumps_json(value, indent=indent) + "\n", what)


# ---------------------------------------------------------------------------------------------- appends
def _append(path: Path, data: bytes, label: str, fsync: bool) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _default_mode())
    except OSError as err:
        raise UserInputError(f"{label}: cannot append ({err.strerror or err})") from None
    try:
        written = os.write(fd, data)
        while written < len(data):  # a regular file takes it all at once; a full disk raises instead
            written += os.write(fd, data[written:])
        if fsync:
            os.fsync(fd)
    except OSError as err:
        raise UserInputError(f"{label}: cannot append ({err.strerror or err})") from None
    finally:
        os.close(fd)


def last_line(path: str | Path, what: str = "") -> bytes:
    """The bytes after the last line end of a file (b"" when it ends with one, is empty or is missing); read
    from the end, so a long journal costs no more than a short one."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            tail = b""
            while end > 0:
                start = max(0, end - 4096)
                handle.seek(start)
                tail = handle.read(end - start) + tail
                cut = tail.rfind(b"\n")
                if cut >= 0:
                    return tail[cut + 1:]
                end = start
            return tail
    except FileNotFoundError:
        return b""
    except OSError as err:
        label = f"{what} {path}" if what else str(path)
        raise UserInputError(f"{label}: cannot read ({err.strerror or err})") from None


def cut_torn_tail(path: str | Path, what: str = "") -> int:
    """Cut off a JSONL file's last line when it has no line end and is not a whole record (its writer was
    killed mid-line), so that `append_jsonl` can go on; returns the bytes cut. Only the file's one writer calls
    this (readers leave a torn line out and change nothing)."""
    path = Path(path)
    tail = last_line(path, what)
    if not tail.strip():
        return 0
    try:
        loads_json(tail.decode("utf-8"), str(path))
        return 0
    except (UnicodeDecodeError, UserInputError):
        pass
    label = f"{what} {path}" if what else str(path)
    try:
        os.truncate(path, path.stat().st_size - len(tail))
    except OSError as err:
        raise UserInputError(f"{label}: cannot write ({err.strerror or err})") from None
    return len(tail)


def append_jsonl(path: str | Path, records: Iterable[Any], what: str = "", fsync: bool = True) -> Path:
    """Append one strict JSON object per line. A last line without its line end gets one first when it is a
    complete record (a file saved by an editor); a torn record (a killed writer) is refused before writing —
    the file's owner repairs its own file (e.g. `Journal.append`)."""
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    body = "".join(dumps_json(r, compact=True) + "\n" for r in records).encode("utf-8")
    tail = last_line(path, what)
    if tail.strip():
        loads_json(tail.decode("utf-8", errors="replace"), f"{label}: its last line (no line end)")
        body = b"\n" + body
    if body:
        _append(path, body, label, fsync)
    return path


def _line_end(raw: bytes) -> str:
    first = raw.find(b"\n")
    return "\r\n" if first > 0 and raw[first - 1:first] == b"\r" else "\n"


def csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str], header: bool = True,
             line_end: str = "\r\n") -> str:
    """CSV text of `rows` in `columns` order (the csv module's own formatting: `repr` of a float, `nan` and `inf`
    included; a missing cell or None is empty); a key outside `columns` is a programming error (ValueError)."""
    buffer = StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator=line_end)
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def append_own_csv(path: str | Path, rows: Sequence[dict[str, Any]], columns: Sequence[str], what: str = "",
                   fsync: bool = False) -> Path:
    """Append rows to a CSV log that this process created or rewrote (with `write_text(csv_text(...))`) and alone
    appends to, e.g. a training run's per-step losses: one `write` on an `O_APPEND` descriptor and no read of
    the file, so the thousandth append costs what the first did (`append_csv` reads the file to follow a header
    someone else wrote). Numbers are written as they are, a diverged `nan` loss included: a log records what
    happened; its readers decide."""
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    body = csv_text(rows, columns, header=False)
    if body:
        _append(path, body.encode("utf-8"), label, fsync)
    return path


def append_csv(path: str | Path, rows: Sequence[dict[str, Any]], columns: Sequence[str], what: str = "",
               fsync: bool = True, optional: Collection[str] = ()) -> Path:
    """Append rows to a CSV file: a new (or empty) file gets `columns` as its header; an existing one keeps its
    own column order and line ends, and must hold every column a row has a value for, but the `optional` ones
    (else refused, nothing written). Missing cells are empty; non-finite numbers are refused."""
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    raw = read_bytes(path, what) if path.exists() else b""
    new = not raw.strip()
    header = list(columns) if new else csv_header(path, what)
    for row in rows:
        lost = [k for k, v in row.items() if k not in header and k not in optional and v not in (None, "")]
        if lost:
            raise UserInputError(f"{label}: its header has no column {lost[0]!r} (written by something else, or "
                                 "an older version); write to a new file (nothing was changed)")
        bad = [k for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            raise UserInputError(f"{label}: {bad[0]} = {row[bad[0]]!r} is not a finite number (nothing was written)")
    end = "\r\n" if new else _line_end(raw)
    buffer = StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator=end)
    if new:
        writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    body = buffer.getvalue()
    if not new and not raw.endswith(b"\n"):
        body = end + body
    if new and raw:  # an empty file of blank lines: replace it, so the header is line 1
        write_text(path, body, what)
        return path
    _append(path, body.encode("utf-8"), label, fsync)
    return path
