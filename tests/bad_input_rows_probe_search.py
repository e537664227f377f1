"""Rows of `tests/test_bad_input.py` (the held-out probe of 2026-12-08, group: search): see that file's docstring for
what a row checks. Setups used only here are defined here."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bad_input_support import Case, Setup


# ---------------------------------------------------------------------- runs
def _small_run(edit: Callable[[Path, dict[str, Any]], None] | None = None) -> Setup:
    """A small search run (tests/confirm_helpers.py: 5 trials, a front of 4) whose run.json records that it finished
    with its 5 trials, then `edit(run, record)` (the record is written back afterwards)."""
    def make(tmp: Path) -> dict[str, str]:
        from tests.confirm_helpers import make_run

        run = make_run(tmp / "run")
        record = json.loads((run / "run.json").read_text())
        record["summary"] = {"trials": 5, "within_budget": 4, "front_size": 4, "seconds": 0.1, "best": None}
        if edit is not None:
            edit(run, record)
        (run / "run.json").write_text(json.dumps(record))
        return {"run": str(run)}

    return make


def _journal_cut(run: Path, record: dict[str, Any]) -> None:
    """The journal keeps its first two trials (a partial copy); run.json still records five."""
    lines = (run / "trials.jsonl").read_text().splitlines(keepends=True)
    (run / "trials.jsonl").write_text("".join(lines[:2]))


def _set(key: str, value: Any) -> Callable[[Path, dict[str, Any]], None]:
    return lambda run, record: record.__setitem__(key, value)


def _search_run_damaged(*remove: str, keep_trials: int | None = None) -> Setup:
    """The bad-input table's real 64-trial run (so --resume matches its options) with the files `remove` deleted
    and its journal cut to `keep_trials` trials."""
    def make(tmp: Path) -> dict[str, str]:
        from tests.test_bad_input import _search_run  # imported when a row runs: that module imports this one

        made = _search_run(tmp)
        run = Path(made["run"])
        for name in remove:
            shutil.rmtree(run / name) if (run / name).is_dir() else (run / name).unlink()
        if keep_trials is not None:
            lines = (run / "trials.jsonl").read_text().splitlines(keepends=True)
            (run / "trials.jsonl").write_text("".join(lines[:keep_trials]))
        return made

    return make


_RESUME = ("search", "--device", "pixel4", "--budget", "62ms", "--space", "mobilebert-small", "--seed", "0", "--out",
           "{run}", "--trials", "80", "--resume")


# ---------------------------------------------------------------------- fit-proxy
def _truth_with_loss(loss: Any) -> Setup:
    """A truth file of the shipped fit's first five students, the first with held-out loss `loss`."""
    def make(tmp: Path) -> dict[str, str]:
        from nas.accuracy import proxy

        rows = json.loads(proxy.FIT_FILE.read_text())["data"][:5]
        rows[0] = {**rows[0], "loss": loss}
        (tmp / "truth.json").write_text(json.dumps({"note": "probe", "data": rows}))
        return {"truth": str(tmp / "truth.json")}

    return make


# ---------------------------------------------------------------------- confirm
def _confirm_inputs(*, corpus: bytes | None = None, teacher_file: bool = False) -> Setup:
    """The table's confirm inputs (a tiny run, teacher, corpora, GLUE folder) with the training corpus's bytes
    `corpus`, or the teacher replaced by a regular file."""
    def make(tmp: Path) -> dict[str, str]:
        from tests.test_bad_input import _confirm_inputs as inputs

        paths = inputs(tmp)
        if corpus is not None:
            Path(paths["corpus"]).write_bytes(corpus)
        if teacher_file:
            shutil.rmtree(paths["teacher"])
            Path(paths["teacher"]).write_text("not a model\n")
        return paths

    return make


_CONFIRM = ("confirm", "{run}", "--teacher", "{teacher}", "--corpus", "{corpus}", "--eval-corpus", "{eval}",
            "--data-dir", "{glue}", "--task", "sst2", "--batch-size", "4", "--finetune-examples", "16")
_SEARCH = ("search", "--device", "pixel4", "--budget", "62ms", "--trials", "3", "--out", "{tmp}/r")

CASES: list[Case] = [
    # `nas search`
    # --seed past 2^32 − 1 passed the check and NNI's tuner failed: exit 1, an internal error
    # the deprecated alias's warning came before the refusal: two stderr lines
    Case("probe_search_strategy_ray_refused_one_line", ("search", "--device", "pixel4", "--budget", "1ms",
                                                               "--strategy", "ray", "--out", "{tmp}/r"), None, 2,
         "budget 1 ms"),
    Case("probe_search_seed_past_32_bits", (*_SEARCH, "--strategy", "nni", "--seed", "4294967296"), None, 2,
         "--seed 4294967296 is too large: give 0 to 4294967295"),
    # --resume without --out named a fresh runs/<device>-<budget>-<time> folder as "holding no search run"
    Case("probe_search_resume_without_out", ("search", "--device", "pixel4", "--budget", "62ms", "--resume"), None, 2,
         "--resume needs --out RUN"),
    # a finished run whose journal was cut (or lost with trials.csv): --resume started over and rewrote its results
    Case("probe_search_resume_journal_cut", _RESUME, _search_run_damaged(keep_trials=3), 2,
         "holds 3 trials, though its run.json records 64 finished ones", ("run",)),
    Case("probe_search_resume_journal_and_csv_gone", _RESUME, _search_run_damaged("trials.jsonl", "trials.csv"), 2,
         "journal trials.jsonl is missing, though its run.json records 64 finished trials", ("run",)),
    # `nas pareto` / `nas export` of a damaged run
    # a journal cut short showed a front of the trials left, exit 0
    Case("probe_search_pareto_journal_cut", ("pareto", "{run}"), _small_run(_journal_cut), 2,
         "holds 2 trials, though its run.json records 5 finished ones", ("run",)),
    Case("probe_search_export_journal_cut", ("export", "{run}", "--to", "{tmp}/x"), _small_run(_journal_cut), 2,
         "the journal was cut short", ("run",)),
    # run.json's "estimator" not an object: exit 1, an internal AttributeError
    Case("probe_search_pareto_estimator_not_object", ("pareto", "{run}"), _small_run(_set("estimator", [1])), 2,
         '"estimator" must be a JSON object, got list'),
    # a damaged "rescored" was ignored: the front shown was not the one best/ was chosen from
    Case("probe_search_pareto_rescored_damaged", ("pareto", "{run}"), _small_run(_set("rescored", {"0": 5})), 2,
         '"rescored" is damaged'),
    # RUN/confirmed.csv a folder read as "no confirmation"
    Case("probe_search_pareto_confirmed_a_folder", ("pareto", "{run}"),
         _small_run(lambda run, record: (run / "confirmed.csv").mkdir()), 2, "confirmed.csv is a folder"),
    # --to "" (an unset shell variable) exported into the current directory
    Case("probe_search_export_to_empty", ("export", "{run}", "--to", ""), _small_run(), 2,
         "an empty name holds no output directory"),
    # `nas accuracy fit-proxy`: an absurd loss overflowed the fit (RuntimeWarnings, exit 0)
    Case("probe_search_fit_proxy_loss_huge", ("accuracy", "fit-proxy", "{truth}", "--out", "{tmp}/fit.json"),
         _truth_with_loss(1e308), 2, "data[0].loss must be ≤ 100", ("truth",)),
    # `nas confirm`: each was accepted, then every Ray trial failed (exit 1, an internal TuneError)
    Case("probe_search_confirm_corpus_empty", _CONFIRM, _confirm_inputs(corpus=b""), 2, "holds no text", ("run",)),
    Case("probe_search_confirm_corpus_binary", _CONFIRM, _confirm_inputs(corpus=bytes(range(128, 256)) * 8), 2,
         "is not UTF-8 text", ("run",)),
    Case("probe_search_confirm_seq_len_past_positions", (*_CONFIRM, "--seq-len", "100000"), _confirm_inputs(), 2,
         "--seq-len 100000 exceeds the 512 positions", ("run",)),
    Case("probe_search_confirm_seq_len_tiny", (*_CONFIRM, "--seq-len", "2"), _confirm_inputs(), 2,
         "--seq-len must be at least 8", ("run",)),
    Case("probe_search_confirm_seed_negative", (*_CONFIRM, "--seed", "-1"), _confirm_inputs(), 2,
         "--seed must be ≥ 0", ("run",)),
    Case("probe_search_confirm_batch_huge", (*_CONFIRM, "--batch-size", "100000000"), _confirm_inputs(), 2,
         "the global batch's token tensors alone need", ("run",)),
    Case("probe_search_confirm_teacher_a_file", _CONFIRM, _confirm_inputs(teacher_file=True), 2,
         "a file, not a directory", ("run",)),
    # refused already (kept so they stay refused)
    Case("probe_search_budget_empty", ("search", "--device", "pixel4", "--budget", "", "--out", "{tmp}/r"), None, 2,
         "budget '' is not a latency"),
    Case("probe_search_device_and_profile", (*_SEARCH, "--profile", "{tmp}/p.toml"), None, 2,
         "give --device or --profile, not both"),
    Case("probe_search_profile_a_folder", ("search", "--profile", "{tmp}", "--budget", "62ms", "--out", "{tmp}/r"),
         None, 2, "is a directory, expected a TOML profile"),
    Case("probe_search_fit_proxy_out_is_truth", ("accuracy", "fit-proxy", "{truth}", "--out", "{truth}",
                                                 "--overwrite"), _truth_with_loss(4.0), 2, "also an input", ("truth",)),
    Case("probe_search_export_pick_and_max_latency",
         ("export", "{run}", "--pick", "0", "--max-latency", "3ms", "--to", "{tmp}/x"), _small_run(), 2,
         "give --pick or --max-latency, not both"),
    Case("probe_search_export_max_latency_no_unit", ("export", "{run}", "--max-latency", "3", "--to", "{tmp}/x"),
         _small_run(), 2, "budget '3' is not a latency"),
    Case("probe_search_confirm_dev_rungs_past_rungs", (*_CONFIRM, "--dev-rungs", "9"), _confirm_inputs(), 2,
         "--dev-rungs must be between 0 and --rungs (3), got 9", ("run",)),
    Case("probe_search_confirm_reduction_factor_one", (*_CONFIRM, "--reduction-factor", "1"), _confirm_inputs(), 2,
         "--reduction-factor must be ≥ 2", ("run",)),
    Case("probe_search_confirm_schedule_typo", (*_CONFIRM, "--schedule", "atk"), _confirm_inputs(), 2,
         "unknown schedule 'atk'", ("run",)),
]
