"""The elastic MobileBERT: a sub-network's forward equals the extracted standalone model's, slicing is what the
README says, and the supernet's space is checked."""

from __future__ import annotations

import warnings

import pytest
import torch

from nas.supernet import store
from nas.supernet.elastic import ElasticMobileBert, kept_layers
from nas.supernet.space import check_space, largest, maxima, require_member, smallest, supernet_arch
from nas_common.errors import UserInputError
from search_spaces.space import SearchSpace

TINY_SPACE = {
    "name": "tiny",
    "dimensions": {"num_hidden_layers": [1, 2, 3], "intra_bottleneck_size": [8, 16, "none"],
                   "num_attention_heads": [1, 2, 4], "intermediate_size": [16, 32],
                   "num_feedforward_networks": [1, 2, 3]},
    "fixed": {"hidden_size": 32, "embedding_size": 16, "normalization_type": "layer_norm", "hidden_act": "gelu"},
}


def tiny_space(**fixed: object) -> SearchSpace:
    return check_space(SearchSpace.from_dict({**TINY_SPACE, "fixed": {**TINY_SPACE["fixed"], **fixed}}))


def perturbed(space: SearchSpace, head_layout: str = "prefix") -> ElasticMobileBert:
    """Random weights everywhere, norms included, so that a wrong slice changes the output."""
    torch.manual_seed(0)
    elastic = ElasticMobileBert(space, head_layout=head_layout)
    with torch.no_grad():
        for p in elastic.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return elastic.eval()


def inputs() -> dict[str, torch.Tensor]:
    ids = torch.randint(1000, 3000, (3, 10), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0  # padding: the attention mask must reach the sub-network
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}


ARCH_POINTS = [
    {},  # the largest: every maximum, no bottleneck
    {"num_hidden_layers": 1},  # shallower
    {"num_hidden_layers": 2, "intra_bottleneck_size": 8, "num_attention_heads": 2},  # narrower, fewer heads
    {"intra_bottleneck_size": 16, "num_feedforward_networks": 1, "intermediate_size": 16},  # fewer, narrower FFNs
    {"num_hidden_layers": 2, "intra_bottleneck_size": 16, "num_attention_heads": 1, "num_feedforward_networks": 2},
]


def arch_of(space: SearchSpace, point: dict) -> object:
    return space.to_arch({**space.to_point(largest(space)), **point})


@pytest.mark.parametrize("norm,act,head_layout", [("layer_norm", "gelu", "prefix"), ("no_norm", "relu", "prefix"),
                                                   ("layer_norm", "gelu", "blocked")])
def test_subnet_forward_equals_extracted_model(norm: str, act: str, head_layout: str) -> None:
    space = tiny_space(normalization_type=norm, hidden_act=act)
    elastic = perturbed(space, head_layout)
    batch = inputs()
    for point in ARCH_POINTS:
        arch = arch_of(space, point)
        view = elastic.view(arch)
        with torch.no_grad():
            got = view(**batch, output_hidden_states=True, output_attentions=True)
            model = elastic.extract(arch)
            want = model(**batch, output_hidden_states=True, output_attentions=True)
        assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in elastic.parameters())
        assert len(want.hidden_states) == arch.num_hidden_layers + 1
        torch.testing.assert_close(got.prediction_logits, want.prediction_logits, atol=1e-5, rtol=0)
        torch.testing.assert_close(got.seq_relationship_logits, want.seq_relationship_logits, atol=1e-5, rtol=0)
        for g, w in zip(got.attentions, want.attentions, strict=True):
            assert g.shape[1] == arch.num_attention_heads
            torch.testing.assert_close(g, w, atol=1e-5, rtol=0)


def test_extracted_model_reloads_with_transformers(tmp_path) -> None:
    from transformers import MobileBertForPreTraining

    space = tiny_space()
    elastic = perturbed(space)
    arch = arch_of(space, ARCH_POINTS[2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elastic.extract(arch).save_pretrained(tmp_path)
    loaded = MobileBertForPreTraining.from_pretrained(tmp_path, attn_implementation="eager").eval()
    batch = inputs()
    with torch.no_grad():
        got = elastic.view(arch)(**batch).prediction_logits
        want = loaded(**batch).prediction_logits
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_slices_are_leading_and_layers_spread() -> None:
    space = tiny_space()
    elastic = perturbed(space)
    arch = arch_of(space, {"num_hidden_layers": 2, "intra_bottleneck_size": 8, "intermediate_size": 16})
    model = elastic.extract(arch)
    # depth 2 of 3 keeps supernet layers 0 and 2 (⌊(l+1)·3/2⌋ − 1), the top one always
    assert elastic.kept(arch) == (0, 2)
    sub = model.mobilebert.encoder.layer[1].intermediate.dense.weight
    full = elastic.model.mobilebert.encoder.layer[2].intermediate.dense.weight
    assert torch.equal(sub, full[:16, :8])
    first = ElasticMobileBert(space, "first")
    assert first.kept(arch) == (0, 1)


def test_blocked_heads_narrow_every_head() -> None:
    space = tiny_space()  # attention width 32 ("none" is a choice): 2 heads own the blocks 0-15 and 16-31
    elastic = perturbed(space, "blocked")
    narrow = arch_of(space, {"intra_bottleneck_size": 8, "num_attention_heads": 2})
    wide = arch_of(space, {"intra_bottleneck_size": 16, "num_attention_heads": 2})
    channels = [0, 1, 2, 3, 16, 17, 18, 19]
    assert elastic.head_channels(narrow).tolist() == channels
    assert elastic.head_channels(wide).tolist() == [*range(8), *range(16, 24)]  # each narrow head inside a wide one
    assert elastic.head_channels(largest(space)) is None  # the full width: every channel in place
    layer = elastic.model.mobilebert.encoder.layer[2]
    sub = elastic.extract(narrow).mobilebert.encoder.layer[-1]
    for name in ("query", "key", "value"):
        full = getattr(layer.attention.self, name)
        inputs_ = getattr(sub.attention.self, name).in_features  # 8, or 32 where the value reads the block's input
        assert torch.equal(getattr(sub.attention.self, name).weight, full.weight[channels, :inputs_])
        assert torch.equal(getattr(sub.attention.self, name).bias, full.bias[channels])
    assert torch.equal(sub.attention.output.dense.weight, layer.attention.output.dense.weight[:8][:, channels])
    assert torch.equal(sub.attention.output.dense.bias, layer.attention.output.dense.bias[:8])
    assert ElasticMobileBert(space, head_layout="prefix").head_channels(narrow) is None


def test_blocked_heads_need_head_counts_that_divide_the_attention_width() -> None:
    # 3 heads divide the 12- and 24-wide bottlenecks (so the space holds such archs) but not the supernet's 32
    dims = {**TINY_SPACE["dimensions"], "intra_bottleneck_size": [12, 24, "none"], "num_attention_heads": [1, 3]}
    space = check_space(SearchSpace.from_dict({**TINY_SPACE, "dimensions": dims}))
    with pytest.raises(UserInputError, match="--head-layout prefix"):
        ElasticMobileBert(space, head_layout="blocked")
    assert ElasticMobileBert(space).head_layout == "prefix"


def test_supernets_written_before_head_layouts_read_as_prefix() -> None:
    assert store.head_layout({"format": 1, "depth_order": "spread"}) == "prefix"
    assert store.head_layout({"head_layout": "blocked"}) == "blocked"


def test_kept_layers() -> None:
    assert kept_layers(3, 6) == (1, 3, 5)
    assert kept_layers(6, 6) == tuple(range(6))
    assert kept_layers(4, 6, "first") == (0, 1, 2, 3)
    with pytest.raises(UserInputError):
        kept_layers(7, 6)


def test_gradient_reaches_only_the_slice() -> None:
    space = tiny_space()
    elastic = perturbed(space).train()
    arch = arch_of(space, {"num_hidden_layers": 1, "intra_bottleneck_size": 8, "intermediate_size": 16})
    out = elastic.view(arch).base_model(**inputs())
    out.last_hidden_state.pow(2).mean().backward()
    grad = elastic.model.mobilebert.encoder.layer[2].intermediate.dense.weight.grad  # depth 1 keeps layer 2
    assert grad[:16, :8].abs().sum() > 0
    assert grad[16:].abs().sum() == 0 and grad[:, 8:].abs().sum() == 0
    assert elastic.model.mobilebert.encoder.layer[0].intermediate.dense.weight.grad is None


def test_space_maxima_and_extremes() -> None:
    space = tiny_space()
    m = maxima(space)
    assert (m.layers, m.inner, m.intermediate, m.ffns) == (3, 32, 32, 3)  # "none" makes the inner width 32
    assert supernet_arch(space).intra_bottleneck_size == 32
    big, small = largest(space), smallest(space)
    assert not big.use_bottleneck and big.num_attention_heads == 4
    assert small.intra_bottleneck_size == 8 and small.num_hidden_layers == 1 and small.num_attention_heads == 1


def test_space_must_fix_what_is_not_sliced() -> None:
    data = {**TINY_SPACE, "dimensions": {**TINY_SPACE["dimensions"], "normalization_type": ["no_norm", "layer_norm"]}}
    with pytest.raises(UserInputError, match="normalization_type"):
        check_space(SearchSpace.from_dict(data))


def test_arch_outside_the_space_is_one_line() -> None:
    space = tiny_space()
    with pytest.raises(UserInputError, match="outside the supernet's space") as err:
        require_member(space, largest(space).replace(num_hidden_layers=5))
    assert "\n" not in str(err.value)
