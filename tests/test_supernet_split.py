"""`nas supernet train --split bottleneck`: one part per bottleneck width, behind the same interface (score,
extract, the accuracy estimator), resumable part by part."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from nas.cli import main
from nas.supernet.api import load_supernet
from nas.supernet.pipeline import SupernetOptions, run_supernet
from nas.supernet.split import part_spaces, space_toml
from nas.supernet.store import META
from search_spaces.space import SearchSpace
from tests.supernet_helpers import inline, toy_inputs, train_argv

torch.set_num_threads(1)
PARTS = ("b8", "b16", "bnone")


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return toy_inputs(tmp_path_factory.mktemp("supernet_inputs"))


def options(paths: dict[str, Path], out: Path, **changes: object) -> SupernetOptions:
    base = {"steps": 6, "batch_size": 4, "seq_len": 24, "max_predictions": 4, "lr": 1e-3, "warmup": 1,
            "checkpoint_every": 1, "progress": False, "split": "bottleneck", "eval_corpus": str(paths["corpus"])}
    return SupernetOptions(str(paths["teacher"]), str(paths["corpus"]), out,
                           **{"space": str(paths["space"]), **base, **changes})


def assert_same_parts(a: Path, b: Path) -> None:
    """Every part's weights bit-identical in the split supernets `a` and `b`."""
    for part in PARTS:
        wa = load_file(a / "parts" / part / "weights" / "model.safetensors")
        wb = load_file(b / "parts" / part / "weights" / "model.safetensors")
        assert all(torch.equal(wa[k], wb[k]) for k in wa), part


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_part_spaces_fix_one_width_and_round_trip(paths: dict[str, Path], tmp_path: Path) -> None:
    space = SearchSpace.load(paths["space"])
    parts = part_spaces(space)
    assert list(parts) == ["8", "16", "none"]
    for key, part in parts.items():
        assert [str(c) for c in part.dimensions["intra_bottleneck_size"]] == [key]
        (tmp_path / f"{key}.toml").write_text(space_toml(part))
        assert SearchSpace.load(tmp_path / f"{key}.toml") == part


def test_split_trains_each_part_and_scores_through_one_interface(paths: dict[str, Path], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from transformers import MobileBertForPreTraining

    out = tmp_path / "split"
    code, _, err = _run(train_argv(paths, out, "--steps", "6", "--split", "bottleneck", "--eval-corpus",
                                   str(paths["corpus"])), capsys)
    assert code == 0, err
    meta = json.loads((out / META).read_text())
    assert meta["split"]["parts"] == {"8": "b8", "16": "b16", "none": "bnone"}
    assert meta["steps_per_part"] == 2 and meta["steps_done"] == 6
    assert all((out / "parts" / p / META).is_file() for p in PARTS)
    supernet = load_supernet(out)
    rng = np.random.default_rng(0)
    archs = [supernet.space.sample(rng) for _ in range(8)]
    widths = {a.intra_bottleneck_size if a.use_bottleneck else "none" for a in archs}
    assert len(widths) >= 2
    batches = supernet.eval_batches(batches=1, batch_size=3)
    together = supernet.subnet_losses(archs, batches)
    alone = [supernet.subnet_losses([a], batches)[0] for a in archs]
    assert together == alone
    arch = next(a for a in archs if a.use_bottleneck)
    code, _, err = _run(["supernet", "extract", str(out), "--arch", inline(
        **{k: getattr(arch, k) for k in ("num_hidden_layers", "intra_bottleneck_size", "num_attention_heads",
                                         "intermediate_size", "num_feedforward_networks")}), "--out",
        str(tmp_path / "sub")], capsys)
    assert code == 0, err
    model = MobileBertForPreTraining.from_pretrained(tmp_path / "sub", attn_implementation="eager").eval()
    inputs = {k: batches[0][k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        want = supernet.elastic.view(arch)(**inputs).prediction_logits
        got = model(**inputs).prediction_logits
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    code, printed, err = _run(["supernet", "score", str(out), "--arch", inline(num_hidden_layers=1), "--json"],
                              capsys)
    assert code == 0, err


def test_split_resumes_part_by_part_bit_exact(paths: dict[str, Path], tmp_path: Path) -> None:
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    run_supernet(options(paths, whole))
    stopped = run_supernet(options(paths, parts, stop_after=3))  # inside the second part, as if killed
    assert not stopped["finished"] and not (parts / META).exists()
    run_supernet(options(paths, parts, resume=True))
    assert_same_parts(whole, parts)


def test_split_resume_restarts_a_part_stopped_before_its_first_checkpoint(paths: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    run_supernet(options(paths, whole))
    run_supernet(options(paths, parts, stop_after=3))  # b8 finished, b16 one step in
    (parts / "parts" / "b16" / "checkpoint.pt").unlink()  # as if killed before its first checkpoint: a log only
    assert (parts / "parts" / "b16" / "losses.csv").is_file()
    run_supernet(options(paths, parts, resume=True))
    assert_same_parts(whole, parts)


def test_split_refuses_a_space_with_one_width(paths: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    space = tmp_path / "one.toml"
    space.write_text(paths["space"].read_text().replace('intra_bottleneck_size = [8, 16, "none"]',
                                                        "intra_bottleneck_size = [8]"))
    argv = train_argv(paths, tmp_path / "sn", "--split", "bottleneck")
    argv[argv.index("--space") + 1] = str(space)
    code, _, err = _run(argv, capsys)
    assert code == 2 and "nothing to split" in err and err.count("\n") == 1


def test_a_part_inherits_the_unsplit_supernets_subnetworks(paths: dict[str, Path], tmp_path: Path) -> None:
    """--init-from an unsplit supernet: each part starts as the source's slice, so every arch of the part
    computes what it computed in the source (few-shot NAS's fine-tuning start)."""
    from nas.supernet.elastic import ElasticMobileBert
    from nas.supernet.train_one import inherited_state

    source_dir = tmp_path / "one"
    run_supernet(options(paths, source_dir, split="none", steps=2))
    source = load_supernet(source_dir)
    batch = source.eval_batches(batches=1, batch_size=2)[0]
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    rng = np.random.default_rng(1)
    for key, space in part_spaces(source.space).items():
        part = ElasticMobileBert(space, source.elastic.depth_order)
        part.model.load_state_dict(inherited_state(source.elastic, part))
        part.eval()
        for arch in [space.sample(rng) for _ in range(3)]:
            with torch.no_grad():
                want = source.elastic.view(arch)(**inputs).prediction_logits
                got = part.view(arch)(**inputs).prediction_logits
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0, msg=f"part {key}")


def test_split_init_from_trains_every_part(paths: dict[str, Path], tmp_path: Path) -> None:
    run_supernet(options(paths, tmp_path / "one", split="none", steps=2))
    out = tmp_path / "split"
    run_supernet(options(paths, out, init_from=str(tmp_path / "one"), steps=3, pd_fraction=1.0))
    meta = json.loads((out / META).read_text())
    assert meta["init_from"] == str((tmp_path / "one").resolve()) and meta["steps_done"] == 3
    assert all(json.loads((out / "parts" / p / META).read_text())["init_from"]["directory"]
               == str((tmp_path / "one").resolve()) for p in PARTS)


def test_resume_refuses_other_steps_for_finished_parts(paths: dict[str, Path], tmp_path: Path) -> None:
    from nas_common.errors import UserInputError

    out = tmp_path / "split"
    run_supernet(options(paths, out, stop_after=3))  # the first part finished, the second stopped
    with pytest.raises(UserInputError, match="was trained for 2 steps; this run gives each part 3"):
        run_supernet(options(paths, out, steps=9, resume=True))


def test_parts_trained_apart_equal_one_run_and_the_last_writes_the_supernet(paths: dict[str, Path],
                                                                            tmp_path: Path) -> None:
    """`--parts` spreads the parts over processes sharing OUT: each part is what one run would have made."""
    whole, apart = tmp_path / "whole", tmp_path / "apart"
    run_supernet(options(paths, whole))
    first = run_supernet(options(paths, apart, parts=("bnone",)))
    assert not first["finished"] and not (apart / META).exists()
    assert list(first["held_out"]) == ["none"]
    last = run_supernet(options(paths, apart, parts=("b8", "b16"), resume=True))
    assert last["finished"] and (apart / META).is_file()
    assert json.loads((apart / META).read_text())["steps_done"] == 6
    assert_same_parts(whole, apart)


def test_parts_refuses_a_part_another_process_trained_for_other_steps(paths: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    from nas_common.errors import UserInputError

    out = tmp_path / "apart"
    run_supernet(options(paths, out, parts=("bnone",), steps=3))  # 1 step per part
    with pytest.raises(UserInputError, match="part bnone was trained for 1 steps; this run gives each part 2"):
        run_supernet(options(paths, out, parts=("b8", "b16"), resume=True))
    assert not (out / META).exists() and not (out / "parts" / "b8" / META).exists()  # refused before training


def test_parts_must_name_parts_of_a_split_space(paths: dict[str, Path], tmp_path: Path) -> None:
    from nas_common.errors import UserInputError

    with pytest.raises(UserInputError, match="no part b512 in this space; its parts are b8, b16, bnone"):
        run_supernet(options(paths, tmp_path / "x", parts=("b512",)))
    with pytest.raises(UserInputError, match="--parts needs a split supernet"):
        run_supernet(options(paths, tmp_path / "y", parts=("b8",), split="none"))


def test_parts_processes_start_together_and_keep_each_others_parts(paths: dict[str, Path], tmp_path: Path) -> None:
    """Several `--parts` processes started at once on one OUT: with or without --resume none is refused for
    the others' parts, a fresh run refuses its own part if it is there, and --overwrite replaces only its own."""
    from nas_common.errors import UserInputError

    out = tmp_path / "together"
    run_supernet(options(paths, out, parts=("b8", "b16"), resume=True))  # nothing there yet: starts fresh
    first = run_supernet(options(paths, out, parts=("bnone",)))  # no --resume, others' parts beside it
    assert first["finished"] and (out / META).is_file()
    kept = (out / "parts" / "b8" / "checkpoint.pt").read_bytes()
    with pytest.raises(UserInputError, match="already holds part bnone; pass --resume"):
        run_supernet(options(paths, out, parts=("bnone",)))
    again = run_supernet(options(paths, out, parts=("bnone",), overwrite=True))
    assert again["finished"] and (out / "parts" / "b8" / "checkpoint.pt").read_bytes() == kept


def test_workers_train_the_parts_as_one_process_does(paths: dict[str, Path], tmp_path: Path) -> None:
    """--workers 2: the unfinished parts in two spawned one-thread processes, the most expensive first; each part
    is what one run makes, a part already finished is kept, and the parent writes the supernet."""
    from nas.supernet.workers import expected_costs

    whole, apart = tmp_path / "whole", tmp_path / "workers"
    run_supernet(options(paths, whole))
    space = SearchSpace.load(paths["space"])
    costs = expected_costs(part_spaces(space), options(paths, apart), apart / "parts", 2)
    assert sorted(costs, key=costs.__getitem__, reverse=True) == ["none", "16", "8"]
    run_supernet(options(paths, apart, parts=("b16",)))
    kept = (apart / "parts" / "b16" / "checkpoint.pt").read_bytes()
    done = run_supernet(options(paths, apart, workers=2, resume=True))
    assert done["finished"] and json.loads((apart / META).read_text())["steps_done"] == 6
    assert (apart / "parts" / "b16" / "checkpoint.pt").read_bytes() == kept
    assert_same_parts(whole, apart)
    shares = {p: json.loads((apart / "parts" / p / META).read_text())["options"]["memory_share"] for p in PARTS}
    assert shares == {"b8": 0.5, "b16": 1.0, "bnone": 0.5}  # a worker plans its micro-batch for its share of memory


def test_workers_refuse_a_finished_part_of_other_steps_before_training(paths: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    from nas_common.errors import UserInputError

    out = tmp_path / "apart"
    run_supernet(options(paths, out, parts=("bnone",), steps=3))
    with pytest.raises(UserInputError, match="part bnone was trained for 1 steps; this run gives each part 2"):
        run_supernet(options(paths, out, workers=2, resume=True))
    assert not (out / "parts" / "b8").exists()


def test_a_failed_worker_is_reported_in_one_line() -> None:
    """A worker's bad input is the parent's one-line input error; a worker's bug names the part and --resume."""
    from nas.supernet.workers import _raise_failure
    from nas_common.errors import UserInputError

    with pytest.raises(UserInputError, match="^part b8: corpus x does not exist$"):
        _raise_failure(2, [("b8", "input", "corpus x does not exist")])
    with pytest.raises(RuntimeError, match="training part b16 failed: ValueError: boom; .*--resume continues"):
        _raise_failure(1, [("b16", "bug", "ValueError: boom")])
    with pytest.raises(RuntimeError, match="a worker process exited with code -9"):
        _raise_failure(-9, [])


def _ctrl_c_as_in_a_terminal() -> None:
    """The test may run as a background job, whose children inherit SIGINT ignored (POSIX): undo that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_workers_interrupted_stop_at_checkpoints_and_resume(paths: dict[str, Path], tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the terminal's process group) stops every worker as an interrupted run stops: exit 130,
    one line naming --resume, no traceback; the same command with --resume then finishes the supernet."""
    out = tmp_path / "interrupted"
    argv = [sys.executable, "-m", "nas.cli", *train_argv(paths, out, "--steps", "240", "--split", "bottleneck",
                                                         "--workers", "2", "--checkpoint-every", "5")]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               start_new_session=True, preexec_fn=_ctrl_c_as_in_a_terminal)
    deadline = time.monotonic() + 180
    while not any((out / "parts").glob("*/checkpoint.pt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 130, err
    assert "the same command with --resume continues" in err and "Traceback" not in err and "leaked" not in err
    assert not (out / META).exists()
    for checkpoint in (out / "parts").glob("*/checkpoint.pt"):  # each saved at its last logged step: none lost
        logged = len((checkpoint.parent / "losses.csv").read_text().splitlines()) - 1
        assert torch.load(checkpoint, weights_only=False)["global_step"] == logged, checkpoint.parent.name
    resumed = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((out / META).read_text())["steps_done"] == 240


def test_workers_sigterm_to_the_parent_stops_every_worker_with_a_checkpoint(paths: dict[str, Path],
                                                                             tmp_path: Path) -> None:
    """SIGTERM to the parent alone (a scheduler, `kill PID`): it stops the workers as Ctrl-C does and exits 143;
    each started part keeps a checkpoint at its last logged step (none was due: --checkpoint-every 1000)."""
    out = tmp_path / "terminated"
    argv = [sys.executable, "-m", "nas.cli", *train_argv(paths, out, "--steps", "5000", "--split", "bottleneck",
                                                         "--workers", "2", "--checkpoint-every", "1000")]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 180
    while len([log for log in (out / "parts").glob("*/losses.csv") if len(log.read_text().splitlines()) > 2]) < 2 \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 143, err[-2000:]
    assert "each running part saved a checkpoint" in err and "Traceback" not in err and "leaked" not in err
    checkpoints = list((out / "parts").glob("*/checkpoint.pt"))
    assert len(checkpoints) == 2
    for checkpoint in checkpoints:
        logged = len((checkpoint.parent / "losses.csv").read_text().splitlines()) - 1
        assert torch.load(checkpoint, weights_only=False)["global_step"] == logged, checkpoint.parent.name
