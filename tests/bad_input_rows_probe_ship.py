"""Rows of `tests/test_bad_input.py` (the held-out probe of 2026-12-08, group: shipping: `nas export --model`,
`nas evaluate`, `nas arch`, `nas accuracy fit-proxy`, `nas supernet extract / ensemble / score / quality / ship`):
see that file's docstring for what a row checks. Setups used only here are defined here."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bad_input_support import Case

# Four archs of the tiny supernet space (tests/supernet_helpers.py SPACE_TOML), of different sizes.
_ARCHS = [{"num_hidden_layers": layers, "hidden_size": 32, "intra_bottleneck_size": 16, "num_attention_heads": 2,
           "intermediate_size": width, "num_feedforward_networks": 1, "embedding_size": 16,
           "normalization_type": "layer_norm", "hidden_act": "gelu"}
          for layers, width in ((1, 16), (2, 16), (2, 32), (3, 32))]


def _supernet(directory: Path, seed: int = 0, weights: bool = False) -> Path:
    """A directory that reads as a supernet of the tiny space (supernet.json, space.toml, vocab.txt, weights/):
    with `weights`, untrained weights that load (what the old code read before it wrote into --out), else a
    placeholder where no row gets as far as the weights."""
    from tests.supernet_helpers import SPACE_TOML

    if weights:
        from nas.distill.vocab import resolve_vocab
        from nas.supernet import store
        from nas.supernet.elastic import ElasticMobileBert
        from search_spaces.space import SearchSpace

        (directory / "space.toml").parent.mkdir(parents=True)
        (directory / "space.toml").write_text(SPACE_TOML)
        elastic = ElasticMobileBert(SearchSpace.load(directory / "space.toml"))
        store.save(elastic, directory, SPACE_TOML, resolve_vocab(None), {"steps_done": 0, "options": {"seed": seed}})
        return directory
    (directory / "weights").mkdir(parents=True)
    (directory / "supernet.json").write_text(json.dumps({"format": 1, "steps_done": 3, "options": {"seed": seed}}))
    (directory / "space.toml").write_text(SPACE_TOML)
    (directory / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe supernet's words\n")
    (directory / "weights" / "config.json").write_text("{}\n")
    (directory / "weights" / "model.safetensors").write_bytes(b"the supernet's weights")
    return directory


def _fit_predictor(directory: Path) -> None:
    """The supernet's accuracy predictor, fitted (as `nas supernet score` stores it) on synthetic held-out losses
    that fall with the body size: what `nas supernet ship` packages (tests/test_shipped_predictor.py)."""
    import math

    from nas.accuracy import predictor as pred
    from nas.accuracy import supernet as sn
    from nas.accuracy.proxy import body_params
    from search_spaces.space import SearchSpace

    archs = pred.sample_archs(SearchSpace.load(directory / "space.toml"), 24, 0)
    evaluations = [(a, {"mlm": 8.0 - 0.5 * math.log10(body_params(a)) + i * 1e-4}) for i, a in enumerate(archs)]
    (directory / sn.PREDICTOR_DIR).mkdir()
    pred.fit(directory / sn.PREDICTOR_DIR, evaluations, sn.MEASURE, 0,
             {"supernet_digest": sn.supernet_digest(directory), "requested_samples": pred.SAMPLES,
              "eval": {"corpus": "held-out.txt", "batches": sn.EVAL_BATCHES, "batch_size": sn.EVAL_BATCH}})


def _truth(rows: list[dict]) -> str:
    return json.dumps({"note": "probe", "data": rows})


def _supernets(tmp: Path, weights: bool = False, predictor: bool = False) -> dict[str, str]:
    """Two supernets of one space (the first with weights that load, or a fitted predictor, when asked), a third
    of the same space (not a member), an ensemble of the first two, folders holding a user's vocab.txt and
    space.toml, an empty corpus, and ground-truth files."""
    a, b = _supernet(tmp / "sn", weights=weights), _supernet(tmp / "sn2", seed=1)
    other = _supernet(tmp / "other", seed=2)
    if predictor:
        _fit_predictor(a)
    (tmp / "ens").mkdir()
    (tmp / "ens" / "ensemble.json").write_text(json.dumps({"format": 1, "members": [str(a), str(b)]}))
    (tmp / "ens" / "space.toml").write_text((a / "space.toml").read_text())
    (tmp / "vocab").mkdir()
    (tmp / "vocab" / "vocab.txt").write_text("[PAD]\n[UNK]\nmy own words\n")
    (tmp / "space").mkdir()
    (tmp / "space" / "space.toml").write_text('name = "mine"\n')
    (tmp / "empty.txt").write_text("")
    (tmp / "truth.json").write_text(_truth([{"arch": arch, "loss": 3.0 + i / 10} for i, arch in enumerate(_ARCHS)]))
    (tmp / "negative.json").write_text(_truth([{"arch": arch, "loss": 3.0 - i * 2} for i, arch in enumerate(_ARCHS)]))
    (tmp / "equal.json").write_text(_truth([{"arch": arch, "loss": 3.0} for arch in _ARCHS]))
    return {"sn": str(a), "sn2": str(b), "other": str(other), "ens": str(tmp / "ens"), "vocab": str(tmp / "vocab"),
            "space": str(tmp / "space"), "empty": str(tmp / "empty.txt"), "truth": str(tmp / "truth.json"),
            "negative": str(tmp / "negative.json"), "equal": str(tmp / "equal.json")}


def _loadable(tmp: Path) -> dict[str, str]:
    return _supernets(tmp, weights=True)


def _fitted(tmp: Path) -> dict[str, str]:
    return _supernets(tmp, predictor=True)


def _supernet_with_eval_corpus(tmp: Path) -> dict[str, str]:
    """A supernet whose supernet.json names its held-out corpus (what `--eval-corpus` defaults to)."""
    from tests.distill_helpers import write_corpus

    values = _supernets(tmp, weights=True)
    meta = json.loads(Path(values["sn"], "supernet.json").read_text())
    meta["eval_corpus"] = str(write_corpus(tmp / "held-out.txt"))
    Path(values["sn"], "supernet.json").write_text(json.dumps(meta))
    return values


def _model(config_changes: dict | None = None, tokenizer_config: str | None = None):
    """A directory that reads as an SST-2 classifier (config.json, a weights file, vocab.txt: no row gets as far
    as its weights), its config changed by `config_changes`, with tokenizer_config.json `tokenizer_config`; a
    tiny SST-2 folder whose dev split is empty (0 bytes)."""
    def make(tmp: Path) -> dict[str, str]:
        from nas.distill.finetune import name_outputs
        from nas.distill.vocab import resolve_vocab
        from tests.deploy_helpers import write_sst2
        from tests.distill_helpers import STUDENT_ARCH

        model = tmp / "sst2"
        config = STUDENT_ARCH.to_hf_config(num_labels=2)
        name_outputs(config, "sst2")
        config.architectures = ["MobileBertForSequenceClassification"]
        config.save_pretrained(model)
        if config_changes:
            data = json.loads((model / "config.json").read_text())
            (model / "config.json").write_text(json.dumps({**data, **config_changes}))
        if tokenizer_config is not None:
            (model / "tokenizer_config.json").write_text(tokenizer_config)
        (model / "model.safetensors").write_bytes(b"weights")
        (model / "vocab.txt").write_bytes(resolve_vocab(None).read_bytes())
        glue = write_sst2(tmp / "glue")
        (glue / "SST-2" / "dev.tsv").write_text("")
        return {"model": str(model), "glue": str(glue)}

    return make


def _config_cut_short(tmp: Path) -> dict[str, str]:
    values = _model()(tmp)
    config = Path(values["model"], "config.json")
    config.write_text(config.read_text()[:100])
    return values


def _arch_files(tmp: Path) -> dict[str, str]:
    """A transformers config.json and an arch JSON whose redundant fields are numbers written as text."""
    from search_spaces.presets import PRESETS

    PRESETS["mobilebert-tiny"].arch.save_hf_config(tmp / "model")
    config = json.loads((tmp / "model" / "config.json").read_text())
    (tmp / "model" / "config.json").write_text(json.dumps({**config, "max_position_embeddings": "512"}))
    (tmp / "arch.json").write_text(json.dumps({"num_hidden_layers": 2, "true_hidden_size": "128"}))
    return {"model": str(tmp / "model"), "arch": str(tmp / "arch.json")}


def _truth_misspelt(tmp: Path) -> dict[str, str]:
    """A ground-truth file whose second student's arch misspells a field."""
    rows = [{"arch": arch, "loss": 3.0 + i / 10} for i, arch in enumerate(_ARCHS)]
    rows[1]["arch"] = {"num_hiden_layers": 2}
    (tmp / "truth.json").write_text(_truth(rows))
    return {"truth": str(tmp / "truth.json")}


_S = _supernets
_J = '{{"num_hidden_layers": 2}}'
_SCORE = ("--arch", _J, "--no-predictor")
_EXPORT = ("export", "--model", "{model}", "--to", "{tmp}/out", "--onnx")
_EVALUATE = ("evaluate", "--model", "{model}", "--task", "sst2", "--data-dir", "{glue}")

CASES: list[Case] = [
    # 1: a config field of the wrong type (transformers' strict check) or a tokenizer_config.json that is no JSON
    #    object was an internal error (exit 1)
    Case("probe_ship_export_config_field_as_text", _EXPORT, _model({"max_position_embeddings": "512"}), 2,
         "expected int, got str", ("model",)),
    Case("probe_ship_evaluate_tokenizer_config_not_an_object", _EVALUATE, _model(tokenizer_config="[128]"), 2,
         "not a tokenizer config (expected a JSON object", ("model",)),
    # 2: a config.json cut short was "not a readable model config (OSError)"; now it says the JSON is broken, where
    Case("probe_ship_export_config_cut_short", _EXPORT, _config_cut_short, 2, "not valid JSON", ("model",)),
    # 3: an empty dev split (0 bytes) was "header None lacks the sst2 columns"
    Case("probe_ship_evaluate_dev_split_empty", _EVALUATE, _model(), 2, "the file is empty", ("glue",)),
    # 4: an empty path (an unset shell variable) read as `.`: "--out . is a directory", "ground truth .: a
    #    directory", ". is not a supernet directory"; --eval-corpus "" read as left out (the supernet's own corpus
    #    scored silently); --shipped "" as "no such shipped predictor ''"
    # the message named the file but not the student: "truth.json: unknown field(s) num_hiden_layers"
    Case("probe_ship_fit_proxy_arch_misspelt_names_the_row", ("accuracy", "fit-proxy", "{truth}", "--out",
                                                              "{tmp}/fit.json"), _truth_misspelt, 2,
         "data[1].arch: unknown field(s) num_hiden_layers", ("truth",)),
    Case("probe_ship_fit_proxy_out_empty", ("accuracy", "fit-proxy", "{truth}", "--out", ""), _S, 2,
         "an empty name holds no output file", ("truth",)),
    Case("probe_ship_fit_proxy_truth_empty", ("accuracy", "fit-proxy", "", "--out", "{tmp}/fit.json"), None, 2,
         "an empty name holds no ground-truth file"),
    Case("probe_ship_quality_truth_empty", ("supernet", "quality", "{sn}", "--truth", "", "--no-predictor"), _S, 2,
         "an empty name holds no ground-truth file", ("sn",)),
    Case("probe_ship_quality_directory_empty", ("supernet", "quality", "", "--truth", "{truth}"), _S, 2,
         "an empty name holds no supernet directory"),
    Case("probe_ship_score_directory_empty", ("supernet", "score", "", *_SCORE), None, 2,
         "an empty name holds no supernet directory"),
    Case("probe_ship_ship_directory_empty", ("supernet", "ship", "", "--name", "x"), None, 2,
         "an empty name holds no supernet directory", env=(("NAS_SHIPPED_DIR", "{tmp}/shipped"),)),
    Case("probe_ship_score_eval_corpus_empty", ("supernet", "score", "{sn}", *_SCORE, "--eval-corpus", ""),
         _supernet_with_eval_corpus, 2, "--eval-corpus is empty"),
    Case("probe_ship_quality_shipped_empty", ("supernet", "quality", "--shipped", "", "--truth", "{truth}"), _S, 2,
         "--shipped is empty", env=(("NAS_SHIPPED_DIR", "{tmp}/shipped"),)),
    # 5: an empty --eval-corpus file was refused only after the supernet's weights were loaded, as "corpus holds
    #    no text" (which corpus?)
    Case("probe_ship_score_eval_corpus_holds_no_text", ("supernet", "score", "{sn}", *_SCORE, "--eval-corpus",
                                                        "{empty}"), _loadable, 2, "--eval-corpus", ("sn",)),
    # 6: `supernet ensemble --out` inside a member wrote the ensemble among the member's files; over another
    #    supernet (its ensemble.json then hid that supernet's weights) or a folder holding a space.toml it
    #    replaced that space.toml, without --overwrite
    Case("probe_ship_ensemble_out_inside_a_member", ("supernet", "ensemble", "{sn}", "{sn2}", "--out", "{sn}/ens"),
         _S, 2, "is inside the member supernet", ("sn",)),
    Case("probe_ship_ensemble_out_in_a_member_weights", ("supernet", "ensemble", "{sn}", "{sn2}", "--out",
                                                         "{sn2}/weights", "--overwrite"), _S, 2,
         "is inside the member supernet", ("sn2",)),
    Case("probe_ship_ensemble_out_another_supernet", ("supernet", "ensemble", "{sn}", "{sn2}", "--out", "{other}"),
         _S, 2, "is a supernet directory", ("other",)),
    Case("probe_ship_ensemble_out_holds_a_space", ("supernet", "ensemble", "{sn}", "{sn2}", "--out", "{space}"), _S,
         2, "already holds space.toml", ("space",)),
    # 7: `supernet extract --out` another supernet or an ensemble mixed a model into its files (and replaced a
    #    supernet's vocab.txt); a folder holding only a vocab.txt had it replaced without --overwrite
    Case("probe_ship_extract_out_another_supernet", ("supernet", "extract", "{sn}", "--arch", _J, "--out", "{sn2}"),
         _loadable, 2, "is a supernet directory", ("sn2",)),
    Case("probe_ship_extract_over_another_supernet", ("supernet", "extract", "{sn}", "--arch", _J, "--out", "{sn2}",
                                                      "--overwrite"), _loadable, 2, "is a supernet directory",
         ("sn2",)),
    Case("probe_ship_extract_out_an_ensemble", ("supernet", "extract", "{sn}", "--arch", _J, "--out", "{ens}",
                                                "--overwrite"), _loadable, 2, "is an ensemble of supernets",
         ("ens",)),
    Case("probe_ship_extract_out_holds_a_vocab", ("supernet", "extract", "{sn}", "--arch", _J, "--out", "{vocab}"),
         _loadable, 2, "already holds vocab.txt", ("vocab",)),
    # 8: `supernet quality` took a negative held-out loss (fit-proxy refuses it), and found equal losses only
    #    after scoring every arch (minutes on a real supernet)
    Case("probe_ship_quality_truth_negative_loss", ("supernet", "quality", "{sn}", "--truth", "{negative}",
                                                    "--no-predictor"), _supernet_with_eval_corpus, 2,
         "data[2].loss must be a held-out loss in nats between 0 and 100", ("sn",)),
    Case("probe_ship_quality_truth_equal_losses", ("supernet", "quality", "{sn}", "--truth", "{equal}",
                                                   "--no-predictor"), _supernet_with_eval_corpus, 2,
         "every student in the supernet's space has the same loss", ("sn",)),
    # 9: `supernet ship` into a folder that is (or lies in) the source supernet: with --overwrite, the supernet
    #    (weights and all) or its fitted predictor was deleted and replaced by the shipped entry
    Case("probe_ship_ship_entry_is_the_supernet", ("supernet", "ship", "{sn}", "--name", "sn", "--overwrite"),
         _fitted, 2,
         "overlaps the supernet directory", ("sn",), env=(("NAS_SHIPPED_DIR", "{tmp}"),)),
    Case("probe_ship_ship_entry_inside_the_supernet", ("supernet", "ship", "{sn}", "--name", "predictor",
                                                       "--overwrite"), _fitted, 2, "overlaps the supernet directory",
         ("sn",), env=(("NAS_SHIPPED_DIR", "{sn}"),)),
    # 10: a redundant field written as text: "max_position_embeddings '512' is not supported: this tool models
    #     BERT's max_position_embeddings of 512", "true_hidden_size '128' contradicts the attention width 128"
    Case("probe_ship_arch_show_positions_as_text", ("arch", "show", "{model}"), _arch_files, 2,
         "max_position_embeddings must be an integer, got '512'"),
    Case("probe_ship_arch_show_true_hidden_as_text", ("arch", "show", "{arch}"), _arch_files, 2,
         "true_hidden_size must be an integer, got '128'"),
]
