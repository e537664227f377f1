"""The one place that turns an `Arch` into a Hugging Face model, its inference module and its exported program.

Latency measurement (`measure.py`), export (`nas/export/formats.py`: ONNX, TVM) and the supernet's extraction all
build their model here, so what is timed is what is shipped. One attention implementation for all of them:
HF's *eager* attention (score matmul, scale, softmax, context matmul as separate ops). It is what TFLite runs
(the pixel4 profile), what `latency_models/graph.py` lowers as kernels, and what distillation needs
(`output_attentions` returns maps only with eager attention in transformers 5). Timing sdpa instead made
many-head small models 20-34 % faster than their modelled kernels on the host (`MEASUREMENTS.md`).

Layering: this module imports `search_spaces` (through the `Arch` it is given) and `torch`/`transformers`
only, never `nas/`.
"""

from __future__ import annotations

from typing import Any, Literal

ATTN_IMPLEMENTATION = "eager"
HEADS = ("base", "pretraining")
APP_INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # what a BERT tokenizer gives an app
APP_OUTPUTS = ("last_hidden_state", "logits")


def hf_config(arch: Any, **extra: Any) -> Any:
    """`arch` as a `transformers.MobileBertConfig` with this project's attention implementation."""
    config = arch.to_hf_config(attn_implementation=ATTN_IMPLEMENTATION, **extra)
    config._attn_implementation = ATTN_IMPLEMENTATION
    return config


def build_model(arch: Any, head: Literal["base", "pretraining"] = "base", seed: int | None = 0,
                **config_extra: Any) -> Any:
    """A `MobileBertModel` (`head="base"`, no pooler) or `MobileBertForPreTraining`, in eval mode.

    `seed` fixes the random initial weights (exports are reproducible) and moves every constant-initialised
    parameter off its constant (`untie_constant_parameters`); None leaves torch's global generator and the
    weights alone (the caller loads or copies weights itself)."""
    import torch
    from transformers import MobileBertForPreTraining, MobileBertModel

    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")
    if seed is not None:
        torch.manual_seed(seed)
    config = hf_config(arch, **config_extra)
    if head == "pretraining":
        model = MobileBertForPreTraining(config).eval()
    else:
        model = MobileBertModel(config, add_pooling_layer=False).eval()
    if seed is not None:
        untie_constant_parameters(model, seed)
    return model


def untie_constant_parameters(model: Any, seed: int, scale: float = 0.02) -> None:
    """Adds N(0, scale²) noise to every parameter whose entries are all equal (HF initialises norm scales to 1
    and biases to 0).

    A converter folds a multiply by 1 and an add of 0 away: LiteRT dropped every NoNorm of a freshly
    initialised MobileBERT (33 MUL + 33 ADD of a 4-layer one), so the model it timed was not the one a trained
    checkpoint ships. Trained weights are never exactly constant; with this a random model has the same graph.
    """
    import torch

    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for parameter in model.parameters():
            flat = parameter.detach().reshape(-1)
            if flat.numel() > 1 and bool(torch.all(flat == flat[0])):
                parameter.add_(scale * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))


def inference_module(arch: Any, seed: int | None = 0) -> Any:
    """The encoder as a module with one tensor input (`input_ids`) and one output (`last_hidden_state`):
    what the torch backend times and what every exporter converts."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids).last_hidden_state

    return LastHiddenState(build_model(arch, "base", seed)).eval()


def app_module(model: Any, output: Literal["last_hidden_state", "logits"] = "last_hidden_state") -> Any:
    """Any HF BERT-family model (built here, or trained and loaded) as the module an app runs: the tokenizer's
    three tensors in (`APP_INPUTS`, by name), one tensor out (the encoder's `last_hidden_state`, or a sequence
    classifier's `logits`), with this project's attention implementation. What ONNX and TFLite exports convert."""
    import torch

    if output not in APP_OUTPUTS:
        raise ValueError(f"output must be one of {APP_OUTPUTS}, got {output!r}")
    if getattr(model.config, "_attn_implementation", None) != ATTN_IMPLEMENTATION:
        model.set_attn_implementation(ATTN_IMPLEMENTATION)

    class App(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            result = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return getattr(result, output)

    return App(model).eval()


def example_inputs(arch: Any, seq_len: int = 128, batch: int = 1) -> tuple[Any]:
    """Reproducible random token ids of shape (batch, seq_len)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    return (torch.randint(0, arch.vocab_size, (batch, seq_len), generator=generator),)


def export_program(arch: Any, seq_len: int = 128, batch: int = 1, seed: int | None = 0) -> Any:
    """`torch.export` of `inference_module(arch)` at (batch, seq_len): the graph TVM and ONNX convert."""
    import torch

    module = inference_module(arch, seed)
    with torch.no_grad():
        return torch.export.export(module, example_inputs(arch, seq_len, batch))


def op_list(program: Any) -> list[str]:
    """The ATen ops of an exported program's graph, in order (to compare two programs)."""
    return [str(node.target) for node in program.graph.nodes if node.op == "call_function"]
