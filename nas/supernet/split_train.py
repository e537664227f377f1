"""`nas supernet train --split bottleneck`: train one part per bottleneck width (nas/supernet/split.py), each one
set of weights (`train_one`) on the space with that width, then assemble: write the split supernet's own
`supernet.json` last.

The steps are the run's: `--steps N` is split evenly over the parts (the compute of one unsplit supernet), and
each part keeps the run's schedule, sampling rule, batch and seed. With `--init-from` (an unsplit supernet of
the same space) each part starts from that supernet's slice at the part's widest sub-network, as few-shot NAS
initialises its sub-supernets from the trained one-shot supernet (Zhao et al., ICML 2021). `--resume` keeps
finished parts, resumes the one with a checkpoint and starts the rest; a killed run therefore ends as an
uninterrupted one would. `--parts` trains only the named parts, so that the parts can run in several processes
or on several machines at once (on one directory, started together; options.validate refuses a fresh run only
its own parts); the run that finds every part finished writes the supernet, and a last `--resume` without
`--parts` does so in any case. `--workers N` (workers.py) trains the parts in N processes with `train_parts`;
the parent assembles once they have all finished.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from nas.distill.distributed import init_distributed
from nas.supernet import store
from nas.supernet.options import RESULT_FILES, SupernetOptions, record
from nas.supernet.space import check_space
from nas.supernet.split import DIMENSION, PARTS, part_name, part_spaces, space_toml
from nas.supernet.train_one import OneRun, train_one
from nas_common.errors import UserInputError
from nas_common.io import read_text
from nas_common.paths import check_output_dir
from nas_common.writing import write_text
from search_spaces.space import SearchSpace

SPACES = "spaces"  # DIR/parts/spaces/b64.toml: each part's space, the input of its run


def part_steps(total: int, parts: int) -> int:
    return max(1, math.ceil(total / parts))


def train_parts(opts: SupernetOptions, space: SearchSpace, memory_share: float = 1.0) -> dict[str, dict[str, Any]]:
    """Train this process's parts (`opts.parts`, else every part) in turn, each resumable, with `memory_share` of
    the memory each; the details of this process's parts, up to the first that stops part-way (--stop-after)."""
    spaces = part_spaces(space)
    steps = part_steps(opts.steps, len(spaces))
    ctx = init_distributed(opts.torch_device)
    root = opts.out / PARTS
    (root / SPACES).mkdir(parents=True, exist_ok=True)
    finished_before = {k: finished_part(root / part_name(k), k, steps) for k in spaces
                       if (root / part_name(k) / store.META).is_file()}  # checked before any training
    details: dict[str, Any] = {}
    for key, part_space in spaces.items():
        out = root / part_name(key)
        if opts.parts and part_name(key) not in opts.parts:
            continue  # another process's part: assemble() reads it if it has finished
        if key in finished_before:
            details[key] = finished_before[key]
            continue
        space_file = root / SPACES / f"{part_name(key)}.toml"
        if ctx.is_main:
            write_text(space_file, space_toml(part_space))
        _barrier(ctx)
        resume = opts.resume and (out / "checkpoint.pt").is_file()
        restart = opts.resume and not resume and out.is_dir()  # stopped before its first checkpoint: start it again
        part_opts = replace(opts, out=out, space=str(space_file), steps=steps, split="none", parts=(), workers=1,
                            resume=resume, overwrite=restart, stop_after=_left(opts.stop_after, details, steps))
        if part_opts.stop_after == 0:
            break
        if not resume:
            check_output_dir(out, restart, result_files=RESULT_FILES)
        if opts.progress and ctx.is_main:
            print(f"part {part_name(key)} ({list(spaces).index(key) + 1} of {len(spaces)}): {steps} steps",
                  file=sys.stderr, flush=True)
        run = OneRun(check_space(SearchSpace.load(space_file)), read_text(space_file), part=True,
                     memory_share=memory_share)
        details[key] = train_one(part_opts, run)
        _barrier(ctx)  # the main process has saved the part (and its held-out losses) before any rank goes on
        if details[key]["steps_done"] < steps:
            break  # stopped part-way (--stop-after): the run resumes here
    return details


def assemble(opts: SupernetOptions, space: SearchSpace, space_text: str,
             trained: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The split supernet's summary from the parts `trained` here and every other finished part; written as its
    supernet.json (with its space and vocabulary) once every part has finished."""
    spaces = part_spaces(space)
    steps = part_steps(opts.steps, len(spaces))
    root = opts.out / PARTS
    details = {**trained, **{k: finished_part(root / part_name(k), k, steps) for k in spaces
                             if k not in trained and (root / part_name(k) / store.META).is_file()}}
    details = {k: details[k] for k in spaces if k in details}  # the space's order, whoever trained which part
    done = sum(int(d.get("steps_done", 0)) for d in details.values())
    summary = {"split": {"dimension": DIMENSION,
                         "parts": {k: part_name(k) for k in spaces}}, "steps_done": done,
               "steps_per_part": steps,
               "seconds": round(sum(float(d.get("seconds", 0)) for d in details.values()), 1),
               "training_seconds": _summed(d.get("training_seconds") for d in details.values()),
               "teacher": next(iter(details.values()), {}).get("teacher", opts.teacher),
               "eval_corpus": str(Path(opts.eval_corpus).resolve()) if opts.eval_corpus else None,
               "init_from": str(Path(opts.init_from).resolve()) if opts.init_from else None,
               "options": record(opts),
               "held_out": {k: d.get("held_out") for k, d in details.items()}}
    finished = all((root / part_name(k) / store.META).is_file() for k in spaces)
    if finished and init_distributed(opts.torch_device).is_main:
        first = root / part_name(next(iter(spaces)))
        store.save_split(opts.out, space_text, first / store.VOCAB, summary)
    return {**summary, "finished": finished}


def finished_part(out: Path, key: Any, steps: int) -> dict[str, Any]:
    """A finished part's metadata, refused when it was trained for other than this run's steps per part (a
    part another process finished with a different --steps must not be mixed in)."""
    meta = store.read_meta(out)
    if meta.get("steps_done") != steps:
        raise UserInputError(f"part {part_name(key)} was trained for {meta.get('steps_done')} steps; this run "
                             f"gives each part {steps} (the same --steps for every process and resume)")
    return meta


def _left(stop_after: int | None, details: dict[str, Any], steps: int) -> int | None:
    """`--stop-after` counts the run's steps: what is left of it for the next part."""
    if stop_after is None:
        return None
    return max(0, stop_after - steps * len(details))


def _barrier(ctx: Any) -> None:
    if ctx.world_size > 1:
        import torch.distributed as dist

        dist.barrier()


def _summed(values: Iterable[float | None]) -> float | None:
    """The parts' training time summed; None when any part's is unknown (trained before it was counted)."""
    listed = list(values)
    return None if any(v is None for v in listed) else round(sum(listed), 1)
