"""`nas supernet train --workers N`: a split supernet's parts trained by N processes at once on one machine.

The parts are independent (split.py), so they can train side by side, each process on its share of the cores.
Measured on a 2-core machine the gain over one process on both cores is small (1.06×, nas/supernet/README.md):
its two threads already keep both busy; it is meant for machines with more cores than one process's threads
use well on these small matrices (not measured). The parts go out as a work queue, the most expensive first
(longest processing time first): a worker that finishes a part asks for the next, so no cost model has to be
right for the cores to stay busy to the end. A part's expected cost is its remaining steps times the FLOPs of
the sub-networks its steps train (the sampler's own draws), which orders the five parts of the default space as
their measured times do (run 13).

A worker trains a part as `--parts bX --resume` would (split_train.train_parts), so an interrupted run continues
with `--resume` (with or without `--workers`); the pipeline assembles the split supernet once every part has
finished.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from nas.distill.loop import LOG
from nas.supernet.options import SupernetOptions
from nas.supernet.sampler import step_archs
from nas.supernet.split import PARTS, part_name, part_spaces
from nas.supernet.split_train import SPACES, finished_part, part_steps, train_parts
from nas.supernet.store import META, read_meta
from nas_common.errors import UserInputError
from nas_common.interrupt import EXIT_INTERRUPTED, EXIT_TERMINATED
from nas_common.io import read_bytes
from search_spaces.space import SearchSpace

POLL_S = 2.0
STOP_GRACE_S = 30.0  # for a worker to finish its step and save a checkpoint after Ctrl-C
# a worker stopped by Ctrl-C or SIGTERM, by its own handler (exit status) or by the signal itself (negative)
STOPPED_CODES = (EXIT_INTERRUPTED, -signal.SIGINT, EXIT_TERMINATED, -signal.SIGTERM)
COST_SAMPLE_STEPS = 32  # sampled steps per part for its expected FLOPs a step


def steps_done(directory: Path) -> int:
    """Steps a part has logged (its loss CSV is cut back to the checkpoint on resume)."""
    path = directory / LOG
    if (directory / META).is_file():
        return -1  # finished
    if not path.is_file():
        return 0
    raw = read_bytes(path)  # a worker may be appending: its last line may still lack its line end
    return max(0, raw.count(b"\n") + (not raw.endswith(b"\n") and bool(raw)) - 1)


def expected_costs(spaces: dict[str, SearchSpace], opts: SupernetOptions, root: Path, steps: int) -> dict[str, float]:
    """Remaining steps × mean FLOPs a step of each unfinished part (FLOPs of the sub-networks it trains)."""
    costs = {}
    for key, space in spaces.items():
        done = steps_done(root / part_name(key))
        if done < 0:
            continue
        draws = [step_archs(space, opts.rule, opts.random_subnets, opts.seed, s) for s in range(COST_SAMPLE_STEPS)]
        per_step = sum(a.flops(opts.seq_len) for archs in draws for a in archs) / len(draws)
        costs[key] = (steps - min(done, steps)) * per_step
    return costs


def run_workers(opts: SupernetOptions, space: SearchSpace) -> None:
    """Train the unfinished parts in `opts.workers` processes (each with split_train.train_parts); the caller
    assembles the split supernet."""
    spaces = part_spaces(space)
    steps = part_steps(opts.steps, len(spaces))
    root = opts.out / PARTS
    (root / SPACES).mkdir(parents=True, exist_ok=True)
    for key in spaces:  # a part finished with other --steps is refused before any training
        if (root / part_name(key) / META).is_file():
            finished_part(root / part_name(key), key, steps)
    costs = expected_costs(spaces, opts, root, steps)
    queue = sorted(costs, key=costs.__getitem__, reverse=True)
    workers = min(opts.workers, len(queue))
    threads = max(1, _threads() // max(1, workers))
    if queue and opts.progress:
        print(f"{len(queue)} part(s) to train in {workers} processes of {threads} thread(s), the most expensive "
              f"first: {', '.join(part_name(k) for k in queue)}", file=sys.stderr, flush=True)
    _train_queue([part_name(k) for k in queue], workers, threads, opts, space, root, steps * len(spaces))


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def _train_queue(queue: list[str], workers: int, threads: int, opts: SupernetOptions, space: SearchSpace,
                 root: Path, total: int) -> None:
    """`workers` spawned processes (not forked: torch's thread pools do not survive a fork) ask the parent for the
    next part of `queue` whenever they are free, over a pipe each (no shared locks for a killed process to
    leave behind)."""
    context = multiprocessing.get_context("spawn")
    pipes = [context.Pipe() for _ in range(workers)]
    interruptible = signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # a nohup'ed run's workers ignore it too
    processes = [context.Process(target=work, name=f"nas-supernet-worker-{i}", daemon=True,
                                 args=(opts, space, threads, workers, os.getpid(), child, interruptible))
                 for i, (_, child) in enumerate(pipes)]
    for process in processes:
        process.start()
    for _, child in pipes:
        child.close()  # the parent keeps only its ends: a dead worker's pipe then reads as closed
    bar = _Progress(total, root, opts.progress)
    failures: list[tuple[str, str, str]] = []
    on_term = signal.signal(signal.SIGTERM, _terminated) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        open_pipes = [parent for parent, _ in pipes]
        while open_pipes:
            for pipe in wait(open_pipes, timeout=POLL_S):
                try:
                    kind, part, message = pipe.recv()
                except EOFError:  # the worker has exited
                    open_pipes.remove(pipe)
                    continue
                if kind == "ready":
                    pipe.send(queue.pop(0) if queue else None)
                else:
                    failures.append((part, kind, message))
            bar.update()
            _check_workers(processes, failures)
        for process in processes:
            process.join()
        _check_workers(processes, failures)
        if queue:
            raise RuntimeError(f"the workers stopped with part(s) {', '.join(queue)} not started; --resume continues")
    except (KeyboardInterrupt, _Terminated) as stop:
        cut_short = _stop(processes, signal.SIGTERM if isinstance(stop, _Terminated) else signal.SIGINT)
        bar.close()
        saved = ("each running part saved a checkpoint at the end of its step" if not cut_short else
                 f"{cut_short} worker(s) did not finish their step within {STOP_GRACE_S:.0f} s and keep their last "
                 "checkpoint; the others saved one at the end of their step")
        print(f"interrupted: {saved} ({root}); the same command with --resume continues", file=sys.stderr,
              flush=True)
        if isinstance(stop, _Terminated):
            raise SystemExit(EXIT_TERMINATED) from None
        raise
    finally:
        bar.close()
        if on_term is not None:
            signal.signal(signal.SIGTERM, on_term)


class _Terminated(BaseException):
    """SIGTERM reached the parent (a scheduler's time limit, `kill PID`): stop the workers as Ctrl-C does."""


def _terminated(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the workers' own SIGTERM may follow from the group
    raise _Terminated


def _check_workers(processes: list[Any], failures: list[tuple[str, str, str]]) -> None:
    """Raise when a worker has failed: KeyboardInterrupt when it was stopped (Ctrl-C or SIGTERM reached the
    workers), else the failure in one line, the other workers stopped first."""
    codes = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
    if not codes and not failures:
        return
    if not failures and all(code in STOPPED_CODES for code in codes):
        raise KeyboardInterrupt
    _stop(processes)
    _raise_failure(codes[0] if codes else 1, failures)


def work(opts: SupernetOptions, space: SearchSpace, threads: int, workers: int, parent: int, pipe: Any,
         interruptible: bool) -> None:
    """A worker process: its own threads and 1/`workers` of the free memory for its micro-batch plan, quiet,
    gone when the parent is; trains the parts the parent sends (as `--parts NAME --resume` would) until it sends
    None."""
    import torch

    torch.set_num_threads(threads)
    # Ctrl-C reaches a worker twice, from the terminal and from the parent: the first stops it
    signal.signal(signal.SIGINT, _interrupt_once if interruptible else signal.SIG_IGN)
    threading.Thread(target=_follow_parent, args=(parent,), daemon=True).start()
    while True:
        pipe.send(("ready", None, None))
        name = pipe.recv()
        if name is None:
            return
        part = replace(opts, parts=(name,), resume=True, overwrite=False, workers=1, progress=False)
        try:
            train_parts(part, space, memory_share=1 / workers)
        except UserInputError as error:
            pipe.send(("input", name, str(error)))
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            raise SystemExit(EXIT_INTERRUPTED) from None
        except Exception as error:  # reported by the parent in one line; the traceback stays in this process
            pipe.send(("bug", name, f"{type(error).__name__}: {error}"))
            raise


def _interrupt_once(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _follow_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)  # the parent was killed: stop rather than train on unseen (the checkpoint resumes it)


def _stop(processes: list[Any], first: int = signal.SIGTERM, grace_s: float = STOP_GRACE_S) -> int:
    """Send the living workers `first` (SIGINT: they finish their step and save a checkpoint, as an interrupted
    single run does), then SIGTERM to any still there after `grace_s`; how many needed that."""
    for process in processes:
        if process.exitcode is None:
            os.kill(process.pid, first)
    deadline, terminated = time.monotonic() + grace_s, 0
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            process.terminate()
            process.join(timeout=10)
            terminated += 1
    return terminated


def _raise_failure(code: int, failures: list[tuple[str, str, str]]) -> None:
    for part, kind, message in failures:
        if kind == "input":
            raise UserInputError(f"part {part}: {message}")
    part, _, detail = failures[0] if failures else ("?", "", f"a worker process exited with code {code}")
    raise RuntimeError(f"training part {part} failed: {detail}; the other parts were stopped, each with a "
                       "checkpoint (--resume continues)")


class _Progress:
    """One progress bar over every part's logged steps (its rate counts only the steps trained since it began)."""

    def __init__(self, total: int, root: Path, show: bool) -> None:
        self.root, self.bar = root, None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=self.logged(), desc="supernet parts", unit="step",
                            dynamic_ncols=True)

    def logged(self) -> int:
        done = 0
        for directory in self.root.iterdir():
            if directory.is_dir() and directory.name != SPACES:
                logged = steps_done(directory)
                done += _finished_steps(directory) if logged < 0 else logged
        return done

    def update(self) -> None:
        if self.bar is not None:
            self.bar.update(min(self.logged(), self.bar.total) - self.bar.n)  # negative after a resume's cut

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _finished_steps(directory: Path) -> int:
    return int(read_meta(directory).get("steps_done", 0))
