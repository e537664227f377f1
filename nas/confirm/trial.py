"""One `nas confirm` trial (a Ray Tune function trainable): distil one front point up to each rung in turn,
report the held-out losses there (and, on the top rungs, the dev metric after a short fine-tune), with the
model directory as the rung's Tune checkpoint.

The distillation runs once with its full-length schedule (the learning rate decays over `max_steps`);
each rung is a stop of that run (`stop_after`) with a checkpoint exactly there, so continuing to the next
rung is `nas distill --resume` and a trial that reaches the top rung has trained as one uninterrupted run.
A trial restarted by Tune (its worker died, or `nas confirm --resume` after the driver was killed) copies
its last Tune checkpoint back into the model directory and continues from that rung.

On disk, per trial: RUN/confirm/models/<arch id>/model/ (the student: `transformers`-loadable, its
losses.csv, metrics.json with the held-out losses, dev-<steps>/metrics.json, state.json), attempts.jsonl (one
line per start: process id and the step it started from) and, with a supernet, warm/ (the inherited weights).
Once every trial has ended, a kept model directory and its trial's last Tune checkpoint hold the same files:
they become hard links to one copy (`share_finished`), so a confirmation takes the disk once, not twice.
"""

from __future__ import annotations

import filecmp
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

from nas.confirm.plan import (
    CONFIRM_DIR,
    EXPERIMENT,
    METRIC,
    MODELS,
    PRIMARY,
    TIME_ATTR,
    Candidate,
    ConfirmOptions,
    split_budget,
)
from nas_common.errors import UserInputError
from nas_common.io import read_json, read_text
from nas_common.writing import append_jsonl, cut_torn_tail, write_json, write_text

STATE = "state.json"  # the rung reached, wall time and results so far: part of every checkpoint
ATTEMPTS = "attempts.jsonl"
# A trial whose student the distillation refuses (a UserInputError: deterministic, so never retried) ends
# without raising and leaves the one-line reason here; the driver prints it and the row says `failed`.
REFUSED = "refused.txt"


def trial_dir(options: ConfirmOptions, arch_id: int) -> Path:
    return Path(options.run) / CONFIRM_DIR / MODELS / str(arch_id)


def confirm_trial(config: dict[str, Any]) -> None:
    """The Tune trainable: `config` holds the options (a dict) and the candidate's index."""
    import ray
    import torch
    from ray import tune

    options = ConfirmOptions.from_dict(config["options"])
    candidate = options.candidates[config["candidate"]]
    torch.set_num_threads(options.threads)
    home = trial_dir(options, candidate.arch_id)
    model = home / "model"
    state = restore(model, tune.get_checkpoint())
    attempt = {"pid": os.getpid(), "start_step": state["steps"], "time": time.time(),  # which process, on which
               "gcs_address": ray.get_runtime_context().gcs_address}  # Ray cluster, from which step
    cut_torn_tail(home / ATTEMPTS)  # a start killed mid-line
    append_jsonl(home / ATTEMPTS, [attempt])
    try:
        _train_rungs(options, candidate, home, model, state)
    except UserInputError as err:
        write_text(home / REFUSED, " ".join(str(err).split()) + "\n")


def refusal(options: ConfirmOptions, arch_id: int) -> str | None:
    """The one-line reason a trial's student was refused, or None."""
    path = trial_dir(options, arch_id) / REFUSED
    return read_text(path).strip() if path.is_file() else None


def _train_rungs(options: ConfirmOptions, candidate: Candidate, home: Path, model: Path, state: dict[str, Any]) -> None:
    from ray import tune

    warm = warm_start(options, candidate, home)
    for rung, steps in enumerate(options.rungs):
        if steps <= state["steps"]:
            continue
        started = time.time()
        distill_to(options, candidate, model, steps, resume=state["steps"] > 0, warm=warm)
        state["heldout"] = heldout_at(model, steps)
        if steps >= options.dev_from:
            state["dev"] = dev_metrics(options, model, steps)
            state["dev_steps"] = steps
        state.update(steps=steps, rung=rung, wall_s=round(state["wall_s"] + time.time() - started, 1))
        write_json(model / STATE, state)
        tune.report(report(options, candidate, state), checkpoint=tune.Checkpoint.from_directory(str(model)))


def last_checkpoint(options: ConfirmOptions, arch_id: int) -> Path | None:
    """The trial's newest Tune checkpoint in the run (RUN/confirm/tune/arch-<id>/checkpoint_*), if there."""
    found = sorted((Path(options.run) / CONFIRM_DIR / EXPERIMENT / f"arch-{arch_id}").glob("checkpoint_*"))
    return found[-1] if found else None


def share_finished(options: ConfirmOptions) -> int:
    """Once every trial has ended (Tune has persisted its last checkpoints, nothing writes either again): each
    kept model directory shares its files with its trial's last checkpoint. Returns the bytes shared."""
    return sum(share_files(trial_dir(options, c.arch_id) / "model", last_checkpoint(options, c.arch_id))
               for c in options.candidates if (trial_dir(options, c.arch_id) / "model").is_dir())


def share_files(model: Path, saved: Path | None) -> int:
    """Make each file of the finished trial's model directory that its last Tune checkpoint holds unchanged a
    hard link to the checkpoint's, so that the two (Tune's, for `--resume`; models/, the one a user loads)
    take the disk once. Returns the bytes shared; where links cannot be made (another file system), both
    copies stay."""
    if saved is None:
        return 0
    shared = 0
    for path in sorted(p for p in model.rglob("*") if p.is_file()):
        twin = saved / path.relative_to(model)
        if not twin.is_file() or twin.stat().st_ino == path.stat().st_ino or not filecmp.cmp(path, twin, False):
            continue
        link = path.with_name(path.name + ".link")
        try:
            os.link(twin, link)
        except OSError:
            return shared
        link.replace(path)
        shared += path.stat().st_size
    return shared


def restore(model: Path, checkpoint: Any) -> dict[str, Any]:
    """The trial's state: from its last Tune checkpoint (copied back into `model`), else a fresh start (a
    model directory left by a start that died before its first rung is cleared)."""
    if model.exists():
        shutil.rmtree(model)
    if checkpoint is None:
        model.mkdir(parents=True)
        return {"steps": 0, "rung": -1, "wall_s": 0.0, "heldout": {}, "dev": {}, "dev_steps": None}
    with checkpoint.as_directory() as saved:
        shutil.copytree(saved, model)
    return read_json(model / STATE)


def warm_start(options: ConfirmOptions, candidate: Candidate, home: Path) -> str | None:
    """With the run's supernet: the candidate's inherited weights (extracted once), else None (`nas distill`
    then starts the student from the teacher's embeddings and heads)."""
    if options.supernet is None:
        return None
    from nas.supernet.api import extract
    from search_spaces.arch import Arch

    warm = home / "warm"
    if not (warm / "model.safetensors").is_file():
        extract(options.supernet, Arch.from_dict(candidate.arch, source="candidate"), warm, overwrite=True)
    return str(warm)


def distill_to(options: ConfirmOptions, candidate: Candidate, model: Path, steps: int, resume: bool,
               warm: str | None) -> None:
    """Train the full-length schedule up to global step `steps` (a checkpoint lands exactly there)."""
    from nas.distill.options import RunOptions
    from nas.distill.pipeline import run_distill
    from search_spaces.arch import Arch

    arch = Arch.from_dict(candidate.arch, source="candidate")
    per_layer, pd = split_budget(options.schedule, arch.num_hidden_layers, options.max_steps)
    opts = RunOptions(corpus=options.corpus, out=model, batch_size=options.batch_size, seq_len=options.seq_len,
                      lr=options.lr, warmup=options.warmup, checkpoint_every=math.gcd(*options.rungs),
                      resume=resume, overwrite=not resume, torch_device=options.torch_device, seed=options.seed,
                      progress=False, stop_after=steps, eval_corpus=options.eval_corpus,
                      checkpoint_on_interrupt=False)  # Ray Tune owns a trial's interruption
    run_distill(arch, options.teacher, schedule=options.schedule, steps_per_layer=per_layer, pd_steps=pd,
                opts=opts, warm_start=None if resume else warm)


def heldout_at(model: Path, steps: int) -> dict[str, float]:
    entries = read_json(model / "metrics.json")["heldout"]
    found = [e for e in entries if e["global_step"] == steps]
    if not found:
        raise RuntimeError(f"no held-out losses at step {steps} in {model / 'metrics.json'}")
    return {k: v for k, v in found[-1].items() if k != "global_step"}


def dev_metrics(options: ConfirmOptions, model: Path, steps: int) -> dict[str, float]:
    """A short fine-tune of the model at this rung; its dev metrics (the model directory is unchanged)."""
    from nas.distill.finetune import FinetuneConfig, finetune

    cfg = FinetuneConfig(epochs=options.finetune_epochs, lr=options.finetune_lr,
                         batch_size=options.finetune_batch_size, max_seq_len=options.seq_len,
                         max_train_examples=options.finetune_examples, seed=options.seed,
                         torch_device=options.torch_device, progress=False)
    return finetune(model, options.task, options.glue_dir, model / f"dev-{steps}", cfg, overwrite=True)["dev"]


def report(options: ConfirmOptions, candidate: Candidate, state: dict[str, Any]) -> dict[str, Any]:
    """What Tune records at a rung: the step budget (ASHA's time attribute), the held-out MLM loss (its
    metric), every held-out term, the latest dev metrics and the wall time so far."""
    dev = state.get("dev") or {}
    metrics = {TIME_ATTR: state["steps"], "rung": state["rung"], "arch_id": candidate.arch_id,
               METRIC: state["heldout"]["mlm"], "wall_s": state["wall_s"],
               **{f"heldout_{k}": v for k, v in state["heldout"].items() if k != "mlm"},
               **{f"dev_{k}": v for k, v in dev.items()}}
    if dev:
        metrics["dev"] = dev[PRIMARY[options.task]]
        metrics["dev_steps"] = state["dev_steps"]
    return metrics
