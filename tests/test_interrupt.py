"""A Ctrl-C swallowed by a library on its way up still stops a long loop at its next checkpoint."""

import os
import signal
import time

import pytest

from nas_common.interrupt import SigintLatch


def test_a_swallowed_ctrl_c_is_raised_again_at_the_checkpoint():
    before = signal.getsignal(signal.SIGINT)
    with SigintLatch() as latch:
        latch.raise_if_interrupted()  # nothing yet
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here
        except BaseException:  # noqa: BLE001, S110 - what a finaliser or a careless library does to it
            pass
        with pytest.raises(KeyboardInterrupt):
            latch.raise_if_interrupted()
    assert signal.getsignal(signal.SIGINT) is before
