"""Ctrl-C that cannot be lost.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be; raised inside a
finaliser (`__del__`, a weakref callback, a library's `except BaseException`) it is printed as "Exception
ignored" or swallowed, and a long search then runs to its end. `SigintLatch` remembers the signal as well, and
the loop's own checkpoint (`raise_if_interrupted`, called between generations) raises it again there.
"""

from __future__ import annotations

import signal
import threading
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
