"""`nas supernet train` as real processes: killed with SIGKILL and resumed, and 2 gloo processes under torchrun,
each compared with an uninterrupted single-process run at the same global batch."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from nas.supernet.store import WEIGHTS
from tests.supernet_helpers import toy_inputs, train_argv

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}


def _nas(*argv: str) -> list[str]:
    return [sys.executable, "-m", "nas.cli", *argv]


def _weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(out / WEIGHTS / "model.safetensors")


def _logged_steps(out: Path) -> int:
    log = out / "losses.csv"
    return max(0, len(log.read_text().splitlines()) - 1) if log.is_file() else 0


def _kill_after(argv: list[str], logged: Path, steps: int) -> None:
    """Start `argv`, SIGKILL it once `logged`/losses.csv has `steps` rows."""
    process = subprocess.Popen(argv, env=ENV, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while _logged_steps(logged) < steps and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], Path]:
    """An uninterrupted single-process run of 6 steps, checkpoint every step."""
    paths = toy_inputs(tmp_path_factory.mktemp("supernet_inputs"))
    out = tmp_path_factory.mktemp("reference") / "sn"
    subprocess.run(_nas(*train_argv(paths, out, "--steps", "6", "--checkpoint-every", "1")), check=True, env=ENV,
                   cwd=REPO, capture_output=True)
    return paths, out


@pytest.mark.slow
def test_sigkill_then_resume_is_bit_identical(reference: tuple[dict[str, Path], Path], tmp_path: Path) -> None:
    paths, ref = reference
    out = tmp_path / "sn"
    _kill_after(_nas(*train_argv(paths, out, "--steps", "6", "--checkpoint-every", "1")), out, steps=3)
    assert not (out / WEIGHTS).exists()
    subprocess.run(_nas(*train_argv(paths, out, "--steps", "6", "--checkpoint-every", "1", "--resume")),
                   check=True, env=ENV, cwd=REPO, capture_output=True)
    a, b = _weights(ref), _weights(out)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (ref / "losses.csv").read_text() == (out / "losses.csv").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_processes_match_one(reference: tuple[dict[str, Path], Path], tmp_path: Path) -> None:
    paths, ref = reference
    out = tmp_path / "sn"
    start = time.time()
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(_free_port()),
         "-m", "nas.cli", *train_argv(paths, out, "--steps", "6", "--checkpoint-every", "1")],
        env=ENV, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    print(f"2 processes: {time.time() - start:.1f} s")
    a, b = _weights(ref), _weights(out)
    for name in a:  # the same global batch: equal up to the order of float additions
        torch.testing.assert_close(b[name], a[name], atol=2e-5, rtol=1e-4)
    ref_rows = (ref / "losses.csv").read_text().splitlines()
    rows = (out / "losses.csv").read_text().splitlines()
    assert len(rows) == len(ref_rows) == 7


@pytest.mark.slow
def test_a_split_supernet_under_two_gloo_processes_matches_one(tmp_path: Path) -> None:
    """The default split supernet trains its parts one after another in every process: each part equals the
    single-process one (a rank that ran ahead to the next part once left the other waiting on a closed peer)."""
    paths = toy_inputs(tmp_path / "inputs")
    argv = train_argv(paths, tmp_path / "one", "--steps", "6", "--checkpoint-every", "1", "--split", "bottleneck")
    subprocess.run(_nas(*argv), check=True, env=ENV, cwd=REPO, capture_output=True)
    two = tmp_path / "two"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(_free_port()),
         "-m", "nas.cli", *train_argv(paths, two, "--steps", "6", "--checkpoint-every", "1", "--split", "bottleneck")],
        env=ENV, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (two / "supernet.json").is_file()
    for part in ("b8", "b16", "bnone"):
        a, b = _weights(tmp_path / "one" / "parts" / part), _weights(two / "parts" / part)
        for name in a:
            torch.testing.assert_close(b[name], a[name], atol=2e-5, rtol=1e-4)


@pytest.mark.slow
def test_a_split_supernet_killed_in_its_second_part_resumes_bit_identical(tmp_path: Path) -> None:
    paths = toy_inputs(tmp_path / "inputs")
    extra = ("--steps", "6", "--checkpoint-every", "1", "--split", "bottleneck")
    whole = tmp_path / "whole"
    subprocess.run(_nas(*train_argv(paths, whole, *extra)), check=True, env=ENV, cwd=REPO, capture_output=True)
    out = tmp_path / "killed"
    # two steps a part: killed after the second part's first step
    _kill_after(_nas(*train_argv(paths, out, *extra)), out / "parts" / "b16", steps=1)
    assert not (out / "supernet.json").exists()
    subprocess.run(_nas(*train_argv(paths, out, *extra, "--resume")), check=True, env=ENV, cwd=REPO,
                   capture_output=True)
    for part in ("b8", "b16", "bnone"):
        a, b = _weights(whole / "parts" / part), _weights(out / "parts" / part)
        assert all(torch.equal(a[k], b[k]) for k in a), part
