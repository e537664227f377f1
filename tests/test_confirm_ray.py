"""`nas confirm` on Ray (slow: each run starts Ray and trains tiny students): end to end, SIGKILL then
`--resume`, a Ray worker killed mid-trial, and `--ray-address` pointing at a head this test starts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.confirm_helpers import make_inputs, toy_args

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def short_temp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short private TMPDIR for the commands (Ray's session folders go there, its socket paths stay under
    107 bytes), removed afterwards: a SIGKILLed command cannot remove its own."""
    temp = Path(tempfile.mkdtemp(prefix="nas-t-"))
    monkeypatch.setenv("TMPDIR", str(temp))
    yield temp
    shutil.rmtree(temp, ignore_errors=True)


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _start(args: list[str], log: Path) -> subprocess.Popen:
    """`nas ARGS` in its own process group (so the test can kill it and everything it started)."""
    with log.open("w") as handle:
        return subprocess.Popen([sys.executable, "-m", "nas.cli", *args], stdout=handle, stderr=subprocess.STDOUT,
                                env=_env(), start_new_session=True)


def _run(args: list[str], log: Path, timeout: float = 600) -> int:
    process = _start(args, log)
    try:
        return process.wait(timeout)
    finally:
        _kill_group(process)


def _kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """`sig` to the process group this test started; SIGKILL when it is still there 30 s later."""
    for signal_now in (sig, signal.SIGKILL):
        try:
            os.killpg(process.pid, signal_now)
        except ProcessLookupError:
            break
        try:
            process.wait(30)
            break
        except subprocess.TimeoutExpired:
            continue


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _attempts(run: Path, arch_id: int) -> list[dict]:
    path = run / "confirm" / "models" / str(arch_id) / "attempts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def _confirmed(run: Path) -> list[dict]:
    import pandas as pd

    return pd.read_csv(run / "confirmed.csv").to_dict("records")


def test_end_to_end_toy(tmp_path: Path) -> None:
    from transformers import MobileBertForPreTraining

    paths = make_inputs(tmp_path)
    run = Path(paths["run"])
    log = tmp_path / "log"
    assert _run(toy_args(paths, "--top", "2", "--max-steps", "8"), log) == 0, log.read_text()
    rows = _confirmed(run)
    assert [r["arch_id"] for r in rows] == [3, 2]  # the two best estimates, best first
    survivors = [r for r in rows if r["status"] == "survived"]
    assert survivors and all(r["steps"] == 8 and r["dev_steps"] == 8 for r in survivors)
    assert all(r["heldout_mlm"] > 0 for r in rows)
    for r in rows:  # the survivors' models are kept and load with transformers; the stopped ones are removed
        model = run / "confirm" / "models" / str(r["arch_id"]) / "model"
        if r["status"] == "survived":
            assert MobileBertForPreTraining.from_pretrained(model).config.num_hidden_layers == 3
            # one copy on disk: the weights are a hard link to Tune's last checkpoint, not a second file
            saved = sorted((run / "confirm" / "tune" / f"arch-{r['arch_id']}").glob("checkpoint_*"))[-1]
            assert (model / "model.safetensors").stat().st_ino == (saved / "model.safetensors").stat().st_ino
        else:
            assert not model.exists() and r["steps"] < 8
    assert "confirmed best" in (run / "pareto.html").read_text()
    best = json.loads((run / "best" / "confirmed.json").read_text())
    assert best["arch_id"] in {r["arch_id"] for r in survivors}
    assert "best/ re-chosen from the confirmed results" in log.read_text()
    table = subprocess.run([sys.executable, "-m", "nas.cli", "pareto", str(run)], capture_output=True, text=True,
                           env=_env())
    assert table.returncode == 0 and "confirmed" in table.stdout and "@8" in table.stdout
    again = subprocess.run([sys.executable, "-m", "nas.cli", *toy_args(paths, "--top", "2", "--max-steps", "8")],
                           capture_output=True, text=True, env=_env())
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_sigkill_then_resume_reruns_no_finished_trial(tmp_path: Path) -> None:
    paths = make_inputs(tmp_path)
    run = Path(paths["run"])
    args = toy_args(paths, "--top", "3", "--max-steps", "16", "--cpus", "1")  # one trial at a time
    log = tmp_path / "first.log"
    process = _start(args, log)
    try:  # the first trial (arch 3) finished, and the next one has reported since (Tune saved its state)
        _wait_for(lambda: "arch-3 rung 2" in log.read_text() and "arch-2 rung" in log.read_text(), 400,
                  "a finished trial and a later report")
    finally:
        _kill_group(process)
    assert process.returncode == -signal.SIGKILL
    assert not (run / "confirmed.csv").exists()
    assert _run([*args[:2], "--resume"], tmp_path / "second.log") == 0, (tmp_path / "second.log").read_text()
    rows = _confirmed(run)
    assert sorted(r["arch_id"] for r in rows) == [1, 2, 3]  # every trial once
    assert len(_attempts(run, 3)) == 1  # finished before the kill: not run again
    for arch_id in (1, 2, 3):
        starts = [a["start_step"] for a in _attempts(run, arch_id)]
        # a restart continues from the trial's last checkpoint (0 only when it was killed before its first rung)
        resumed = [step for step in starts if step]
        assert starts == sorted(starts) and len(resumed) == len(set(resumed)), starts


def test_a_killed_worker_is_retried_from_its_checkpoint(tmp_path: Path) -> None:
    paths = make_inputs(tmp_path)
    run = Path(paths["run"])
    log = tmp_path / "log"
    process = _start(toy_args(paths, "--top", "1", "--max-steps", "48", "--dev-rungs", "1", "--cpus", "1"), log)
    try:
        _wait_for(lambda: "arch-3 rung 0" in log.read_text(), 300, "the first rung")
        worker = _attempts(run, 3)[0]["pid"]
        os.kill(worker, signal.SIGKILL)
        assert process.wait(400) == 0, log.read_text()
    finally:
        _kill_group(process)
    attempts = _attempts(run, 3)
    assert len(attempts) == 2 and attempts[1]["pid"] != worker
    assert attempts[1]["start_step"] in (12, 24)  # from the last checkpoint, not from scratch
    (row,) = _confirmed(run)
    assert row["status"] == "survived" and row["steps"] == 48


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_trials_run_on_the_cluster_at_ray_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = make_inputs(tmp_path)
    port = _free_port()
    # Both sides use Ray's token authentication explicitly (the token in ~/.ray/auth_token, made if missing).
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    temp = Path(tempfile.mkdtemp(prefix="nas-ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    ray = Path(sys.executable).parent / "ray"
    head = subprocess.Popen([str(ray), "start", "--head", "--port", str(port), "--num-cpus", "2",
                             "--node-ip-address", "127.0.0.1", "--temp-dir", str(temp), "--include-dashboard",
                             "false", "--block"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
                            start_new_session=True)
    try:
        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        _wait_for(listening, 120, "the Ray head")
        log = tmp_path / "log"
        address = f"127.0.0.1:{port}"
        assert _run(toy_args(paths, "--top", "2", "--max-steps", "4", "--rungs", "2", "--ray-address", address),
                    log) == 0, log.read_text()
        run = Path(paths["run"])
        # Ray names the head by the node's address; the port is the one this test chose for it
        assert {a["gcs_address"].rsplit(":", 1)[1] for i in (2, 3) for a in _attempts(run, i)} == {str(port)}
        assert len(_confirmed(run)) == 2
    finally:
        _kill_group(head, signal.SIGTERM)
        shutil.rmtree(temp, ignore_errors=True)
