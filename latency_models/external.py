"""Public latency sets as measurements: HAT's Raspberry Pi 4 encoder latencies and SuperShaper's i7 BERT set.

Each row becomes a `Measurement` of the closest MobileBERT-family `Arch` (no bottleneck for HAT's
Transformer encoders; SuperShaper's per-layer widths as a bottleneck stack), so they can be written as a
measurements file and calibrated on (`benchmarks/latency_external.py`). Column names are those of the sets'
CSV files as published (HAT: `wmt14ende_cpu_raspberrypi_all.csv`; SuperShaper: `i7_bs1.csv`).
"""

from __future__ import annotations

import csv
from pathlib import Path

from device_profiles.measurement import Measurement
from search_spaces.arch import Arch

LOW_NOISE = 0.02  # HAT rows with latency_std_encoder / latency_mean_encoder below this


def _heads(avg: float, width: int) -> int:
    choices = [h for h in (2, 4, 8, 16) if width % h == 0]
    return min(choices, key=lambda h: abs(h - avg))


def hat_rows(path: Path, max_rel_std: float | None = None) -> list[Measurement]:
    """HAT's encoder latencies (sequence 30, batch 1), optionally only rows with std/mean below `max_rel_std`."""
    rows = []
    with path.open() as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            if max_rel_std is not None and float(r["latency_std_encoder"]) >= max_rel_std * float(
                    r["latency_mean_encoder"]):
                continue
            width = int(r["encoder_embed_dim"])
            arch = Arch(num_hidden_layers=int(r["encoder_layer_num"]), hidden_size=width, use_bottleneck=False,
                        num_attention_heads=_heads(float(r["encoder_self_attention_heads_avg"]), width),
                        intermediate_size=round(float(r["encoder_ffn_embed_dim_avg"])),
                        num_feedforward_networks=1, embedding_size=width, trigram_input=False,
                        normalization_type="layer_norm", hidden_act="relu", vocab_size=32768)
            rows.append(Measurement(arch, float(r["latency_mean_encoder"]), 30, 1, None,
                                    f"HAT wmt14ende raspberrypi line {i}"))
    return rows


def supershaper_rows(path: Path) -> list[Measurement]:
    """SuperShaper's i7 latencies (seconds in the file, ms here) of per-layer BERT-base shapes."""
    rows = []
    with path.open() as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            widths = [int(x) for x in r["hidden_sizes"].split()]
            arch = Arch(num_hidden_layers=int(r["num_layers"]), hidden_size=768, intra_bottleneck_size=tuple(widths),
                        use_bottleneck=True, key_query_shared_bottleneck=False, use_bottleneck_attention=True,
                        num_attention_heads=tuple(int(x) for x in r["num_heads"].split()),
                        intermediate_size=tuple(int(x) for x in r["intermediate_sizes"].split()),
                        num_feedforward_networks=1, embedding_size=768, trigram_input=False,
                        normalization_type="layer_norm", hidden_act="gelu")
            rows.append(Measurement(arch, float(r["latency"]) * 1e3, int(r["max_seq_length"]), 1, None,
                                    f"SuperShaper i7_bs1 line {i}"))
    return rows
