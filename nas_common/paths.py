"""Where things are read from and written to: the one data-folder resolver and the one output-path check.

Every command and test uses these, so a user's `--data-dir`/`NAS_DATA_DIR` means the same everywhere and
a bad `--out` is one line before any work starts, never a traceback at the end of a run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nas_common import io
from nas_common.errors import UserInputError

DATA_ENV = "NAS_DATA_DIR"
REPO_ROOT = Path(__file__).resolve().parents[1]
# The public development data sits beside the repository in the project's layout (../shared/data).
SIBLING_DATA = REPO_ROOT.parent / "shared" / "data"


def anchor_data_env() -> None:
    """Make a relative `$NAS_DATA_DIR` absolute against the directory the process was started in.

    People type `NAS_DATA_DIR=../shared/data`; resolved once at start-up, it keeps meaning the same folder
    after a change of directory (tests, Ray workers started elsewhere, `cd` in a script).
    """
    env = os.environ.get(DATA_ENV, "").strip()
    if env and not Path(env).expanduser().is_absolute():
        os.environ[DATA_ENV] = os.path.abspath(Path(env).expanduser())


def data_dir(explicit: str | Path | None = None, sub: str | None = None) -> Path | None:
    """The data folder (or its `sub` folder): `explicit` (e.g. `--data-dir`), else `$NAS_DATA_DIR`, else
    ../shared/data beside the repository when present; None when none of these exists.

    A folder the user named (`explicit`, or `$NAS_DATA_DIR` when set) that is missing or is a file is an
    error, never silently replaced by the default. A missing `sub` under a root that came from the
    environment or the default is None, so the caller can say which option to give. With `sub`, a root
    that already *is* that sub folder (`--data-dir data/glue` for `sub="glue"`) is kept.
    """
    if explicit is not None and str(explicit) != "":
        root = _named_folder(Path(explicit).expanduser(), "data folder")
        if sub is None or root.name == sub or not (root / sub).exists():
            return root
        return root / sub
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        root = _named_folder(Path(env).expanduser(), f"${DATA_ENV}")
    elif SIBLING_DATA.is_dir():
        root = SIBLING_DATA
    else:
        return None
    if sub is None:
        return root
    path = root / sub
    return path if path.exists() else None


def corpus_path(given: str | Path | None, option: str = "--corpus", *, in_data: str | None = "",
                why: str = f"or set {DATA_ENV}") -> str:
    """The text corpus a command reads: `given` (as typed), else the data folder's `corpus/` (`in_data=""`) or
    the file `in_data` in it (`in_data=None`: no default); none of these: one line `give OPTION PATH (why)`.

    The one "a corpus, or else an error" step. Whether a given path exists is its reader's to say, in its
    own words; the data folder is looked at only when nothing is given (a mistyped `$NAS_DATA_DIR` is then
    its own one line, from `data_dir`)."""
    if given:
        return str(given)
    if in_data is not None:
        folder = data_dir(sub="corpus")
        found = folder / in_data if folder is not None and in_data else folder
        if found is not None and (not in_data or found.is_file()):
            return str(found)
    raise UserInputError(f"give {option} PATH ({why})")


def _named_folder(root: Path, what: str) -> Path:
    if not root.exists():
        raise UserInputError(f"{what} {root}: no such file or directory")
    if not root.is_dir():
        raise UserInputError(f"{what} {root} is a file, not a folder")
    return root


def read_text(path: str | Path, what: str = "") -> str:
    """The text of a file the user named (the I/O layer's `read_text`: BOM dropped, `\\n` line ends); missing or
    unreadable is one line, prefixed with `what` (e.g. "--archs") when given."""
    return io.read_text(path, what)


def remove_results(out: Path, names: tuple[str, ...] | list[str]) -> None:
    """`--overwrite`: remove an earlier result's files (and folders) so nothing stale stays behind."""
    for name in names:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def read_json(path: str | Path) -> Any:
    """The JSON value in a file the user named (the I/O layer's `read_json`: strict, finite numbers)."""
    return io.read_json(path)


def _first_existing_parent(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(".")


def _writable(folder: Path) -> bool:
    """Whether a file can be created in `folder`: tried for real, since permission bits do not bind root
    and a read-only mount does not show in them."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def check_utf8_name(path: str | Path, what: str = "--out") -> Path:
    """`path` when its name is UTF-8 text; a name holding other bytes (e.g. a shell's `$'\\xff'`) is one line.

    Such a name reaches Python as lone surrogates, which every file recording the path (run.json, TRAIN.md)
    cannot encode: refused here, before any work, rather than failing after the work with half the output
    written."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise UserInputError(f"{what} {_as_typed(str(path))}: the name is not valid UTF-8 text; choose a UTF-8 "
                             "name (nothing was written)") from None
    return Path(path)


def _as_typed(name: str) -> str:
    """A name that is not UTF-8, printable: the bytes the shell passed as `\\xff` escapes."""
    try:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no byte decodes to (made inside Python, not read from argv)
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def check_output_dir(path: str | Path, overwrite: bool = False, what: str = "--out",
                     result_files: tuple[str, ...] = ()) -> Path:
    """Check, before any work, that `path` can become an output directory; returns it as a Path.

    Refused with one line (`UserInputError`): its name is not UTF-8; `path` is a regular file; a parent is a
    regular file; the nearest existing folder is not writable; or `path` already holds one of `result_files` (or,
    when `result_files` is empty, is a non-empty directory) and `overwrite` is False. Nothing is created.
    """
    path = check_utf8_name(path, what).expanduser()
    if path.exists() and not path.is_dir():
        raise UserInputError(f"{what} {path} is a file, not a directory; choose a directory")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise UserInputError(f"{what} {path}: {parent} is a file, so nothing can be written under it")
    target = path if path.exists() else _first_existing_parent(path)
    if not _writable(target):
        raise UserInputError(f"{what} {path}: {target} is not writable")
    if path.is_dir() and not overwrite:
        existing = [name for name in result_files if (path / name).exists()]
        if existing or (not result_files and any(path.iterdir())):
            held = ", ".join(existing) if existing else "files"
            raise UserInputError(f"{what} {path} already holds {held}; pass --overwrite to replace it, or choose "
                                 "another directory (nothing was changed)")
    return path


@contextmanager
def no_empty_output_left(out: str | Path) -> Iterator[None]:
    """Run the block; when it fails, remove the folders of `out` that it created and that are still empty, so a
    command refused after creating --out (a bad corpus or vocabulary read once the folder exists) leaves nothing
    behind. A folder that holds anything (a checkpoint, a file of the user's) is kept."""
    path = Path(out).expanduser()
    created = [folder for folder in (path, *path.parents) if not folder.exists()]  # deepest first
    try:
        yield
    except BaseException:
        for folder in created:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone
                break
        raise


def check_output_file(path: str | Path, what: str = "--out", inputs: tuple[str | Path, ...] = ()) -> Path:
    """Check that a file can be written at `path` (created or appended to), has a UTF-8 name and is none of
    `inputs`."""
    path = check_utf8_name(path, what).expanduser()
    if path.is_dir():
        raise UserInputError(f"{what} {path} is a directory; give a file name")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise UserInputError(f"{what} {path}: {parent} is a file, so nothing can be written under it")
    writable = os.access(path, os.W_OK) if path.exists() else _writable(_first_existing_parent(path))
    if not writable:
        raise UserInputError(f"{what} {path}: not writable")
    for source in inputs:
        if path.exists() and Path(source).exists() and path.samefile(source):  # links and ./ spellings included
            raise UserInputError(f"{what} {path} is also an input of this command; write to another file")
    return path
