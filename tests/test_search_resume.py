"""Resuming, interrupting and re-reading a run as a user does (issue 8 items 7, 11, 13, 15)."""

import json
import math
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nas.accuracy.resolution import UNKNOWN_DIGITS, decimals

NAS = [sys.executable, "-c", "from nas.cli import main; main()"]
SMALL = ["search", "--device", "pixel4", "--budget", "62ms", "--space", "mobilebert-small", "--seed", "0"]


def nas(*args, env=None):
    return subprocess.run([*NAS, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("resume") / "run"
    result = nas(*SMALL, "--out", str(run), "--trials", "128")
    assert result.returncode == 0, result.stderr
    return run


def snapshot(run):
    return {p.name: p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def test_resume_never_shrinks_a_run(small_run):
    before = snapshot(small_run)
    result = nas(*SMALL, "--out", str(small_run), "--trials", "64", "--resume")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot resume {small_run} with --trials 64: the run already has 128 trials and a resumed run "
        "never shrinks (give --trials 128 or more)"]
    assert snapshot(small_run) == before
    same = nas(*SMALL, "--out", str(small_run), "--trials", "128", "--resume")
    assert same.returncode == 0, same.stderr


def test_resume_without_a_run_is_refused(tmp_path):
    result = nas(*SMALL, "--out", str(tmp_path / "typo"), "--resume")
    assert result.returncode == 2 and "holds no search run" in result.stderr
    assert not (tmp_path / "typo").exists()


def test_pareto_fits_80_columns_when_piped(small_run):
    result = nas("pareto", str(small_run), env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) > 5 and max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout  # no column cut short
    front = json.loads(nas("pareto", str(small_run), "--json").stdout)
    scatter = json.loads((small_run / "run.json").read_text())["estimator"]["loss_scatter"]
    # the estimate in nats, to the estimator's resolution (params, the default outside the predictor's space, has none)
    shown = f".{decimals(scatter)}f" if scatter else UNKNOWN_DIGITS
    assert all(f"{-math.log(p['accuracy']):{shown}}" in result.stdout for p in front)


def _default_sigint() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signal_state(pid: int) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "unknown"
    return "; ".join(line for line in status if line.startswith(("State", "SigBlk", "SigIgn", "SigCgt")))


def test_sigint_says_how_to_continue_and_that_command_finishes_the_run(tmp_path):
    run = tmp_path / "run"
    # As from a shell: SIGINT at its default and unblocked, whatever an earlier test left in pytest's process
    # (a blocked or ignored SIGINT is inherited by the child; in two full-suite runs the child never stopped).
    process = subprocess.Popen([*NAS, *SMALL, "--out", str(run), "--trials", "100000"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    journal = run / "trials.jsonl"
    deadline = time.time() + 300  # generous: on a loaded 2-core machine start-up and lowering take minutes
    while time.time() < deadline and not (journal.exists() and journal.read_bytes().count(b"\n") >= 128):
        time.sleep(0.05)
    assert journal.exists(), "the search wrote no trial in 300 s"
    signal_state = _signal_state(process.pid)
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"the search did not stop within 300 s of SIGINT; its signal state then: {signal_state}")
    assert process.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted: the finished trials are saved in") and "--resume" in last
    command = shlex.split(last.split("continue with: ", 1)[1])
    assert command[:2] == ["nas", "search"] and command[-1] == "--resume"
    done = journal.read_bytes().count(b"\n")
    trials = command.index("--trials")
    command[trials + 1] = str(done + 64)  # the printed command, grown a little so the test stays short
    resumed = nas(*command[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run / "run.json").read_text())["summary"]["trials"] == done + 64


def test_teacher_fixes_the_width_and_train_md_uses_it(tmp_path):
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "config.json").write_text(json.dumps({"model_type": "mobilebert", "hidden_size": 384,
                                                     "num_attention_heads": 4, "num_hidden_layers": 24,
                                                     "vocab_size": 30522}))
    run = tmp_path / "run"
    result = nas("search", "--device", "pixel4", "--budget", "62ms", "--out", str(run), "--trials", "64",
                 "--teacher", str(teacher))
    assert result.returncode == 0, result.stderr
    trials = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
    assert {t["arch"]["hidden_size"] for t in trials} == {384}
    guide = (run / "best" / "TRAIN.md").read_text()
    assert f"--teacher {teacher} --schedule pkt" in guide and "nas teacher --arch" not in guide
    assert not (run / "best" / "teacher.json").exists()
    narrow = nas(*SMALL, "--out", str(tmp_path / "small"), "--teacher", str(teacher))  # this space is 512 wide
    assert narrow.returncode == 2 and "384 wide, not a hidden_size of search space" in narrow.stderr
    wrong = nas(*SMALL, "--out", str(tmp_path / "x"), "--teacher", str(tmp_path))
    assert wrong.returncode == 2 and "no readable config.json" in wrong.stderr


def test_a_run_written_by_the_previous_version_resumes(small_run, tmp_path):
    """run.json without the newer options, a journal that calls the generation `batch`: it still grows."""
    import shutil

    run = tmp_path / "old"
    shutil.copytree(small_run, run)
    info = json.loads((run / "run.json").read_text())
    for key in ("estimator_options", "teacher"):
        del info["options"][key]
    (run / "run.json").write_text(json.dumps(info))
    old_lines = []
    for line in (run / "trials.jsonl").read_text().splitlines():
        record = json.loads(line)
        record["batch"] = record.pop("generation")
        old_lines.append(json.dumps(record))
    (run / "trials.jsonl").write_text("\n".join(old_lines) + "\n")
    result = nas(*SMALL, "--out", str(run), "--trials", "192", "--resume")
    assert result.returncode == 0, result.stderr
    lines = (run / "trials.jsonl").read_text().splitlines()
    assert len(lines) == 192 and lines[:128] == old_lines  # the old trials are kept as they were
    assert "generation" in (run / "trials.csv").read_text().splitlines()[0]


def test_resume_after_confirm_keeps_the_confirmed_best(small_run, tmp_path):
    """`nas confirm` chose best/ from measured results; resuming the search must not put pick 0 back."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    front = json.loads(nas("pareto", str(run), "--json").stdout)
    chosen = front[-1]  # not pick 0: the confirmed winner need not be the best estimate
    record = json.loads((run / "run.json").read_text())
    record["confirmed"] = {"best": {"arch_id": chosen["id"], "pick": len(front) - 1, "measured": "sst2 0.800 @8"}}
    (run / "run.json").write_text(json.dumps(record))
    (run / "best" / "confirmed.json").write_text(json.dumps({"arch_id": chosen["id"]}))
    (run / "best" / "arch.json").write_text('{"marker": "the confirmed winner"}')
    best_before = (run / "best" / "arch.json").read_bytes()
    result = nas(*SMALL, "--out", str(run), "--trials", "160", "--resume")
    assert result.returncode == 0, result.stderr
    assert (run / "best" / "arch.json").read_bytes() == best_before
    assert json.loads((run / "best" / "confirmed.json").read_text())["arch_id"] == chosen["id"]
    assert "best/ kept" in " ".join((result.stdout + result.stderr).split())
