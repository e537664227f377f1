"""The elastic MobileBERT: one `MobileBertForPreTraining` at the space's maxima; any arch of the space runs as a
sub-network by weight slicing, through `transformers`' own MobileBERT code.

How a sub-network is formed (nas/supernet/README.md says why):
- every tensor of the sub-network's `MobileBertForPreTraining` is the *leading slice* of the supernet tensor of
  the same name (`w[:out, :in]`, `b[:n]`): bottleneck width, FFN width, the first F−1 stacked FFNs (plus the
  last one, which HF names `intermediate`/`output`); embeddings, heads and pooler are shared whole;
- depth: a sub-network of L of the L_max layers keeps layers ⌊(l+1)·L_max/L⌋ − 1 ("spread": the top layer is
  always kept, and with L_max equal to the teacher's depth each supernet layer always imitates the same
  teacher layer under nas/distill/layer_map.py), or the first L ("first");
- heads own no weights: MobileBERT's attention width is the bottleneck width whatever the head count, so a
  head count regroups Q/K/V channels. Head layout "prefix" (default) takes the leading channels and cuts them
  into heads, so one channel belongs to different heads at different widths; "blocked": for h heads the
  supernet's attention channels are h blocks of (attention width)/h, and a sub-network's head j takes the
  leading (its width)/h channels of block j — a narrower bottleneck narrows every head (HAT's elastic head
  dimension). Blocked is the consistent layout but did not rank better when measured (nas/supernet/README.md);
- "none" (no bottleneck) uses the attention and FFN slices at hidden_size and skips the bottleneck layers.
The forward itself is `torch.func.functional_call` of a sub-network skeleton (built on the meta device, so it
owns no memory) with the sliced tensors: it *is* the forward of the extracted standalone model.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import torch
from torch.func import functional_call

from nas.distill.models import pretraining_model, student_config
from nas.supernet.space import choices, maxima, require_member, supernet_arch
from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.space import SearchSpace

DEPTH_ORDERS = ("spread", "first")
HEAD_LAYOUTS = ("blocked", "prefix")
LAYER = re.compile(r"^(mobilebert\.encoder\.layer\.)(\d+)(\..*)$")
HEAD_ROWS = re.compile(r"\.attention\.self\.(query|key|value)\.(weight|bias)$")  # output channels: the heads'
HEAD_COLUMNS = re.compile(r"\.attention\.output\.dense\.weight$")  # input channels: the heads' outputs
_SKELETONS = 1024  # cached sub-network skeletons (meta device: no weights, about 30 ms to build)


def kept_layers(depth: int, max_depth: int, order: str = "spread") -> tuple[int, ...]:
    if not 1 <= depth <= max_depth:
        raise UserInputError(f"depth {depth} is outside the supernet's 1..{max_depth}")
    if order == "first":
        return tuple(range(depth))
    return tuple((layer + 1) * max_depth // depth - 1 for layer in range(depth))


class _Bound:
    """A sub-module of the skeleton called with the sliced tensors under its prefix."""

    def __init__(self, module: torch.nn.Module, prefix: str, tensors: dict[str, torch.Tensor]) -> None:
        self.module = module
        self.tensors = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return functional_call(self.module, self.tensors, args, kwargs, tie_weights=False, strict=True)


class SubnetView:
    """Looks like a `MobileBertForPreTraining` to nas/distill/objective.py (`base_model`, `cls.predictions`,
    `cls.seq_relationship`, `config`) and computes with the supernet's sliced weights (gradients flow back)."""

    def __init__(self, skeleton: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
        self.skeleton, self.tensors, self.config = skeleton, tensors, skeleton.config
        self.base_model = _Bound(skeleton.mobilebert, "mobilebert.", tensors)
        self.cls = SimpleNamespace(predictions=_Bound(skeleton.cls.predictions, "cls.predictions.", tensors),
                                   seq_relationship=_Bound(skeleton.cls.seq_relationship, "cls.seq_relationship.",
                                                           tensors))

    def __call__(self, **kwargs: Any) -> Any:
        return functional_call(self.skeleton, self.tensors, (), kwargs, tie_weights=False, strict=True)

    def submodule(self, path: str) -> _Bound:
        """The skeleton's sub-module at dotted `path`, called with its sliced weights."""
        return _Bound(self.skeleton.get_submodule(path), f"{path}.", self.tensors)


class ElasticMobileBert(torch.nn.Module):
    def __init__(self, space: SearchSpace, depth_order: str = "spread", model: Any = None,
                 head_layout: str = "prefix") -> None:
        """A new (randomly initialised) supernet for `space`, or one around trained weights `model`: a student
        (nas/distill/models.py's `student_config`) at the space's maxima."""
        super().__init__()
        if depth_order not in DEPTH_ORDERS:
            raise UserInputError(f"depth order must be one of {', '.join(DEPTH_ORDERS)}, got {depth_order!r}")
        if head_layout not in HEAD_LAYOUTS:
            raise UserInputError(f"head layout must be one of {', '.join(HEAD_LAYOUTS)}, got {head_layout!r}")
        self.space, self.depth_order, self.head_layout, self.maxima = space, depth_order, head_layout, maxima(space)
        if head_layout == "blocked":
            uneven = [h for h in choices(space, "num_attention_heads") if self.maxima.inner % h]
            if uneven:
                raise UserInputError(f"head layout blocked: {uneven} heads do not divide the supernet's attention "
                                     f"width {self.maxima.inner}; use --head-layout prefix")
        self.arch = supernet_arch(space)
        if model is None:
            model = pretraining_model(student_config(self.arch))
        elif Arch.from_hf_config(model.config) != self.arch:
            raise UserInputError("the supernet's weights do not have the shape of its space's maxima")
        self.model = model
        self._skeletons: OrderedDict[Arch, torch.nn.Module] = OrderedDict()

    # ------------------------------------------------------------------ slicing
    def skeleton(self, arch: Arch) -> torch.nn.Module:
        if arch not in self._skeletons:
            with torch.device("meta"):
                self._skeletons[arch] = pretraining_model(student_config(arch))
            if len(self._skeletons) > _SKELETONS:
                self._skeletons.popitem(last=False)
        self._skeletons.move_to_end(arch)
        return self._skeletons[arch]

    def source_name(self, name: str, kept: tuple[int, ...]) -> str:
        """The supernet tensor a sub-network tensor is sliced from."""
        match = LAYER.match(name)
        return f"{match[1]}{kept[int(match[2])]}{match[3]}" if match else name

    def kept(self, arch: Arch) -> tuple[int, ...]:
        """The supernet layers `arch`'s sub-network runs, in order."""
        return kept_layers(arch.num_hidden_layers, self.maxima.layers, self.depth_order)

    def head_channels(self, arch: Arch) -> torch.Tensor | None:
        """The supernet attention channels `arch`'s heads use, head by head, or None for the leading ones."""
        width = arch.intra_bottleneck_size if arch.use_bottleneck else arch.hidden_size
        if self.head_layout == "prefix" or width == self.maxima.inner:
            return None
        heads = arch.num_attention_heads
        block = self.maxima.inner // heads
        return (torch.arange(heads)[:, None] * block + torch.arange(width // heads)).reshape(-1)

    def subnet_tensors(self, arch: Arch) -> dict[str, torch.Tensor]:
        """Every parameter and buffer of `arch`'s `MobileBertForPreTraining` (tied names included), as slices
        of the supernet's tensors (views, or gathered head channels; gradients flow back either way)."""
        require_member(self.space, arch)
        skeleton = self.skeleton(arch)
        kept = self.kept(arch)
        channels = self.head_channels(arch)
        source = dict(self.model.named_parameters(remove_duplicate=False))
        source.update(self.model.named_buffers(remove_duplicate=False))
        out: dict[str, torch.Tensor] = {}
        for kind in (skeleton.named_parameters(remove_duplicate=False), skeleton.named_buffers(remove_duplicate=False)):
            for name, like in kind:
                full = source[self.source_name(name, kept)]
                if channels is not None and HEAD_ROWS.search(name):
                    full = full.index_select(0, channels.to(full.device))
                elif channels is not None and HEAD_COLUMNS.search(name):
                    full = full.index_select(1, channels.to(full.device))
                if full.shape != like.shape:
                    full = full[tuple(slice(0, n) for n in like.shape)]
                out[name] = full
        return out

    def view(self, arch: Arch) -> SubnetView:
        skeleton = self.skeleton(arch)
        skeleton.train(self.training)
        return SubnetView(skeleton, self.subnet_tensors(arch))

    def extract(self, arch: Arch) -> Any:
        """A standalone `MobileBertForPreTraining` holding copies of `arch`'s inherited weights."""
        tensors = self.subnet_tensors(arch)
        with torch.device("meta"):
            model = pretraining_model(student_config(arch))
        model.load_state_dict({k: v.detach().clone() for k, v in tensors.items()}, strict=False, assign=True)
        for name, buffer in model.named_buffers():
            if buffer.is_meta:  # non-persistent buffers are not in the state dict
                _set(model, name, tensors[name].detach().clone())
        model.tie_weights()
        return model.train(False)


def _set(model: torch.nn.Module, name: str, value: torch.Tensor) -> None:
    owner, _, attr = name.rpartition(".")
    model.get_submodule(owner).register_buffer(attr, value, persistent=False)
