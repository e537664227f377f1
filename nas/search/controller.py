"""The ask/tell loop: a Strategy proposes, an evaluation function scores, the Journal records.

Trial ids are assigned in ask order, so a run is a pure function of (seed, options). Resuming replays the
journal: the strategy, rebuilt from the same seed, is asked again; proposals whose ids are in the journal
are not re-evaluated (their journaled scores are told back), the rest are evaluated and appended. A
proposal that differs from its journaled arch means the options or the code changed: that is an error, never
a silent mix of two runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nas.search.evaluator import Scores
from nas.search.journal import Journal
from nas.search.trial import Trial
from nas.strategies.base import Strategy
from nas_common.errors import UserInputError
from search_spaces.arch import Arch

EvaluateFn = Callable[[Sequence[Arch], np.ndarray], Scores]  # (batch, which ones to score) → scores
ProgressFn = Callable[[int, int], None]  # (trials done, trials replayed from the journal so far)


class JournalMismatch(UserInputError):
    """The journal holds a different run than the one asked for."""


class Controller:
    def __init__(self, strategy: Strategy, evaluate: EvaluateFn, journal: Journal) -> None:
        self.strategy = strategy
        self.evaluate = evaluate
        self.journal = journal

    def run(self, trials: int, progress: ProgressFn | None = None) -> list[Trial]:
        """Run (or finish) a search of `trials` trials; returns every trial in id order."""
        done = self.journal.load()
        records: list[Trial] = []
        next_id, generation, replayed = 0, 0, 0
        try:
            while next_id < trials:
                # Always ask a full batch and drop the surplus: then a run of N trials is the first N trials of
                # any longer run with the same seed, and `--trials` can grow on `--resume`.
                archs = self.strategy.ask(self.strategy.batch_size)[: trials - next_id]
                ids = range(next_id, next_id + len(archs))
                latency = np.full(len(archs), np.nan)
                accuracy = np.full(len(archs), np.nan)
                missing = []
                for k, (trial_id, arch) in enumerate(zip(ids, archs, strict=True)):
                    old = done.get(trial_id)
                    if old is None:
                        missing.append(k)
                        continue
                    if old.arch != arch:
                        raise JournalMismatch(
                            f"trial {trial_id} in {self.journal.path} is a different arch than this run proposes "
                            "now: the run was started with other options or another version of the code, or "
                            "an earlier line of the journal was edited")
                    latency[k] = old.latency_ms
                    accuracy[k] = np.nan if old.accuracy is None else old.accuracy
                    replayed += 1
                if missing:
                    wanted = np.zeros(len(archs), dtype=bool)
                    wanted[missing] = True
                    scores = self.evaluate(archs, wanted)
                    latency[missing], accuracy[missing] = scores.latency_ms[missing], scores.accuracy[missing]
                new = []
                for k, (trial_id, arch) in enumerate(zip(ids, archs, strict=True)):
                    record = done.get(trial_id) or Trial.new(trial_id, generation, arch, latency[k], accuracy[k])
                    records.append(record)
                    if trial_id not in done:
                        new.append(record)
                self.journal.append(new)
                self.strategy.tell(archs, latency, accuracy)
                next_id += len(archs)
                generation += 1
                if progress is not None:
                    progress(next_id, replayed)
        finally:
            self.journal.close()
        return records
