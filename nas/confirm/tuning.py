"""Ray and the Tune experiment of `nas confirm`: one trial per front point under `ASHAScheduler`, a CPU per
trial, Tune's checkpoints kept in the run (RUN/confirm/tune/), restored with `Tuner.restore`.

Ray Tune rather than the search's executor (`nas/search/executor.py`, a pool of Ray actors): here Tune's own parts
are the point — ASHA's early stopping at the rungs, the per-trial retry from the last checkpoint
(`FailureConfig`), and the experiment state that lets a killed driver resume without re-running finished
trials. Both start Ray the same way: locally with 2 CPUs by default (this project's machines), or joining
the cluster at `--ray-address`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ray.tune import Callback

from nas.confirm.plan import CONFIRM_DIR, EXPERIMENT, METRIC, TIME_ATTR, ConfirmOptions
from nas.search.ray_session import start_ray, stop_ray
from nas_common.errors import UserInputError
from nas_common.io import read_json
from nas_common.writing import write_json

OPTIONS = "options.json"
MAX_FAILURES = 2  # a trial whose worker dies is retried from its last checkpoint up to this many times
LOCAL_CPUS = 2


def experiment_dir(run: Path) -> Path:
    return Path(run).resolve() / CONFIRM_DIR / EXPERIMENT


def can_resume(run: Path) -> bool:
    from ray import tune

    path = experiment_dir(run)
    return path.is_dir() and tune.Tuner.can_restore(str(path))


class RaySession:
    """`ray.init` on enter (local with `num_cpus`, or the cluster at `address`), `ray.shutdown` on exit."""

    def __init__(self, address: str | None = None, num_cpus: int = LOCAL_CPUS) -> None:
        self.address, self.num_cpus = address, num_cpus
        self.temp: Path | None = None

    def __enter__(self) -> RaySession:
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no tables, our one line a rung instead
        # Each rung checkpoints (num_to_keep=1 forces an experiment snapshot): expected, so no warning about it.
        os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
        self.temp = start_ray(self.address, self.num_cpus)
        return self

    def __exit__(self, *exc: object) -> None:
        stop_ray(self.temp)


def _trial_name(trial: Any) -> str:
    return f"arch-{trial.config['options']['candidates'][trial.config['candidate']]['arch_id']}"


class Progress(Callback):
    """One bar over the confirmation's distillation steps, "trial k of K" as its description, with an ETA from
    the rate measured so far; a line per rung reported and per trial failed above it (Tune's tables are off).

    The total is every trial's `max_steps` until ASHA stops one early: then that trial's planned steps shrink to
    those it ran, so the ETA is an upper bound that tightens as trials are stopped."""

    def __init__(self, trials: int, max_steps: int) -> None:
        self.trials, self.max_steps = trials, max_steps
        self.started: set[str] = set()
        self.reached: dict[str, int] = {}
        self.bar: Any = None

    def _update(self) -> None:
        from tqdm.auto import tqdm

        if self.bar is None:
            self.bar = tqdm(total=self.trials * self.max_steps, unit="step", file=sys.stderr, leave=True)
        self.bar.set_description(f"confirm: trial {len(self.started)} of {self.trials}")
        self.bar.n = sum(self.reached.values())
        self.bar.refresh()

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.started.add(trial.trial_id)
        self.reached.setdefault(trial.trial_id, 0)
        self._update()

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.reached[trial.trial_id] = int(result[TIME_ATTR])
        self._update()
        dev = f", dev {result['dev']:.4f}" if "dev" in result else ""
        self.bar.write(f"confirm: {_trial_name(trial)} rung {result['rung']} ({result[TIME_ATTR]} steps): held-out "
                       f"MLM {result[METRIC]:.4f}{dev}, {result['wall_s']:.0f} s", file=sys.stderr)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._shrink(trial)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._shrink(trial)
        self.bar.write(f"confirm: {_trial_name(trial)} failed (see {trial.path}/error.txt)", file=sys.stderr)

    def _shrink(self, trial: Any) -> None:
        """A trial that ended (at the top rung, stopped by ASHA, or failed) plans no more steps."""
        self._update()
        self.bar.total -= self.max_steps - self.reached.get(trial.trial_id, 0)
        self.bar.refresh()

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        if self.bar is not None:
            self.bar.close()


def tuner(options: ConfirmOptions, resume: bool) -> Any:
    """A new Tune experiment over the candidates, or the one in the run restored (`resume`)."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from nas.confirm.trial import confirm_trial

    resources = {"cpu": options.threads, **({"gpu": 1} if options.torch_device == "cuda" else {})}
    trainable = tune.with_resources(confirm_trial, resources)
    path = experiment_dir(Path(options.run))
    if resume:
        # Finished trials stay finished; unfinished and errored ones continue from their last checkpoint.
        return tune.Tuner.restore(str(path), trainable, resume_unfinished=True, resume_errored=True)
    scheduler = ASHAScheduler(time_attr=TIME_ATTR, max_t=options.max_steps, grace_period=options.rungs[0],
                              reduction_factor=options.reduction_factor)
    run_config = tune.RunConfig(
        name=EXPERIMENT, storage_path=str(path.parent), verbose=0,
        callbacks=[Progress(len(options.candidates), options.max_steps)],
        failure_config=tune.FailureConfig(max_failures=MAX_FAILURES),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1))
    return tune.Tuner(
        trainable,
        param_space={"options": options.to_dict(), "candidate": tune.grid_search(list(range(len(options.candidates))))},
        tune_config=tune.TuneConfig(metric=METRIC, mode="min", scheduler=scheduler, trial_name_creator=_trial_name,
                                    trial_dirname_creator=_trial_name),
        run_config=run_config)


def save_options(options: ConfirmOptions) -> None:
    """RUN/confirm/options.json: what `--resume` continues with (written before the first trial starts)."""
    path = Path(options.run) / CONFIRM_DIR / OPTIONS
    write_json(path, options.to_dict())


def restored_options(run: Path) -> ConfirmOptions:
    """The options the confirmation in `run` was started with."""
    path = Path(run) / CONFIRM_DIR / OPTIONS
    try:
        return ConfirmOptions.from_dict(read_json(path))
    except UserInputError as err:
        raise UserInputError(f"--resume: {path} is missing or damaged ({str(err).removeprefix(f'{path}: ')}); "
                             "start again with --overwrite") from None
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise UserInputError(f"--resume: {path} is missing or damaged ({type(err).__name__}); start again with "
                             "--overwrite") from None
