"""The run directory: `run.json` (command, seed, options, versions, profile hash), `trials.jsonl` (the journal),
`trials.csv`, `pareto.html`, `best/`.

A directory that already holds a run is never overwritten: without `--resume` the search refuses; with it,
the options must match the recorded ones, and `--trials` may grow but never shrink (a shorter run would
rewrite `trials.csv`, `best/` and `pareto.html` from fewer trials). `--resume` on a directory that holds no
run is refused too: a mistyped `--out` must not silently start a new search.
"""

from __future__ import annotations

import csv
import datetime
import importlib.metadata
import io
import platform
import sys
from pathlib import Path
from typing import Any

from nas.accuracy.resolution import loss_of
from nas.search.budget import recorded_budget
from nas.search.journal import FILE_NAME as JOURNAL_NAME
from nas.search.journal import Journal
from nas.search.trial import Trial
from nas_common.errors import UserInputError
from nas_common.io import read_bytes
from nas_common.paths import read_json
from nas_common.run_lock import LOCK_NAME
from nas_common.writing import write_json, write_text

RUN_FILE = "run.json"
TRIALS_CSV = "trials.csv"
REPORT = "pareto.html"
BEST = "best"  # the front's best point as something to train (nas/export/train_guide.py)
_VERSIONED = ("mobilebert-nas", "numpy", "transformers", "apache-tvm", "nni", "ray", "optuna", "plotly")
MAY_CHANGE_ON_RESUME = ("trials",)
RECORD_SECTIONS = ("options", "estimator", "summary", "rescored", "quality", "confirmed")  # JSON objects


def default_out(device: str, budget_text: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{device}-{budget_text}-{stamp}"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def holds_run(out: Path) -> bool:
    return (out / RUN_FILE).exists() or (out / JOURNAL_NAME).exists()


def prepare(out: Path, options: dict[str, Any], seed: int, resume: bool,
            defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create or reopen `out`; returns the run.json content. Every refusal leaves the disk as it was.

    `defaults`: the value of each option a run recorded by an older version may lack (so it still resumes).
    """
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} exists and is not a directory")
    if holds_run(out):
        if not resume:
            raise UserInputError(f"{out} already holds a search run; pass --resume to continue it, or choose "
                                 "another --out (nothing was changed)")
        return _check_resumable(out, options, defaults or {})
    if resume:
        raise UserInputError(f"--resume: {out} holds no search run (no {RUN_FILE}); drop --resume to start one")
    if out.exists() and any(p.name != LOCK_NAME for p in out.iterdir()):
        raise UserInputError(f"--out {out} is a non-empty directory that holds no run; choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"--out {out}: cannot create the run directory ({err.strerror or err})") from None
    run = {"command": sys.argv, "seed": seed, "options": options, "versions": versions(),
           "created": datetime.datetime.now().isoformat(timespec="seconds")}
    write_run(out, run)
    return run


def check_journal_present(out: Path, run: dict[str, Any] | None = None) -> None:
    """A finished run whose journal is gone or emptied (a partial copy, a full disk) is refused: read as "no trial
    yet", its front would be empty and a --resume would start over and rewrite its results. A run is finished when
    its trials.csv has rows or its run.json records a summary of its trials."""
    journal, results = Path(out) / JOURNAL_NAME, Path(out) / TRIALS_CSV
    if journal.is_file() and journal.stat().st_size > 0:
        return
    if _has_data_rows(results):
        evidence = f"its results ({TRIALS_CSV}) are there"
    elif recorded := recorded_trial_count(out, run):
        evidence = f"its {RUN_FILE} records {recorded} finished trials"
    else:
        return
    state = "is empty" if journal.exists() else "is missing"
    raise UserInputError(f"{out}: the run's journal {JOURNAL_NAME} {state}, though {evidence}: restore it from where "
                         "the run came from (the front, the export and --resume are read from it)")


def check_journal_complete(out: Path, loaded: int, run: dict[str, Any] | None = None) -> None:
    """A journal that holds fewer trials than the run last finished with (run.json's summary) was cut short (a
    partial copy, a truncated file): its front would be another run's, and a --resume would rewrite the results
    from what is left. A journal only grows, so a healthy one never holds fewer. `run`: run.json's content when
    the caller has read it already."""
    recorded = recorded_trial_count(out, run)
    if loaded < recorded:
        held = f"{loaded} trial{'s' * (loaded != 1)}"
        raise UserInputError(f"{out}: the run's journal {JOURNAL_NAME} holds {held}, though its {RUN_FILE} records "
                             f"{recorded} finished ones: the journal was cut short; restore it from where the run "
                             "came from (nothing was changed)")


def read_run_if_readable(out: Path) -> Any:
    """run.json's content, or None where there is none or it cannot be read (which `read_run` reports)."""
    try:
        return read_json(Path(out) / RUN_FILE)
    except UserInputError:
        return None


def recorded_trial_count(out: Path, run: Any = None) -> int:
    """The trials run.json's summary says the run had when it last finished (0: none recorded, or no readable
    run.json, which `read_run` reports); `run`: its content when already read."""
    if run is None:
        run = read_run_if_readable(out)
    summary = run.get("summary") if isinstance(run, dict) else None
    count = summary.get("trials") if isinstance(summary, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0


def _has_data_rows(csv_file: Path) -> bool:
    """Whether a CSV holds a line after its header."""
    if not csv_file.is_file():
        return False
    return sum(1 for line in read_bytes(csv_file, "results").splitlines() if line.strip()) > 1


def check_results_writable(out: Path) -> None:
    """A run rewrites trials.csv, pareto.html (files) and best/ (a folder) once its trials are done: something of
    the other kind in their place is refused before the first trial, not after the last one."""
    best = Path(out) / BEST
    if best.exists() and not best.is_dir():
        raise UserInputError(f"{best} is a file, but the run writes its best pick there (a folder): move it away, "
                             "then resume (nothing was changed)")
    for name in (TRIALS_CSV, REPORT):
        if (Path(out) / name).is_dir():
            raise UserInputError(f"{Path(out) / name} is a folder, but the run writes its {name} there: move it "
                                 "away, then resume (nothing was changed)")


def _check_resumable(out: Path, options: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    run = read_run(out)
    check_journal_present(out, run)
    check_results_writable(out)
    recorded = {k: v for k, v in defaults.items() if k in options} | recorded_options(run, out)
    changed = [k for k in sorted(set(recorded) | set(options))
               if k not in MAY_CHANGE_ON_RESUME and recorded.get(k) != options.get(k)]
    if changed:
        detail = ", ".join(f"{k}: {recorded.get(k)!r} → {options.get(k)!r}" for k in changed)
        raise UserInputError(f"cannot resume {out} with different options ({detail}); rerun the original command")
    done = len(Journal(out).load())
    check_journal_complete(out, done, run)
    if options["trials"] < done:
        raise UserInputError(f"cannot resume {out} with --trials {options['trials']}: the run already has {done} "
                             f"trials and a resumed run never shrinks (give --trials {done} or more)")
    run["options"] = options
    run.setdefault("resumed", []).append(datetime.datetime.now().isoformat(timespec="seconds"))
    write_run(out, run)
    return run


def read_run(out: Path) -> dict[str, Any]:
    path = Path(out) / RUN_FILE
    if Path(out).exists() and not Path(out).is_dir():
        raise UserInputError(f"{out} is not a search run directory (not a directory)")
    if not path.is_file():
        raise UserInputError(f"{out} is not a search run directory (no {RUN_FILE})")
    run = read_json(path)
    if not isinstance(run, dict):
        raise UserInputError(f"{path}: not a run record (expected a JSON object)")
    for section in RECORD_SECTIONS:
        if run.get(section) is not None and not isinstance(run[section], dict):
            raise UserInputError(f"{path}: \"{section}\" must be a JSON object, got {type(run[section]).__name__} "
                                 "(damaged or not written by `nas search`)")
    return run


def recorded_options(run: dict[str, Any], out: Path) -> dict[str, Any]:
    """The run's recorded search options; a damaged `run.json` is a one-line error."""
    options = run.get("options")
    if not isinstance(options, dict) or not isinstance(options.get("budget_ms"), (int, float)):
        raise UserInputError(f"{Path(out) / RUN_FILE}: no search options recorded (damaged or not written by "
                             "`nas search`)")
    recorded_budget(options["budget_ms"], str(Path(out) / RUN_FILE))  # ≤ 0 or not finite: no latency
    return options


LEGACY_DEFAULT_ESTIMATOR = "proxy"  # the default when runs did not record their estimator's name


def recorded_estimator(run: dict[str, Any]) -> tuple[str, str]:
    """The run's accuracy estimator and its measured quality, as run.json records them."""
    estimator = run.get("estimator") or {}
    name = estimator.get("name") or (run.get("options") or {}).get("estimator") or LEGACY_DEFAULT_ESTIMATOR
    return str(name), str(estimator.get("quality") or "not recorded in run.json")


def write_run(out: Path, run: dict[str, Any]) -> None:
    """run.json, strict JSON written atomically (a reader sees the old record or the new one)."""
    write_json(Path(out) / RUN_FILE, run, what="--out")


def write_trials_csv(out: Path, trials: list[Trial]) -> Path:
    """One row per trial: id, generation, scores, then every Arch field. `accuracy` is the estimator's score,
    exp(−L); `est_loss_nats` is L, the held-out loss it predicts (what the tables and the plot show)."""
    path = Path(out) / TRIALS_CSV
    rows = [t.arch.to_dict() for t in trials]
    arch_fields = list(rows[0]) if rows else []
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "generation", "latency_ms", "accuracy", "est_loss_nats", "feasible", "params",
                     *arch_fields])
    for t, arch in zip(trials, rows, strict=True):
        scored = t.accuracy is not None
        writer.writerow([t.id, t.generation, t.latency_ms, t.accuracy if scored else "",
                         loss_of(t.accuracy) if scored else "", t.feasible, t.params, *(arch[f] for f in arch_fields)])
    return write_text(path, buffer.getvalue(), what="--out")
