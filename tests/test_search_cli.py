"""`nas search | pareto | export` end to end, as a user runs them (subprocesses where exit codes matter)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nas.search.pareto import pareto_mask

NAS = [sys.executable, "-c", "from nas.cli import main; main()"]


def nas(*args, check=False):
    return subprocess.run([*NAS, *args], capture_output=True, text=True, check=check)


def read_trials(run):
    return [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("args, message", [
    (["--device", "pixel4", "--budget", "1ms"], "below the fastest architecture"),
    (["--device", "pixel4", "--budget", "fast"], "not a latency"),
    (["--device", "pixel4", "--budget", "62"], "not a latency"),
    (["--device", "nosuch", "--budget", "62ms"], "unknown device"),
    (["--device", "pixel4", "--budget", "62ms", "--strategy", "magic"], "unknown strategy"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    result = nas("search", *args, "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def default_search(tmp_path_factory):
    run = tmp_path_factory.mktemp("search") / "run"
    result = nas("search", "--device", "pixel4", "--budget", "62ms", "--out", str(run), "--seed", "0", check=True)
    return run, result  # its speed is measured in benchmarks/search_quality.py, not asserted here


@pytest.fixture(scope="module")
def default_run(default_search):
    return default_search[0]


def test_search_prints_its_results_on_stdout_and_its_progress_on_stderr(default_search):
    """`nas search ... > front.txt` keeps the summary and the front (as `nas pareto` does); the bar stays on
    stderr, where it does not end up in the file."""
    run, result = default_search
    assert "Pareto front" in result.stdout and "front size" in result.stdout
    assert f"open {run / 'pareto.html'}" in result.stdout
    assert "Pareto front" not in result.stderr and "front size" not in result.stderr
    assert "search" in result.stderr  # the progress bar's last frame


def test_default_search_writes_a_complete_run(default_run):
    run = default_run
    for name in ("run.json", "trials.jsonl", "trials.csv", "pareto.html", "best/arch.json", "best/config.json",
                 "best/TRAIN.md"):
        assert (run / name).is_file(), name
    info = json.loads((run / "run.json").read_text())
    assert info["seed"] == 0 and info["options"]["profile_hash"] and info["versions"]["python"]
    trials = read_trials(run)
    assert len(trials) == info["summary"]["trials"] == len({t["id"] for t in trials})
    front = json.loads(nas("pareto", str(run), "--json", check=True).stdout)
    assert front and all(p["latency_ms"] <= 62.0 for p in front)
    table = " ".join(nas("pareto", str(run), check=True).stdout.split())  # the caption wraps at 80 columns
    scatter = info["estimator"]["loss_scatter"]
    assert scatter > 0 and f"loss: predicted held-out MLM loss of the inherited sub-network (nats, lower is " \
        f"better) by the predictor estimator, ±{scatter:.2f} nats (sd of its" in table
    assert "; measured quality:" in table
    assert " ".join(info["estimator"]["quality"].split()) in table
    best = json.loads((run / "best" / "arch.json").read_text())
    assert best == front[0]["arch"] and front[0]["latency_ms"] <= 62.0
    feasible = [t for t in trials if t["feasible"]]
    mask = pareto_mask([t["latency_ms"] for t in feasible], [t["accuracy"] for t in feasible])
    assert {t["id"] for t, m in zip(feasible, mask, strict=True) if m} >= {p["id"] for p in front}
    html = (run / "pareto.html").read_text()
    assert "Pareto front" in html and "mobilebert-tiny" in html and "budget 62 ms" in html
    assert "recommended: pick 0" in html and "predicted held-out MLM loss of the inherited sub-network (nats)" in html
    assert "lower is better" in html
    assert "hypervolume" not in info["summary"] and 0 < info["quality"]["hypervolume"] < 1
    # the default estimator (issue 31's rule): the shipped predictor, searching its own space
    assert info["estimator"]["name"] == "predictor" and "shipped proof-seed0: Spearman" in info["estimator"]["quality"]
    assert info["options"]["space"] == "supernet-minilm-384" and all(t["arch"]["hidden_size"] == 384 for t in trials)


def test_train_md_gives_a_teacher_of_the_picks_width(default_run):
    from nas.export.train_guide import commands

    run = default_run
    best = run / "best"
    guide = (best / "TRAIN.md").read_text()
    width = json.loads((best / "arch.json").read_text())["hidden_size"]
    teacher = json.loads((best / "teacher.json").read_text())
    assert teacher["hidden_size"] == width and teacher["num_hidden_layers"] == 24  # IB-BERT_LARGE at that width
    assert teacher["intra_bottleneck_size"] == 1024 and teacher["intermediate_size"] == 4096
    paper = commands(guide, "Paper scale")
    assert paper == [f"nas teacher --arch {best}/teacher.json --out {best}-teacher",
                     f"nas distill --student {best} --teacher {best}-teacher --schedule pkt --out {best}-distilled",
                     f"nas finetune --model {best}-distilled --task sst2 --out {best}-sst2"]
    assert [line.split(" --")[0] for line in commands(guide, "Toy sizes")] == [p.split(" --")[0] for p in paper]
    assert "--projection" in guide


def test_best_config_loads_with_transformers(default_run):
    from transformers import MobileBertConfig

    run = default_run
    config = MobileBertConfig.from_pretrained(str(run / "best"))
    arch = json.loads((run / "best" / "arch.json").read_text())
    assert config.num_hidden_layers == arch["num_hidden_layers"] and config.hidden_size == arch["hidden_size"]


def test_existing_run_is_not_overwritten_without_resume(default_run):
    run = default_run
    before = (run / "trials.jsonl").read_bytes()
    result = nas("search", "--device", "pixel4", "--budget", "62ms", "--out", str(run), "--seed", "0")
    assert result.returncode == 2 and "--resume" in result.stderr
    assert (run / "trials.jsonl").read_bytes() == before
    changed = nas("search", "--device", "pixel4", "--budget", "62ms", "--out", str(run), "--seed", "1", "--resume")
    assert changed.returncode == 2 and "seed" in changed.stderr


def test_export_pick_and_max_latency(default_run, tmp_path):
    run = default_run
    front = json.loads(nas("pareto", str(run), "--json", check=True).stdout)
    nas("export", str(run), "--pick", "1", "--to", str(tmp_path / "one"), check=True)
    assert json.loads((tmp_path / "one" / "arch.json").read_text()) == front[1]["arch"]
    quality = json.loads((run / "run.json").read_text())["estimator"]["quality"]
    for guide in (tmp_path / "one" / "TRAIN.md", run / "best" / "TRAIN.md"):  # the estimate comes with its quality
        assert f"How far to trust that estimate, as measured: {quality}." in guide.read_text()
    nas("export", str(run), "--max-latency", "30ms", "--to", str(tmp_path / "fast"), check=True)
    expected = next(p for p in front if p["latency_ms"] <= 30.0)
    assert json.loads((tmp_path / "fast" / "arch.json").read_text()) == expected["arch"]
    bad = nas("export", str(run), "--pick", "100000", "--to", str(tmp_path / "x"))
    assert bad.returncode == 2 and "out of range" in bad.stderr


def test_sigkill_halfway_then_resume_matches_an_uninterrupted_run(default_run, tmp_path):
    reference_run = default_run
    run = tmp_path / "killed"
    args = ["search", "--device", "pixel4", "--budget", "62ms", "--out", str(run), "--seed", "0"]
    process = subprocess.Popen([*NAS, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = run / "trials.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 800:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the search finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    lines_at_kill = journal.read_bytes().count(b"\n")
    assert 0 < lines_at_kill < 2000
    nas(*args, "--resume", check=True)
    resumed, reference = read_trials(run), read_trials(reference_run)
    ids = [t["id"] for t in resumed]
    assert len(ids) == len(set(ids)) == len(reference) == 2000
    key = lambda t: (t["id"], json.dumps(t["arch"], sort_keys=True), t["latency_ms"], t["accuracy"])  # noqa: E731
    assert sorted(map(key, resumed)) == sorted(map(key, reference))


def test_corrupt_journal_on_resume_is_one_line_and_exit_2(tmp_path):
    run = tmp_path / "run"
    args = ["search", "--device", "pixel4", "--budget", "62ms", "--out", str(run), "--seed", "0", "--trials", "64"]
    nas(*args, check=True)
    lines = (run / "trials.jsonl").read_text().splitlines()
    lines[3] = "{garbage"
    (run / "trials.jsonl").write_text("\n".join(lines) + "\n")
    result = nas(*args, "--resume")
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]  # a progress line may precede it
    assert last.startswith("error: ") and "trials.jsonl:4: not a trial record" in last
    assert "Traceback" not in result.stderr
