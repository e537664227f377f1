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

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from nas.search.ray_session import start_ray, stop_ray
from nas_common.errors import UserInputError

EXECUTORS = ("local", "ray")
DEFAULT_EXECUTOR = "local"


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

        self.own_temp = start_ray(address, num_cpus, temp_dir)
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

    def close(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        stop_ray(self.own_temp)
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
