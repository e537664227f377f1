"""Rows of `tests/test_bad_input.py` (the held-out probe of 2026-12-08, group: training): see that file's docstring for
what a row checks. Setups used only here are defined here."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bad_input_support import Case


def _inputs(tmp: Path) -> dict[str, str]:
    """A corpus, a folder without .txt files, a binary file, a directory that reads as a teacher (config.json
    only: no row gets as far as its weights), one that reads as a supernet, and a run folder whose checkpoint.pt
    was cut short (a copy interrupted, a full disk)."""
    from tests.distill_helpers import write_corpus
    from tests.supernet_helpers import SPACE_TOML

    corpus = write_corpus(tmp / "corpus.txt")
    (tmp / "no_text").mkdir()
    (tmp / "no_text" / "notes.md").write_text("not a corpus\n")
    (tmp / "binary.bin").write_bytes(bytes(range(128, 256)) * 8)
    (tmp / "teacher").mkdir()
    (tmp / "teacher" / "config.json").write_text("{}\n")
    (tmp / "sn" / "weights").mkdir(parents=True)
    (tmp / "sn" / "supernet.json").write_text('{"format": 1}\n')
    (tmp / "sn" / "space.toml").write_text(SPACE_TOML)
    (tmp / "sn" / "weights" / "model.safetensors").write_bytes(b"the supernet's weights")
    (tmp / "run").mkdir()
    (tmp / "run" / "checkpoint.pt").write_bytes(b"PK\x03\x04 cut short")
    (tmp / "run" / "losses.csv").write_text("global_step,loss\n1,9.5\n")
    (tmp / "taken").write_text("user data\n")
    return {"corpus": str(corpus), "no_text": str(tmp / "no_text"), "binary": str(tmp / "binary.bin"),
            "teacher": str(tmp / "teacher"), "sn": str(tmp / "sn"), "run": str(tmp / "run"),
            "taken": str(tmp / "taken")}


def _classifier(tmp: Path) -> dict[str, str]:
    """An SST-2 classifier directory as `nas finetune` writes it (untrained: rows stop before scoring) and a tiny
    SST-2 folder."""
    from transformers import MobileBertForSequenceClassification

    from nas.distill.finetune import name_outputs
    from nas.distill.vocab import resolve_vocab
    from tests.deploy_helpers import write_sst2
    from tests.distill_helpers import STUDENT_ARCH

    classifier = MobileBertForSequenceClassification(STUDENT_ARCH.to_hf_config(num_labels=2))
    name_outputs(classifier.config, "sst2")
    classifier.save_pretrained(tmp / "sst2")
    (tmp / "sst2" / "vocab.txt").write_bytes(resolve_vocab(None).read_bytes())
    return {"sst2": str(tmp / "sst2"), "glue": str(write_sst2(tmp / "glue"))}


def _glue(train: str) -> object:
    """The training inputs, an encoder-like model folder and an SST-2 folder whose splits hold `train`."""
    def make(tmp: Path) -> dict[str, str]:
        values = _inputs(tmp)
        (tmp / "glue" / "SST-2").mkdir(parents=True)
        for split in ("train", "dev"):
            (tmp / "glue" / "SST-2" / f"{split}.tsv").write_text(train)
        (tmp / "model").mkdir()
        (tmp / "model" / "config.json").write_text(json.dumps({"model_type": "mobilebert"}))
        return {**values, "glue": str(tmp / "glue"), "model": str(tmp / "model")}

    return make


_I = _inputs
_TEACHER = ("teacher", "--arch", "mobilebert-tiny", "--steps", "1", "--batch-size", "2", "--seq-len", "16")
_TEACHER_AT = (*_TEACHER, "--corpus", "{corpus}")
_DISTILL = ("distill", "--student", "mobilebert-tiny", "--schedule", "none", "--steps-per-layer", "0", "--pd-steps",
            "1", "--batch-size", "2", "--seq-len", "16", "--corpus", "{corpus}")
_FINETUNE = ("finetune", "--model", "{model}", "--task", "sst2", "--data-dir", "{glue}")
_SUPERNET = ("supernet", "train", "--teacher", "{teacher}", "--corpus", "{corpus}", "--steps", "1", "--batch-size",
             "2", "--seq-len", "16", "--split", "none")
_EVALUATE = ("evaluate", "--model", "{sst2}", "--task", "sst2", "--data-dir", "{glue}")
_EXTRACT = ("supernet", "extract", "{sn}", "--arch", '{{"num_hidden_layers": 1}}')

CASES: list[Case] = [
    # 1: an empty value (`--out "$OUT"` with OUT unset) read as the option left out: an empty --out wrote the run
    #    into the current directory, an empty --corpus, --arch, --init-from, --data-dir or --space ran on the default
    Case("probe_training_teacher_out_empty", (*_TEACHER_AT, "--out", ""), _I, 2,
         "an empty name holds no output directory"),
    Case("probe_training_teacher_corpus_empty", (*_TEACHER, "--corpus", "", "--out", "{tmp}/t"), _I, 2,
         "--corpus is empty"),
    Case("probe_training_teacher_arch_empty", ("teacher", "--arch", "", *_TEACHER_AT[3:], "--out", "{tmp}/t"), _I, 2,
         "--arch is empty"),
    Case("probe_training_teacher_init_from_empty", ("teacher", "--init-from", "", *_TEACHER_AT[3:], "--out", "{tmp}/t"),
         _I, 2, "--init-from is empty"),
    Case("probe_training_teacher_eval_corpus_empty", (*_TEACHER_AT, "--eval-corpus", "", "--out", "{tmp}/t"), _I, 2,
         "--eval-corpus is empty"),
    Case("probe_training_teacher_vocab_empty", (*_TEACHER_AT, "--vocab", "", "--out", "{tmp}/t"), _I, 2,
         "--vocab is empty"),
    Case("probe_training_distill_out_empty", (*_DISTILL, "--out", ""), _I, 2,
         "an empty name holds no output directory"),
    Case("probe_training_distill_teacher_empty", (*_DISTILL, "--teacher", "", "--out", "{tmp}/s"), _I, 2,
         "--teacher is empty"),
    Case("probe_training_finetune_data_dir_empty", (*_FINETUNE[:-2], "--data-dir", "", "--out", "{tmp}/o"),
         _glue("sentence\tlabel\na film\t1\n"), 2, "--data-dir is empty"),
    Case("probe_training_finetune_out_empty", (*_FINETUNE, "--out", ""), _glue("sentence\tlabel\na film\t1\n"), 2,
         "an empty name holds no output directory"),
    Case("probe_training_finetune_model_empty", ("finetune", "--model", "", "--task", "sst2", "--out", "{tmp}/o"),
         None, 2, "an empty name holds no model directory"),
    Case("probe_training_evaluate_data_dir_empty", (*_EVALUATE[:-2], "--data-dir", ""), _classifier, 2,
         "--data-dir is empty"),
    Case("probe_training_evaluate_model_empty", ("evaluate", "--model", "", "--task", "sst2"), None, 2,
         "an empty name holds no model"),
    Case("probe_training_supernet_out_empty", (*_SUPERNET, "--out", ""), _I, 2,
         "an empty name holds no output directory"),
    Case("probe_training_supernet_corpus_empty", (*_SUPERNET[:4], "--corpus", "", *_SUPERNET[6:], "--out", "{tmp}/n"),
         _I, 2, "--corpus is empty"),
    Case("probe_training_supernet_space_empty", (*_SUPERNET, "--space", "", "--out", "{tmp}/n"), _I, 2,
         "--space is empty"),
    Case("probe_training_supernet_teacher_empty", ("supernet", "train", "--teacher", "", *_SUPERNET[4:], "--out",
                                                   "{tmp}/n"), _I, 2, "--teacher is empty"),
    Case("probe_training_extract_out_empty", (*_EXTRACT, "--out", ""), _I, 2, "an empty name holds no output directory",
         ("sn",)),
    Case("probe_training_ensemble_out_empty", ("supernet", "ensemble", "{sn}", "{sn}", "--out", ""), _I, 2,
         "an empty name holds no output directory"),
    # 2: `nas evaluate --seq-len` outside what the model takes was an internal error (exit 1) while scoring
    Case("probe_training_evaluate_seq_len_zero", (*_EVALUATE, "--seq-len", "0"), _classifier, 2,
         "--seq-len must be at least 8, got 0"),
    Case("probe_training_evaluate_seq_len_beyond_positions", (*_EVALUATE, "--seq-len", "100000"), _classifier, 2,
         "--seq-len 100000 is longer than the model's 512 positions"),
    # 3: `supernet extract --out` inside the supernet wrote the sub-network among the supernet's own files (with
    #    --overwrite into weights/: over its weights)
    Case("probe_training_extract_into_the_supernet", (*_EXTRACT, "--out", "{sn}"), _I, 2,
         "is inside the supernet directory", ("sn",)),
    Case("probe_training_extract_over_the_supernet_weights", (*_EXTRACT, "--out", "{sn}/weights", "--overwrite"), _I,
         2, "is inside the supernet directory", ("sn",)),
    # 4: --resume on a checkpoint cut short printed the run's plan (two lines) before the error
    Case("probe_training_teacher_resume_checkpoint_cut_short", (*_TEACHER_AT, "--out", "{run}", "--resume"), _I, 2,
         "is not a readable checkpoint", ("run",)),
    Case("probe_training_distill_resume_checkpoint_cut_short", (*_DISTILL, "--out", "{run}", "--resume"), _I, 2,
         "is not a readable checkpoint", ("run",)),
    # 5: refused already (one line, nothing written); kept here so that it stays so
    Case("probe_training_teacher_corpus_binary", (*_TEACHER, "--corpus", "{binary}", "--out", "{tmp}/t"), _I, 2,
         "is not UTF-8 text"),
    Case("probe_training_teacher_corpus_folder_without_txt", (*_TEACHER, "--corpus", "{no_text}", "--out", "{tmp}/t"),
         _I, 2, "holds no .txt files"),
    Case("probe_training_teacher_seed_negative", (*_TEACHER_AT, "--seed", "-1", "--out", "{tmp}/t"), _I, 2,
         "--seed must be ≥ 0, got -1"),
    Case("probe_training_distill_teacher_is_a_file", ("distill", "--student", "mobilebert-tiny", "--teacher",
                                                      "{taken}", "--corpus", "{corpus}", "--out", "{tmp}/s"), _I, 2,
         "holds no model", ("taken",)),
    Case("probe_training_finetune_train_split_header_only", (*_FINETUNE, "--out", "{tmp}/o"),
         _glue("sentence\tlabel\n"), 2, "only a header"),
    Case("probe_training_finetune_label_not_a_class", (*_FINETUNE, "--out", "{tmp}/o"),
         _glue("sentence\tlabel\na fine film\t7\n"), 2, "label '7' is not one of sst2's classes"),
    Case("probe_training_supernet_pd_fraction_above_one", (*_SUPERNET, "--pd-fraction", "1.5", "--out", "{tmp}/n"),
         _I, 2, "--pd-fraction"),
    Case("probe_training_supernet_pd_fraction_nan", (*_SUPERNET, "--pd-fraction", "nan", "--out", "{tmp}/n"),
         _I, 2, "--pd-fraction must be a share of the steps between 0 and 1, got nan"),
    Case("probe_training_supernet_rule_misspelt", (*_SUPERNET, "--rule", "sandwhich", "--out", "{tmp}/n"), _I, 2,
         "unknown sampling rule 'sandwhich'"),
    Case("probe_training_supernet_space_binary", (*_SUPERNET, "--space", "{binary}", "--out", "{tmp}/n"), _I, 2,
         "not valid TOML"),
]
