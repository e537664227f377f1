"""`nas confirm RUN`: distil and fine-tune the K best front points of a search for real, as Ray Tune trials
under ASHA, and put the measured results beside the estimates (nas/confirm/)."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from nas.cli.options import command
from nas_common.errors import UserInputError
from nas_common.interrupt import EXIT_INTERRUPTED

if TYPE_CHECKING:
    from nas.confirm.plan import ConfirmOptions

console = Console(stderr=True)
MIN_SEQ_LEN = 8  # the shortest sequence `nas distill` trains on (nas/distill/options.py)


@dataclass(frozen=True, kw_only=True)
class ConfirmArgs:
    """The options of `nas confirm`, declared once (nas/cli/options.py); `__post_init__` checks what needs no
    file, before the run is locked."""

    run: Annotated[Path, typer.Argument(help="A run directory of `nas search`.")]
    top: Annotated[int, typer.Option("--top", help="Confirm the K best front points (fewer if the front is "
                                                   "smaller).")] = 4
    teacher: Annotated[Path | None, typer.Option("--teacher", help="Teacher directory (`nas teacher`) the "
                                                                   "students learn from.")] = None
    corpus: Annotated[str | None, typer.Option("--corpus", help="Distillation corpus: plain text or a folder of "
                                                                ".txt files.")] = None
    eval_corpus: Annotated[str | None, typer.Option("--eval-corpus", help="Held-out text for the rungs' losses.",
                                                    show_default="$NAS_DATA_DIR/corpus/wikitext2-test.txt")] = None
    task: Annotated[str | None, typer.Option("--task", help="GLUE task of the dev metric: sst2, mrpc, rte or "
                                                            "stsb.")] = None
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="GLUE TSV folder.",
                                                 show_default="$NAS_DATA_DIR/glue")] = None
    max_steps: Annotated[int, typer.Option("--max-steps", help="Distillation steps of the top rung.")] = 400
    rungs: Annotated[int, typer.Option("--rungs", help="ASHA rungs: max-steps/rf^(R-1), …, max-steps/rf, "
                                                       "max-steps.")] = 3
    reduction_factor: Annotated[int, typer.Option("--reduction-factor", help="ASHA keeps the best 1/rf at each "
                                                                             "rung.")] = 2
    dev_rungs: Annotated[int, typer.Option("--dev-rungs", help="The top N rungs also fine-tune and report the dev "
                                                               "metric (a fine-tune per trial and rung).")] = 1
    schedule: Annotated[str, typer.Option("--schedule", help="Distillation schedule: akt (one phase: every rung "
                                          "has trained every part), jkt or pkt (half the budget layer-wise, then "
                                          "PD).")] = "akt"
    batch_size: Annotated[int, typer.Option("--batch-size", help="Distillation batch (sequences a step).")] = 16
    seq_len: Annotated[int, typer.Option("--seq-len", help="Tokens a sequence (distillation and "
                                                           "fine-tuning).")] = 64
    lr: Annotated[float, typer.Option("--lr", help="LAMB learning rate of the distillation.")] = 1e-3
    finetune_epochs: Annotated[float, typer.Option("--finetune-epochs", help="Fine-tuning epochs at a dev "
                                                                             "rung.")] = 1.0
    finetune_examples: Annotated[int, typer.Option("--finetune-examples", help="Training examples of that "
                                                   "fine-tune (0: the whole train split).")] = 2000
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", help="Join the Ray cluster at this address (the run directory must be on storage every "
                              "node sees; a cluster with token authentication: set RAY_AUTH_MODE=token).",
        show_default="a local Ray")] = None
    cpus: Annotated[int, typer.Option("--cpus", help="CPUs of the local Ray (one trial each).")] = 2
    resume: Annotated[bool, typer.Option("--resume", help="Continue the confirmation in RUN with its recorded "
                                         "options (finished trials are not run again).")] = False
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the confirmation already in RUN.")] = False
    torch_device: Annotated[str, typer.Option("--torch-device", help="cpu or cuda.")] = "cpu"
    seed: Annotated[int, typer.Option("--seed", help="Data order and initialisation seed.")] = 0

    def __post_init__(self) -> None:
        if self.resume and self.overwrite:
            raise UserInputError("--resume and --overwrite contradict each other: choose one")
        if self.cpus < 1:
            raise UserInputError(f"--cpus must be ≥ 1, got {self.cpus}")
        if self.torch_device not in ("cpu", "cuda"):
            raise UserInputError(f"--torch-device must be cpu or cuda, got {self.torch_device!r}")


def confirm(args: ConfirmArgs) -> None:
    """Confirm a search's front by real distillation (Ray Tune, ASHA); writes RUN/confirmed.csv, re-chooses
    RUN/best/ from the confirmed results and marks them in RUN/pareto.html.

    Example: nas confirm runs/R --top 4 --teacher runs/teacher --corpus C --task sst2 --max-steps 40
    """
    from nas.confirm import plan, tuning
    from nas_common.run_lock import RunLock

    run = args.run
    if args.ray_address:  # before the options are saved in the run
        from nas.search.ray_session import check_reachable

        check_reachable(args.ray_address)
    if args.torch_device == "cuda" and args.ray_address is None:  # on a cluster the GPUs are the workers'
        from nas.distill.pipeline import check_device

        check_device(args.torch_device)
    # One writer per run directory: a `nas search --resume` (or another confirm) writing this run refuses us
    # here, before anything is deleted or trained.
    with RunLock(run, create=False):
        if args.resume:
            plan.candidates(run, 1)  # a search run, still readable
            if not tuning.can_resume(run):
                raise UserInputError(f"--resume: {run} holds no confirmation to resume (no {plan.CONFIRM_DIR}/"
                                     f"{plan.EXPERIMENT}/); drop --resume to start one")
            options = tuning.restored_options(run)
            print(f"resuming the confirmation in {run} with its recorded options", file=sys.stderr)
        else:
            options = _new_options(args)
            tuning.save_options(options)
        started = time.time()
        with tuning.RaySession(args.ray_address, args.cpus):
            try:
                results = tuning.tuner(options, args.resume).fit()
            except KeyboardInterrupt:
                results = None
        # On Ctrl-C Tune saves its state and `fit` returns with trials unfinished: nothing is published then.
        if results is None or results.num_terminated + results.num_errors < len(results):
            print(f"interrupted: the finished rungs are saved; continue with `nas confirm {run} --resume`",
                  file=sys.stderr)
            raise SystemExit(EXIT_INTERRUPTED)
        _finish(options, results, time.time() - started)


def _new_options(args: ConfirmArgs) -> ConfirmOptions:
    """The library's `ConfirmOptions` of a new confirmation: each option checked (one line), the run's front read,
    a confirmation already in RUN removed only with --overwrite."""
    from nas.confirm import plan
    from nas.confirm.table import FILE_NAME
    from nas.distill.memory import check_global_batch
    from nas.distill.options import check_non_negative, check_positive
    from nas_common.paths import data_dir as resolve_data_dir

    run = args.run
    chosen, record = plan.candidates(run, args.top)
    steps = plan.make_rungs(args.max_steps, args.rungs, args.reduction_factor)
    if args.schedule not in plan.SCHEDULES:
        raise UserInputError(f"unknown schedule {args.schedule!r}; choose one of {', '.join(plan.SCHEDULES)}")
    if not 0 <= args.dev_rungs <= args.rungs:
        raise UserInputError(f"--dev-rungs must be between 0 and --rungs ({args.rungs}), got {args.dev_rungs}")
    check_positive(batch_size=args.batch_size, seq_len=args.seq_len, lr=args.lr,
                   finetune_epochs=args.finetune_epochs)
    check_non_negative(finetune_examples=args.finetune_examples, seed=args.seed)
    if args.seq_len < MIN_SEQ_LEN:
        raise UserInputError(f"--seq-len must be at least {MIN_SEQ_LEN}, as for `nas distill`, got {args.seq_len}")
    check_global_batch(args.batch_size, args.seq_len, copies=args.cpus)  # each trial builds its batches at once
    if args.teacher is None:
        raise UserInputError("give --teacher DIR (a `nas teacher` directory the students learn from)")
    if args.task is None:
        raise UserInputError("give --task (sst2, mrpc, rte or stsb)")
    glue = resolve_data_dir(args.data_dir, sub="glue")
    corpus, eval_corpus, task = plan.check_files(args.corpus, args.eval_corpus, args.task, glue)
    options = plan.ConfirmOptions(
        run=str(run.resolve()), teacher=str(args.teacher.resolve()), corpus=corpus, eval_corpus=eval_corpus,
        task=task, glue_dir=str(Path(glue).resolve()), top=args.top, max_steps=args.max_steps, rungs=steps,
        dev_rungs=args.dev_rungs, schedule=args.schedule, batch_size=args.batch_size, seq_len=args.seq_len,
        lr=args.lr, warmup=max(1, args.max_steps // 10), finetune_epochs=args.finetune_epochs,
        finetune_examples=args.finetune_examples or None, seed=args.seed, torch_device=args.torch_device,
        supernet=plan.supernet_of(record), candidates=chosen)
    plan.check_students(options)
    held = [p for p in (run / plan.CONFIRM_DIR, run / FILE_NAME) if p.exists()]
    if held and not args.overwrite:
        raise UserInputError(f"{run} already holds a confirmation ({', '.join(p.name for p in held)}); pass --resume "
                             "to continue it or --overwrite to replace it (nothing was changed)")
    for path in held:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    if len(chosen) < args.top:
        print(f"note: the front has {len(chosen)} points; confirming all of them", file=sys.stderr)
    return options


def _finish(options: ConfirmOptions, results: Any, seconds: float) -> None:
    from nas.accuracy.resolution import Estimate
    from nas.cli.search import estimate_caption
    from nas.confirm import table
    from nas.confirm.publish import publish
    from nas.confirm.trial import share_finished
    from nas.search.run_dir import read_run

    rows = table.rows_from_results(options, results)
    summary = publish(options, rows, seconds)
    share_finished(options)  # models/ and Tune's checkpoints: one copy on disk
    record = read_run(options.run)
    out = Table(title=f"confirmed {options.run} ({summary['seconds']:.0f} s)", box=box.SIMPLE_HEAD,
                caption=estimate_caption(record, column="est. loss"))
    for column in ("pick", "trial", "est. loss", "ms", "status", "steps", "held-out MLM", "dev"):
        out.add_column(column, justify="right")
    estimate = Estimate.from_record(record)
    for r in rows:
        mlm = "" if r["heldout_mlm"] is None else f"{r['heldout_mlm']:.3f}"
        dev = "" if r["dev"] is None else f"{r['dev']:.3f}"
        out.add_row(str(r["pick"]), str(r["arch_id"]), estimate.value(r["estimate"]),
                    f"{r['latency_ms']:.1f}", r["status"], str(r["steps"]), mlm, dev)
    console.print(out)
    best = summary["best"]
    if best is not None:
        how = "the estimator's pick 0 too" if best["arch_id"] == summary["estimator_pick0"] else (
            f"the estimator's pick 0 was trial {summary['estimator_pick0']}")
        among = (f"among the {summary['trials'] - summary['failed']} of {summary['trials']} trials that did not "
                 "fail" if summary["failed"] else "from the confirmed results")
        console.print(f"best/ re-chosen {among}: trial {best['arch_id']} (pick {best['pick']}, "
                      f"{best['measured']}; {how})")
    console.print(f"{Path(options.run) / table.FILE_NAME}; open {Path(options.run) / 'pareto.html'}")
    if summary["failed"]:
        failed = [r for r in rows if r["status"] == "failed"]
        chosen = "best/ was re-chosen among the others" if best is not None else "best/ was left as the search chose it"
        reasons = "; ".join(f"trial {r['arch_id']}: {r['reason']}" for r in failed)
        print(f"error: partial confirmation: {len(failed)} of {len(rows)} trials failed ({reasons}); {chosen}",
              file=sys.stderr)
        raise SystemExit(1)


def register(app: typer.Typer) -> None:
    app.command("confirm")(command(confirm))
