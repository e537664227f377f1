"""Rows of `tests/test_bad_input.py` (the held-out probe of 2026-12-07, group: damaged): see that file's docstring for
what a row checks. Setups used only here are defined here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bad_input_support import Case, Setup


# ---------------------------------------------------------------------- fit-proxy: a damaged ground truth
def _truth(edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Setup:
    """A truth file (`nas accuracy fit-proxy TRUTH`) whose rows are `edit` of the shipped fit's students."""
    def make(tmp: Path) -> dict[str, str]:
        from nas.accuracy import proxy

        rows = json.loads(proxy.FIT_FILE.read_text())["data"]
        (tmp / "truth.json").write_text(json.dumps({"note": "damaged", "data": edit(rows)}))
        return {"truth": str(tmp / "truth.json")}

    return make


def _with_loss(loss: Any) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda rows: [{**rows[0], "loss": loss}, *rows[1:5]]


_FIT = ("accuracy", "fit-proxy", "{truth}", "--out", "{tmp}/fit.json")


# ---------------------------------------------------------------------- pareto / resume: a damaged confirmed.csv
_CONFIRMED_HEADER = ("arch_id,pick,estimate,est_loss_nats,latency_ms,status,rung,steps,heldout_mlm,dev,dev_steps,task,"
                     "wall_s,model_dir,reason\n")
_CONFIRMED_ROW = {"arch_id": "25", "pick": "0", "estimate": "0.012", "est_loss_nats": "4.42", "latency_ms": "47.2",
                  "status": "survived", "rung": "2", "steps": "400", "heldout_mlm": "3.1", "dev": "0.81",
                  "dev_steps": "400", "task": "sst2", "wall_s": "10", "model_dir": "", "reason": ""}


def _confirmed_line(**cells: str) -> str:
    return ",".join({**_CONFIRMED_ROW, **cells}.values()) + "\n"


def _confirmed_run(**cells: str) -> Setup:
    """A small search run (tests/confirm_helpers.py) whose confirmed.csv holds one row with `cells` changed."""
    def make(tmp: Path) -> dict[str, str]:
        from tests.confirm_helpers import make_run

        run = make_run(tmp / "run")
        (run / "confirmed.csv").write_text(_CONFIRMED_HEADER + _confirmed_line(**cells))
        return {"run": str(run)}

    return make


def _confirmed_search_run(tmp: Path) -> dict[str, str]:
    """The bad-input table's real 64-trial run (so --resume matches its options) with a damaged confirmed.csv."""
    from tests.test_bad_input import _search_run  # imported when a row runs: that module imports this one

    made = _search_run(tmp)
    (Path(made["run"]) / "confirmed.csv").write_text(_CONFIRMED_HEADER + _confirmed_line(dev="high"))
    return {**made, "journal": str(Path(made["run"]) / "trials.jsonl")}


_RESUME = ("search", "--device", "pixel4", "--budget", "62ms", "--space", "mobilebert-small", "--seed", "0", "--out",
           "{run}", "--resume", "--trials")


def _budget_run(budget: Any) -> Setup:
    """A small search run whose run.json records `budget` as options.budget_ms."""
    def make(tmp: Path) -> dict[str, str]:
        from tests.confirm_helpers import make_run

        run = make_run(tmp / "run")
        record = json.loads((run / "run.json").read_text())
        record["options"]["budget_ms"] = budget
        (run / "run.json").write_text(json.dumps(record))
        return {"run": str(run)}

    return make


# ---------------------------------------------------------------------- evaluate: a damaged app.json
def _shipped_app(app: Any) -> Setup:
    """An export folder (`nas export --model --tflite`) whose app.json is `app` (the .tflite is never loaded: every
    row is refused before)."""
    def make(tmp: Path) -> dict[str, str]:
        (tmp / "ship").mkdir()
        (tmp / "ship" / "model.tflite").write_bytes(b"TFL3")
        (tmp / "ship" / "app.json").write_text(json.dumps(app))
        return {"ship": str(tmp / "ship"), "app": str(tmp / "ship" / "app.json")}

    return make


_APP = {"output": {"name": "logits"}, "task": "sst2", "sequence_length": 24,
        "tokenizer": {"vocab": "vocab.txt", "sequence_length": 24}}
_EVALUATE = ("evaluate", "--model", "{ship}/model.tflite", "--task", "sst2", "--max-examples", "2")


# ---------------------------------------------------------------------- supernet ensembles: a damaged member
def _supernets(tmp: Path) -> dict[str, str]:
    """Supernet directories as far as an ensemble reads them (supernet.json, space.toml, weights/config.json):
    `a` and `b` whole, `corrupt` with a broken supernet.json, `unweighted` without weights/; an ensemble that lists
    no members, and a held-out corpus."""
    from tests.distill_helpers import write_corpus
    from tests.supernet_helpers import SPACE_TOML

    for name in ("a", "b", "corrupt", "unweighted"):
        (tmp / name).mkdir()
        (tmp / name / "supernet.json").write_text('{"format": 1}\n' if name != "corrupt" else "{")
        (tmp / name / "space.toml").write_text(SPACE_TOML)
        if name != "unweighted":
            (tmp / name / "weights").mkdir()
            (tmp / name / "weights" / "config.json").write_text("{}\n")
    (tmp / "empty").mkdir()
    (tmp / "empty" / "space.toml").write_text(SPACE_TOML)
    (tmp / "empty" / "ensemble.json").write_text('{"format": 1, "members": []}\n')
    corpus = write_corpus(tmp / "corpus.txt")
    return {**{k: str(tmp / k) for k in ("a", "b", "corrupt", "unweighted", "empty")}, "corpus": str(corpus)}


CASES: list[Case] = [
    # 1. `nas accuracy fit-proxy`: the truth is checked before the fit (was IndexError, an internal 'scatter needs'
    # error, a scipy warning, a negative loss fitted, ValueError)
    Case("probe11-fit-proxy-one-student", _FIT, _truth(lambda rows: rows[:1]), 2, "holds 1 student; the fit needs "
         "at least 3", ("truth",)),
    Case("probe11-fit-proxy-two-students", _FIT, _truth(lambda rows: rows[:2]), 2, "holds 2 students", ("truth",)),
    Case("probe11-fit-proxy-equal-losses", _FIT, _truth(lambda rows: [{**r, "loss": 4.0} for r in rows[:5]]), 2,
         "every student has the same loss (4)", ("truth",)),
    Case("probe11-fit-proxy-copies-of-one-row", _FIT, _truth(lambda rows: [rows[0]] * 5), 2,
         "every student has the same loss", ("truth",)),
    Case("probe11-fit-proxy-same-arch-other-losses", _FIT,
         _truth(lambda rows: [{**rows[0], "loss": 4.0 + k} for k in range(5)]), 2,
         "every student has the same size and shape", ("truth",)),
    Case("probe11-fit-proxy-negative-loss", _FIT, _truth(_with_loss(-1.0)), 2, "data[0].loss must be ≥ 0, got -1.0",
         ("truth",)),
    Case("probe11-fit-proxy-loss-text", _FIT, _truth(_with_loss("low")), 2,
         "data[0].loss must be a number, got 'low'", ("truth",)),
    # 2. a damaged confirmed.csv: typed columns, one line naming the file, the line and the column
    Case("probe11-pareto-confirmed-dev-text", ("pareto", "{run}"), _confirmed_run(dev="high"), 2,
         "confirmed.csv: line 2: dev must be a number, got 'high'", ("run",)),
    Case("probe11-pareto-confirmed-heldout-text", ("pareto", "{run}"), _confirmed_run(heldout_mlm="bad"), 2,
         "line 2: heldout_mlm must be a number, got 'bad'", ("run",)),
    Case("probe11-pareto-confirmed-steps-empty", ("pareto", "{run}"), _confirmed_run(steps=""), 2,
         "line 2: steps is empty", ("run",)),
    Case("probe11-pareto-confirmed-dev-steps-empty", ("pareto", "{run}"), _confirmed_run(dev_steps=""), 2,
         "line 2: dev_steps is empty though dev is given", ("run",)),
    Case("probe11-pareto-confirmed-status-unknown", ("pareto", "{run}", "--json"), _confirmed_run(status="done"), 2,
         "status must be one of survived, stopped, failed", ("run",)),
    Case("probe11-resume-confirmed-damaged", (*_RESUME, "70"), _confirmed_search_run, 2,
         "dev must be a number, got 'high'", ("journal",)),  # refused before a trial runs: the journal is as it was
    # 3. a damaged app.json beside an exported .tflite
    Case("probe11-evaluate-app-seq-len-text", _EVALUATE, _shipped_app({**_APP, "sequence_length": "x"}), 2,
         "app.json: sequence_length must be an integer, got 'x'", ("app",)),
    Case("probe11-evaluate-app-seq-len-zero", _EVALUATE,
         _shipped_app({**_APP, "sequence_length": 0, "tokenizer": {"vocab": "vocab.txt", "sequence_length": 0}}), 2,
         "sequence_length must be positive, got 0", ("app",)),
    Case("probe11-evaluate-app-tokenizer-seq-len-differs", _EVALUATE,
         _shipped_app({**_APP, "tokenizer": {"vocab": "vocab.txt", "sequence_length": 128}}), 2,
         "tokenizer.sequence_length 128 differs from sequence_length 24", ("app",)),
    Case("probe11-evaluate-app-a-list", _EVALUATE, _shipped_app([1]), 2, "not an app record (expected a JSON object",
         ("app",)),
    # 4. --threads beyond this machine's cores: `nas measure`'s rule
    Case("probe11-evaluate-threads-beyond-cores", (*_EVALUATE, "--threads", "100000"), _shipped_app(_APP), 2,
         "--threads 100000 is more than the"),
    # 5. an ensemble that lists no members
    Case("probe11-score-ensemble-without-members", ("supernet", "score", "{empty}", "--arch",
                                                    '{{"num_hidden_layers": 1}}', "--no-predictor", "--eval-corpus",
                                                    "{corpus}"), _supernets, 2, "ensemble.json: lists no members",
         ("empty",)),
    # 6. each member checked when the ensemble is built (exit 0 before; the damage surfaced at the first score)
    Case("probe11-ensemble-member-json-broken", ("supernet", "ensemble", "{a}", "{corrupt}", "--out", "{tmp}/e"),
         _supernets, 2, "supernet.json: not valid JSON", ("a", "corrupt")),
    Case("probe11-ensemble-member-without-weights", ("supernet", "ensemble", "{a}", "{unweighted}", "--out",
                                                     "{tmp}/e"), _supernets, 2, "holds no trained weights",
         ("a", "unweighted")),
    Case("probe11-ensemble-of-whole-members", ("supernet", "ensemble", "{a}", "{b}", "--out", "{tmp}/e"), _supernets,
         0, "ensemble of 2 supernets written"),
    # 7. a recorded budget that is no latency (exit 0 before: 'no trial of 50 within -5 ms')
    Case("probe11-pareto-budget-negative", ("pareto", "{run}"), _budget_run(-5), 2,
         "run.json: options.budget_ms must be positive, got -5", ("run",)),
    Case("probe11-export-budget-zero", ("export", "{run}", "--to", "{tmp}/x"), _budget_run(0), 2,
         "options.budget_ms must be positive, got 0", ("run",)),
]
