"""`nas supernet train` as a plain function, one way down: validate the options into a plan (options.py), train
(one set of weights, train_one.py; or the parts of a split supernet, split_train.py, in this process or in
--workers' processes, workers.py), then assemble the split supernet. No step calls back up."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from nas.distill.distributed import init_distributed
from nas.supernet.options import (
    PAPER_PD_FRACTION,
    PAPER_STEPS,
    RESULT_FILES,
    RunPlan,
    SupernetOptions,
    validate,
)
from nas.supernet.split import PARTS
from nas.supernet.split_train import assemble, train_parts
from nas.supernet.train_one import OneRun, train_one
from nas.supernet.workers import run_workers
from nas_common.paths import remove_results

__all__ = ["PAPER_PD_FRACTION", "PAPER_STEPS", "RESULT_FILES", "SupernetOptions", "run_supernet"]


def run_supernet(opts: SupernetOptions) -> dict[str, Any]:
    """Train the supernet `opts` describes; its details (supernet.json's, and for a split supernet whether every
    part has finished: `finished`)."""
    plan = validate(opts)
    if not plan.split:
        return train_one(plan.opts, OneRun(plan.space, plan.space_text))
    opts = plan.opts
    _clear(plan)
    if opts.workers > 1:
        run_workers(opts, plan.space)  # every unfinished part, in worker processes
        opts = replace(opts, resume=True, overwrite=False)  # what follows reads the parts they finished
    return assemble(opts, plan.space, plan.space_text, train_parts(opts, plan.space))


def _clear(plan: RunPlan) -> None:
    """`--overwrite` on a split supernet: remove it, or with `--parts` this process's parts only (the others
    belong to other processes) and the split supernet's supernet.json (now stale)."""
    import shutil

    from nas.supernet.store import META

    opts = plan.opts
    if not opts.overwrite or not init_distributed(opts.torch_device).is_main:
        return
    if not opts.parts:
        remove_results(opts.out, RESULT_FILES)
        return
    for name in opts.parts:
        shutil.rmtree(opts.out / PARTS / name, ignore_errors=True)
    (opts.out / META).unlink(missing_ok=True)
