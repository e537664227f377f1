"""Ctrl-C that cannot be lost.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be; raised inside a
finaliser (`__del__`, a weakref callback, a library's `except BaseException`) it is printed as "Exception
ignored" or swallowed, and a long search then runs to its end. `SigintLatch` remembers the signal as well, and
the loop's own checkpoint (`raise_if_interrupted`, called between generations) raises it again there.
`StopAtStepEnd` is the training loops' kind: Ctrl-C or SIGTERM ends the run at the end of its current step, with a
checkpoint, so nothing trained is lost.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType, TracebackType

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130: the shell's status for a run stopped by Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143: the shell's status for a run stopped by SIGTERM


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
    """Ctrl-C (SIGINT) or SIGTERM (a scheduler's time limit, a pod's eviction, `kill PID`) during training:
    finish the step, save a checkpoint, then stop (a training loop asks `requested` between steps and raises
    `stop()`). A second signal more than `grace_s` after the first stops at once, as Python would; one within
    it is the same request delivered twice (a process that forwards Ctrl-C to its workers) and is ignored.
    Off (a no-op) outside the main thread; a signal the process ignores (SIGINT in a nohup'ed background run)
    stays ignored."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, enabled: bool = True, announce: str | None = None, grace_s: float = 2.0) -> None:
        self.enabled, self.announce, self.grace_s = enabled, announce, grace_s
        self.first_at: float | None = None
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.first_at is not None

    def stop(self) -> BaseException:
        """What to raise once the checkpoint is saved: KeyboardInterrupt (exit 130) after Ctrl-C, else the
        exit status a process killed by SIGTERM reports (143)."""
        return KeyboardInterrupt() if self.signal != signal.SIGTERM else SystemExit(EXIT_TERMINATED)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self.first_at is None:
            self.first_at, self.signal = now, signum
            if self.announce:
                print(f"\n{self.announce}", file=sys.stderr, flush=True)
        elif now - self.first_at > self.grace_s:
            raise self.stop()

    def __enter__(self) -> StopAtStepEnd:
        if self.enabled and threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous = {}
