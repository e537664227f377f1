"""The benchmarks' data folder: nas_common.paths.data_dir (--data-dir / $NAS_DATA_DIR / ../shared/data), or a
one-line exit saying what to set."""

from __future__ import annotations

from pathlib import Path

from nas_common.errors import UserInputError
from nas_common.paths import data_dir


def data_folder(sub: str | None = None) -> Path:
    try:
        found = data_dir(sub=sub)
    except UserInputError as error:
        raise SystemExit(f"error: {error}") from None
    if found is None:
        raise SystemExit(f"error: no data folder{' with ' + sub + '/' if sub else ''}: set NAS_DATA_DIR "
                         "(the public data, e.g. ../shared/data)")
    return found
