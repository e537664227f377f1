"""One writer per run directory (issue 33, class 6), as users meet it: real `nas search --resume` and
`nas confirm` processes on one run, a writer killed with SIGKILL and a new one after it.

Whatever the interleaving: nothing duplicated (trial ids unique and contiguous), nothing lost (every trial the
last writer was asked for is there), and a refused writer exits 2 with one line naming the other process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from nas_common.errors import UserInputError
from nas_common.run_lock import LOCK_NAME, RunLock

NAS = [sys.executable, "-c", "from nas.cli import main; main()"]
# A private copy of the profile: an edit of device_profiles/pixel4.toml while the test runs would change the
# profile hash between the first search and its resume (a refusal that is not the lock's).
PROFILE = Path(tempfile.mkdtemp(prefix="nas-run-lock-")) / "pixel4.toml"
PROFILE.write_bytes((Path(__file__).resolve().parents[1] / "device_profiles" / "pixel4.toml").read_bytes())
SMALL = ["search", "--profile", str(PROFILE), "--budget", "62ms", "--space", "mobilebert-small", "--seed", "0"]
FOREVER = "1000000"  # trials: a search that runs until it is killed
HOLD = ("import sys, time\nfrom nas_common.run_lock import RunLock\nwith RunLock(sys.argv[1]):\n"
        "    print('held', flush=True)\n    time.sleep(600)\n")


def nas(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NAS, *args], capture_output=True, text=True, timeout=300)


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*NAS, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def journal_ids(run: Path) -> list[int]:
    """The ids of the journal's complete lines (a torn last line left out, as every reader does)."""
    raw = (run / "trials.jsonl").read_bytes()
    return [json.loads(line)["id"] for line in raw[: raw.rfind(b"\n") + 1].splitlines() if line.strip()]


def assert_whole(run: Path, trials: int | None = None) -> int:
    ids = journal_ids(run)
    assert ids == list(range(len(ids))), "trial ids duplicated or missing"
    if trials is not None:
        assert len(ids) == trials
    return len(ids)


def refused_by(result: subprocess.CompletedProcess[str] | tuple[int, str], pid: int, run: Path) -> None:
    code, err = (result.returncode, result.stderr) if not isinstance(result, tuple) else result
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"error: run {run} is being written by process {pid} ("), lines[0]
    assert lines[0].endswith("wait for it or stop it")


def wait_for_lock(run: Path, pid: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if json.loads((run / LOCK_NAME).read_text()).get("pid") == pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never took the lock of {run}")


@pytest.fixture
def run(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    result = nas(*SMALL, "--out", str(out), "--trials", "16")
    assert result.returncode == 0, result.stderr
    assert not (out / LOCK_NAME).exists()  # released and removed at the end
    return out


def test_confirm_and_a_second_search_beside_a_running_search_then_kill_9(run: Path, tmp_path: Path) -> None:
    writer = start(*SMALL, "--out", str(run), "--trials", FOREVER, "--resume")
    try:
        wait_for_lock(run, writer.pid, writer)
        refused_by(nas(*SMALL, "--out", str(run), "--trials", FOREVER, "--resume"), writer.pid, run)
        # refused before anything is checked, deleted or trained (the teacher and corpus do not even exist)
        refused_by(nas("confirm", str(run), "--teacher", str(tmp_path / "t"), "--corpus", str(tmp_path / "c"),
                       "--task", "sst2"), writer.pid, run)
        assert not (run / "confirm").exists() and not (run / "confirmed.csv").exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    done = assert_whole(run)
    assert done >= 16
    assert nas("pareto", str(run)).returncode == 0  # a torn last line is left out, not repaired
    again = nas(*SMALL, "--out", str(run), "--trials", str(done + 40), "--resume")  # the dead pid's lock is free
    assert again.returncode == 0, again.stderr
    assert_whole(run, done + 40)
    assert (run / "trials.jsonl").read_bytes().endswith(b"\n")
    assert not (run / LOCK_NAME).exists()


def test_two_resumes_at_once_never_duplicate_a_trial(run: Path) -> None:
    both = [start(*SMALL, "--out", str(run), "--trials", "1500", "--resume") for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in both]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # overlapping: one refused; one after the other: both finish
    for process, (code, err) in zip(both, results, strict=True):
        if code == 2:
            winner = next(p for p in both if p is not process)
            refused_by((code, err), winner.pid, run)
    assert_whole(run, 1500)
    pareto = nas("pareto", str(run), "--json")
    assert pareto.returncode == 0, pareto.stderr
    json.loads(pareto.stdout)


def test_a_holder_killed_with_sigkill_leaves_no_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(UserInputError, match=f"being written by process {holder.pid} "):
            RunLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    assert (tmp_path / LOCK_NAME).exists()  # the dead holder's file stays, but no lock with it
    with RunLock(tmp_path) as lock:
        assert lock.held
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_refused_or_finished_lock_leaves_no_folder_it_made(tmp_path: Path) -> None:
    with RunLock(tmp_path / "a" / "b"):
        with pytest.raises(UserInputError, match="being written by process"):
            RunLock(tmp_path / "a" / "b").acquire()
    assert not (tmp_path / "a").exists()
    with RunLock(tmp_path / "c", create=False) as lock:  # nothing to lock: the caller reports the missing run
        assert not lock.held
    assert not (tmp_path / "c").exists()
