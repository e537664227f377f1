"""`nas arch show|list` and `nas devices`: what the tool knows about architectures and devices."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from nas.cli.options import command
from nas_common.errors import UserInputError
from nas_common.writing import dumps_json
from search_spaces.counting import COUNT_PARTS
from search_spaces.family import check_seq_len
from search_spaces.presets import PRESETS, find_preset, resolve_arch

if TYPE_CHECKING:
    from device_profiles.profile import DeviceProfile

console = Console()
arch_app = typer.Typer(help="Inspect architectures: presets, arch JSON or transformers config.json files, model "
                       "directories.", no_args_is_help=True)


def _human(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return f"{n:.0f}"


def arch_summary(name_or_path: str, seq_len: int) -> dict:
    arch = resolve_arch(name_or_path)
    check_seq_len(seq_len)
    summary = {
        "name": name_or_path,
        "arch": arch.to_dict(),
        "seq_len": seq_len,
        "num_params": arch.num_params(),
        "flops": arch.flops(seq_len),
        "mha_ffn_param_ratio": arch.mha_ffn_param_ratio(),
        "params_by_part": arch.params_breakdown(),
        "flops_by_part": arch.flops_breakdown(seq_len),
    }
    preset = find_preset(name_or_path)
    if preset is not None:
        summary["paper"] = {
            "params": preset.paper_params,
            "flops_at_128": preset.paper_flops_128,
            "source": preset.source,
            "gap": preset.gap_note,
        }
    return summary


@dataclass(frozen=True, kw_only=True)
class ShowArgs:
    """The options of `nas arch show`, declared once (nas/cli/options.py)."""

    name: Annotated[str, typer.Argument(
        metavar="ARCH", help="A preset name (see `nas arch list`), an arch JSON file, a transformers config.json, "
        "or a model, export or search-run directory.")]
    seq_len: Annotated[int, typer.Option(
        "--seq-len", min=1, help="Sequence length for FLOPs (at most the model's max_position_embeddings, 512).")] = 128
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False


def show(args: ShowArgs) -> None:
    """Parameters, FLOPs and the MHA:FFN parameter ratio of an architecture, part by part."""
    name, seq_len = args.name, args.seq_len
    summary = arch_summary(name, seq_len)
    if args.as_json:
        typer.echo(dumps_json(summary))
        return
    fields = Table(title=f"{name}", show_header=False)
    for key, value in summary["arch"].items():
        fields.add_row(key, str(value))
    console.print(fields)
    parts = Table(title=f"by part (FLOPs at {seq_len} tokens)")
    parts.add_column("part")
    parts.add_column("params", justify="right")
    parts.add_column("FLOPs", justify="right")
    for part in COUNT_PARTS:
        parts.add_row(part, _human(summary["params_by_part"][part]), _human(summary["flops_by_part"][part]))
    parts.add_row("total", _human(summary["num_params"]), _human(summary["flops"]), style="bold")
    console.print(parts)
    console.print(f"MHA:FFN parameter ratio {summary['mha_ffn_param_ratio']:.2f} "
                  "(the paper found 0.4-0.6 best at fixed size)")
    if "paper" in summary:
        paper = summary["paper"]
        flops = "–" if paper["flops_at_128"] is None else _human(paper["flops_at_128"])
        console.print(f"paper: {_human(paper['params'])} params, {flops} FLOPs@128 ({paper['source']}); "
                      f"gap: {paper['gap']}")


arch_app.command("show")(command(show))


@arch_app.command("list")
def list_presets() -> None:
    """The named architectures, with their sizes next to the paper's."""
    table = Table(title="architectures")
    for column in ("name", "params", "paper params", "GFLOPs@128", "paper GFLOPs"):
        table.add_column(column, no_wrap=True)
    for preset in PRESETS.values():
        arch = preset.arch
        paper_flops = "–" if preset.paper_flops_128 is None else f"{preset.paper_flops_128 / 1e9:.1f}"
        table.add_row(preset.name, _human(arch.num_params()), _human(preset.paper_params or 0),
                      f"{arch.flops(128) / 1e9:.2f}", paper_flops)
    console.print(table)


def _device_line(profile: DeviceProfile, device: str | None) -> str:
    """One line; it starts with what `--device` takes (`device`, the file's name), which says the profile's own
    name beside it when the two differ (a copied profile: `--device` finds a file by its name, not by its
    `name` key)."""
    calibrated = "calibrated" if profile.cost else "not calibrated"
    label = profile.name if device in (None, profile.name) else f"{device} (a profile named {profile.name})"
    return (f"{label}: {profile.description} — {profile.threads} threads, "
            f"{profile.fp32_gflops:g} GFLOP/s, {profile.memory_gbs:g} GB/s, runtime {profile.runtime}, "
            f"{len(profile.calibration)} calibration points, {calibrated}")


def devices(
    profile: Path = typer.Option(None, "--profile", help="Also check and show this profile file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The devices the tool can target, a line each (user profiles in ~/.config/nas/devices/)."""
    from device_profiles.profile import known_devices, load_profile, load_profile_file  # only this command needs it

    profiles: list[tuple[str | None, DeviceProfile]] = []  # (what --device takes, or None for --profile FILE)
    if profile is not None:
        profiles.append((None, load_profile_file(profile)))
    for name in known_devices():
        if name == "host":
            continue  # generated by measuring this machine; listed without measuring
        try:
            profiles.append((name, load_profile(name)))
        except UserInputError as err:  # one broken user profile must not hide the others
            typer.echo(f"warning: {name} is not listed: {err}", err=True)
    if as_json:
        typer.echo(dumps_json([{"name": p.name, "device": device, "description": p.description,
                                "threads": p.threads, "fp32_gflops": p.fp32_gflops, "memory_gbs": p.memory_gbs,
                                "runtime": p.runtime, "path": str(p.path)} for device, p in profiles]))
        return
    for device, p in profiles:
        typer.echo(_device_line(p, device))
    typer.echo("host: this machine, measured on first use (`nas calibrate --from host` fits it)")


def register(app: typer.Typer) -> None:
    app.add_typer(arch_app, name="arch")
    app.command("devices")(devices)
