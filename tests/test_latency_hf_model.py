"""The measured model is the shipped model: `nas measure` and `nas export` build, wrap and export the same graph."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import nas.export.formats as export
from latency_models import hf_model, measure
from search_spaces.arch import Arch

TINY = Arch(num_hidden_layers=1, hidden_size=64, intra_bottleneck_size=32, num_attention_heads=2,
            intermediate_size=64, num_feedforward_networks=1, embedding_size=32, vocab_size=100)
SEQ = 16


class _Captured(Exception):
    """Stops a path once what it would compile or convert has been recorded."""


@pytest.fixture
def built(monkeypatch) -> list[str]:
    """The attention implementation of every model that any path builds."""
    seen: list[str] = []
    real = hf_model.build_model

    def spy(*args, **kwargs):
        model = real(*args, **kwargs)
        seen.append(model.config._attn_implementation)
        return model

    monkeypatch.setattr(hf_model, "build_model", spy)
    return seen


def _capture(monkeypatch, module, name: str) -> list:
    got: list = []

    def record(*args, **kwargs):
        got.append(args[0])
        raise _Captured

    monkeypatch.setattr(module, name, record)
    return got


def test_measure_and_export_lower_the_same_graph(monkeypatch, built, tmp_path: Path) -> None:
    import tvm

    measured = _capture(monkeypatch, measure, "build_relax")  # what the tvm/rpc backends compile
    shipped = _capture(monkeypatch, export, "build_relax")  # what `nas export --tvm` compiles
    onnx = _capture(monkeypatch, torch.onnx, "export")  # what `nas export --onnx` converts
    for run in (lambda: measure.measure_tvm(TINY, {"kind": "llvm"}, SEQ),
                lambda: export.export_tvm(TINY, SimpleNamespace(target={"kind": "llvm"}), tmp_path, SEQ),
                lambda: export.export_onnx(TINY, tmp_path, SEQ)):
        with pytest.raises(_Captured):
            run()
    tvm.ir.assert_structural_equal(measured[0], shipped[0])  # raises when the Relax modules differ
    reference = hf_model.export_program(TINY, SEQ)
    # The ONNX file takes what a tokenizer gives (ids, attention mask, token types): the measured graph plus the
    # mask's ops; only the zeros the measured graph makes for the token types come in as an input instead.
    shipped = torch.export.export(onnx[0], export.onnx_example(TINY, 2, SEQ))
    missing = Counter(hf_model.op_list(reference)) - Counter(hf_model.op_list(shipped))
    assert set(missing) <= {"aten.zeros.default"}, missing
    assert "aten.softmax.int" in hf_model.op_list(reference)  # eager attention: softmax is its own op
    measure.measure_torch(TINY, SEQ, repeat=1, warmup=0)  # the torch backend times the same builder's model
    assert built and set(built) == {hf_model.ATTN_IMPLEMENTATION}


def test_another_attention_gives_another_graph() -> None:
    """The comparison above can tell implementations apart: sdpa exports a different op list."""
    eager = hf_model.op_list(hf_model.export_program(TINY, SEQ))
    config = hf_model.hf_config(TINY)
    config._attn_implementation = "sdpa"
    from transformers import MobileBertModel

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = MobileBertModel(config, add_pooling_layer=False).eval()

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=ids).last_hidden_state

    with torch.no_grad():
        sdpa = torch.export.export(Wrapped().eval(), hf_model.example_inputs(TINY, SEQ))
    assert hf_model.op_list(sdpa) != eager


def test_pretraining_head_and_seeded_weights() -> None:
    a = hf_model.build_model(TINY, "pretraining")
    b = hf_model.build_model(TINY, "pretraining")
    assert type(a).__name__ == "MobileBertForPreTraining"
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert sum(p.numel() for p in hf_model.build_model(TINY).parameters()) == TINY.num_params(include_pooler=False)
    with pytest.raises(ValueError, match="head"):
        hf_model.build_model(TINY, "classifier")


def test_seeded_weights_hold_no_constant_parameter() -> None:
    """A converter folds a multiply by 1 and an add of 0 (LiteRT dropped every NoNorm of a fresh model): the
    model we time must carry weights like a trained one, with no all-equal parameter."""
    model = hf_model.build_model(dataclasses.replace(TINY, normalization_type="no_norm"), "base")
    constant = [name for name, p in model.named_parameters()
                if p.numel() > 1 and bool(torch.all(p.reshape(-1) == p.reshape(-1)[0]))]
    assert constant == []
    untouched = hf_model.build_model(TINY, "base", seed=None)
    assert any(bool(torch.all(p == 1)) for p in untouched.parameters())  # None: the caller's weights, as made
