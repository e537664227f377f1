"""The kernel cache: readable JSON entries, reuse, invalidation by code/TVM version, corrupt entries rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latency_models import kernel_cache
from latency_models.formulas import KernelSpec, PartFormulas, evaluate
from latency_models.variant import Variant

V = Variant("no_norm", "relu", "kq_shared", True)
TARGET = {"kind": "llvm"}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("NAS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(kernel_cache, "STATS", kernel_cache.CacheStats())
    kernel_cache.clear_memory()
    yield tmp_path / "kernels"
    kernel_cache.clear_memory()


def _specs() -> list[tuple]:
    """The part's kernels as (kind, FLOPs, bytes): TVM numbers kernel names per process, the content is fixed."""
    kernel_cache.clear_memory()  # a new process: only the disk remembers
    return [(s.kind, s.flops, s.bytes) for s in kernel_cache.part_specs(V, "ffn", TARGET)]


def test_entry_is_data_and_is_reused(cache: Path) -> None:
    first = _specs()
    assert kernel_cache.STATS.lowered == 1 and kernel_cache.STATS.disk_hits == 0
    (entry,) = cache.glob("*.json")
    data = json.loads(entry.read_text())
    assert data["format"] == kernel_cache.FORMAT and data["part"] == "ffn" and data["target"] == TARGET
    up = data["kernels"][0]  # W -> F: 2·T·n·d·F FLOPs (multiply-add), bias and relu fused
    assert up["kind"] == "matmul" and up["flops"]["T*n*d*F"] == 2
    assert _specs() == first
    assert kernel_cache.STATS.lowered == 1 and kernel_cache.STATS.disk_hits == 1


def test_a_change_of_code_or_tvm_invalidates(cache: Path, monkeypatch) -> None:
    _specs()
    monkeypatch.setattr(kernel_cache, "CODE_HASH", "0" * 12)  # graph.py or lowering.py edited
    _specs()
    monkeypatch.setattr(kernel_cache, "_tvm_version", lambda: "0.0.1")  # another TVM
    _specs()
    assert kernel_cache.STATS.lowered == 3 and len(list(cache.glob("*.json"))) == 3


@pytest.mark.parametrize("text", [
    "{not json", '{"format": 1, "kernels": []}', '{"format": 2, "kernels": [{"part": "ffn"}]}',
    '{"format": 2, "kernels": [{"part": "ffn", "name": "k", "kind": "matmul", "flops": {"Q*T": 2}, '
    '"bytes": {}, "shapes": ""}]}',
    '{"format": 2, "kernels": [{"part": "ffn", "name": "k", "kind": "matmul", "flops": {"T": true}, '
    '"bytes": {}, "shapes": ""}]}',
    "\udcff", "[" * 100_000,  # nested too deep for the parser: a crash before issue 33
    '{"format": 3, "kernels": [], "part": NaN}',  # not JSON any strict reader takes
])
def test_corrupt_entry_is_lowered_again_and_rewritten(cache: Path, text: str) -> None:
    good = _specs()
    (entry,) = cache.glob("*.json")
    entry.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert _specs() == good
    assert kernel_cache.STATS.rebuilt == 1 and kernel_cache.STATS.lowered == 2
    assert json.loads(entry.read_text())["format"] == kernel_cache.FORMAT


def test_an_entry_that_is_a_folder_only_costs_time(cache: Path) -> None:
    good = _specs()
    (entry,) = cache.glob("*.json")
    entry.unlink()
    entry.mkdir()
    assert _specs() == good and entry.is_dir()
    assert kernel_cache.STATS.lowered == 2 and not list(cache.glob(".*.tmp"))


def test_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("NAS_CACHE_DIR", str(blocker))  # kernels/ cannot be created under a file
    kernel_cache.clear_memory()
    assert len(kernel_cache.part_specs(V, "ffn", TARGET)) == 2


def test_formulas_evaluate_as_written() -> None:
    spec = KernelSpec("ffn", "k", "matmul", {"T*n*d*F": 2, "T*F": 1, "1": 7}, {"T*d^2": 4}, "")
    assert evaluate(spec.flops, {"T": 3, "n": 2, "d": 5, "F": 7}) == 2 * 3 * 2 * 5 * 7 + 3 * 7 + 7
    flops, nbytes = PartFormulas([spec, spec]).evaluate({"T": [1.0, 2.0], "d": [3.0, 4.0], "n": [1.0, 1.0],
                                                         "F": [1.0, 1.0]}, 2)
    assert flops.shape == (2, 2) and nbytes[0].tolist() == [4 * 9, 4 * 2 * 16]
    with pytest.raises(ValueError, match="bad monomial"):
        KernelSpec.from_json({"part": "ffn", "name": "k", "kind": "matmul", "flops": {"T**2": 1}, "bytes": {},
                              "shapes": "", "passes": 1})
