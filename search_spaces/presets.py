"""Named architectures, each with the paper's published figures beside ours.

Source of the paper figures: Sun et al., "MobileBERT: a Compact Task-Agnostic BERT for
Resource-Limited Devices", ACL 2020 (arXiv 2004.02984), Table 1 and §4; the teacher's size is a
secondary source (the paper does not print it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nas_common.errors import UserInputError
from search_spaces.arch import Arch


@dataclass(frozen=True)
class Preset:
    name: str
    arch: Arch
    description: str
    paper_params: float | None  # as published, in parameters
    paper_flops_128: float | None  # as published, FLOPs at 128 tokens
    source: str
    gap_note: str  # why our exact count differs from the published one


MOBILEBERT = Arch()  # HF MobileBertConfig defaults are the official MobileBERT

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            name="bert-base",
            arch=Arch(
                num_hidden_layers=12, hidden_size=768, use_bottleneck=False, num_attention_heads=12,
                intermediate_size=3072, num_feedforward_networks=1, embedding_size=768,
                trigram_input=False, normalization_type="layer_norm", hidden_act="gelu",
            ),
            description="BERT_BASE written as a MobileBERT config: 12 L, 768 wide, 12 heads, FFN 3072",
            paper_params=109e6, paper_flops_128=22.5e9,
            source="MobileBERT paper Table 1 (BERT_BASE column)",
            gap_note="HF MobileBERT always adds an embedding_transformation Linear (0.59 M) and we count "
                     "the pooler; FLOPs add that Linear and element-wise ops",
        ),
        Preset(
            name="ib-bert-large",
            arch=Arch(
                intra_bottleneck_size=1024, intermediate_size=4096, num_feedforward_networks=1,
                normalization_type="layer_norm", hidden_act="gelu",
            ),
            description="IB-BERT_LARGE teacher: 24 L, inter-block 512, inverted bottleneck 1024, 4 heads, "
                        "FFN 4096, queries/keys through a shared 512→1024 bottleneck",
            paper_params=293e6, paper_flops_128=None,
            source="MobileBERT paper Table 1 (architecture); ~293 M is a secondary source",
            gap_note="HF MobileBERT cannot run this teacher with both attention flags off (shape error), "
                     "so ours uses the key/query-shared bottleneck, which adds a 512→1024 projection "
                     "per layer; value from the 512 stream",
        ),
        Preset(
            name="mobilebert",
            arch=MOBILEBERT,
            description="MobileBERT: 24 L, 512/128, 4 heads, 4 stacked FFNs of 512, shared Q/K "
                        "bottleneck, NoNorm, relu, 128-d trigram embedding",
            paper_params=25.3e6, paper_flops_128=5.7e9,
            source="MobileBERT paper Table 1",
            gap_note="the paper does not itemise its counts; MobileBertModel (with pooler) is 1.8 % smaller "
                     "and our FLOPs (matmuls + element-wise) 4.8 % lower",
        ),
        Preset(
            name="mobilebert-tiny",
            arch=MOBILEBERT.replace(num_feedforward_networks=2, key_query_shared_bottleneck=False,
                                    use_bottleneck_attention=True),
            description="MobileBERT_TINY: as MobileBERT with 2 stacked FFNs and Q, K, V from the bottleneck",
            paper_params=15.1e6, paper_flops_128=3.1e9,
            source="MobileBERT paper Table 1",
            gap_note="we count the pooler (0.26 M) and position/type embeddings at 512 wide",
        ),
        Preset(
            name="mobilebert-no-opt",
            arch=MOBILEBERT.replace(normalization_type="layer_norm", hidden_act="gelu"),
            description="MobileBERT without operational optimizations: LayerNorm and gelu",
            paper_params=25.3e6, paper_flops_128=5.7e9,
            source="MobileBERT paper Table 1 and §4.6.3 (w/o OPT)",
            gap_note="same as mobilebert",
        ),
    ]
}


def find_preset(name: str) -> Preset | None:
    """The preset of that name (case does not matter), or None."""
    return PRESETS.get(name) or PRESETS.get(name.strip().lower())


# Where an arch is found inside a directory, in this order: `nas export` / `nas distill` output (arch.json),
# a transformers model directory (`save_pretrained` writes config.json), a `nas search` run (best/arch.json).
ARCH_FILES = ("arch.json", "config.json", "best/arch.json")


def arch_file_in(directory: Path) -> Path:
    """The file that defines the arch of a model, export or run directory."""
    for name in ARCH_FILES:
        if (directory / name).is_file():
            return directory / name
    if (directory / "run.json").is_file():
        raise UserInputError(f"{directory}: this search run has no best/ (no trial fit its budget, or it has not "
                             "finished); pick a front point with `nas export`")
    raise UserInputError(f"{directory}: a directory with no arch.json or config.json; give a preset, an arch JSON, "
                         "a transformers config.json or a model directory")


def resolve_arch(name_or_path: str | Path) -> Arch:
    """THE arch resolver, used wherever an arch is accepted: a preset name (`nas arch list`); an arch JSON
    file; a transformers `config.json` (e.g. from `MobileBertConfig(...).save_pretrained(D)`); or a directory
    holding one: a model directory (`nas distill`, `nas teacher`, HF `save_pretrained`), an export
    (`nas export --to`) or a search run (its best/)."""
    text = str(name_or_path)
    if not text.strip():
        raise UserInputError("the architecture is empty: give a preset name (`nas arch list`), an arch JSON, a "
                             "transformers config.json or a model directory")
    preset = find_preset(text)
    if preset is not None:
        return preset.arch
    path = Path(text).expanduser()
    if path.is_dir():
        return Arch.load(arch_file_in(path))
    if path.exists() or path.suffix == ".json":
        return Arch.load(path)
    raise UserInputError(
        f"unknown architecture {text!r}: not a preset ({', '.join(PRESETS)}), nor an existing file or directory"
    )
