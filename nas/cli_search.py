"""`nas search`, `nas pareto`, `nas export`: the budget-constrained search and what to do with its results."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from nas_common.errors import UserInputError

console = Console(stderr=True)
if not console.is_terminal:  # piped or logged: don't squeeze the front table into 80 columns
    console = Console(stderr=True, width=140)
STRATEGY_HELP = ("nsga2 (default: fastest to reach the front), evolution (regularized/aging), random, "
                 "nni (NNI EvolutionTuner), nni-tpe (NNI TPE), ray (evolution with trials as Ray Tune trials)")


def _front_table(points: list[dict], title: str, limit: int | None = None) -> Table:
    table = Table(title=title)
    for column in ("pick", "trial", "ms", "acc. est.", "params", "layers", "hidden", "bneck",
                   "FFN×n", "heads", "norm/act"):
        table.add_column(column, justify="right")
    for k, r in enumerate(points[:limit]):
        a = r["arch"]
        bottleneck = a["intra_bottleneck_size"] if a["use_bottleneck"] else "none"
        table.add_row(str(k), str(r["id"]), f"{r['latency_ms']:.1f}", f"{r['accuracy']:.4f}",
                      f"{r['params'] / 1e6:.1f}M", str(a["num_hidden_layers"]), str(a["hidden_size"]),
                      str(bottleneck), f"{a['intermediate_size']}×{a['num_feedforward_networks']}",
                      str(a["num_attention_heads"]), f"{a['normalization_type']}/{a['hidden_act']}")
    return table


def search(
    budget: str = typer.Option(..., "--budget", help="Latency budget on the device: 62ms, '62 ms' or 0.062s."),
    device: str = typer.Option(None, "--device", help="Device name (see `nas devices`)."),
    profile: Path = typer.Option(None, "--profile", help="A device profile TOML file instead of --device."),
    strategy: str = typer.Option("nsga2", "--strategy", help=STRATEGY_HELP),
    trials: int = typer.Option(None, "--trials", min=1, help="Architectures to evaluate (default: 2000)."),
    seed: int = typer.Option(0, "--seed", help="Same seed and options give the same trials."),
    space: str = typer.Option("mobilebert-family", "--space",
                              help="Search space: built-in (mobilebert-family, mobilebert-small) or a TOML file."),
    out: Path = typer.Option(None, "--out", help="Run directory (default: runs/<device>-<budget>-<time>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out where it stopped."),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster for --strategy ray (default: local)."),
    estimator: str = typer.Option("proxy", "--estimator", help="Accuracy estimator (proxy: training-free)."),
    seq_len: int = typer.Option(128, "--seq-len", min=1, max=512, help="Sequence length the latency is for."),
) -> None:
    """Search the architectures whose predicted latency on a device fits a budget, trading accuracy for speed.

    Writes OUT/run.json, trials.jsonl, trials.csv, pareto.html and best/ (arch.json, config.json for
    transformers, TRAIN.md). Example: nas search --device pixel4 --budget 62ms
    """
    from device_profiles.profile import load_profile
    from nas.accuracy import get_estimator
    from nas.budget import format_ms, parse_budget
    from nas.search import DEFAULT_TRIALS, SearchOptions, run_search
    from nas.strategies import STRATEGIES
    from search_spaces.space import SearchSpace

    budget_ms = parse_budget(budget)
    if (device is None) == (profile is None):
        raise UserInputError("give exactly one of --device NAME or --profile FILE")
    if strategy not in STRATEGIES:
        raise UserInputError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    device_profile = load_profile(profile if profile is not None else device)
    search_space = SearchSpace.load(space)
    accuracy = get_estimator(estimator)
    options = SearchOptions(budget_ms=budget_ms, strategy=strategy, trials=trials or DEFAULT_TRIALS, seed=seed,
                            space=search_space.name, device=device_profile.name,
                            profile_hash=device_profile.content_hash, estimator=estimator,
                            estimator_version=accuracy.version, seq_len=seq_len)
    if out is None:
        from nas.run_dir import default_out

        out = default_out(device_profile.name, format_ms(budget_ms))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]search"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                   TimeElapsedColumn(), console=console)
    task = bar.add_task("", total=options.trials)

    def progress(done: int, replayed: int) -> None:
        bar.update(task, completed=done, description=f"({replayed} from the journal)" if replayed else "")

    try:  # the bar starts once the checks passed, so an error is one line
        summary = run_search(options, search_space, device_profile, out, resume, progress, ray_address,
                             on_start=lambda _: bar.start())
    finally:
        bar.stop()
    _print_summary(out, summary, options)


def _print_summary(out: Path, summary: dict, options: object) -> None:
    from nas.results import front, load_trials

    table = Table(title=f"search {out}", show_header=False)
    for key in ("trials", "within_budget", "front_size", "hypervolume", "seconds"):
        value = summary[key]
        table.add_row(key.replace("_", " "), f"{value:.4f}" if key == "hypervolume" else str(value))
    console.print(table)
    points = front(load_trials(out), options.budget_ms)
    if points:
        console.print(_front_table(points, "Pareto front (pick 0 = best, exported to best/)", limit=10))
    else:
        console.print("no trial fits the budget: nothing exported")
    console.print(f"open {out / 'pareto.html'}; train the best with: see {out / 'best' / 'TRAIN.md'}")


def pareto(
    run: Path = typer.Argument(..., help="A run directory of `nas search`."),
    as_json: bool = typer.Option(False, "--json", help="Print the front as JSON."),
) -> None:
    """The Pareto front of a run (within its budget), best accuracy first."""
    from nas.results import front, load_trials
    from nas.run_dir import read_run

    info = read_run(run)
    budget_ms = info["options"]["budget_ms"]
    points = front(load_trials(run), budget_ms)
    if as_json:
        typer.echo(json.dumps([{"pick": k, **p} for k, p in enumerate(points)], indent=2))
        return
    Console().print(_front_table(points, f"{run}: front within {budget_ms:g} ms ({len(points)} points)"))


def export(
    run: Path = typer.Argument(..., help="A run directory of `nas search`."),
    to: Path = typer.Option(..., "--to", help="Output directory."),
    pick: int = typer.Option(None, "--pick", min=0, help="Front point K (see `nas pareto`) (default: 0, the best)."),
    max_latency: str = typer.Option(None, "--max-latency", help="The most accurate front point under this latency."),
    onnx: bool = typer.Option(False, "--onnx", help="Also export model.onnx (torch.onnx, random weights)."),
    tvm: bool = typer.Option(False, "--tvm", help="Also compile a TVM library for the device's target."),
) -> None:
    """Write a front point as arch.json + config.json (+ TRAIN.md), and optionally ONNX and a TVM library."""
    from device_profiles.profile import load_profile
    from nas.budget import parse_budget
    from nas.export import check_exportable, export_config, export_onnx, export_tvm
    from nas.results import load_trials
    from nas.results import pick as pick_trial
    from nas.run_dir import read_run
    from search_spaces.arch import Arch

    if pick is not None and max_latency is not None:
        raise UserInputError("give --pick or --max-latency, not both")
    info = read_run(run)
    options = info["options"]
    chosen = pick_trial(load_trials(run), options["budget_ms"], pick,
                        parse_budget(max_latency) if max_latency else None)
    arch = Arch.from_dict(chosen["arch"])
    check_exportable(arch)
    export_config(arch, to, {"trial": chosen["id"], "run": run, "latency": chosen["latency_ms"],
                             "device": options["device"], "budget": options["budget_ms"],
                             "accuracy": chosen["accuracy"], "estimator": options["estimator"],
                             "params": chosen["params"]})
    typer.echo(f"trial {chosen['id']}: {chosen['latency_ms']:.1f} ms, accuracy estimate {chosen['accuracy']:.4f} "
               f"→ {to}/arch.json, {to}/config.json, {to}/TRAIN.md")
    if onnx:
        typer.echo(f"ONNX: {export_onnx(arch, to, options.get('seq_len', 128))}")
    if tvm:
        path, note = export_tvm(arch, load_profile(options["device"]), to, options.get("seq_len", 128))
        typer.echo(f"TVM: {path} ({note})")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nas` app."""
    app.command("search")(search)
    app.command("pareto")(pareto)
    app.command("export")(export)
