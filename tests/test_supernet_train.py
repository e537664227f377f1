"""`nas supernet train`: bit-exact resume, gradient accumulation, the sampler, the output checks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from nas.cli import main
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.pipeline import SupernetOptions, run_supernet
from nas.supernet.sampler import step_archs
from nas.supernet.space import largest, load_space, smallest
from nas.supernet.store import META, WEIGHTS
from tests.supernet_helpers import toy_inputs, train_argv

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return toy_inputs(tmp_path_factory.mktemp("supernet_inputs"))


def options(paths: dict[str, Path], out: Path, **changes: object) -> SupernetOptions:
    base = {"steps": 5, "batch_size": 4, "seq_len": 24, "max_predictions": 4, "lr": 1e-3, "warmup": 1,
            "checkpoint_every": 1, "progress": False, "split": "none"}
    return SupernetOptions(str(paths["teacher"]), str(paths["corpus"]), out,
                           **{"space": str(paths["space"]), **base, **changes})


def weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(out / WEIGHTS / "model.safetensors")


def test_resume_is_bit_exact(paths: dict[str, Path], tmp_path: Path) -> None:
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    run_supernet(options(paths, whole))
    stopped = run_supernet(options(paths, parts, stop_after=3))  # mid pre-training distillation, as if killed
    assert stopped["steps_done"] == 3 and not (parts / META).exists()
    run_supernet(options(paths, parts, resume=True))
    a, b = weights(whole), weights(parts)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (whole / "losses.csv").read_text() == (parts / "losses.csv").read_text()


def test_training_time_is_counted_across_resume(paths: dict[str, Path], tmp_path: Path) -> None:
    """supernet.json's `training_seconds` adds every invocation's time (the checkpoint carries the count), so a
    supernet trained over several sessions reports its whole cost."""
    out = tmp_path / "sn"
    stopped = run_supernet(options(paths, out, stop_after=3))
    assert stopped["training_seconds"] > 0
    checkpoint = out / "checkpoint.pt"
    state = torch.load(checkpoint, weights_only=False)
    state["seconds"] = 1000.0  # as if the first session had trained for 1000 s
    torch.save(state, checkpoint)
    run_supernet(options(paths, out, resume=True))
    meta = json.loads((out / META).read_text())
    assert 1000.0 <= meta["training_seconds"] <= 1000.0 + meta["seconds"] + 0.1  # both rounded to 0.1 s


def test_logs_every_term_of_both_phases(paths: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "sn"
    run_supernet(options(paths, out, steps=4, pd_fraction=0.5))
    with (out / "losses.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["phase"] for r in rows] == ["supernet_layers"] * 2 + ["supernet_pd"] * 2
    assert all(float(r[t]) > 0 for r in rows[:2] for t in ("fm", "attn"))
    assert all(float(r[t]) > 0 for r in rows[2:] for t in ("pd_kd", "pd_mlm", "nsp"))
    assert all(r["subnets"] == "4" for r in rows)  # sandwich: largest, smallest, 2 random


def test_transfer_phase_trains_the_layers_only(paths: dict[str, Path], tmp_path: Path) -> None:
    """Feature-map and attention transfer move every encoder layer; the teacher's embeddings stay frozen."""
    from tests.distill_helpers import tiny_models

    out = tmp_path / "sn"
    details = run_supernet(options(paths, out, steps=2, pd_fraction=0.0))
    trained = weights(out)
    torch.manual_seed(0)
    fresh = ElasticMobileBert(load_space(paths["space"])).model.state_dict()
    teacher, _ = tiny_models()
    word = "mobilebert.embeddings.word_embeddings.weight"
    assert "embeddings.word_embeddings.weight" in details["copied_from_teacher"]
    assert torch.equal(trained[word], teacher.state_dict()[word])
    for layer in range(3):
        name = f"mobilebert.encoder.layer.{layer}.attention.self.query.weight"
        assert not torch.equal(trained[name], fresh[name]), name
    assert torch.equal(trained["cls.seq_relationship.weight"], teacher.state_dict()["cls.seq_relationship.weight"])


def test_micro_batches_match_the_whole_batch(paths: dict[str, Path], tmp_path: Path) -> None:
    run_supernet(options(paths, tmp_path / "whole", steps=3, micro_batch_size=4))
    run_supernet(options(paths, tmp_path / "micro", steps=3, micro_batch_size=1))
    a, b = weights(tmp_path / "whole"), weights(tmp_path / "micro")
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=2e-5, rtol=1e-4)


def test_sandwich_is_a_pure_function_of_the_step(paths: dict[str, Path]) -> None:
    space = load_space(paths["space"])
    first = step_archs(space, "sandwich", 3, seed=0, step=7)
    assert first == step_archs(space, "sandwich", 3, seed=0, step=7)
    assert first[0] == largest(space) and first[1] == smallest(space) and len(first) == 5
    assert any(step_archs(space, "sandwich", 3, 0, s)[2:] != first[2:] for s in range(8, 12))
    assert step_archs(space, "largest", 3, 0, 1) == [largest(space)]


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code, capsys.readouterr().err


def test_output_is_checked_before_training(paths: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sn"
    out.mkdir()
    (out / META).write_text("{}")
    code, err = _run_cli(train_argv(paths, out), capsys)
    assert code == 2 and err.count("\n") == 1 and "--overwrite" in err
    assert not (out / "losses.csv").exists()
    code, err = _run_cli(train_argv(paths, tmp_path / "other", "--space", str(paths["corpus"])), capsys)
    assert code == 2 and err.startswith("error:") and err.count("\n") == 1
    code, err = _run_cli(train_argv(paths, tmp_path / "other2", "--resume"), capsys)
    assert code == 2 and "checkpoint" in err
    wide = tmp_path / "wide.toml"
    wide.write_text(paths["space"].read_text().replace("hidden_size = 32", "hidden_size = 64"))
    code, err = _run_cli(train_argv(paths, tmp_path / "other3", "--space", str(wide)), capsys)
    assert code == 2 and "teacher" in err and err.count("\n") == 1


def test_damaged_checkpoint_is_one_line(paths: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sn"
    run_supernet(options(paths, out, stop_after=1))
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    code, err = _run_cli(train_argv(paths, out, "--resume"), capsys)
    assert code == 2 and "not a readable checkpoint" in err and err.count("\n") == 1


def test_cli_trains_and_overwrites(paths: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sn"
    for extra in ([], ["--overwrite"]):
        code, _ = _run_cli(train_argv(paths, out, "--steps", "2", *extra), capsys)
        assert code == 0 and (out / META).is_file()
    with (out / "losses.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2  # the old log did not survive --overwrite


def test_cli_defaults_fill_unset_options(paths: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """An option left out (here --max-predictions) takes the paper default, not None (it used to crash)."""
    argv = train_argv(paths, tmp_path / "sn", "--steps", "2")
    index = argv.index("--max-predictions")
    code, _ = _run_cli(argv[:index] + argv[index + 2:], capsys)
    assert code == 0
    assert json.loads((tmp_path / "sn" / META).read_text())["options"]["max_predictions"] == 20


def test_init_from_starts_at_the_trained_supernet(paths: dict[str, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A run with --init-from starts at the trained weights (a near-zero learning rate leaves them there), takes
    the space from that directory when --space is not given, and a resumption must name it again."""
    trained, again, fresh = tmp_path / "trained", tmp_path / "again", tmp_path / "fresh"
    run_supernet(options(paths, trained))
    run_supernet(options(paths, again, space=None, init_from=str(trained), lr=1e-12, steps=1))
    run_supernet(options(paths, fresh, lr=1e-12, steps=1))
    a, b, c = weights(trained), weights(again), weights(fresh)
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert not all(torch.allclose(a[k], c[k], atol=1e-3) for k in a)
    assert (again / "space.toml").read_text() == paths["space"].read_text()
    stopped = tmp_path / "stopped"
    run_supernet(options(paths, stopped, init_from=str(trained), stop_after=1))
    code, err = _run_cli(train_argv(paths, stopped, "--resume"), capsys)
    assert code == 2 and "--init-from" in err and err.count("\n") == 1
    code, err = _run_cli(train_argv(paths, tmp_path / "other", "--init-from", str(trained), "--depth-order",
                                    "first"), capsys)
    assert code == 2 and "--depth-order spread" in err and err.count("\n") == 1


def test_sigterm_ends_the_run_after_its_step_with_a_checkpoint(paths: dict[str, Path], tmp_path: Path) -> None:
    """A scheduler's SIGTERM (time limit, eviction) mid-run: exit 143 with one line naming --resume, and a
    checkpoint at the last logged step although none was due (--checkpoint-every 1000)."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "terminated"
    argv = [sys.executable, "-m", "nas.cli", *train_argv(paths, out), "--steps", "5000", "--checkpoint-every", "1000"]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    log, deadline = out / "losses.csv", time.monotonic() + 180
    while (not log.is_file() or len(log.read_text().splitlines()) < 4) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 143, err[-2000:]
    assert "the same command with --resume continues" in err and "Traceback" not in err
    logged = len(log.read_text().splitlines()) - 1
    assert 3 <= logged < 5000
    assert torch.load(out / "checkpoint.pt", weights_only=False)["global_step"] == logged
