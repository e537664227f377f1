"""Measurement backends on a tiny arch: torch eager, untuned TVM, and TVM RPC through a loopback server."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from device_profiles.profile import load_profile
from latency_models.measure import measure
from latency_models.measurements import append_measurements, read_measurements
from nas_common.errors import UserInputError
from search_spaces.arch import Arch

TINY = Arch(num_hidden_layers=1, hidden_size=64, intra_bottleneck_size=32, num_attention_heads=2,
            intermediate_size=64, num_feedforward_networks=1, embedding_size=32, vocab_size=100)


@pytest.fixture(scope="module")
def local():
    # pixel4's facts with this machine's target and no SoC named: a user's own profile of this machine.
    return dataclasses.replace(load_profile("pixel4"), name="local", target={"kind": "llvm"}, lowering={}, soc="")


def test_torch_backend_appends_a_row(tmp_path: Path, local) -> None:
    m = measure(TINY, "torch", local, seq_len=16, threads=1, repeat=3)
    path = append_measurements(tmp_path / "m.csv", [m])
    row = read_measurements(path)[0]
    assert row.arch == TINY and row.latency_ms > 0 and row.threads == 1 and "torch" in row.source


def test_heterogeneous_arch_is_rejected(local) -> None:
    with pytest.raises(UserInputError, match="per-layer"):
        measure(TINY.replace(num_hidden_layers=2, intra_bottleneck_size=(32, 64)), "torch", local)


def test_tvm_backend_says_untuned(local) -> None:
    m = measure(TINY, "tvm", local, seq_len=16, repeat=3)
    assert m.latency_ms > 0 and "untuned" in m.source


def test_rpc_backend_through_loopback_server(local) -> None:
    from tvm import rpc

    server = rpc.Server(host="127.0.0.1", port=9190, port_end=9290, silent=True)
    try:
        m = measure(TINY, "rpc", local, seq_len=16, repeat=3, rpc_address=f"127.0.0.1:{server.port}")
    finally:
        server.terminate()
    assert m.latency_ms > 0 and "rpc 127.0.0.1" in m.source and "untuned" in m.source


def test_rpc_needs_an_address(local) -> None:
    with pytest.raises(UserInputError, match="--rpc"):
        measure(TINY, "rpc", local)


def test_external_sets_convert_to_measurements(nas_data_dir: Path) -> None:
    from latency_models.external import hat_rows, supershaper_rows

    if not (nas_data_dir / "latency").is_dir():
        pytest.skip(f"no latency data under {nas_data_dir}")
    hat = hat_rows(nas_data_dir / "latency" / "hat" / "wmt14ende_cpu_raspberrypi_all.csv")
    shaper = supershaper_rows(nas_data_dir / "latency" / "supershaper" / "i7_bs1.csv")
    assert len(hat) == 2000 and hat[0].seq_len == 30 and hat[0].arch.normalization_type == "layer_norm"
    assert len(shaper) == 1000 and not shaper[0].arch.is_uniform and shaper[0].latency_ms > 1


def test_external_sets_are_read_by_the_io_layer(tmp_path: Path) -> None:
    """A set saved with a BOM and CRLF reads row for row; a nan latency, a missing column or a width that is not
    an integer is one line naming the file, line and column (issue 33)."""
    from latency_models.external import hat_rows, supershaper_rows

    header = ("num_layers,mixing,hidden_sizes,intermediate_sizes,num_heads,max_seq_length,latency")
    row = "2,bert-bottleneck,120 480,3072 3072,12 12,128,0.03"
    (tmp_path / "s.csv").write_bytes(f"\ufeff{header}\r\n{row}\r\n".encode())
    (shaper,) = supershaper_rows(tmp_path / "s.csv")
    assert shaper.arch.intra_bottleneck_size == (120, 480) and shaper.latency_ms == 30.0
    assert shaper.source == "SuperShaper i7_bs1 line 2"
    (tmp_path / "s.csv").write_text(f"{header}\n{row}\n{row[:-4]}nan\n")
    with pytest.raises(UserInputError, match=r"s.csv: line 3: latency must be a finite number, got 'nan'"):
        supershaper_rows(tmp_path / "s.csv")
    (tmp_path / "s.csv").write_text(f"{header}\n{row.replace('120 480', '120 4x0')}\n")
    with pytest.raises(UserInputError, match=r"line 2: hidden_sizes must be an integer, got '4x0'"):
        supershaper_rows(tmp_path / "s.csv")
    (tmp_path / "h.csv").write_text("encoder_embed_dim,latency_mean_encoder\n512,10\n")
    with pytest.raises(UserInputError, match=r"HAT latency set .*h.csv: no column 'encoder_layer_num'"):
        hat_rows(tmp_path / "h.csv")


def test_interleaved_thread_clock() -> None:
    from latency_models.measure import measure_torch_interleaved, robust_ms

    runs = measure_torch_interleaved([TINY, TINY.replace(num_hidden_layers=2)], seq_len=16, rounds=2,
                                     per_round=2, clock="thread")
    assert len(runs) == 2 and all(len(r) == 2 and len(r[0]) == 2 for r in runs)
    assert 0 < robust_ms(runs[0]) and all(x > 0 for r in runs for x in r[0])
    with pytest.raises(UserInputError):
        measure_torch_interleaved([TINY], threads=2, clock="thread")


def test_thread_clock_row_says_so(local) -> None:
    m = measure(TINY, "torch", local, seq_len=16, threads=1, repeat=3, clock="thread")
    assert m.latency_ms > 0 and "thread CPU time" in m.source and "eager attention" in m.source
    with pytest.raises(UserInputError, match="torch backend only"):
        measure(TINY, "tvm", local, seq_len=16, clock="thread")


def test_memory_check_refuses_only_what_cannot_fit() -> None:
    """The weights' lower bound refuses an arch of 870 billion parameters but never a calibration round that was
    measured on a 24 GiB machine (its 8 largest archs built together: 3-4 GiB of fp32 weights)."""
    from latency_models.measure import check_memory
    from nas_common.machine import GIB

    spare_of_24_gib_half_used = 12 * GIB
    rounds = Path(__file__).parents[1] / "benchmarks" / "measurements" / "calibration_stability"
    for path in sorted(rounds.glob("tflite-interleaved/round-1[1-5].jsonl")):
        archs = [r.arch for r in read_measurements(path)]
        check_memory(archs, "tflite", available=spare_of_24_gib_half_used)
    huge = dataclasses.replace(Arch(), num_hidden_layers=96, hidden_size=8192, intra_bottleneck_size=8192,
                               intermediate_size=32768, num_feedforward_networks=16, num_attention_heads=128,
                               embedding_size=8192)
    with pytest.raises(UserInputError, match="more than the"):
        check_memory([huge], "tflite", available=spare_of_24_gib_half_used)
