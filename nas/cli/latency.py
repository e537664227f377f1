"""`nas latency | measure | calibrate | validate`: predict, measure, fit and check device latency.

Heavy libraries (TVM, torch, scipy) are imported inside the commands so that `nas --help` stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from nas.cli.options import command
from nas_common.writing import dumps_json

DEVICE_HELP = "Device name (pixel4, host, a user profile)."
PROFILE_HELP = "A device profile TOML file (instead of --device)."
Profile = Annotated[Path | None, typer.Option("--profile", help=PROFILE_HELP)]  # latency, measure, validate


@dataclass(frozen=True, kw_only=True)
class LatencyArgs:
    """The options of `nas latency`, declared once (nas/cli/options.py); `__post_init__` checks what needs no
    file."""

    arch: Annotated[str, typer.Option("--arch", help="Preset name or arch JSON file.")]
    device: Annotated[str | None, typer.Option("--device", help=DEVICE_HELP + " \\[default: pixel4]")] = None
    profile: Profile = None
    seq_len: Annotated[int, typer.Option("--seq-len", min=1, help="Sequence length the latency is for.")] = 128
    breakdown: Annotated[bool, typer.Option("--breakdown", help="Per-kernel rows, slowest first.")] = False
    level: Annotated[float, typer.Option(
        "--interval", help="Level of the prediction interval printed beside it (from the calibration fit's "
        "parameter covariance), at most 0.999.")] = 0.9
    as_json: Annotated[bool, typer.Option("--json", help="Print the prediction as one JSON object.")] = False

    def __post_init__(self) -> None:
        from latency_models.confidence import check_level
        from search_spaces.family import check_seq_len

        check_seq_len(self.seq_len)
        check_level(self.level, "--interval")


def latency(args: LatencyArgs) -> None:
    """Predict the latency of one architecture on a device, with a prediction interval."""
    from device_profiles.profile import load_profile
    from latency_models.predictor import load_predictor
    from nas_common.errors import UserInputError
    from search_spaces.presets import resolve_arch

    arch, seq_len, level = args.arch, args.seq_len, args.level
    prof = load_profile(args.device, args.profile, default="pixel4")
    a = resolve_arch(arch)
    p = load_predictor(prof)
    ms = float(p.predict([a], seq_len)[0])
    band = p.predict([a], seq_len, interval=level)
    lower, upper = float(band.lower[0]), float(band.upper[0])
    if not math.isfinite(upper):
        raise UserInputError(f"--interval {level:g}: the interval on {prof.name} is unbounded at this level (its "
                             "calibration is too loose); ask for a lower level, e.g. --interval 0.9")
    points = len(prof.calibration)
    rows = p.breakdown(a, seq_len) if args.breakdown else None
    if args.as_json:
        out: dict = {"arch": arch, "device": prof.name, "seq_len": seq_len, "latency_ms": round(ms, 3),
                     "interval": {"level": level, "lower_ms": round(lower, 3), "upper_ms": round(upper, 3),
                                  "calibration_points": points},
                     "flops": a.flops(seq_len), "calibrated": bool(prof.cost)}
        if rows is not None:
            out["breakdown"] = rows
        typer.echo(dumps_json(out))
        return
    basis = (f"fit on {points} calibration point(s)" if points else
             "no calibration points: parameter priors only" if not prof.cost else
             "no calibration points kept in the profile: the fitted parameters with the priors' uncertainty")
    typer.echo(f"{arch} on {prof.name} (seq {seq_len}): {ms:.1f} ms, {100 * level:g}% interval {lower:.1f}-"
               f"{upper:.1f} ms ({basis})" + ("" if prof.cost else "  [uncalibrated profile]"))
    if rows:
        part = max(len("part"), *(len(r["part"]) for r in rows))  # "runtime" is wider than the kernels' parts
        typer.echo(f"{'part':{part}} {'kernel':48} {'kind':11} {'calls':>5} {'GFLOP':>8} {'MB':>8} {'ms':>8} "
                   f"{'share':>6}")
        for r in rows:
            typer.echo(f"{r['part']:{part}} {r['kernel'][:48]:48} {r['kind']:11} {r['calls']:5d} "
                       f"{r['flops'] / 1e9:8.3f} {r['bytes'] / 1e6:8.2f} {r['ms']:8.2f} {100 * r['share']:5.1f}%")


@dataclass(frozen=True, kw_only=True)
class MeasureArgs:
    """The options of `nas measure`, declared once (nas/cli/options.py)."""

    arch: Annotated[list[str] | None, typer.Option(
        "--arch", help="Preset name or arch JSON file; repeat it to measure "
        "several archs in one process, interleaved.")] = None
    archs_file: Annotated[Path | None, typer.Option(
        "--archs", help="A file of archs, one a line (JSON objects as "
        "`nas calibrate --suggest` writes, preset names or arch files).")] = None
    out: Annotated[Path | None, typer.Option(
        "--out", help="Measurements file to append to (.csv or .jsonl); needed with "
        "--arch or --archs.")] = None
    model: Annotated[list[Path] | None, typer.Option(
        "--model", help="A .tflite file (nas export --tflite) to time instead "
        "of an arch, with --backend tflite: printed, not appended (a file is no arch "
        "row); repeat it to time several, interleaved. Its sequence length is its "
        "own.")] = None
    device: Annotated[str | None, typer.Option(
        "--device", help=DEVICE_HELP + " \\[default: host]")] = None
    profile: Profile = None
    backend: Annotated[str, typer.Option(
        "--backend", help="torch | tvm (untuned) | tflite (LiteRT, needs the "
        "tflite extra): time on this machine; rpc (untuned): time on the device behind --rpc.")] = "torch"
    threads: Annotated[int, typer.Option(
        "--threads", min=1, help="CPU threads the timed runtime may use.")] = 1
    repeat: Annotated[int, typer.Option(
        "--repeat", min=1, help="Timed runs per arch (after the warm-up).")] = 10
    seq_len: Annotated[int, typer.Option(
        "--seq-len", min=1, help="Sequence length of the timed inputs.")] = 128
    rpc: Annotated[str | None, typer.Option(
        "--rpc", help="HOST:PORT of a TVM RPC server (rpc backend).")] = None
    clock: Annotated[str, typer.Option(
        "--clock", help="wall | thread (torch or tflite, 1 thread: CPU time of "
        "the thread, robust on a shared machine).")] = "wall"
    max_spread: Annotated[float, typer.Option(
        "--max-spread", help="Re-measure an arch whose runs' std/median is "
        "above this.")] = 0.05  # latency_models.timing.MAX_SPREAD (not imported: it loads the predictor)
    retries: Annotated[int, typer.Option(
        "--retries", min=0, help="Re-measurements at most (the steadiest kept).")] = 2
    warmup_max: Annotated[int, typer.Option(
        "--warmup-max", min=1, help="Warm-up runs at most (warm-up stops "
        "earlier once the times are stable).")] = 50
    statistic: Annotated[str, typer.Option(
        "--statistic", help="median | min of the timed runs (min: the run "
        "least disturbed by other work, steadier on a shared machine).")] = "median"
    reference: Annotated[str | None, typer.Option(
        "--reference", help="An arch (preset or file) re-timed before, "
        "between and after batches of archs: each row records the drift "
        "(reference_ms, drift; latency_models/drift.py).")] = None
    # None: not given, which tells `--reference-every 10` without --reference apart (refused) from the default
    reference_every: Annotated[int | None, typer.Option(
        "--reference-every", min=1, help="With --reference: archs timed "
        "between two timings of the reference. \\[default: 10]")] = None
    correct_drift: Annotated[bool, typer.Option(
        "--correct-drift", help="With --reference: divide each latency by "
        "1 + drift (the timed one kept as raw_latency_ms).")] = False

    def __post_init__(self) -> None:
        from nas_common.errors import UserInputError

        if self.reference is None:
            if self.correct_drift:
                raise UserInputError("--correct-drift needs --reference ARCH (the model re-timed to see the drift)")
            if self.reference_every is not None:
                raise UserInputError("--reference-every needs --reference ARCH (the model re-timed every N archs)")


def measure_cmd(args: MeasureArgs) -> None:
    """Measure architectures and append one row each: median (or min) of repeats after a warm-up until stable,
    with the runs' spread (std/median) and their number; with --reference, the run's drift in every row. With
    --model FILE.tflite --backend tflite: time that file on this machine the same way (printed, nothing appended)."""
    from device_profiles.profile import load_profile
    from latency_models.arch_list import read_arch_list
    from latency_models.measure import UNTUNED_NOTE, check_backend, check_memory, measure_many
    from latency_models.measurements import append_measurements, check_appendable
    from nas_common.errors import UserInputError
    from nas_common.paths import check_output_file
    from search_spaces.family import check_seq_len
    from search_spaces.presets import resolve_arch

    if args.model:
        if args.arch or args.archs_file is not None or args.out is not None or args.reference is not None:
            raise UserInputError("--model times a .tflite file and prints it: give no --arch, --archs, --out or "
                                 "--reference with it")
        _measure_files(args.model, args.backend, load_profile(args.device, args.profile, default="host"), args.threads,
                       args.repeat, args.clock, args.max_spread, args.retries, args.warmup_max, args.statistic)
        return
    if not args.arch and args.archs_file is None:
        raise UserInputError("give --arch NAME (repeatable) or --archs FILE (or --model FILE.tflite)")
    if args.out is None:
        raise UserInputError("give --out FILE: the measurements file (.csv or .jsonl) the rows are appended to")
    check_seq_len(args.seq_len)
    check_output_file(args.out, inputs=(args.archs_file,) if args.archs_file else ())
    check_appendable(args.out)
    prof = load_profile(args.device, args.profile, default="host")
    named = [(a, resolve_arch(a)) for a in args.arch or []]
    if args.archs_file is not None:
        named += read_arch_list(args.archs_file)
    check_backend(args.backend, prof, args.rpc)
    reference = None if args.reference is None else resolve_arch(args.reference)
    check_memory([a for _, a in named], args.backend)  # before any model is built: no work lost
    check_memory([] if reference is None else [reference], args.backend)

    def timed(archs: list) -> list:
        return measure_many(archs, args.backend, prof, args.seq_len, 1, args.threads, args.repeat, args.rpc, args.clock,
                            args.max_spread, args.retries, args.warmup_max, statistic=args.statistic)

    record = None
    if args.reference is None:
        rows = timed([a for _, a in named])
    else:
        from latency_models.drift import measure_with_reference

        every = 10 if args.reference_every is None else args.reference_every
        rows, record = measure_with_reference([a for _, a in named], reference, every, timed,
                                              args.correct_drift)
    append_measurements(args.out, rows)
    for (label, _), m in zip(named, rows, strict=True):
        flag = "  [spread above --max-spread after retries]" if (m.spread or 0) > args.max_spread else ""
        typer.echo(f"{label}: {m.latency_ms:.2f} ms ({args.backend}, {args.threads} thread(s), seq {args.seq_len}; "
                   f"spread {100 * (m.spread or 0):.1f}% of {m.repeats} runs){flag}")
    if record is not None:
        timings = ", ".join(f"{ms:.2f}" for ms in record.reference_ms)
        typer.echo(f"reference {args.reference} timed {len(record.reference_ms)} times: {timings} ms; drift over the "
                   f"run {100 * record.drift:+.1f}% (largest {100 * record.max_abs_drift:.1f}%)"
                   + ("; latencies corrected (raw_latency_ms keeps the timed ones)" if args.correct_drift else ""))
    typer.echo(f"{len(rows)} row(s) -> {args.out}")
    if args.backend in ("tvm", "rpc"):
        typer.echo(f"note: {UNTUNED_NOTE}")


def _measure_files(paths: list[Path], backend: str, prof: object, threads: int, repeat: int, clock: str,
                   max_spread: float, retries: int, warmup_max: int, statistic: str) -> None:
    """`nas measure --backend tflite --model FILE`: each file timed on this machine by the protocol of the arch
    rows (warm-up until stable, interleaved rounds, re-timed while the spread is above --max-spread)."""
    from latency_models import tflite_backend
    from latency_models.measure import check_file_timing

    for path in paths:
        tflite_backend.check_model_file(path)
    check_file_timing(backend, prof, threads, repeat, clock, max_spread, retries, warmup_max, statistic)
    from nas_common.quiet import native_stderr_hidden

    with native_stderr_hidden():  # LiteRT's C++ INFO lines, unless -v
        shapes = [tflite_backend.load_model_file(path, threads) for path in paths]
        timings = tflite_backend.time_files(paths, threads, repeat, clock, max_spread, retries, warmup_max)
    timed = "thread CPU time" if clock == "thread" else "wall clock"
    for path, inputs, t in zip(paths, shapes, timings, strict=True):
        latency = t.min_ms if statistic == "min" and t.min_ms is not None else t.median_ms
        flag = "  [spread above --max-spread after retries]" if t.spread > max_spread else ""
        shape = ", ".join(f"{name} {'x'.join(map(str, dims))}" for name, dims in inputs.items())
        typer.echo(f"{path}: {latency:.2f} ms (tflite, {threads} thread(s), {timed}, {statistic}; inputs {shape}; "
                   f"spread {100 * t.spread:.1f}% of {t.repeats} runs){flag}")
    typer.echo("timed on this machine (LiteRT XNNPACK), not on a device; nothing appended (a file is no arch row)")


@dataclass(frozen=True, kw_only=True)
class CalibrateArgs:
    """The options of `nas calibrate`, declared once (nas/cli/options.py); `__post_init__` checks what needs no
    file."""

    measurements: Annotated[Path | None, typer.Option(
        "--measurements", help="Measurements file (.csv or .jsonl).")] = None
    name: Annotated[str | None, typer.Option("--name", help="Name of the new profile.")] = None
    out: Annotated[Path, typer.Option(
        "--out", help="Where to write the profile TOML (with --suggest: the archs, .jsonl).")]
    base: Annotated[str, typer.Option(
        "--from", help="Profile to start from: pixel4, host or a TOML path.")] = "host"
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists.")] = False
    space: Annotated[str, typer.Option(
        "--space", help="Search space the profile is for: the structural variants to cover (and, with --suggest, "
        "where the archs come from): mobilebert-family, mobilebert-small, supernet-minilm-384 (the default "
        "search's) or a TOML file.")] = "mobilebert-family"
    suggest: Annotated[int | None, typer.Option(
        "--suggest", min=1, help="Instead of fitting: write the N archs to measure that best pin the cost "
        "parameters (to measure with `nas measure --archs OUT`).")] = None
    # --design and --seed default to None so that giving them without --suggest is seen, even at their defaults
    design: Annotated[str | None, typer.Option(
        "--design", help="With --suggest: I (the smallest mean prediction variance over the space) or D (the "
        "smallest parameter confidence volume). \\[default: I]")] = None
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, help="With --suggest: seed of the candidate pool. \\[default: 0]")] = None
    keep_lowering: Annotated[bool, typer.Option(
        "--keep-lowering", help="Keep the base profile's lowering section (fused or not) instead of fitting the "
        "switches the measurements contrast.")] = False

    def __post_init__(self) -> None:
        from device_profiles.schema import check_name
        from nas_common.errors import UserInputError

        if self.suggest is not None:
            if self.measurements is not None or self.name is not None:
                raise UserInputError("--suggest chooses archs to measure: it takes no --measurements or --name")
            if self.keep_lowering:
                raise UserInputError("--keep-lowering needs --measurements FILE (it keeps the base profile's lowering "
                                     "instead of fitting it; --suggest fits nothing)")
            if self.design not in (None, "I", "D"):
                raise UserInputError(f"--design must be I or D, got {self.design!r}")
            if self.out.suffix.lower() not in (".jsonl", ".json", ".ndjson"):
                raise UserInputError(f"--out {self.out}: with --suggest, a .jsonl file of archs (for `nas measure "
                                     "--archs`)")
            return
        if self.measurements is None or self.name is None:
            raise UserInputError("give --measurements FILE and --name NAME (or --suggest N to choose the archs "
                                 "first)")
        if self.design is not None:
            raise UserInputError("--design needs --suggest N (how the archs to measure are chosen)")
        if self.seed is not None:
            raise UserInputError("--seed needs --suggest N (the seed of its candidate pool)")
        check_name(self.name, "--name")


def calibrate(args: CalibrateArgs) -> None:
    """Fit a device profile's cost parameters to measurements (residuals, leave-one-out error, suspect rows,
    uncovered variants), and its lowering section's fusion switches when the measurements contrast them (LayerNorm and
    NoNorm archs, GELU and ReLU archs); or with --suggest N choose the archs to measure first."""
    import numpy as np

    from device_profiles.profile import load_profile, save_profile
    from device_profiles.schema import parse_profile
    from latency_models.calibrate import suspects
    from latency_models.calibration import calibrate as calibrate_rows
    from latency_models.coverage import gaps
    from latency_models.fusion_fit import report_lines
    from latency_models.measurements import read_measurements
    from nas.accuracy.shipping import named_spaces
    from nas_common.errors import UserInputError
    from nas_common.paths import check_output_file
    from search_spaces.space import SearchSpace

    if args.suggest is not None:
        _suggest(args)
        return
    out, measurements, name = args.out, args.measurements, args.name
    assert measurements is not None and name is not None  # CalibrateArgs.__post_init__
    check_output_file(out, inputs=(measurements,))
    if out.exists() and not args.overwrite:
        raise UserInputError(f"--out {out} already exists; pass --overwrite to replace it, or choose another file "
                             "(nothing was changed)")
    if out.suffix.lower() != ".toml":
        raise UserInputError(f"--out {out}: a device profile is a .toml file (e.g. --out {name}.toml)")
    search_space = SearchSpace.load(args.space, named_spaces()).check_every_choice_used(str(args.space))
    rows = read_measurements(measurements)
    result = calibrate_rows(load_profile(args.base), rows, name, fit_switches=not args.keep_lowering)
    prof, residuals, fusion = result.profile, result.residuals, result.fusion
    _check_consistent(rows, result.loo_log, measurements)
    loo = None if result.model_loo_log is None else 100.0 * np.expm1(result.model_loo_log)
    parse_profile(prof.to_toml_dict(), f"the profile fitted for {out}")  # never write one that would not load
    save_profile(prof, out)
    typer.echo(f"fitted on {len(rows)} rows: " + ", ".join(f"{k}={v}" for k, v in prof.cost.items()
                                                            if k != "fitted_on"))
    typer.echo(f"{'line':>5} {'measured':>10} {'predicted':>10} {'error':>8} {'LOO error':>10} {'spread':>7}")
    for k, r in enumerate(residuals):
        spread = rows[k].spread
        typer.echo(f"{r['line']:5d} {r['measured_ms']:10.2f} {r['predicted_ms']:10.2f} {r['error_pct']:7.1f}% "
                   + (f"{loo[k]:9.1f}% " if loo is not None else f"{'-':>10} ")
                   + (f"{100 * spread:6.1f}%" if spread is not None else f"{'-':>7}"))
    if loo is not None:
        worst = int(abs(loo).argmax())
        typer.echo(f"leave-one-out (each row predicted by the cost model fitted on the others): MAPE "
                   f"{abs(loo).mean():.1f}%, within ±10% {100 * (abs(loo) <= 10).mean():.0f}%, worst line "
                   f"{rows[worst].line} ({loo[worst]:+.1f}%)")
        for bad in suspects(rows, loo):
            typer.echo(f"suspect: line {bad['line']}: measured {bad['measured_ms']:.2f} ms is "
                       f"{bad['loo_error_pct']:+.1f}% off the fit on the other rows, far beyond their scatter "
                       f"and its spread (±{bad['tolerance_pct']:.1f}%): a likely bad measurement; re-measure it",
                       err=True)
    else:
        typer.echo("leave-one-out: needs at least 3 rows")
    for line in result.report_lines():
        typer.echo(line)
    for warning in gaps([r.arch for r in rows], search_space):
        typer.echo(f"warning: {warning}", err=True)
    for line in report_lines(fusion) if fusion else ["lowering kept from the base profile" + (
            "" if args.keep_lowering else ": the measurements contrast no fusion switch (see `nas calibrate --help`)")]:
        typer.echo(line)
    typer.echo(f"wrote {out}")


def _check_consistent(rows: list, loo_log: object, measurements: Path) -> None:
    """Refuse measurements that no fit can keep: a row whose leave-one-out log error is beyond the profile's bound
    (`MAX_LOG_ERROR`) is off by a factor of e^10 or more, a unit slip or a broken row, not the cost model's error."""
    import numpy as np

    from device_profiles.schema import MAX_LOG_ERROR
    from nas_common.errors import UserInputError

    if loo_log is None:
        return
    errors = np.asarray(loo_log, dtype=float)
    worst = int(np.abs(errors).argmax())
    if abs(errors[worst]) > MAX_LOG_ERROR:
        row = rows[worst]
        raise UserInputError(
            f"{measurements}: line {row.line} ({row.latency_ms:g} ms) is a factor {math.exp(abs(errors[worst])):.3g} "
            f"off the fit on the other rows (a leave-one-out log error of at most {MAX_LOG_ERROR:g} can be kept): "
            "a unit slip (seconds or microseconds for milliseconds) or a broken row; fix or drop it (nothing was "
            "written)")


def _suggest(args: CalibrateArgs) -> None:
    """`nas calibrate --suggest N`: write the N archs to measure first (CalibrateArgs has checked the options)."""
    from device_profiles.profile import load_profile
    from latency_models.arch_list import write_arch_list
    from latency_models.design import suggest as choose
    from latency_models.predictor import load_predictor
    from nas.accuracy.shipping import named_spaces
    from nas_common.errors import UserInputError
    from nas_common.paths import check_output_file
    from search_spaces.space import SearchSpace

    out = args.out
    check_output_file(out)
    if out.exists() and not args.overwrite:
        raise UserInputError(f"--out {out} already exists; pass --overwrite to replace it (nothing was changed)")
    search_space = SearchSpace.load(args.space, named_spaces()).check_every_choice_used(str(args.space))
    prof = load_profile(args.base)
    picks = choose(load_predictor(prof), search_space, args.suggest, seed=args.seed or 0,
                   optimality=args.design or "I")
    write_arch_list(out, [{"name": p.name, "why": p.why, "arch": p.arch} for p in picks])
    for p in picks:
        a = p.arch
        neck = str(a.intra_bottleneck_size) if a.use_bottleneck else "none"
        typer.echo(f"{p.name:18} L{a.num_hidden_layers} H{a.hidden_size} bottleneck {neck} "
                   f"FFN {a.intermediate_size}x{a.num_feedforward_networks} heads {a.num_attention_heads} "
                   f"{a.normalization_type}/{a.hidden_act}  ({p.why})")
    typer.echo(f"wrote {len(picks)} archs to {out}; measure them: nas measure --archs {out} --out m.jsonl")


@dataclass(frozen=True, kw_only=True)
class ValidateArgs:
    """The options of `nas validate`, declared once (nas/cli/options.py)."""

    measurements: Annotated[Path, typer.Option("--measurements", help="Measurements file (.csv or .jsonl).")]
    device: Annotated[str | None, typer.Option("--device", help=DEVICE_HELP + " \\[default: pixel4]")] = None
    profile: Profile = None
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a predicted-vs-measured plotly HTML.")] = None
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the --plot file if it exists.")] = False

    def __post_init__(self) -> None:
        from nas_common.errors import UserInputError

        if self.overwrite and self.plot is None:
            raise UserInputError("--overwrite needs --plot FILE (the only file `nas validate` writes)")


def validate(args: ValidateArgs) -> None:
    """Compare predictions with measurements: MAPE, share within ±10 %, Spearman, worst rows."""
    from device_profiles.profile import load_profile
    from latency_models.measurements import read_measurements
    from latency_models.predictor import load_predictor
    from latency_models.validate import coverage, metrics, plot_html, worst_rows
    from nas_common.errors import UserInputError
    from nas_common.paths import check_output_file

    measurements, plot = args.measurements, args.plot
    if plot:
        check_output_file(plot, "--plot", inputs=(measurements,))
        if Path(plot).expanduser().exists() and not args.overwrite:
            raise UserInputError(f"--plot {plot} already exists; pass --overwrite to replace it (nothing was changed)")
        if plot.suffix.lower() not in (".html", ".htm"):
            raise UserInputError(f"--plot {plot}: the plot is an interactive HTML page; give a .html file")
    prof = load_profile(args.device, args.profile, default="pixel4")
    rows = read_measurements(measurements)
    band = load_predictor(prof).predict([r.arch for r in rows], [r.seq_len for r in rows], [r.batch for r in rows],
                                   interval=0.9)
    pred = band.ms
    stats = metrics(pred, [r.latency_ms for r in rows])
    stats["coverage_90"] = coverage(band.lower, band.upper, [r.latency_ms for r in rows])
    worst = worst_rows(rows, pred)
    if plot:
        plot_html(rows, pred, plot, f"{prof.name}: predicted vs measured ({measurements.name})")
    if args.as_json:
        typer.echo(dumps_json({**stats, "device": prof.name, "worst": worst}))
        return
    rho = f"{stats['spearman']:.3f}" if math.isfinite(stats["spearman"]) else "– (needs 3 rows)"
    typer.echo(f"{prof.name} on {measurements}: n={stats['n']}  MAPE {stats['mape']:.1f}%  "
               f"within ±10% {100 * stats['within_10pct']:.0f}%  Spearman {rho}  "
               f"inside the 90% interval {100 * stats['coverage_90']:.0f}%")
    for w in worst:
        typer.echo(f"  line {w['line']}: measured {w['measured_ms']:.2f} ms, predicted {w['predicted_ms']:.2f} ms "
                   f"({w['error_pct']:+.1f}%)")
    if plot:
        typer.echo(f"wrote {plot}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nas` app."""
    app.command("latency")(command(latency))
    app.command("measure")(command(measure_cmd))
    app.command("calibrate")(command(calibrate))
    app.command("validate")(command(validate))
