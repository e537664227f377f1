"""Arch: validation, JSON and transformers round-trips, exact parameter counts, FLOPs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import MobileBertConfig, MobileBertModel

from search_spaces import PRESETS, Arch, SearchSpace, UserInputError

SPACE = SearchSpace.default()


def hf_param_count(arch: Arch) -> int:
    model = MobileBertModel(arch.to_hf_config())
    return sum(p.numel() for p in model.parameters())


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_sample_json_hf_round_trip_is_identity(seed: int) -> None:
    arch = SPACE.sample(np.random.default_rng(seed))
    assert Arch.from_dict(json.loads(arch.to_json())) == arch
    assert Arch.from_hf_config(arch.to_hf_config()) == arch
    config = arch.to_hf_config()
    assert Arch.from_hf_config(MobileBertConfig.from_dict(config.to_dict())) == arch


@pytest.mark.parametrize("name", ["bert-base", "mobilebert", "mobilebert-tiny", "mobilebert-no-opt",
                                  "ib-bert-large"])
def test_preset_params_equal_hf_model(name: str) -> None:
    arch = PRESETS[name].arch
    assert arch.num_params() == hf_param_count(arch)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_small_arch_params_equal_hf_model(seed: int) -> None:
    rng = np.random.default_rng(seed)
    arch = SPACE.sample(rng).replace(num_hidden_layers=int(rng.integers(1, 4)), vocab_size=1000)
    assert arch.num_params() == hf_param_count(arch)


def test_paper_figures_within_tolerance() -> None:
    mobilebert, bert = PRESETS["mobilebert"].arch, PRESETS["bert-base"].arch
    assert abs(mobilebert.flops(128) / 5.7e9 - 1) < 0.06  # paper Table 1: 5.7 GFLOPs
    assert abs(bert.num_params() / 109e6 - 1) < 0.01  # paper Table 1: 109 M
    assert abs(bert.flops(128) / 22.5e9 - 1) < 0.03  # paper Table 1: 22.5 GFLOPs
    assert abs(PRESETS["mobilebert-tiny"].arch.flops(128) / 3.1e9 - 1) < 0.05


def test_flops_breakdown_sums_and_scales() -> None:
    arch = PRESETS["mobilebert"].arch
    parts = arch.flops_breakdown(128)
    assert sum(parts.values()) == arch.flops(128)
    assert parts["ffn"] == 24 * 4 * 2 * (2 * 128 * 128 * 512)  # 4 FFNs of 128→512→128 per layer
    assert parts["attention_matmuls"] == 24 * 2 * 2 * 128 * 128 * 128
    assert arch.flops(256) > 2 * arch.flops(128) - parts["attention_matmuls"]  # attention grows as T²


def test_mha_ffn_ratio_of_bert_is_half() -> None:
    # Standard transformer: 4d² attention vs 8d² FFN parameters (the paper's 0.5 remark, §4.1).
    assert PRESETS["bert-base"].arch.mha_ffn_param_ratio() == pytest.approx(0.5, abs=0.01)


def test_per_layer_arch_counts_layer_by_layer() -> None:
    uniform = Arch(num_hidden_layers=2, intermediate_size=512)
    mixed = Arch(num_hidden_layers=2, intermediate_size=(512, 1024))
    wide = Arch(num_hidden_layers=2, intermediate_size=1024)
    assert mixed.num_params() * 2 == uniform.num_params() + wide.num_params()
    assert not mixed.is_uniform
    assert Arch(num_hidden_layers=2, intermediate_size=[512, 512]) == uniform  # uniform list collapses
    with pytest.raises(UserInputError, match="heterogeneous"):
        mixed.to_hf_config()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"num_attention_heads": 3}, "do not divide"),
        ({"hidden_act": "swish"}, "hidden_act"),
        ({"normalization_type": "batch_norm"}, "normalization_type"),
        ({"num_hidden_layers": 0}, "positive integer"),
        ({"hidden_size": "512"}, "positive integer"),
        ({"key_query_shared_bottleneck": True, "use_bottleneck_attention": True}, "one attention form"),
        ({"key_query_shared_bottleneck": False}, "attention needs"),
        ({"intermediate_size": (512, 512, 512)}, "per-layer values"),
    ],
)
def test_invalid_arch_is_explained(fields: dict, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        Arch(**fields)


def test_no_bottleneck_is_canonical() -> None:
    a = Arch(use_bottleneck=False, intra_bottleneck_size=64, hidden_size=256, num_attention_heads=4)
    assert a.intra_bottleneck_size == 256 and a.attention_form() == "full"
    assert a == Arch.from_hf_config(a.to_hf_config())


def test_load_reports_file_problems(tmp_path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    with pytest.raises(UserInputError, match="bad.json: not valid JSON"):
        Arch.load(bad_json)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"hidden_sise": 512}))
    with pytest.raises(UserInputError, match="unknown field"):
        Arch.load(unknown)
    with pytest.raises(UserInputError, match="no such file"):
        Arch.load(tmp_path / "missing.json")


def test_save_load_round_trip(tmp_path) -> None:
    arch = Arch(num_hidden_layers=3, num_feedforward_networks=(1, 2, 4))
    arch.save(tmp_path / "a.json")
    assert Arch.load(tmp_path / "a.json") == arch


# ---------------------------------------------------------------- bounds, seq-len, the one resolver
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"num_hidden_layers": 10_000}, "num_hidden_layers 10,000 is above this tool's limit"),
        ({"hidden_size": 1_000_000}, "hidden_size 1,000,000 is above"),
        ({"num_feedforward_networks": (1, 64), "num_hidden_layers": 2}, "num_feedforward_networks 64 is above"),
        ({"intermediate_size": ()}, "empty list"),
    ],
)
def test_upper_bounds_are_explained(fields: dict, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        Arch(**fields)


def test_every_preset_is_inside_the_bounds() -> None:
    from search_spaces.family import LIMITS

    for preset in PRESETS.values():
        for name, limit in LIMITS.items():
            value = getattr(preset.arch, name)
            assert max(value if isinstance(value, tuple) else (value,)) <= limit / 4, (preset.name, name)


def test_check_seq_len() -> None:
    from search_spaces.family import check_seq_len

    assert check_seq_len(512) == 512 and check_seq_len(1) == 1
    with pytest.raises(UserInputError, match="longer than the model's max_position_embeddings"):
        check_seq_len(513)
    with pytest.raises(UserInputError, match="--max-len must be a positive"):
        check_seq_len(0, what="--max-len")


def _saved_hf(tmp_path, arch: Arch, **changes):
    directory = tmp_path / "model"
    config = MobileBertConfig(**{**arch.to_hf_config().to_dict(), **changes})
    config.save_pretrained(directory)
    return directory


@pytest.mark.parametrize("name", ["mobilebert", "mobilebert-tiny", "bert-base", "ib-bert-large"])
def test_resolver_reads_hf_save_pretrained_dir_and_file(tmp_path, name: str) -> None:
    from search_spaces.presets import resolve_arch

    arch = PRESETS[name].arch
    directory = _saved_hf(tmp_path, arch)
    data = json.loads((directory / "config.json").read_text())
    assert {"true_hidden_size", "model_type", "attention_probs_dropout_prob"} <= set(data)  # HF-only fields
    assert resolve_arch(directory) == arch
    assert resolve_arch(str(directory / "config.json")) == arch


def test_resolver_reads_the_plain_hf_defaults(tmp_path) -> None:
    from search_spaces.presets import resolve_arch

    MobileBertConfig().save_pretrained(tmp_path)
    assert resolve_arch(str(tmp_path)) == PRESETS["mobilebert"].arch


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"true_hidden_size": 100}, "true_hidden_size 100 contradicts the attention width 128"),
        ({"max_position_embeddings": 1024}, "max_position_embeddings 1024 is not supported"),
        ({"type_vocab_size": 4}, "type_vocab_size 4"),
        ({"hidden_act": "gelu_new"}, "hidden_act must be one of"),
    ],
)
def test_resolver_rejects_real_contradictions_only(tmp_path, changes: dict, message: str) -> None:
    from search_spaces.presets import resolve_arch

    directory = _saved_hf(tmp_path, PRESETS["mobilebert"].arch, hidden_dropout_prob=0.3, initializer_range=0.5,
                          **changes)
    with pytest.raises(UserInputError, match=message):
        resolve_arch(directory)


def test_resolver_other_inputs(tmp_path) -> None:
    from search_spaces.presets import resolve_arch

    assert resolve_arch("MobileBERT-Tiny") == PRESETS["mobilebert-tiny"].arch
    run = tmp_path / "run"
    (run / "best").mkdir(parents=True)
    (run / "run.json").write_text("{}")
    with pytest.raises(UserInputError, match="no best/"):
        resolve_arch(run)
    small = Arch(num_hidden_layers=2)
    small.save(run / "best" / "arch.json")
    assert resolve_arch(run) == small  # a search run: its best/
    row = {**small.to_dict(), "true_hidden_size": 128}  # a measurements row may carry the redundant field
    assert Arch.from_dict(row) == small
    with pytest.raises(UserInputError, match="model_type 'bert' is not 'mobilebert'"):
        Arch.from_dict({"model_type": "bert", "hidden_size": 768})
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="a directory with no arch.json or config.json"):
        resolve_arch(tmp_path / "empty")
    with pytest.raises(UserInputError, match="nor an existing file or directory"):
        resolve_arch(tmp_path / "nowhere")


@pytest.mark.parametrize("name", ["mobilebert", "mobilebert-tiny", "bert-base", "ib-bert-large"])
def test_the_config_json_written_without_transformers_loads_as_its_config(tmp_path, name: str) -> None:
    from transformers import AutoConfig

    from search_spaces.presets import resolve_arch

    arch = PRESETS[name].arch
    arch.save_hf_config(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    expected = arch.to_hf_config()
    assert type(loaded) is type(expected)
    unversioned = ("transformers_version", "_name_or_path")  # where and by which version it was written
    assert {k: v for k, v in loaded.to_dict().items() if k not in unversioned} == \
        {k: v for k, v in expected.to_dict().items() if k not in unversioned}
    assert resolve_arch(tmp_path) == arch
