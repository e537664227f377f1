"""Public latency sets as measurements: HAT's Raspberry Pi 4 encoder latencies and SuperShaper's i7 BERT set.

Each row becomes a `Measurement` of the closest MobileBERT-family `Arch` (no bottleneck for HAT's
Transformer encoders; SuperShaper's per-layer widths as a bottleneck stack), so they can be written as a
measurements file and calibrated on (`benchmarks/latency_external.py`). Column names are those of the sets'
CSV files as published (HAT: `wmt14ende_cpu_raspberrypi_all.csv`; SuperShaper: `i7_bs1.csv`).
"""

from __future__ import annotations

from pathlib import Path

from device_profiles.measurement import Measurement
from nas_common.errors import UserInputError
from nas_common.io import finite, read_csv
from search_spaces.arch import Arch

LOW_NOISE = 0.02  # HAT rows with latency_std_encoder / latency_mean_encoder below this
HAT_COLUMNS = ("encoder_embed_dim", "encoder_layer_num", "encoder_ffn_embed_dim_avg",
               "encoder_self_attention_heads_avg", "latency_mean_encoder", "latency_std_encoder")
SUPERSHAPER_COLUMNS = ("num_layers", "hidden_sizes", "intermediate_sizes", "num_heads", "max_seq_length", "latency")


def _heads(avg: float, width: int) -> int:
    choices = [h for h in (2, 4, 8, 16) if width % h == 0]
    return min(choices, key=lambda h: abs(h - avg))


def _table(path: Path, what: str, columns: tuple[str, ...]) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """(label, numbered rows) of a published set read by the I/O layer (BOM/CRLF, file and line in its errors);
    a file without the set's columns is one line."""
    header, rows = read_csv(path, what)
    missing = [c for c in columns if c not in header]
    if missing:
        raise UserInputError(f"{what} {path}: no column {missing[0]!r} (not the set as published?)")
    return f"{what} {path}", rows


def _num(row: dict[str, str], where: str, column: str, integer: bool = False) -> float | int:
    return finite(row[column], where, column, integer=integer)


def _ints(row: dict[str, str], where: str, column: str) -> tuple[int, ...]:
    """A space-separated list of integers (SuperShaper's per-layer widths)."""
    return tuple(int(finite(x, where, column, integer=True)) for x in row[column].split())


def hat_rows(path: Path, max_rel_std: float | None = None) -> list[Measurement]:
    """HAT's encoder latencies (sequence 30, batch 1), optionally only rows with std/mean below `max_rel_std`."""
    label, table = _table(path, "HAT latency set", HAT_COLUMNS)
    rows = []
    for i, r in table:
        where = f"{label}: line {i}"
        mean = float(_num(r, where, "latency_mean_encoder"))
        if max_rel_std is not None and _num(r, where, "latency_std_encoder") >= max_rel_std * mean:
            continue
        width = int(_num(r, where, "encoder_embed_dim", integer=True))
        arch = Arch(num_hidden_layers=int(_num(r, where, "encoder_layer_num", integer=True)), hidden_size=width,
                    use_bottleneck=False,
                    num_attention_heads=_heads(_num(r, where, "encoder_self_attention_heads_avg"), width),
                    intermediate_size=round(_num(r, where, "encoder_ffn_embed_dim_avg")),
                    num_feedforward_networks=1, embedding_size=width, trigram_input=False,
                    normalization_type="layer_norm", hidden_act="relu", vocab_size=32768)
        rows.append(Measurement(arch, mean, 30, 1, None,
                                f"HAT wmt14ende raspberrypi line {i}"))
    return rows


def supershaper_rows(path: Path) -> list[Measurement]:
    """SuperShaper's i7 latencies (seconds in the file, ms here) of per-layer BERT-base shapes."""
    label, table = _table(path, "SuperShaper latency set", SUPERSHAPER_COLUMNS)
    rows = []
    for i, r in table:
        where = f"{label}: line {i}"
        arch = Arch(num_hidden_layers=int(_num(r, where, "num_layers", integer=True)),
                    hidden_size=768, intra_bottleneck_size=_ints(r, where, "hidden_sizes"),
                    use_bottleneck=True, key_query_shared_bottleneck=False, use_bottleneck_attention=True,
                    num_attention_heads=_ints(r, where, "num_heads"),
                    intermediate_size=_ints(r, where, "intermediate_sizes"),
                    num_feedforward_networks=1, embedding_size=768, trigram_input=False,
                    normalization_type="layer_norm", hidden_act="gelu")
        rows.append(Measurement(arch, float(_num(r, where, "latency")) * 1e3,
                                int(_num(r, where, "max_seq_length", integer=True)), 1, None,
                                f"SuperShaper i7_bs1 line {i}"))
    return rows
