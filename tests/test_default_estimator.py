"""`nas search`'s default estimator (issue 31 item 7, the plan's rule in nas/accuracy/default.py): the shipped
predictor in its own space, body-parameter count where a search asks for students outside it, the run's own on
--resume; and the acceptance point itself, recomputed from the committed fresh students: the default ranks them at
least as well as body-parameter count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nas.accuracy import default, get_estimator, shipping
from nas.accuracy.proxy import body_params
from nas.accuracy.rank_quality import spearman
from search_spaces.arch import Arch
from tests.bad_input_support import REPO_ROOT, run_cli

FRESH_TRUTH = REPO_ROOT / "benchmarks" / "results" / "proof_fresh_truth.json"
SEARCH = ["search", "--device", "pixel4", "--budget", "40ms", "--trials", "60", "--seed", "0"]


@pytest.fixture(autouse=True)
def package_predictors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(shipping.ENV, raising=False)  # the package's shipped predictors, as a user has them


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict, str]:
    out = tmp_path / "run"
    code, _, err = run_cli([*SEARCH, *extra, "--out", str(out)], capsys)
    assert code == 0, err
    return json.loads((out / "run.json").read_text()), err


def test_the_default_is_the_shipped_predictor_in_its_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, err = _run(tmp_path, capsys)
    assert run["options"]["estimator"] == "predictor"
    assert run["options"]["estimator_options"] == {"predictor": default.DEFAULT_PREDICTOR}
    assert run["options"]["space"] == "supernet-minilm-384"
    assert "note: searching supernet-minilm-384, the default estimator's space" in err
    # the pick's guide names the recipe the predictor was checked on: the MiniLM teacher, the fresh students' steps
    from nas.export.train_guide import FRESH_LAYER_STEPS, commands

    best = tmp_path / "run" / "best"
    layers = json.loads((best / "arch.json").read_text())["num_hidden_layers"]
    distill, finetune = commands((best / "TRAIN.md").read_text(), "The recipe this estimate was checked on")
    assert distill.startswith(f"nas distill --student {best} --teacher ") and "minilm-384" in distill
    assert f"--steps-per-layer {FRESH_LAYER_STEPS // layers} " in distill and "--pd-steps 480" in distill
    assert "--corpus $NAS_DATA_DIR/corpus/wikitext2-valid.txt" in distill and "wikitext2-test.txt" in distill
    assert finetune.startswith(f"nas finetune --model {best}-minilm --task sst2")


def test_outside_the_predictors_space_the_default_is_body_parameters(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run, err = _run(tmp_path, capsys, "--space", "mobilebert-small")
    assert run["options"]["estimator"] == "params" and run["options"]["space"] == "mobilebert-small"
    note = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(note) == 1 and "knows only its space supernet-minilm-384" in note[0]
    assert "--estimator params" in note[0]


@pytest.mark.parametrize(("space", "estimator"), [("mobilebert-family", "params"),
                                                  ("supernet-minilm-384", "predictor")])
def test_a_space_named_on_the_command_line_is_searched(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      space: str, estimator: str) -> None:
    """--space given is what the user asked for, even when it names the default's fallback (mobilebert-family) or
    the default's own space by the name the run records (supernet-minilm-384)."""
    run, _ = _run(tmp_path, capsys, "--space", space)
    assert run["options"]["space"] == space and run["options"]["estimator"] == estimator


def test_a_budget_the_whole_space_fits_says_the_space_bounds_the_pick(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """At 500 ms every 384-wide 2-6-layer student fits: the pick is the space's, and the user is told so."""
    words = [*SEARCH[:3], "--budget", "500ms", "--trials", "60", "--seed", "0"]
    code, out, err = run_cli([*words, "--out", str(tmp_path / "wide")], capsys)
    assert code == 0, err
    assert "note: all 60 archs tried fit 500 ms" in out and "not the budget, bounds the pick" in out
    code, out, err = run_cli([*SEARCH, "--out", str(tmp_path / "tight")], capsys)
    assert code == 0 and "bounds the pick" not in out


def test_a_teacher_of_another_width_gets_body_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from transformers import BertConfig

    teacher = tmp_path / "teacher"
    BertConfig(hidden_size=512, num_attention_heads=4, num_hidden_layers=4, intermediate_size=1024,
               vocab_size=30522).save_pretrained(teacher)
    run, err = _run(tmp_path, capsys, "--teacher", str(teacher))
    assert run["options"]["estimator"] == "params" and "the teacher is 512 wide" in err


def test_a_named_estimator_or_predictor_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, err = _run(tmp_path / "a", capsys, "--estimator", "proxy")
    assert run["options"]["estimator"] == "proxy" and "note:" not in err
    run, err = _run(tmp_path / "b", capsys, "--predictor", default.DEFAULT_PREDICTOR)
    assert run["options"]["estimator"] == "predictor" and "note:" not in err


def test_resume_continues_with_the_runs_own_estimator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run made with another estimator (e.g. before the default changed) resumes without naming it."""
    out = tmp_path / "run"
    code, _, err = run_cli([*SEARCH, "--estimator", "proxy", "--out", str(out)], capsys)
    assert code == 0, err
    code, _, err = run_cli([*SEARCH[:-4], "--trials", "90", "--seed", "0", "--out", str(out), "--resume"], capsys)
    assert code == 0, err
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["estimator"] == "proxy" and run["summary"]["trials"] == 90
    # a default run resumed naming its estimator keeps the predictor it recorded (no "different options")
    out = tmp_path / "default"
    assert run_cli([*SEARCH, "--out", str(out)], capsys)[0] == 0
    code, _, err = run_cli([*SEARCH[:-4], "--trials", "90", "--seed", "0", "--estimator", "predictor", "--out",
                            str(out), "--resume"], capsys)
    assert code == 0, err
    assert json.loads((out / "run.json").read_text())["options"]["estimator_options"] == {
        "predictor": default.DEFAULT_PREDICTOR}
    # a resume line as written while mobilebert-family was --space's default still continues the run in its space
    code, _, err = run_cli([*SEARCH[:-4], "--trials", "100", "--seed", "0", "--space", "mobilebert-family", "--out",
                            str(out), "--resume"], capsys)
    assert code == 0, err
    assert json.loads((out / "run.json").read_text())["options"]["space"] == "supernet-minilm-384"


def test_without_the_shipped_predictor_the_default_is_body_parameters(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from search_spaces.space import SearchSpace

    monkeypatch.setenv(shipping.ENV, str(tmp_path / "empty"))
    choice = default.default_choice(SearchSpace.load("mobilebert-family"), False, None)
    assert choice.name == "params" and "not shipped" in (choice.note or "")


@pytest.mark.skipif(not FRESH_TRUTH.is_file(), reason="benchmarks/results/proof_fresh_truth.json is not committed")
def test_the_default_ranks_the_fresh_students_at_least_as_well_as_body_parameters() -> None:
    """Issue 31's acceptance point, on the committed truth (held-out PD loss of the fresh students, distilled after
    the estimators were frozen); once all 16 are judged."""
    truth = json.loads(FRESH_TRUTH.read_text())
    if len(truth["data"]) < truth["archs"]:
        pytest.skip(f"{len(truth['data'])} of {truth['archs']} fresh students judged so far")
    archs = [Arch.from_dict(r["arch"]) for r in truth["data"]]
    better = -np.array([r["loss"] for r in truth["data"]])
    estimator = get_estimator(default.DEFAULT_ESTIMATOR, **({"predictor": default.DEFAULT_PREDICTOR}
                                                            if default.DEFAULT_ESTIMATOR == "predictor" else {}))
    by_default = spearman(estimator.estimate(archs), better)
    by_size = spearman(np.array([body_params(a) for a in archs], dtype=float), better)
    assert by_default is not None and by_size is not None and by_default >= by_size


def test_the_default_search_loads_no_training_code(tmp_path: Path) -> None:
    """The data path stays one-way: the main job, with its default estimator, imports neither torch nor
    transformers (the predictor is package data, not a model)."""
    import os
    import subprocess
    import sys

    script = ("import sys\nfrom nas.cli import main\ntry:\n    main(['search', '--device', 'pixel4', '--budget', "
              f"'62ms', '--trials', '50', '--out', {str(tmp_path / 'run')!r}])\nexcept SystemExit as stop:\n"
              "    assert not stop.code, stop.code\n"
              "print('loaded:', 'torch' in sys.modules, 'transformers' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != shipping.ENV}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            cwd=REPO_ROOT, env=env)
    assert result.returncode == 0, result.stderr
    assert "loaded: False False" in result.stdout


def test_the_guides_recipe_is_the_plans_fresh_settings() -> None:
    """TRAIN.md's "checked on" recipe is the one the predictor's quality was measured with (plan.json)."""
    from nas.export import train_guide

    fresh = json.loads((REPO_ROOT / "benchmarks" / "proof" / "plan.json").read_text())["distillation"]["fresh"]
    assert train_guide.FRESH_LAYER_STEPS == fresh["layer_steps"]
    distill = train_guide.FRESH_DISTILL.split()
    for flag, key in (("--schedule", "schedule"), ("--pd-steps", "pd_steps"), ("--batch-size", "batch_size"),
                      ("--seq-len", "seq_len"), ("--lr", "lr"), ("--warmup", "warmup")):
        assert float(distill[distill.index(flag) + 1]) == float(fresh[key]) if key != "schedule" else \
            distill[distill.index(flag) + 1] == fresh[key]
    finetune = train_guide.FRESH_FINETUNE.split()
    for flag, key in (("--epochs", "ft_epochs"), ("--lr", "ft_lr"), ("--max-train-examples", "ft_examples")):
        assert float(finetune[finetune.index(flag) + 1]) == float(fresh[key])
    assert train_guide.checked_on_minilm({"estimator": "predictor", "estimator_options": {}})
    assert not train_guide.checked_on_minilm({"estimator": "predictor", "estimator_options": {"predictor": "mine"}})
    assert not train_guide.checked_on_minilm({"estimator": "params", "estimator_options": {}})
