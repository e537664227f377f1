"""Where evaluations run — in this process, or on Ray — independent of what is evaluated and of which
strategy proposed it (as Optuna keeps samplers apart from storages).

A `Job` is a small picklable recipe: `setup()` builds its expensive state (a latency predictor, an estimator,
a teacher) once per worker, `run(state, items)` evaluates a list of items. An `Executor` maps a job over
items and returns the results in item order:

- `local` runs the whole list in one call in this process (a vectorised evaluator sees the whole batch);
- `ray` runs one item per call on a pool of Ray actors (one per CPU of the local Ray instance or of the
  cluster at `--ray-address`), each actor building the job's state once. One item per call keeps every
  result independent of how the work was split, so a run gives the same trials on any cluster size.

Ray Core actors rather than Ray Tune: the search's strategies own the ask/tell loop and the journal owns
resume, while a Tune `Tuner` owns both (its searcher, its experiment state); driving one `Tuner.fit` per
batch costs about 1 s per batch and a directory of Tune state per batch for nothing the search uses. An actor
pool (`ray.util.ActorPool`, Ray's maintained primitive for stateful parallel map) is the part of Ray this
seam needs. `nas confirm` is the opposite case and uses Tune directly (nas/confirm/tuning.py): its trials are
long distillations that need ASHA's early stopping, per-trial checkpoints and retries, and experiment restore.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from nas_common.errors import UserInputError

EXECUTORS = ("local", "ray")
DEFAULT_EXECUTOR = "local"
# Ray puts unix sockets at <temp>/session_<date>_<time>_<usec>_<pid>/sockets/plasma_store (about 65 characters
# below <temp>), and a socket path may not exceed 107 bytes.
_MAX_SOCKET_DIR = 40


class Job(Protocol):
    def setup(self) -> Any:
        """The job's state, built once per worker (must not depend on the items)."""
        ...

    def run(self, state: Any, items: list[Any]) -> list[Any]:
        """One result per item, in order."""
        ...


class Executor(ABC):
    name: str = "executor"

    @abstractmethod
    def map(self, job: Job, items: Sequence[Any]) -> list[Any]:
        """`job.run` over `items`; results in item order."""

    def close(self) -> None:  # noqa: B027 - optional hook: the local executor holds nothing
        """Release workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalExecutor(Executor):
    name = "local"

    def __init__(self) -> None:
        self._states: dict[Any, Any] = {}

    def map(self, job: Job, items: Sequence[Any]) -> list[Any]:
        if job not in self._states:
            self._states[job] = job.setup()
        return job.run(self._states[job], list(items)) if items else []


class _Worker:
    """A Ray actor: builds each job's state on first use and keeps it."""

    def __init__(self) -> None:
        self.states: dict[Any, Any] = {}

    def run(self, job: Job, items: list[Any]) -> list[Any]:
        if job not in self.states:
            self.states[job] = job.setup()
        return job.run(self.states[job], items)


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int = 2, temp_dir: Path | None = None,
                 workers: int | None = None) -> None:
        import ray
        from ray.util import ActorPool

        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        self.own_temp: Path | None = None
        try:
            if address:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            else:
                session = self._session_dir(temp_dir)
                # Ray announces that a new local cluster uses token authentication (its default, kept): nothing
                # a user has to act on, so that one logger is quiet.
                logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
                ray.init(num_cpus=num_cpus, include_dashboard=False, _temp_dir=str(session), log_to_driver=False,
                         configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise UserInputError(f"cannot start {where}: {str(err).splitlines()[0] if str(err) else err}") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        actor = ray.remote(num_cpus=1)(_Worker)
        self.actors = [actor.remote() for _ in range(max(1, workers or cpus))]
        self.pool = ActorPool(self.actors)

    def map(self, job: Job, items: Sequence[Any]) -> list[Any]:
        import ray

        if not items:
            return []
        job_ref = ray.put(job)
        try:
            chunks = list(self.pool.map(lambda actor, item: actor.run.remote(job_ref, [item]), list(items)))
        except ray.exceptions.RayTaskError as err:
            cause = err.as_instanceof_cause()
            if isinstance(cause, UserInputError):
                raise UserInputError(str(cause).splitlines()[-1]) from None
            raise
        return [result for chunk in chunks for result in chunk]

    def _session_dir(self, temp_dir: Path | None) -> Path:
        """`temp_dir` when its path is short enough for Ray's unix sockets, else a private temporary directory
        (removed by `close`)."""
        if temp_dir is not None and len(str(Path(temp_dir).resolve())) <= _MAX_SOCKET_DIR:
            path = Path(temp_dir).resolve()
            path.mkdir(parents=True, exist_ok=True)
            return path
        self.own_temp = Path(tempfile.mkdtemp(prefix="nas-ray-"))
        return self.own_temp

    def close(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        ray.shutdown()
        if self.own_temp is not None:
            shutil.rmtree(self.own_temp, ignore_errors=True)
            self.own_temp = None


def make_executor(name: str, address: str | None = None, temp_dir: Path | None = None,
                  num_cpus: int = 2) -> Executor:
    """`local` or `ray`; `address` (a Ray cluster) only with `ray`."""
    if name not in EXECUTORS:
        raise UserInputError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
    if name == "local":
        if address:
            raise UserInputError("--ray-address needs --executor ray")
        return LocalExecutor()
    return RayExecutor(address=address, num_cpus=num_cpus, temp_dir=temp_dir)
