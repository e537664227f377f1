"""One writer per run directory: an advisory `flock` on `DIR/.nas-run.lock`, which holds the writer's pid.

The kernel drops a `flock` when its process dies, however it dies (`kill -9` included), so a killed writer
never leaves the directory locked; the stale file it leaves names a dead pid and is simply taken over. A
second writer is refused at once (never waits) with one line naming the holder. Readers take no lock.

The file is removed when the lock is released. A writer that opened it just before that removal could lock
an unlinked file, so after locking, the path must still be the very file locked, or the attempt is repeated.
The descriptor is not inherited by child processes (Python opens it close-on-exec), so a Ray worker or any
other child never keeps a dead writer's lock alive.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import sys
import time
from pathlib import Path
from types import TracebackType

from nas_common.errors import UserInputError

LOCK_NAME = ".nas-run.lock"


class RunLock:
    """`with RunLock(out):` — hold the run directory `out` for writing, or raise a one-line UserInputError.

    `create`: make `out` (and its parents) when missing; a folder made here is removed again on release when
    nothing but the lock was put in it, so a refused command leaves the disk as it was. Without `create`, a
    missing `out` is left to the caller to report and nothing is locked.
    """

    def __init__(self, directory: str | Path, create: bool = True) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self.create = create
        self._fd: int | None = None
        self._made: list[Path] = []

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> None:
        if not self.directory.is_dir():
            if not self.create:
                return
            self._make_directory()
        for _ in range(50):  # only repeated while another writer releases at the same moment
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                self._undo_directory()
                raise UserInputError(self._held_message()) from None
            if self._is_current(fd):
                self._fd = fd
                self._record(fd)
                return
            os.close(fd)
        self._undo_directory()
        raise UserInputError(f"run {self.directory}: could not take its lock {self.path} (it keeps changing)")

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)  # while still held: see the module doc
            os.close(self._fd)
            self._fd = None
        self._undo_directory()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _make_directory(self) -> None:
        missing = [p for p in (self.directory, *self.directory.parents) if not p.exists()]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UserInputError(f"run {self.directory}: cannot create the directory ({err.strerror or err})") from None
        self._made = missing  # innermost first

    def _undo_directory(self) -> None:
        for folder in self._made:
            try:
                folder.rmdir()  # only an empty folder: anything written there stays
            except OSError:
                break
        self._made = []

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            self._undo_directory()
            raise UserInputError(f"run {self.directory}: cannot be written ({err.strerror or err}); a read-only "
                                 "run can be read (nas pareto, nas export) but not continued") from None

    def _is_current(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except FileNotFoundError:
            return False

    @staticmethod
    def _record(fd: int) -> None:
        note = {"pid": os.getpid(), "command": " ".join(sys.argv[:3]),
                "since": datetime.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(note) + "\n").encode(), 0)

    def _held_message(self) -> str:
        note: dict = {}
        for _ in range(20):  # the holder writes its pid just after locking: give it a moment
            try:
                note = json.loads(self.path.read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                note = {}
            if isinstance(note, dict) and note.get("pid"):
                break
            time.sleep(0.025)
        if not isinstance(note, dict) or not note.get("pid"):
            return (f"run {self.directory} is being written by another process (its lock {self.path} is held); "
                    "wait for it or stop it")
        detail = ", ".join(str(x) for x in (note.get("command"), f"since {note.get('since')}") if x)
        return f"run {self.directory} is being written by process {note['pid']} ({detail}); wait for it or stop it"
