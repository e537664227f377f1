"""Strategies × executors end to end through the CLI (small trial counts): NNI tuners, and any strategy on Ray."""

import json
import subprocess
import sys

import pytest

NAS = [sys.executable, "-c", "from nas.cli import main; main()"]


def search(out, *extra, ok=True):
    result = subprocess.run([*NAS, "search", "--device", "pixel4", "--budget", "62ms", "--space", "mobilebert-small",
                             "--out", str(out), *extra], capture_output=True, text=True, timeout=300)
    if not ok:
        return result
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("strategy", ["nni", "nni-tpe"])
def test_nni_tuners_end_to_end(strategy, tmp_path):
    trials = search(tmp_path / "run", "--strategy", strategy, "--trials", "40")
    assert [t["id"] for t in trials] == list(range(40))
    assert (tmp_path / "run" / "best" / "config.json").is_file()


@pytest.mark.parametrize("strategy", ["nsga2", "random"])
def test_ray(strategy, tmp_path):
    """Any strategy evaluates on Ray (a local Ray: 2 CPUs, no dashboard) and proposes exactly what it proposes
    in-process, with the same scores (up to float rounding: a Ray call predicts one arch, the in-process
    evaluator a batch). Ray's session directory is a temporary one, removed at the end: pytest's tmp_path is
    too long for Ray's unix socket paths (107 bytes)."""
    run = tmp_path / "r"
    trials = search(run, "--strategy", strategy, "--trials", "70", "--executor", "ray")
    assert [t["id"] for t in trials] == list(range(70))
    assert json.loads((run / "run.json").read_text())["executor"] == "ray"
    local = search(tmp_path / "local", "--strategy", strategy, "--trials", "70")
    assert [t["arch"] for t in trials] == [t["arch"] for t in local]
    assert [t["latency_ms"] for t in trials] == pytest.approx([t["latency_ms"] for t in local], rel=1e-9)
    assert [t["accuracy"] for t in trials] == [t["accuracy"] for t in local]


def test_strategy_ray_is_a_deprecated_alias(tmp_path, monkeypatch, capsys):
    # a refusal stays one line: the deprecation warning comes once the checks have passed
    result = search(tmp_path / "r", "--strategy", "ray", "--budget", "1ms", ok=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: budget 1 ms")
    from nas.search import executor as search_executor
    from nas.search import run as search_run
    from tests.bad_input_support import run_cli

    seen = []

    def in_process(name, *args, **kwargs):  # no Ray cluster in a unit test: the alias's executor is checked, not run
        seen.append(name)
        return search_executor.make_executor(search_executor.DEFAULT_EXECUTOR, *args, **kwargs)

    monkeypatch.setattr(search_run, "make_executor", in_process)
    code, _, err = run_cli(["search", "--device", "pixel4", "--budget", "62ms", "--space", "mobilebert-small",
                            "--strategy", "ray", "--trials", "4", "--out", str(tmp_path / "ok")], capsys)
    assert code == 0 and seen == ["ray"], err
    assert err.splitlines()[0] == "warning: --strategy ray is deprecated; it runs --strategy evolution --executor ray"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_ray_address_is_refused_before_the_run_is_written(tmp_path):
    # ray.init retries an unreachable head for minutes and prints its retries; a typo'd address must cost seconds
    # and leave --out free for the corrected command
    address = f"127.0.0.1:{_closed_port()}"
    result = search(tmp_path / "r", "--executor", "ray", "--ray-address", address, ok=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith(f"error: cannot reach the Ray cluster at {address}")
    assert not (tmp_path / "r").exists()


def test_ray_address_needs_the_ray_executor(tmp_path):
    result = search(tmp_path / "r", "--ray-address", "127.0.0.1:1", ok=False)
    assert result.returncode == 2 and result.stderr.strip() == "error: --ray-address needs --executor ray"


def test_an_executor_that_cannot_start_leaves_no_run_behind(tmp_path, monkeypatch, capsys):
    # e.g. `--ray-address auto` with no cluster: Ray refuses after run.json was written; the corrected command
    # must be able to use the same --out
    from contextlib import contextmanager

    from nas.search import run as search_run
    from nas_common.errors import UserInputError
    from tests.bad_input_support import run_cli

    @contextmanager
    def refusing(*_args, **_kwargs):
        raise UserInputError("cannot start the Ray cluster at auto: no running Ray instance")
        yield

    monkeypatch.setattr(search_run, "make_executor", refusing)
    out = tmp_path / "r"
    argv = ["search", "--device", "pixel4", "--budget", "62ms", "--space", "mobilebert-small", "--trials", "8",
            "--out", str(out)]
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and err.strip() == "error: cannot start the Ray cluster at auto: no running Ray instance"
    assert not (out / "run.json").exists()
    monkeypatch.undo()
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    assert (out / "run.json").exists()
