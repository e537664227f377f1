"""Exports of a chosen arch: `arch.json`, a transformers `config.json`, `TRAIN.md`; ONNX; a TVM library.

ONNX and TVM exports contain the architecture with random weights (what the latency is a property of);
train it with `nas distill` for real weights.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from search_spaces.arch import Arch

CROSS_COMPILERS = {"aarch64": "aarch64-linux-gnu-gcc", "arm": "arm-linux-gnueabihf-gcc"}

TRAIN_TEMPLATE = """# Train this architecture

Trial {trial} of run `{run}`: predicted latency {latency:.1f} ms on {device} (budget {budget:g} ms),
accuracy estimate {accuracy:.4f} ({estimator}), {params:,} parameters.

Progressive knowledge transfer from an IB-BERT teacher, as in the MobileBERT paper (Sun et al., ACL 2020):

```
nas teacher --out teacher --corpus CORPUS.txt          # once: pre-train the IB-BERT_LARGE teacher
nas distill --student {student} --teacher teacher --corpus CORPUS.txt --strategy pkt --out {student_out}
```

`config.json` here loads with `transformers.MobileBertConfig.from_pretrained("{student}")`;
`arch.json` is the same architecture in this tool's terms (`nas arch show {student}/arch.json`).
"""


def export_config(arch: Arch, out: Path, info: dict[str, Any]) -> Path:
    """`arch.json`, `config.json` (transformers) and `TRAIN.md` in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    arch.save(out / "arch.json")
    arch.to_hf_config().save_pretrained(str(out))
    (out / "TRAIN.md").write_text(TRAIN_TEMPLATE.format(student=out, student_out=f"{out}-distilled", **info))
    return out


def _model_and_inputs(arch: Arch, seq_len: int) -> tuple[Any, tuple[Any, ...]]:
    import torch
    from transformers import MobileBertModel

    torch.manual_seed(0)
    model = MobileBertModel(arch.to_hf_config(attn_implementation="sdpa"), add_pooling_layer=False).eval()
    input_ids = torch.randint(1000, 2000, (1, seq_len), dtype=torch.long)
    return model, (input_ids,)


def _last_hidden_state_module(model: Any) -> Any:
    """The HF model as a module with one tensor output, which both exporters handle."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids).last_hidden_state

    return LastHiddenState().eval()


def export_onnx(arch: Arch, out: Path, seq_len: int = 128) -> Path:
    import torch

    model, inputs = _model_and_inputs(arch, seq_len)
    path = out / "model.onnx"
    torch.onnx.export(_last_hidden_state_module(model), inputs, str(path), input_names=["input_ids"],
                      output_names=["last_hidden_state"], dynamo=True, external_data=False, verbose=False)
    return path


def export_tvm(arch: Arch, profile: Any, out: Path, seq_len: int = 128) -> tuple[Path, str]:
    """Compile for the device's TVM target; link a .so if the cross compiler exists, else a tar of objects."""
    import torch
    import tvm
    from tvm import relax
    from tvm.relax.frontend.torch import from_exported_program

    model, inputs = _model_and_inputs(arch, seq_len)
    with torch.no_grad():
        program = torch.export.export(_last_hidden_state_module(model), inputs)
    mod = from_exported_program(program, keep_params_as_input=False, unwrap_unit_return_tuple=True)
    target = tvm.target.Target(dict(profile.target))
    executable = relax.build(mod, target, relax_pipeline=relax.get_default_pipeline(target))
    triple = str(profile.target.get("mtriple", ""))
    arch_name = triple.split("-")[0] if triple else ""
    compiler = CROSS_COMPILERS.get(arch_name)
    if not triple or arch_name in ("x86_64", ""):
        path = out / "model.so"
        executable.export_library(str(path))
        return path, f"linked for the host ({target.kind.name})"
    if compiler and shutil.which(compiler):
        from tvm.support import cc

        path = out / "model.so"
        executable.export_library(str(path), fcompile=cc.cross_compiler(compiler))
        return path, f"cross-compiled and linked with {compiler} for {triple}"
    path = out / "model.tar"
    executable.export_library(str(path))
    return path, (f"{compiler or 'a cross compiler for ' + triple} not found: wrote {path.name}, the {triple} "
                  "object files, NOT a loadable library; link them on the device or install "
                  "gcc-aarch64-linux-gnu and export again")


def check_exportable(arch: Arch) -> None:
    if not arch.is_uniform:
        raise UserInputError("a per-layer (heterogeneous) arch cannot be exported as a MobileBertConfig")
