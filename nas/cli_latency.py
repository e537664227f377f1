"""`nas latency | measure | calibrate | validate`: predict, measure, fit and check device latency.

Heavy libraries (TVM, torch, scipy) are imported inside the commands so that `nas --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

DEVICE_HELP = "Device name (pixel4, host, a user profile)."
PROFILE_HELP = "A device profile TOML file (instead of --device)."


def latency(
    arch: str = typer.Option(..., "--arch", help="Preset name or arch JSON file."),
    device: str | None = typer.Option(None, "--device", help=DEVICE_HELP + " [default: pixel4]"),
    profile: Path | None = typer.Option(None, "--profile", help=PROFILE_HELP),
    seq_len: int = typer.Option(128, "--seq-len", min=1),
    breakdown: bool = typer.Option(False, "--breakdown", help="Per-kernel rows, slowest first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Predict the latency of one architecture on a device."""
    from device_profiles.profile import load_profile
    from latency_models.predictor import Predictor
    from search_spaces.family import check_seq_len
    from search_spaces.presets import resolve_arch

    check_seq_len(seq_len)
    prof = load_profile(device, profile, default="pixel4")
    a = resolve_arch(arch)
    p = Predictor(prof)
    ms = float(p.predict([a], seq_len)[0])
    rows = p.breakdown(a, seq_len) if breakdown else None
    if as_json:
        out: dict = {"arch": arch, "device": prof.name, "seq_len": seq_len, "latency_ms": round(ms, 3),
                     "flops": a.flops(seq_len), "calibrated": bool(prof.cost)}
        if rows is not None:
            out["breakdown"] = rows
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"{arch} on {prof.name} (seq {seq_len}): {ms:.1f} ms"
               + ("" if prof.cost else "  [uncalibrated profile: priors only]"))
    if rows:
        typer.echo(f"{'part':6} {'kernel':48} {'kind':11} {'calls':>5} {'GFLOP':>8} {'MB':>8} {'ms':>8} {'share':>6}")
        for r in rows:
            typer.echo(f"{r['part']:6} {r['kernel'][:48]:48} {r['kind']:11} {r['calls']:5d} {r['flops'] / 1e9:8.3f} "
                       f"{r['bytes'] / 1e6:8.2f} {r['ms']:8.2f} {100 * r['share']:5.1f}%")


def measure_cmd(
    arch: list[str] = typer.Option(None, "--arch", help="Preset name or arch JSON file; repeat it to measure "
                                   "several archs in one process, interleaved."),
    archs_file: Path | None = typer.Option(None, "--archs", help="A file of archs, one a line (JSON objects as "
                                           "`nas calibrate --suggest` writes, preset names or arch files)."),
    out: Path = typer.Option(..., "--out", help="Measurements file to append to (.csv or .jsonl)."),
    device: str | None = typer.Option(None, "--device", help=DEVICE_HELP + " [default: host]"),
    profile: Path | None = typer.Option(None, "--profile", help=PROFILE_HELP),
    backend: str = typer.Option("torch", "--backend", help="torch | tvm (untuned): time on this machine; "
                                "rpc (untuned): time on the device behind --rpc."),
    threads: int = typer.Option(1, "--threads", min=1),
    repeat: int = typer.Option(10, "--repeat", min=1, help="Timed runs per arch (after the warm-up)."),
    seq_len: int = typer.Option(128, "--seq-len", min=1),
    rpc: str | None = typer.Option(None, "--rpc", help="HOST:PORT of a TVM RPC server (rpc backend)."),
    clock: str = typer.Option("wall", "--clock", help="wall | thread (torch, 1 thread: CPU time of the "
                              "thread, robust on a shared machine)."),
    max_spread: float = typer.Option(0.10, "--max-spread", help="Re-measure an arch whose runs' std/median is "
                                     "above this."),
    retries: int = typer.Option(2, "--retries", min=0, help="Re-measurements at most (the steadiest kept)."),
    warmup_max: int = typer.Option(50, "--warmup-max", min=1, help="Warm-up runs at most (warm-up stops "
                                   "earlier once the times are stable)."),
) -> None:
    """Measure architectures and append one row each: median of repeats after a warm-up until stable, with
    the runs' spread (std/median) and their number."""
    from device_profiles.profile import load_profile
    from latency_models.arch_list import read_arch_list
    from latency_models.measure import UNTUNED_NOTE, check_backend, measure_many
    from latency_models.measurements import append_measurements, check_appendable
    from nas_common.errors import UserInputError
    from nas_common.paths import check_output_file
    from search_spaces.family import check_seq_len
    from search_spaces.presets import resolve_arch

    if not arch and archs_file is None:
        raise UserInputError("give --arch NAME (repeatable) or --archs FILE")
    check_seq_len(seq_len)
    check_output_file(out, inputs=(archs_file,) if archs_file else ())
    check_appendable(out)
    prof = load_profile(device, profile, default="host")
    named = [(a, resolve_arch(a)) for a in arch or []]
    if archs_file is not None:
        named += read_arch_list(archs_file)
    check_backend(backend, prof, rpc)
    rows = measure_many([a for _, a in named], backend, prof, seq_len, 1, threads, repeat, rpc, clock,
                        max_spread, retries, warmup_max)
    append_measurements(out, rows)
    for (label, _), m in zip(named, rows, strict=True):
        flag = "  [spread above --max-spread after retries]" if (m.spread or 0) > max_spread else ""
        typer.echo(f"{label}: {m.latency_ms:.2f} ms, spread {100 * (m.spread or 0):.1f}% of {m.repeats} runs "
                   f"({backend}, {threads} thread(s), seq {seq_len}){flag}")
    typer.echo(f"{len(rows)} row(s) -> {out}")
    if backend != "torch":
        typer.echo(f"note: {UNTUNED_NOTE}")


def calibrate(
    measurements: Path = typer.Option(..., "--measurements", help="Measurements file (.csv or .jsonl)."),
    name: str = typer.Option(..., "--name", help="Name of the new profile."),
    out: Path = typer.Option(..., "--out", help="Where to write the profile TOML."),
    base: str = typer.Option("host", "--from", help="Profile to start from: pixel4, host or a TOML path."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out if it exists."),
) -> None:
    """Fit a device profile's cost parameters to measurements; prints the fit's residuals."""
    from device_profiles.profile import load_profile, save_profile
    from device_profiles.schema import check_name
    from latency_models.calibrate import calibrated_profile
    from latency_models.measurements import read_measurements
    from nas_common.errors import UserInputError
    from nas_common.paths import check_output_file

    check_name(name, "--name")
    check_output_file(out, inputs=(measurements,))
    if out.exists() and not overwrite:
        raise UserInputError(f"--out {out} already exists; pass --overwrite to replace it, or choose another file "
                             "(nothing was changed)")
    rows = read_measurements(measurements)
    prof, residuals = calibrated_profile(load_profile(base), rows, name)
    save_profile(prof, out)
    typer.echo(f"fitted on {len(rows)} rows: " + ", ".join(f"{k}={v}" for k, v in prof.cost.items()
                                                            if k != "fitted_on"))
    typer.echo(f"{'line':>5} {'measured':>10} {'predicted':>10} {'error':>8}")
    for r in residuals:
        typer.echo(f"{r['line']:5d} {r['measured_ms']:10.2f} {r['predicted_ms']:10.2f} {r['error_pct']:7.1f}%")
    typer.echo(f"wrote {out}")


def validate(
    measurements: Path = typer.Option(..., "--measurements", help="Measurements file (.csv or .jsonl)."),
    device: str | None = typer.Option(None, "--device", help=DEVICE_HELP + " [default: pixel4]"),
    profile: Path | None = typer.Option(None, "--profile", help=PROFILE_HELP),
    as_json: bool = typer.Option(False, "--json"),
    plot: Path | None = typer.Option(None, "--plot", help="Write a predicted-vs-measured plotly HTML."),
) -> None:
    """Compare predictions with measurements: MAPE, share within ±10 %, Spearman, worst rows."""
    from device_profiles.profile import load_profile
    from latency_models.measurements import read_measurements
    from latency_models.predictor import Predictor
    from latency_models.validate import metrics, plot_html, worst_rows
    from nas_common.paths import check_output_file

    if plot:
        check_output_file(plot, "--plot", inputs=(measurements,))
    prof = load_profile(device, profile, default="pixel4")
    rows = read_measurements(measurements)
    pred = Predictor(prof).predict([r.arch for r in rows], [r.seq_len for r in rows], [r.batch for r in rows])
    stats = metrics(pred, [r.latency_ms for r in rows])
    worst = worst_rows(rows, pred)
    if plot:
        plot_html(rows, pred, plot, f"{prof.name}: predicted vs measured ({measurements.name})")
    if as_json:
        typer.echo(json.dumps({**stats, "device": prof.name, "worst": worst}, indent=2))
        return
    typer.echo(f"{prof.name} on {measurements}: n={stats['n']}  MAPE {stats['mape']:.1f}%  "
               f"within ±10% {100 * stats['within_10pct']:.0f}%  Spearman {stats['spearman']:.3f}")
    for w in worst:
        typer.echo(f"  line {w['line']}: measured {w['measured_ms']:.2f} ms, predicted {w['predicted_ms']:.2f} ms "
                   f"({w['error_pct']:+.1f}%)")
    if plot:
        typer.echo(f"wrote {plot}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nas` app."""
    app.command("latency")(latency)
    app.command("measure")(measure_cmd)
    app.command("calibrate")(calibrate)
    app.command("validate")(validate)
