"""Ctrl-C that cannot be lost.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be; raised inside a
finaliser (`__del__`, a weakref callback, a library's `except BaseException`) it is printed as "Exception
ignored" or swallowed, and a long search then runs to its end. `SigintLatch` remembers the signal as well, and
the loop's own checkpoint (`raise_if_interrupted`, called between generations) raises it again there.
`StopAtStepEnd` is the training loops' kind: Ctrl-C ends the run at the end of its current step, with a checkpoint,
so nothing trained is lost.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType, TracebackType


class SigintLatch:
    def __init__(self) -> None:
        self.interrupted = False
        self._previous: object = None
        self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True
        raise KeyboardInterrupt

    def raise_if_interrupted(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt

    def __enter__(self) -> SigintLatch:
        if threading.current_thread() is threading.main_thread():  # signal handlers belong to the main thread
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]


class StopAtStepEnd:
    """Ctrl-C during training: finish the step, save a checkpoint, then stop (a training loop asks `requested`
    between steps). A second Ctrl-C more than `grace_s` after the first stops at once, as Python would; one
    within it is the same press delivered twice (a process that forwards Ctrl-C to its workers) and is ignored.
    Off (a no-op) outside the main thread and where SIGINT is ignored (a nohup'ed run)."""

    def __init__(self, enabled: bool = True, announce: str | None = None, grace_s: float = 2.0) -> None:
        self.enabled, self.announce, self.grace_s = enabled, announce, grace_s
        self.first_at: float | None = None
        self._previous: object = None
        self._installed = False

    @property
    def requested(self) -> bool:
        return self.first_at is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self.first_at is None:
            self.first_at = now
            if self.announce:
                print(f"\n{self.announce}", file=sys.stderr, flush=True)
        elif now - self.first_at > self.grace_s:
            raise KeyboardInterrupt

    def __enter__(self) -> StopAtStepEnd:
        if (self.enabled and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN):
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
