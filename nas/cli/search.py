"""`nas search`, `nas pareto`, `nas export`: the budget-constrained search and what to do with its results."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from nas.accuracy.default import DEFAULT_ESTIMATOR, DEFAULT_PREDICTOR
from nas.accuracy.resolution import Estimate
from nas.cli.options import command, named_path, to_args
from nas.search.capacity import check_trials_fit
from nas.search.executor import DEFAULT_EXECUTOR, EXECUTORS
from nas.search.trial import Trial
from nas.strategies import DEFAULT_STRATEGY, DEFAULT_TRIALS, STRATEGIES
from nas_common.errors import UserInputError
from nas_common.interrupt import EXIT_INTERRUPTED
from nas_common.writing import dumps_json

console = Console(stderr=True)
STRATEGY_HELP = ("nsga2 (fastest to reach the front), evolution (regularized/aging), random, "
                 "nni (NNI EvolutionTuner), nni-tpe (NNI TPE). Any strategy runs on any --executor.")
EXECUTOR_HELP = ("Where trials are evaluated: local (this process) or ray (a pool of Ray actors: a local Ray "
                 "instance, or the cluster at --ray-address).")
_DEPRECATED_STRATEGY = {"ray": ("evolution", "ray")}  # old name → (strategy, executor)
MODEL_FILE_SUFFIXES = (".tflite", ".onnx", ".so", ".tar")  # files `nas export` writes inside --to
FALLBACK_SPACE = "mobilebert-family"  # the space of an estimator without one of its own (params, proxy)
MAX_SEED = 2**32 - 1  # the largest seed every strategy takes (NNI's tuners seed numpy's legacy RandomState)
UNBOUND_MIN_TRIALS = 50  # below this many trials "every arch fits" says little about the space
_OPS = {"no_norm": "NoNorm", "layer_norm": "LN"}
CALIBRATION_EXAMPLES = 200  # `nas export --model --tflite-int8-full`: training examples that calibrate it
EXPORTED = ("arch.json", "config.json", "teacher.json", "teacher-toy.json", "TRAIN.md", "model.onnx", "model.so",
            "model.tar", "model.tflite", "model_int8.tflite", "export.json")


def front_table(points: list[Trial], title: str, limit: int | None = None,
                confirmed: dict[int, dict[str, Any]] | None = None, caption: str | None = None,
                estimate: Estimate | None = None) -> Table:
    """The front as a table that fits 80 columns (a piped or logged output is 80 wide); with `confirmed`
    (RUN/confirmed.csv by trial id) a last column gives each confirmed point's measured result: the dev metric
    (`0.812@40`: after 40 distillation steps) or, for a point ASHA stopped early, its held-out MLM loss
    (`L6.10@10`). `loss` is the estimate, as `estimate` (the run's estimator) reads it: a predicted loss in nats
    to the decimal its scatter resolves."""
    from nas.confirm.table import measured

    estimate = estimate or Estimate("estimator")

    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    columns = ("pick", "trial", "ms", "loss", "params", "L×H", "bneck", "FFN×n", "heads", "ops")
    for column in (*columns, "confirmed") if confirmed else columns:
        table.add_column(column, justify="right", no_wrap=True)
    for k, t in enumerate(points[:limit]):
        a = t.arch
        bottleneck = str(a.intra_bottleneck_size) if a.use_bottleneck else "none"
        cells = [str(k), str(t.id), f"{t.latency_ms:.1f}", estimate.value(t.accuracy),
                 f"{t.params / 1e6:.1f}M", f"{a.num_hidden_layers}×{a.hidden_size}", bottleneck,
                 f"{a.intermediate_size}×{a.num_feedforward_networks}", str(a.num_attention_heads),
                 f"{_OPS.get(a.normalization_type, a.normalization_type)}/{a.hidden_act}"]
        if confirmed:
            cells.append(measured(confirmed[t.id], compact=True) if t.id in confirmed else "")
        table.add_row(*cells)
    return table


def estimate_caption(record: dict[str, Any], points: Sequence[Trial] = (), column: str = "loss") -> str:
    """What the estimate `column` of a run's tables is: the loss its estimator predicts, in nats, how finely it
    can be read (its measured scatter, and the picks that lie within it), and its measured quality (run.json)."""
    from nas.accuracy.resolution import loss_of

    return f"{column}: {Estimate.from_record(record).caption([loss_of(t.accuracy) for t in points])}"


def estimator_options(**given: Any) -> dict[str, Any]:
    """The estimator's options from the command line (those given), passed to `get_estimator`. Paths are made
    absolute: they are recorded in run.json and read by executor workers that may run elsewhere."""
    return {k: str(Path(v).resolve()) if isinstance(v, Path) else str(v) for k, v in given.items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class SearchArgs:
    """The options of `nas search`, declared once (nas/cli/options.py): its parameters and its resume line."""

    budget: Annotated[str, typer.Option("--budget", help="Latency budget on the device: 62ms, '62 ms' or 0.062s.")]
    device: Annotated[str | None, typer.Option("--device", help="Device name (see `nas devices`).")] = None
    profile: Annotated[Path | None, typer.Option("--profile", help="A device profile TOML file instead of "
                                                                   "--device.")] = None
    strategy: Annotated[str, typer.Option("--strategy", help=STRATEGY_HELP)] = DEFAULT_STRATEGY
    trials: Annotated[int | None, typer.Option("--trials", min=1, help="Architectures to evaluate (a search holds "
                                               "them all: about 4.5 KiB each; more than 70 % of the available memory "
                                               "is refused before the first).",
                                               show_default=str(DEFAULT_TRIALS))] = None
    seed: Annotated[int, typer.Option("--seed", min=0, help="Same seed and options give the same trials.")] = 0
    space: Annotated[str | None, typer.Option(
        "--space", help="Search space: mobilebert-family, mobilebert-small, supernet-minilm-384 (the shipped "
                        "predictor's) or a TOML file.",
        show_default="the estimator's space where it has one (the default's: supernet-minilm-384), else "
                     "mobilebert-family")] = None
    out: Annotated[Path | None, typer.Option("--out", help="Run directory.", parser=named_path("run directory"),
                                             metavar="<path>", show_default="runs/<device>-<budget>-<time>")] = None
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out where it stopped (--trials "
                                         "may grow, never shrink); a directory without a run is refused.")] = False
    executor: Annotated[str, typer.Option("--executor", help=EXECUTOR_HELP)] = DEFAULT_EXECUTOR
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address for --executor ray.",
                                                    show_default="a local Ray with 2 CPUs")] = None
    estimator: Annotated[str | None, typer.Option(
        "--estimator", help="Accuracy estimator (predictor: a supernet's predictor shipped with nas, --predictor "
                            "NAME; params: body-parameter count; proxy: training-free; supernet: a trained "
                            "supernet's inherited weights, with --supernet DIR).",
        show_default=f"{DEFAULT_ESTIMATOR} {DEFAULT_PREDICTOR} in its space, else params; --resume: the run's")] = None
    supernet: Annotated[Path | None, typer.Option(
        "--supernet", help="For --estimator supernet: a `nas supernet train` directory or an ensemble of them (`nas "
                           "supernet ensemble`); the search space becomes the supernet's (or --space inside "
                           "it).")] = None
    predictor: Annotated[str | None, typer.Option(
        "--predictor", help="For --estimator predictor: a shipped predictor's name (`nas supernet ship`); the search "
                            "space becomes its supernet's.", show_default="the only one shipped")] = None
    teacher: Annotated[Path | None, typer.Option(
        "--teacher", help="A teacher directory: fixes the students' hidden_size to its width, as feature-map "
                          "transfer needs (then every front point can learn from it).")] = None
    seq_len: Annotated[int, typer.Option("--seq-len", min=1, max=512, help="Sequence length the latency is "
                                                                           "for.")] = 128
    confidence: Annotated[float | None, typer.Option(
        "--confidence", help="Budget met only when the upper bound of this prediction interval (e.g. 0.9) is within "
                             "it; latencies are then upper bounds.")] = None


def search(args: SearchArgs) -> None:
    """Search the architectures whose predicted latency on a device fits a budget, trading accuracy for speed.

    Writes OUT/run.json, trials.jsonl, trials.csv, pareto.html and best/ (arch.json, config.json for
    transformers, teacher.json, TRAIN.md). Example: nas search --device pixel4 --budget 62ms
    """
    from device_profiles.profile import load_profile
    from nas.accuracy.shipping import named_spaces
    from nas.search.budget import format_ms, parse_budget
    from nas.search.run import SearchOptions, run_search
    from nas_common.interrupt import SigintLatch
    from nas_common.paths import check_output_dir
    from nas_common.run_lock import RunLock
    from search_spaces.space import SearchSpace

    strategy, executor = args.strategy, args.executor
    deprecated = strategy in _DEPRECATED_STRATEGY
    if deprecated:
        strategy, executor = _DEPRECATED_STRATEGY[strategy]
    budget_ms = parse_budget(args.budget)
    if args.seed > MAX_SEED:
        raise UserInputError(f"--seed {args.seed} is too large: give 0 to {MAX_SEED} (2^32 − 1)")
    if args.resume and args.out is None:
        raise UserInputError("--resume needs --out RUN, the run directory to continue")
    if strategy not in STRATEGIES:
        raise UserInputError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if executor not in EXECUTORS:
        raise UserInputError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if args.ray_address and executor != "ray":
        raise UserInputError("--ray-address needs --executor ray")
    device_profile = load_profile(args.device, args.profile)  # the one device rule: exactly one of them
    if args.confidence is not None:  # latencies become the interval's upper bound (latency_models/confidence.py)
        from latency_models.confidence import with_confidence

        device_profile = with_confidence(device_profile, args.confidence)
    # resume lines written while mobilebert-family was --space's default spelled it out: there it is no choice
    explicit_space = args.space is not None and not (args.resume and args.space == FALLBACK_SPACE)
    space_name = args.space if args.space is not None else FALLBACK_SPACE
    search_space = SearchSpace.load(space_name, named_spaces()).check_every_choice_used(space_name)
    estimator_name, options_for_estimator, accuracy, estimator_note = choose_estimator(args, search_space,
                                                                                       explicit_space)
    # a supernet's or a shipped predictor's space (or --space checked inside it); others search --space as given
    search_space = accuracy.restrict_space(search_space, explicit=explicit_space)
    options = SearchOptions(budget_ms=budget_ms, strategy=strategy, trials=args.trials or DEFAULT_TRIALS,
                            seed=args.seed, space=search_space.name, device=device_profile.name,
                            profile_hash=device_profile.content_hash, estimator=estimator_name,
                            estimator_version=accuracy.version, seq_len=args.seq_len,
                            estimator_options=options_for_estimator,
                            teacher=str(args.teacher) if args.teacher is not None else None)
    check_trials_fit(options.trials)
    out = args.out
    if out is None:
        from nas.search.run_dir import default_out

        out = default_out(device_profile.name, format_ms(budget_ms))
    check_output_dir(out, overwrite=True)  # a file, under a file, not writable: one line before any work
    if args.resume:
        from nas.confirm import table as confirmed

        confirmed.read(out)  # pareto.html marks the confirmed points after the new trials: refuse damage now
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]search"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                   TimeElapsedColumn(), console=console)
    task = bar.add_task("", total=options.trials)

    latch = SigintLatch()

    def progress(done: int, replayed: int) -> None:
        latch.raise_if_interrupted()
        bar.update(task, completed=done, description=f"({replayed} from the journal)" if replayed else "")

    def started() -> None:  # the checks passed: an error before this is one line
        if deprecated:
            print("warning: --strategy ray is deprecated; it runs --strategy evolution --executor ray", file=sys.stderr)
        if estimator_note:
            print(estimator_note, file=sys.stderr)
        bar.start()

    try:  # the bar starts once the checks passed, so an error is one line
        with RunLock(out), latch:  # one writer per run: a second search or a confirm is refused at once
            summary = run_search(options, search_space, device_profile, out, args.resume, progress,
                                 on_start=lambda _: started(), executor=executor, ray_address=args.ray_address)
    except KeyboardInterrupt:
        if bar.live.is_started:
            bar.stop()
        command = resume_command(replace(args, out=out, strategy=strategy, executor=executor))
        print(f"interrupted: the finished trials are saved in {out / 'trials.jsonl'}; continue with: {command}",
              file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    finally:
        if bar.live.is_started:
            bar.stop()
    _print_summary(out, summary, options, accuracy)


def choose_estimator(args: SearchArgs, space: Any, explicit_space: bool) -> tuple[str, dict[str, Any], Any, str | None]:
    """The estimator's name, options and the estimator itself, and a note for stderr once the search starts: as
    given; else implied by --supernet / --predictor; on --resume the run's own; else the default for this space and
    teacher (nas/accuracy/default.py), which the note names."""
    from nas.accuracy import get_estimator
    from nas.accuracy.default import Choice, default_choice

    given = estimator_options(supernet=args.supernet, predictor=args.predictor)
    recorded = _recorded_estimator(args) if args.resume and not given else None
    if recorded is not None and args.estimator in (None, recorded[0]):  # the run's own, with the options it had
        choice = Choice(*recorded)
    elif args.estimator is not None:
        choice = Choice(args.estimator, given)
    elif args.supernet is not None or args.predictor is not None:
        choice = Choice("supernet" if args.supernet is not None else "predictor", given)
    else:
        choice = default_choice(space, explicit_space, args.teacher)
    built = choice.built if choice.built is not None else get_estimator(choice.name, **choice.options)
    return choice.name, choice.options, built, choice.note


def _recorded_estimator(args: SearchArgs) -> tuple[str, dict[str, Any]] | None:
    """The estimator name and options run.json in --out recorded (None when there is no run to resume)."""
    if args.out is None or not (args.out / "run.json").is_file():
        return None
    from nas.search.run_dir import read_run, recorded_options

    recorded = recorded_options(read_run(args.out), args.out)
    options = recorded.get("estimator_options")
    return str(recorded.get("estimator") or "proxy"), options if isinstance(options, dict) else {}


def resume_command(args: SearchArgs) -> str:
    """The `nas search ... --resume` line that continues this run: the options it was given (the run directory as
    --out; strategy and seed spelled out even at their defaults; --space where it was given), from `SearchArgs`'
    declaration."""
    words = to_args(replace(args, resume=False), always=("strategy", "seed"))
    return shlex.join(["nas", "search", *words, "--resume"])


def _print_summary(out: Path, summary: dict, options: Any, estimator: Any) -> None:
    from nas.accuracy import describe
    from nas.search.results import front, load_trials
    from nas.search.run_dir import read_run

    results = Console()  # the results go to stdout (`nas search ... > front.txt`); the bar and logs to stderr
    table = Table(title=f"search {out}", show_header=False, box=box.SIMPLE)
    for key in ("trials", "within_budget", "front_size", "seconds"):
        table.add_row(key.replace("_", " "), str(summary[key]))
    table.add_row("estimator", describe(estimator))
    table.add_row("estimates", f"{Estimate.of(estimator).quantity} in nats, lower is better (not an accuracy)")
    results.print(table)
    trials = load_trials(out)
    points = front(trials, options.budget_ms)
    kept = summary.get("best_kept")
    if points:
        title = "Pareto front (pick 0 = best estimate)" if kept else "Pareto front (pick 0 = best, exported to best/)"
        record = read_run(out)
        results.print(front_table(points, title, limit=10, caption=estimate_caption(record, points),
                                  estimate=Estimate.from_record(record)))
    if kept:
        results.print(f"best/ kept: arch {kept['arch_id']}, the winner `nas confirm` measured ({kept['measured']}); "
                      f"front points found since are estimates until `nas confirm {out}` measures them", soft_wrap=True)
    if not points:
        results.print("no trial fits the budget: nothing exported")
    elif summary["trials"] >= UNBOUND_MIN_TRIALS and summary["within_budget"] == summary["trials"]:
        slowest = max(t.latency_ms for t in trials)
        results.print(f"note: all {len(trials)} archs tried fit {options.budget_ms:g} ms (the slowest "
                      f"{slowest:.0f} ms): the space {options.space}, not the budget, bounds the pick; a larger "
                      "student needs a larger space (--space)", soft_wrap=True)
    results.print(f"open {out / 'pareto.html'}; train the best: {out / 'best' / 'TRAIN.md'}", soft_wrap=True)


def pareto(
    run: Path = typer.Argument(..., help="A run directory of `nas search`."),
    as_json: bool = typer.Option(False, "--json", help="Print the front as JSON."),
) -> None:
    """The Pareto front of a run (within its budget), best accuracy first; after `nas confirm`, with the
    measured result of each confirmed point (RUN/confirmed.csv)."""
    from nas.confirm.table import by_arch
    from nas.search.results import front, load_trials
    from nas.search.run_dir import read_run, recorded_options

    record = read_run(run)
    budget_ms = recorded_options(record, run)["budget_ms"]
    trials = load_trials(run)
    points = front(trials, budget_ms)
    confirmed = by_arch(run)
    if as_json:
        typer.echo(dumps_json([{"pick": k, **t.to_json(), "confirmed": confirmed.get(t.id)}
                               for k, t in enumerate(points)]))
        return
    if not points:
        within = "no trial yet" if not trials else f"no trial of {len(trials)} within {budget_ms:g} ms"
        typer.echo(f"{run}: {within}, so no front")
        return
    out = Console()
    if confirmed:  # the extra column needs 92 characters; wider than a piped 80, never cut
        out = Console(width=max(out.width, 92))
    out.print(front_table(points, f"{run}: front within {budget_ms:g} ms ({len(points)} points)", confirmed=confirmed,
                          caption=estimate_caption(record, points), estimate=Estimate.from_record(record)))


@dataclass(frozen=True, kw_only=True)
class ExportArgs:
    """The options of `nas export` (RUN or --model DIR), declared once (nas/cli/options.py); `__post_init__` refuses
    the options the chosen form does not take."""

    run: Annotated[Path | None, typer.Argument(
        help="A run directory of `nas search` (its pick: untrained weights); or give --model DIR.",
        show_default=False)] = None
    to: Annotated[Path, typer.Option("--to", help="Output directory.", parser=named_path("output directory"),
                                     metavar="<path>")]
    model: Annotated[Path | None, typer.Option(
        "--model", help="A trained model directory (nas distill, nas finetune, a confirmed trial, nas supernet "
        "extract; a search run's best/ after nas confirm --task: its winner, fine-tuned): exported with its trained "
        "weights and task head, with vocab.txt and app.json (tokenizer settings, sequence length, labels).",
        parser=named_path("model directory"), metavar="<path>")] = None
    pick: Annotated[int | None, typer.Option(
        "--pick", min=0, help="Front point K (see `nas pareto`) \\[default: 0, the best].")] = None
    max_latency: Annotated[str | None, typer.Option(
        "--max-latency", help="The most accurate front point under this latency.")] = None
    onnx: Annotated[bool, typer.Option(
        "--onnx", help="Also export model.onnx (ids, attention mask and token types of any batch and length up to "
        "512; export.json says which weights).")] = False
    tvm: Annotated[bool, typer.Option("--tvm", help="Also compile a TVM library for the device's target.")] = False
    tflite: Annotated[bool, typer.Option(
        "--tflite", help="Also write model.tflite (fp32, LiteRT; checked against torch). Needs the tflite "
        "extra.")] = False
    tflite_int8: Annotated[bool, typer.Option(
        "--tflite-int8", help="Also write model_int8.tflite (dynamic-range int8 weights; implies --tflite); its "
        "error against torch is reported.")] = False
    tflite_int8_full: Annotated[bool, typer.Option(
        "--tflite-int8-full", help="With --model: also write model_int8_full.tflite (int8 weights and activations, "
        "calibrated on the task's training split; implies --tflite).")] = False
    calibration_examples: Annotated[int | None, typer.Option(
        "--calibration-examples", min=1, help="With --tflite-int8-full: training examples the activation ranges "
        "are taken from.", show_default=str(CALIBRATION_EXAMPLES))] = None
    seq_len: Annotated[int | None, typer.Option(
        "--seq-len", help="With --model: tokens per input of the .tflite file (fixed; the longest input your app "
        "sends, [CLS] and [SEP] included) \\[default: the fine-tuning length].")] = None
    output: Annotated[str | None, typer.Option(
        "--output", help="With --model: logits (a fine-tuned model's task head) or encoder (last_hidden_state) "
        "\\[default: logits when the model has a task head].")] = None
    data_dir: Annotated[str | None, typer.Option(
        "--data-dir", help="With --tflite-int8-full: GLUE TSV layout.", show_default="$NAS_DATA_DIR/glue")] = None
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an export already in --to.")] = False
    profile: Annotated[Path | None, typer.Option(
        "--profile", help="With --tvm: the device profile TOML of a run searched with --profile FILE.",
        show_default="the run's --device")] = None
    device: Annotated[str | None, typer.Option(
        "--device", help="With --model: the device whose latency is predicted for the model's architecture "
        "(printed and recorded as a prediction, beside the .tflite files' latency measured on this machine) "
        "\\[default: pixel4].")] = None

    def __post_init__(self) -> None:
        if self.to.suffix.lower() in MODEL_FILE_SUFFIXES and not self.to.is_dir():
            suffix = self.to.suffix.lower()
            flag = {".onnx": "--onnx", ".so": "--tvm", ".tar": "--tvm"}.get(suffix, "--tflite")
            raise UserInputError(f"--to {self.to} looks like a file: --to is the directory the files are written in "
                                 f"(model{suffix} among them); give e.g. --to {self.to.with_suffix('')} {flag}")
        if self.model is not None:
            if self.run is not None:
                raise UserInputError("give a run directory or --model DIR, not both")
            for name, given in (("--pick", self.pick), ("--max-latency", self.max_latency),
                                ("--tvm", self.tvm or None), ("--profile", self.profile)):
                if given is not None:
                    raise UserInputError(f"{name} applies to a run directory, not to --model")
            for name, given in (("--calibration-examples", self.calibration_examples),
                                ("--data-dir", self.data_dir)):
                if given is not None and not self.tflite_int8_full:
                    raise UserInputError(f"{name} applies to --tflite-int8-full (its activation ranges, taken from "
                                         "the task's training split); add --tflite-int8-full or leave it out")
            return
        if self.run is None:
            raise UserInputError("give a run directory of nas search (its pick, untrained) or --model DIR (a trained "
                                 "model)")
        for name, given in (("--seq-len", self.seq_len), ("--output", self.output), ("--data-dir", self.data_dir),
                            ("--tflite-int8-full", self.tflite_int8_full or None), ("--device", self.device),
                            ("--calibration-examples", self.calibration_examples)):
            if given is not None:
                raise UserInputError(f"{name} applies to --model DIR (a trained model), not to a run directory")
        if self.profile is not None and not self.tvm:
            raise UserInputError("--profile applies to --tvm (the device the TVM library is built for); add --tvm "
                                 "or leave it out")
        if self.pick is not None and self.max_latency is not None:
            raise UserInputError("give --pick or --max-latency, not both")


def export(args: ExportArgs) -> None:
    """Write a trained model (--model DIR) as .tflite / ONNX with its weights and task head, or a search run's front
    point (RUN) as arch.json + config.json + teacher.json + TRAIN.md with optional ONNX, TVM, TFLite files of the
    untrained architecture."""
    if args.model is not None:
        from nas.cli.deploy import export_trained

        for line in export_trained(args.model, args.to, args.seq_len, args.output, args.tflite, args.tflite_int8,
                                   args.tflite_int8_full, args.calibration_examples or CALIBRATION_EXAMPLES,
                                   args.onnx, args.data_dir, args.overwrite, args.device):
            typer.echo(line)
        return
    _export_pick(args)


def _export_pick(args: ExportArgs) -> None:
    """`nas export RUN`: the picked front point, untrained."""
    from nas.export import formats as exports
    from nas.export.train_guide import export_pick
    from nas.search.budget import parse_budget
    from nas.search.results import load_trials
    from nas.search.results import pick as pick_trial
    from nas.search.run_dir import read_run, recorded_options
    from nas_common.paths import check_output_dir

    run, to, max_latency = args.run, args.to, args.max_latency
    assert run is not None  # ExportArgs.__post_init__
    tflite = args.tflite or args.tflite_int8
    if tflite:
        exports.check_tflite_available()
    record = read_run(run)
    options = recorded_options(record, run)
    chosen = pick_trial(load_trials(run), options["budget_ms"], args.pick,
                        parse_budget(max_latency) if max_latency else None)
    exports.check_exportable(chosen.arch)
    if args.onnx:
        exports.check_onnx_available()
    if to.resolve() == run.resolve() or run.resolve() in to.resolve().parents:
        raise UserInputError(f"--to {to} is inside the run {run}; export to a directory outside it")
    check_output_dir(to, overwrite=args.overwrite, what="--to", result_files=EXPORTED)
    profile = _run_profile(options, args.profile) if args.tvm else None  # before a file is written
    estimate = Estimate.from_record(record)
    export_pick(chosen, to, run, options, estimate)
    typer.echo(f"trial {chosen.id}: {chosen.latency_ms:.1f} ms, {estimate.phrase(chosen.accuracy)} "
               f"→ {to}/arch.json, config.json, teacher.json, TRAIN.md (the architecture, untrained weights: TRAIN.md "
               "trains it; nas export --model ships a trained one)")
    if args.onnx:
        typer.echo(exports.describe_onnx(exports.export_onnx(chosen.arch, to, options.get("seq_len", 128)), to))
    if args.tvm:
        path, note = exports.export_tvm(chosen.arch, profile, to, options.get("seq_len", 128))
        typer.echo(f"TVM: {path} ({note})")
    if tflite:
        for line in exports.export_tflite_files(chosen.arch, to, options.get("seq_len", 128), args.tflite_int8):
            typer.echo(line)


def _run_profile(options: dict, profile: Path | None) -> Any:
    """The device profile a run was searched for: its name, or the `--profile` file given again, checked by hash."""
    from device_profiles.profile import known_devices, load_profile

    if profile is None and options["device"] not in known_devices():
        raise UserInputError(f"the run was searched for device {options['device']!r}, which is not a known device; "
                             "pass its profile with --profile FILE")
    found = load_profile(None if profile is not None else options["device"], profile)
    if options.get("profile_hash") and found.content_hash != options["profile_hash"]:
        print(f"warning: the profile of {found.name!r} changed since the search (hash differs); the TVM build uses "
              "the current one", file=sys.stderr)
    return found


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nas` app."""
    app.command("search")(command(search))
    app.command("pareto")(pareto)
    app.command("export")(command(export))
