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


def test_stop_at_step_end_counts_a_forwarded_press_once_and_a_second_press_stops_at_once():
    from nas_common.interrupt import StopAtStepEnd

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (CI may run in background)
    try:
        with StopAtStepEnd(grace_s=2.0) as stop:  # wide: a loaded machine may pause between the two kills
            assert not stop.requested
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)  # the same press, forwarded by a parent process
            time.sleep(0.1)
            assert stop.requested
            time.sleep(2.1)
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)


def test_stop_at_step_end_leaves_an_ignored_sigint_alone():
    from nas_common.interrupt import StopAtStepEnd

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with StopAtStepEnd() as stop:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            assert not stop.requested
    finally:
        signal.signal(signal.SIGINT, before)


def test_stop_at_step_end_takes_sigterm_and_exits_as_a_terminated_process_would():
    from nas_common.interrupt import StopAtStepEnd

    before = signal.getsignal(signal.SIGTERM)
    with StopAtStepEnd() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
        assert stop.requested
        assert isinstance(stop.stop(), SystemExit) and stop.stop().code == 143
    assert signal.getsignal(signal.SIGTERM) is before
