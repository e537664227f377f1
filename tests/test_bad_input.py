"""Every command survives a new user (issue 8): one table of bad inputs, each a row of
(argv, setup, expected exit code, a phrase of the expected message).

Each row runs `nas.cli.main` in-process and checks: the exit code; for exit 2, exactly one stderr line and
it starts with `error:` and holds the phrase; for exit 0, the phrase is in the output; never a "Traceback";
and every path named in `unchanged` is byte-identical afterwards (nothing already on disk is lost).

`argv` items may hold `{name}` placeholders, filled from the dict the row's setup returns (setups live in
`SETUPS`, keyed by name, each `f(tmp: Path) -> dict[str, str]`; `{tmp}` is always the row's tmp folder).

Rows are grouped by the helper who owns the fix; add yours to your list.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import (
    bad_input_rows_damaged,
    bad_input_rows_options,
    bad_input_rows_outputs,
    bad_input_rows_probe_latency,
    bad_input_rows_probe_search,
    bad_input_rows_probe_ship,
    bad_input_rows_probe_training,
)
from tests.bad_input_support import (
    REPO_ROOT,
    SETUPS,
    Case,
    Setup,
    arch_files,
    fake_run,
    hf_variant,
    read_only_place,
    run_cli,
    snapshot,
    space_file,
)


# ====================================================================== rows
# ---- reserved for the distill helper (nas/distill/**, nas/cli/distill.py): training commands
def _training_setup(tmp: Path) -> dict[str, str]:
    """A corpus, a finished student directory, a finished fine-tuning result, a regular file."""
    from tests.distill_helpers import write_corpus

    corpus = write_corpus(tmp / "corpus.txt")
    (tmp / "student").mkdir()
    (tmp / "student" / "config.json").write_text("{}\n")
    (tmp / "student" / "checkpoint.pt").write_bytes(b"old")
    (tmp / "sst2").mkdir()
    (tmp / "sst2" / "metrics.json").write_text("{}\n")
    (tmp / "taken").write_text("user data\n")
    return {"corpus": str(corpus), "student": str(tmp / "student"), "result": str(tmp / "sst2"),
            "file": str(tmp / "taken"), "under_file": str(tmp / "taken" / "out")}


_DISTILL = ("distill", "--student", "mobilebert-tiny", "--schedule", "none", "--corpus", "{corpus}")
_DISTILL_OUT = (*_DISTILL, "--out", "{tmp}/s")
_TEACHER = ("teacher", "--arch", "mobilebert-tiny", "--corpus", "{corpus}")
_FINETUNE = ("finetune", "--model", "{student}", "--task", "sst2", "--data-dir", "{tmp}")


def _glue_rows(rows: str, dev: str | None = None, raw: bytes = b"") -> Setup:
    """The training inputs and an SST-2 folder whose train split is `rows` (then the bytes `raw`; dev: `dev`,
    else the same rows)."""
    def make(tmp: Path) -> dict[str, str]:
        values = _training_setup(tmp)
        (tmp / "glue" / "SST-2").mkdir(parents=True)
        (tmp / "glue" / "SST-2" / "train.tsv").write_bytes(rows.encode() + raw)
        (tmp / "glue" / "SST-2" / "dev.tsv").write_text(dev if dev is not None else rows)
        return {**values, "glue": str(tmp / "glue")}

    return make


_SST2_OK = "sentence\tlabel\na good film\t1\na bad film\t0\n"


def _small_vocab_model(tmp: Path) -> dict[str, str]:
    """A model with a 100-token embedding table (the BERT vocabulary has 30 522) and a valid SST-2 folder."""
    from transformers import MobileBertForPreTraining

    from tests.distill_helpers import STUDENT_ARCH

    values = _glue_rows(_SST2_OK)(tmp)
    config = STUDENT_ARCH.to_hf_config()
    config.vocab_size = 100
    MobileBertForPreTraining(config).save_pretrained(tmp / "small-vocab")
    return {**values, "small": str(tmp / "small-vocab")}


def _editor_vocab(tmp: Path) -> dict[str, str]:
    """`_small_vocab_model` with the BERT vocabulary as a Windows editor saves it (byte-order mark, CRLF)."""
    from nas.distill.vocab import resolve_vocab

    values = _small_vocab_model(tmp)
    text = resolve_vocab(None).read_text(encoding="utf-8")
    vocab = Path(values["small"]) / "vocab.txt"
    vocab.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    return {**values, "vocab": str(vocab)}


# issue 33 class 7: data the model cannot learn is one line before any training
DATA_FIT_CASES: list[Case] = [
    Case("finetune-label-outside-the-classes", ("finetune", "--model", "{student}", "--task", "sst2", "--data-dir",
                                                "{glue}", "--out", "{tmp}/o"),
         _glue_rows("sentence\tlabel\na good film\t1\na strange film\t7\n"), 2, "not one of sst2's classes"),
    Case("finetune-empty-train-split", ("finetune", "--model", "{student}", "--task", "sst2", "--data-dir", "{glue}",
                                        "--out", "{tmp}/o"), _glue_rows("sentence\tlabel\n", _SST2_OK), 2,
         "the train split is empty"),
    Case("probe-finetune-header-without-sentence", ("finetune", "--model", "{student}", "--task", "sst2", "--data-dir",
                                                    "{glue}", "--out", "{tmp}/o"),
         _glue_rows("text\tlabel\na good film\t1\n"), 2, "lacks the sst2 columns sentence, label"),
    Case("finetune-vocabulary-beyond-the-model", ("finetune", "--model", "{small}", "--task", "sst2", "--data-dir",
                                                  "{glue}", "--out", "{tmp}/o"), _small_vocab_model, 2,
         "only 100 embeddings"),
]
_T = _training_setup


def _bad_recipe(tmp: Path) -> dict[str, str]:
    """The training inputs and a recipe file that names the teacher (an input, not a recipe option)."""
    (tmp / "recipe.toml").write_text('steps = 10\nteacher = "minilm"\n')
    return {**_training_setup(tmp), "bad_recipe": str(tmp / "recipe.toml")}


def _split_supernet_setup(tmp: Path) -> dict[str, str]:
    """The training inputs and a directory that reads as a split supernet (nas/supernet/split.py)."""
    (tmp / "split").mkdir()
    (tmp / "split" / "supernet.json").write_text('{"format": 1, "split": {"dimension": "intra_bottleneck_size", '
                                                 '"parts": {}}}\n')
    return {**_training_setup(tmp), "split": str(tmp / "split")}



def _held_part_setup(tmp: Path) -> dict[str, str]:
    """The training inputs and a split supernet directory in which part b64 has been started."""
    (tmp / "held" / "parts" / "b64").mkdir(parents=True)
    (tmp / "held" / "parts" / "b64" / "checkpoint.pt").write_bytes(b"another process's part")
    (tmp / "unsplit" / "weights").mkdir(parents=True)
    (tmp / "unsplit" / "supernet.json").write_text("{}\n")
    return {**_training_setup(tmp), "held": str(tmp / "held"), "unsplit": str(tmp / "unsplit")}

def _ensemble_setup(tmp: Path) -> dict[str, str]:
    """Directories that read as supernets (two of one space, one of another), a plain folder, an ensemble and an
    ensemble whose member is gone (nas/supernet/ensemble.py reads only supernet.json and space.toml)."""
    from tests.supernet_helpers import SPACE_TOML

    for name, space in (("a", SPACE_TOML), ("b", SPACE_TOML), ("c", SPACE_TOML.replace("[1, 2, 3]", "[1, 2]"))):
        (tmp / name).mkdir()
        (tmp / name / "supernet.json").write_text('{"format": 1}\n')
        (tmp / name / "space.toml").write_text(space)
    (tmp / "plain").mkdir()
    for name, members in (("ens", ["a", "b"]), ("broken", ["a", "gone"])):
        (tmp / name).mkdir()
        (tmp / name / "space.toml").write_text(SPACE_TOML)
        (tmp / name / "ensemble.json").write_text(json.dumps({"format": 1, "members": [str(tmp / m) for m in members]}))
    return {k: str(tmp / k) for k in ("a", "b", "c", "plain", "ens", "broken")}


_ENSEMBLE = ("supernet", "ensemble")
_E = _ensemble_setup


def _quality_setup(tmp: Path) -> dict[str, str]:
    """The ensemble setup's supernets, a truth file of one row, one without rows, and supernet `a` holding a
    quality record already (`nas supernet quality`)."""
    paths = _ensemble_setup(tmp)
    row = {"arch": {"num_hidden_layers": 1, "hidden_size": 32}, "loss": 3.0}
    (tmp / "truth.json").write_text(json.dumps({"note": "one row", "data": [row]}))
    (tmp / "rowless.json").write_text(json.dumps({"note": "no rows", "archs": 16}))
    (tmp / "a" / "predictor").mkdir()
    (tmp / "a" / "predictor" / "quality.json").write_text('{"text": "measured before"}\n')
    return {**paths, "truth": str(tmp / "truth.json"), "rowless": str(tmp / "rowless.json")}


_QUALITY = ("supernet", "quality")


def _truth_archs_many(tmp: Path) -> dict[str, str]:
    """A truth file whose planned count is not a number."""
    row = {"arch": {"num_hidden_layers": 2, "hidden_size": 384}, "loss": 3.0}
    (tmp / "t.json").write_text(json.dumps({"archs": "many", "data": [row, row, row]}))
    return {}


TRAINING_CASES: list[Case] = [
    # item 6: non-positive ranges of every training option
    Case("finetune-epochs-negative", (*_FINETUNE, "--out", "{tmp}/o", "--epochs", "-1"), _T, 2, "--epochs must be > 0"),
    Case("finetune-lr-zero", (*_FINETUNE, "--out", "{tmp}/o", "--lr", "0"), _T, 2, "--lr must be > 0"),
    Case("finetune-batch-zero", (*_FINETUNE, "--out", "{tmp}/o", "--batch-size", "0"), _T, 2, "--batch-size"),
    Case("finetune-max-train-zero", (*_FINETUNE, "--out", "{tmp}/o", "--max-train-examples", "0"), _T, 2,
         "--max-train-examples"),
    Case("finetune-seq-len-huge", (*_FINETUNE, "--out", "{tmp}/o", "--seq-len", "100000"), _T, 2,
         "max_position_embeddings"),
    Case("distill-batch-zero", (*_DISTILL_OUT, "--batch-size", "0"), _T, 2, "--batch-size must be > 0"),
    Case("distill-micro-batch-zero", (*_DISTILL_OUT, "--micro-batch-size", "0"), _T, 2, "--micro-batch-size"),
    Case("distill-lr-nan", (*_DISTILL_OUT, "--lr", "nan"), _T, 2, "--lr must be > 0"),
    Case("distill-lr-inf", (*_DISTILL_OUT, "--lr", "inf"), _T, 2, "--lr must be > 0 and finite, got inf"),
    Case("distill-warmup-negative", (*_DISTILL_OUT, "--warmup", "-1"), _T, 2, "--warmup must be ≥ 0"),
    Case("distill-steps-per-layer-negative", (*_DISTILL_OUT, "--steps-per-layer", "-1"), _T, 2,
         "--steps-per-layer must be ≥ 0"),
    Case("distill-nothing-to-train", (*_DISTILL_OUT, "--steps-per-layer", "0", "--pd-steps", "0"), _T, 2,
         "nothing to train"),
    Case("distill-max-predictions-zero", (*_DISTILL_OUT, "--max-predictions", "0"), _T, 2, "--max-predictions"),
    Case("distill-layer-scale-zero", (*_DISTILL_OUT, "--layer-loss-scale", "0"), _T, 2, "--layer-loss-scale"),
    Case("teacher-steps-zero", (*_TEACHER, "--out", "{tmp}/t", "--steps", "0"), _T, 2, "--steps must be > 0"),
    Case("teacher-checkpoint-negative", (*_TEACHER, "--out", "{tmp}/t", "--checkpoint-every", "-5"), _T, 2,
         "--checkpoint-every"),
    # item 5: longer than the model's positions
    Case("distill-seq-len-huge", (*_DISTILL_OUT, "--seq-len", "100000"), _T, 2, "512 positions"),
    Case("teacher-seq-len-huge", (*_TEACHER, "--out", "{tmp}/t", "--seq-len", "513"), _T, 2, "512 positions"),
    Case("distill-seq-len-tiny", (*_DISTILL_OUT, "--seq-len", "4"), _T, 2, "at least 8"),
    # item 8: an existing result is not overwritten without --resume / --overwrite
    Case("distill-out-existing-student", (*_DISTILL, "--out", "{student}"), _T, 2, "--overwrite",
         ("student",)),
    Case("teacher-out-existing-model", (*_TEACHER, "--out", "{student}"), _T, 2, "--overwrite", ("student",)),
    Case("finetune-out-existing-result", (*_FINETUNE, "--out", "{result}"), _T, 2, "--overwrite", ("result",)),
    Case("distill-resume-and-overwrite", (*_DISTILL, "--out", "{student}", "--resume", "--overwrite"), _T, 2,
         "contradict", ("student",)),
    Case("distill-resume-without-checkpoint", (*_DISTILL_OUT, "--resume"), _T, 2, "no checkpoint"),
    # item 9: --out a regular file, under one, read-only; checked before training
    Case("distill-out-is-a-file", (*_DISTILL, "--out", "{file}"), _T, 2, "is a file", ("file",)),
    Case("distill-out-under-a-file", (*_DISTILL, "--out", "{under_file}"), _T, 2, "is a file", ("file",)),
    Case("distill-out-read-only", (*_DISTILL, "--out", "/proc/nas-bad-input-test/out"), _T, 2, "not writable"),
    Case("teacher-out-is-a-file", (*_TEACHER, "--out", "{file}"), _T, 2, "is a file", ("file",)),
    Case("finetune-out-is-a-file", (*_FINETUNE, "--out", "{file}"), _T, 2, "is a file", ("file",)),
    Case("finetune-out-read-only", (*_FINETUNE, "--out", "/proc/nas-bad-input-test/out"), _T, 2, "not writable"),
    # outputs that would land on an input
    Case("distill-out-is-the-teacher", ("distill", "--student", "mobilebert-tiny", "--schedule", "none",
                                         "--teacher", "{student}", "--corpus", "{corpus}", "--out", "{student}",
                                         "--overwrite"), _T, 2, "would overwrite the --teacher", ("student",)),
    Case("finetune-out-is-the-model", (*_FINETUNE, "--out", "{student}", "--overwrite"), _T, 2,
         "would overwrite the --model", ("student",)),
    # item 14 (issue 14 item 4): the torch device has its own name
    Case("distill-torch-device-unknown", (*_DISTILL_OUT, "--torch-device", "tpu"), _T, 2, "cpu or cuda"),
    # issue 14 item 4: the old names are refused with the new one, not aliased (one option, one meaning)
    Case("teacher-device-renamed", (*_TEACHER, "--out", "{tmp}/t", "--device", "cuda"), _T, 2,
         "give the torch device as --torch-device"),
    Case("distill-device-renamed", (*_DISTILL_OUT, "--device", "cpu"), _T, 2,
         "give the torch device as --torch-device"),
    Case("finetune-device-renamed", (*_FINETUNE, "--out", "{tmp}/o", "--device", "cpu"), _T, 2,
         "give the torch device as --torch-device"),
    Case("distill-strategy-renamed", (*_DISTILL_OUT, "--strategy", "pkt"), _T, 2,
         "give the distillation schedule as --schedule"),
    Case("supernet-strategy-renamed", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}", "--out",
                                       "{tmp}/n", "--strategy", "jkt"), _T, 2,
         "give the distillation schedule as --schedule"),
    Case("supernet-init-from-not-a-supernet", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                               "--out", "{tmp}/n", "--init-from", "{student}"), _T, 2,
         "is not a supernet directory", ("student",)),
    Case("supernet-init-from-is-out", ("supernet", "train", "--teacher", "minilm", "--corpus", "{corpus}",
                                       "--out", "{student}", "--init-from", "{student}", "--overwrite"), _T, 2,
         "would overwrite the --init-from", ("student",)),
    Case("supernet-head-layout-unknown", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                          "--out", "{tmp}/n", "--head-layout", "interleaved"), _T, 2,
         "--head-layout must be one of blocked, prefix", ("student",)),
    Case("probe-supernet-batch-beyond-memory", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                                "--out", "{tmp}/n", "--batch-size", "100000000"), _T, 2,
         "the global batch's token tensors alone", ("student",)),
    Case("probe-distill-batch-beyond-memory", (*_DISTILL_OUT, "--batch-size", "100000000"), _T, 2,
         "the global batch's token tensors alone"),
    Case("supernet-split-unknown", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                    "--out", "{tmp}/n", "--split", "heads"), _T, 2,
         "--split must be one of auto, none, bottleneck", ("student",)),
    Case("supernet-parts-unknown", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                    "--out", "{tmp}/n", "--split", "bottleneck", "--parts", "b999"), _T, 2,
         "--parts: no part b999 in this space", ("student",)),
    Case("supernet-parts-unsplit", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                    "--out", "{tmp}/n", "--split", "none", "--parts", "b64"), _T, 2,
         "--parts needs a split supernet", ("student",)),
    Case("supernet-workers-with-parts", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                         "--out", "{tmp}/n", "--split", "bottleneck", "--parts", "b64", "--workers",
                                         "2"), _T, 2, "--workers and --parts: choose one", ("student",)),
    Case("supernet-workers-unsplit", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                      "--out", "{tmp}/n", "--split", "none", "--workers", "2"), _T, 2,
         "--workers trains a split supernet's parts at once", ("student",)),
    Case("supernet-parts-own-part-held", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                          "--out", "{held}", "--split", "bottleneck", "--parts", "b64"),
         _held_part_setup, 2, "already holds part b64; pass --resume", ("held",)),
    Case("supernet-parts-beside-an-unsplit-supernet", ("supernet", "train", "--teacher", "{student}", "--corpus",
                                                       "{corpus}", "--out", "{unsplit}", "--split", "bottleneck",
                                                       "--parts", "b64", "--overwrite"),
         _held_part_setup, 2, "already holds a supernet with one set of weights", ("unsplit",)),
    Case("supernet-init-from-a-split-supernet", ("supernet", "train", "--teacher", "minilm", "--corpus", "{corpus}",
                                                 "--out", "{tmp}/n", "--init-from", "{split}"),
         _split_supernet_setup, 2, "a split supernet; give a supernet with one set of weights", ("split",)),
    Case("supernet-recipe-unknown", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                     "--out", "{tmp}/n", "--recipe", "minilm-385"), _T, 2,
         "--recipe minilm-385: no such recipe; choose one of minilm-384", ("student",)),
    Case("supernet-recipe-not-an-option", ("supernet", "train", "--teacher", "{student}", "--corpus", "{corpus}",
                                           "--out", "{tmp}/n", "--recipe", "{bad_recipe}"), _bad_recipe, 2,
         "'teacher' is not a recipe option", ("student",)),
    Case("ensemble-one-member", (*_ENSEMBLE, "{a}", "--out", "{tmp}/e"), _E, 2, "at least two different"),
    Case("ensemble-same-member-twice", (*_ENSEMBLE, "{a}", "{a}", "--out", "{tmp}/e"), _E, 2,
         "at least two different"),
    Case("ensemble-member-not-a-supernet", (*_ENSEMBLE, "{a}", "{plain}", "--out", "{tmp}/e"), _E, 2,
         "is not a supernet directory"),
    Case("ensemble-spaces-differ", (*_ENSEMBLE, "{a}", "{c}", "--out", "{tmp}/e"), _E, 2, "another search space"),
    Case("ensemble-of-an-ensemble", (*_ENSEMBLE, "{ens}", "{a}", "--out", "{tmp}/e"), _E, 2,
         "is an ensemble itself"),
    Case("ensemble-out-exists", (*_ENSEMBLE, "{a}", "{b}", "--out", "{ens}"), _E, 2, "already holds ensemble.json",
         ("ens",)),
    Case("ensemble-out-is-a-member", (*_ENSEMBLE, "{a}", "{b}", "--out", "{a}", "--overwrite"), _E, 2,
         "is one of the members", ("a",)),
    Case("extract-from-an-ensemble", ("supernet", "extract", "{ens}", "--arch", '{{"num_hidden_layers": 1}}', "--out",
                                      "{tmp}/x"), _E, 2, "is an ensemble of supernets", ("ens",)),
    Case("score-arch-of-another-width", ("supernet", "score", "{a}", "--arch", "mobilebert-tiny", "--no-predictor"),
         _E, 2, "is not the supernet's"),
    Case("score-arch-choice-not-in-space", ("supernet", "score", "{ens}", "--arch", '{{"num_hidden_layers": 9}}',
                                            "--no-predictor"), _E, 2,
         "not a choice of the supernet's space (choices: 1, 2, 3)"),
    Case("quality-supernet-missing", (*_QUALITY, "{tmp}/gone", "--truth", "{truth}"), _quality_setup, 2,
         "is not a supernet directory"),
    Case("quality-truth-without-rows", (*_QUALITY, "{b}", "--truth", "{rowless}"), _quality_setup, 2,
         'needs "data", a list of'),
    Case("quality-record-exists", (*_QUALITY, "{a}", "--truth", "{truth}"), _quality_setup, 2,
         "already exists; pass --overwrite", ("a",)),
    Case("quality-truth-archs-not-a-count", (*_QUALITY, "--shipped", "proof-seed0", "--truth", "{tmp}/t.json",
                                             "--overwrite"), _truth_archs_many, 2,
         '"archs" (how many students were planned) must be a whole number (got \'many\')'),
    Case("quality-supernet-and-shipped", (*_QUALITY, "{b}", "--shipped", "proof-seed0", "--truth", "{truth}"),
         _quality_setup, 2, "give a supernet DIRECTORY or --shipped NAME (one of them)", ("b",)),
    Case("quality-neither-supernet-nor-shipped", (*_QUALITY, "--truth", "{truth}"), _quality_setup, 2,
         "give a supernet DIRECTORY or --shipped NAME (one of them)"),
    Case("quality-shipped-unknown", (*_QUALITY, "--shipped", "nope", "--truth", "{truth}"), _quality_setup, 2,
         "--shipped nope: no such shipped predictor"),
    Case("search-ensemble-member-gone", ("search", "--device", "pixel4", "--budget", "62ms", "--estimator",
                                         "supernet", "--supernet", "{broken}", "--out", "{tmp}/run"), _E, 2,
         "not a supernet directory any more", ("broken",)),
    Case("distill-eval-corpus-missing", (*_DISTILL_OUT, "--eval-corpus", "{tmp}/nope.txt", "--pd-steps", "1",
                                          "--steps-per-layer", "0", "--batch-size", "2", "--seq-len", "16"),
         _T, 2, "does not exist"),
    Case("probe-distill-eval-corpus-empty", (*_DISTILL_OUT, "--eval-corpus", "{empty}", "--pd-steps", "1",
                                             "--steps-per-layer", "0", "--batch-size", "2", "--seq-len", "16"),
         lambda t: {**_T(t), "empty": str((t / "empty.txt").write_text("\n= Heading =\n") and t / "empty.txt")}, 2,
         "--eval-corpus"),
]

# ---- reserved for the latency helper (latency_models/**, device_profiles/**, nas/cli/latency.py, nas/export/)
def _latency_files(tmp: Path) -> dict[str, str]:
    """A profile whose [cost] is invalid, a measurements file, a per-layer arch, a regular file."""
    import re

    pixel4 = (REPO_ROOT / "device_profiles" / "pixel4.toml").read_text()
    (tmp / "bad-cost.toml").write_text(re.sub(r"(?m)^matmul_eff = .*$", "matmul_eff = -0.66", pixel4))
    (tmp / "absurd-point.toml").write_text(pixel4.replace("latency_ms = 342.0", "latency_ms = 1e308", 1))
    (tmp / "m.jsonl").write_text('{"latency_ms": 62.0}\n{"num_hidden_layers": 12, "latency_ms": 31.0}\n')
    (tmp / "bad-row.jsonl").write_text('{"latency_ms": 62.0}\n{"latency_ms": 60, "hidden_size": "wide"}\n')
    (tmp / "per-layer.json").write_text(json.dumps({"num_hidden_layers": 2, "intra_bottleneck_size": [128, 64]}))
    (tmp / "taken").write_text("user data\n")
    return {"bad_cost": str(tmp / "bad-cost.toml"), "absurd_point": str(tmp / "absurd-point.toml"),
            "m": str(tmp / "m.jsonl"), "bad_row": str(tmp / "bad-row.jsonl"),
            "per_layer": str(tmp / "per-layer.json"), "file": str(tmp / "taken"),
            "under_file": str(tmp / "taken" / "x")}


_L = _latency_files
_MEASURE = ("measure", "--arch", "mobilebert-tiny")
_CALIBRATE = ("calibrate", "--measurements", "{m}", "--from", "pixel4", "--name", "mine")
LATENCY_CASES: list[Case] = [
    # issue 8 item 3: a local backend times this machine, not the device
    Case("measure-pixel4-torch", (*_MEASURE, "--device", "pixel4", "--out", "{tmp}/m.csv"), None, 2,
         "use --backend rpc"),
    Case("measure-pixel4-tvm", (*_MEASURE, "--device", "pixel4", "--backend", "tvm", "--out", "{tmp}/m.csv"), None,
         2, "times this machine, not pixel4"),
    Case("measure-rpc-without-address", (*_MEASURE, "--device", "pixel4", "--backend", "rpc", "--out",
                                         "{tmp}/m.csv"), None, 2, "needs --rpc HOST:PORT"),
    Case("measure-rpc-bad-address", (*_MEASURE, "--device", "pixel4", "--backend", "rpc", "--rpc", "phone",
                                     "--out", "{tmp}/m.csv"), None, 2, "--rpc must be HOST:PORT"),
    Case("measure-rpc-unreachable", (*_MEASURE, "--device", "pixel4", "--backend", "rpc", "--rpc", "127.0.0.1:9",
                                     "--out", "{tmp}/m.csv"), None, 2, "cannot reach the TVM RPC server"),
    Case("measure-unknown-backend", (*_MEASURE, "--device", "host", "--backend", "tpu", "--out", "{tmp}/m.csv"),
         None, 2, "unknown backend 'tpu'"),
    Case("measure-thread-clock-two-threads", (*_MEASURE, "--device", "host", "--threads", "2", "--clock", "thread",
                                              "--out", "{tmp}/m.csv"), None, 2, "--clock must be"),
    Case("measure-per-layer-arch", ("measure", "--arch", "{per_layer}", "--device", "host", "--out", "{tmp}/m.csv"),
         _L, 2, "per-layer"),
    # item 4: an invalid [cost] value is refused naming the file and the key, never a silent fallback
    Case("latency-profile-invalid-cost", ("latency", "--profile", "{bad_cost}", "--arch", "mobilebert"), _L, 2,
         "bad-cost.toml [cost]: key 'matmul_eff' must be positive"),
    Case("latency-profile-absurd-calibration-point", ("latency", "--profile", "{absurd_point}", "--arch",
                                                      "mobilebert"), _L, 2,
         "[[calibration]] #1: latency_ms 1e+308 is more than a day"),  # printed an interval up to 1e191 ms
    Case("calibrate-from-invalid-cost", (*_CALIBRATE[:4], "{bad_cost}", *_CALIBRATE[5:], "--out", "{tmp}/p.toml"),
         _L, 2, "key 'matmul_eff'"),
    Case("latency-device-and-profile", ("latency", "--device", "pixel4", "--profile", "{bad_cost}", "--arch",
                                        "mobilebert"), _L, 2, "not both"),
    Case("latency-unknown-device", ("latency", "--device", "pixel5", "--arch", "mobilebert"), None, 2,
         "unknown device 'pixel5'"),
    Case("latency-profile-missing", ("latency", "--profile", "{tmp}/none.toml", "--arch", "mobilebert"), None, 2,
         "no such profile file"),
    # item 5: sequence longer than the position table
    Case("latency-seq-len-100000", ("latency", "--arch", "mobilebert", "--seq-len", "100000"), None, 2,
         "max_position_embeddings"),
    Case("measure-seq-len-100000", (*_MEASURE, "--seq-len", "100000", "--out", "{tmp}/m.csv"), None, 2,
         "max_position_embeddings"),
    # item 9: output paths, checked before any work; nothing on disk changed
    Case("measure-out-is-a-directory", (*_MEASURE, "--out", "{tmp}"), None, 2, "is a directory"),
    Case("measure-out-under-a-file", (*_MEASURE, "--out", "{under_file}"), _L, 2, "nothing can be written under it",
         ("file",)),
    Case("measure-out-read-only", (*_MEASURE, "--out", "{ro}"), "read_only_place", 2, "not writable"),
    Case("measure-out-wrong-suffix", (*_MEASURE, "--out", "{tmp}/m.txt"), None, 2, "must end in .csv or .jsonl"),
    Case("calibrate-out-under-a-file", (*_CALIBRATE, "--out", "{under_file}"), _L, 2,
         "nothing can be written under it", ("file",)),
    Case("calibrate-out-read-only", (*_CALIBRATE, "--out", "{ro}"), lambda t: {**_L(t), **read_only_place(t)}, 2,
         "not writable"),
    Case("calibrate-out-is-a-directory", (*_CALIBRATE, "--out", "{tmp}"), _L, 2, "is a directory"),
    Case("calibrate-out-is-its-input", (*_CALIBRATE, "--out", "{m}"), _L, 2, "also an input", ("m",)),
    Case("calibrate-measurements-missing", ("calibrate", "--measurements", "{tmp}/none.csv", "--name", "x", "--out",
                                            "{tmp}/p.toml"), None, 2, "no such measurements file"),
    Case("validate-bad-row", ("validate", "--measurements", "{bad_row}"), _L, 2, "line 2"),
    Case("validate-plot-under-a-file", ("validate", "--measurements", "{m}", "--plot", "{under_file}"), _L, 2,
         "nothing can be written under it", ("file",)),
    Case("probe-validate-plot-exists", ("validate", "--measurements", "{m}", "--plot", "{file}"), _L, 2,
         "already exists; pass --overwrite", ("file",)),
    # item 12: a transformers config (or its directory) is an arch
    Case("latency-hf-model-dir", ("latency", "--arch", "{dir}", "--device", "pixel4"), "hf_model_dir", 0, "ms"),
    Case("latency-hf-config-json", ("latency", "--arch", "{config}", "--json"), "hf_model_dir", 0, "latency_ms"),
    Case("measure-hf-model-dir", ("measure", "--arch", "{dir}", "--device", "host", "--repeat", "1", "--seq-len", "16",
                                  "--out", "{tmp}/m.jsonl"), "hf_model_dir", 0, "ms (torch"),
    Case("measure-profile-and-device", (*_MEASURE, "--device", "host", "--profile", "{bad_cost}", "--out",
                                        "{tmp}/m.csv"), _L, 2, "not both"),
    # issue 12: measuring lists, suggested sets, honest fits, intervals
    Case("measure-no-arch", ("measure", "--device", "host", "--out", "{tmp}/m.csv"), None, 2, "give --arch NAME"),
    Case("measure-archs-missing", ("measure", "--archs", "{tmp}/none.jsonl", "--out", "{tmp}/m.csv"), None, 2,
         "none.jsonl: no such file"),
    Case("measure-archs-bad-json", ("measure", "--archs", "{archs}", "--out", "{tmp}/m.csv"),
         lambda t: {"archs": str((t / "a.jsonl").write_text('{"num_hidden_layers": 2,\n') and t / "a.jsonl")}, 2,
         "a.jsonl: line 1: not valid json"),
    Case("measure-archs-empty", ("measure", "--archs", "{archs}", "--out", "{tmp}/m.csv"),
         lambda t: {"archs": str((t / "a.jsonl").write_text("# nothing\n") and t / "a.jsonl")}, 2,
         "no architecture in the file"),
    Case("measure-max-spread-zero", (*_MEASURE, "--device", "host", "--max-spread", "0", "--out", "{tmp}/m.csv"),
         None, 2, "--max-spread must be positive"),
    Case("probe-measure-max-spread-nan", (*_MEASURE, "--device", "host", "--max-spread", "nan", "--out",
                                          "{tmp}/m.csv"), None, 2, "--max-spread must be positive"),
    Case("probe-measure-rpc-without-rpc-backend", (*_MEASURE, "--device", "host", "--rpc", "10.0.0.1:9090", "--out",
                                                   "{tmp}/m.csv"), None, 2, "--rpc needs --backend rpc"),
    Case("measure-unknown-statistic", (*_MEASURE, "--device", "host", "--statistic", "mean", "--out",
                                       "{tmp}/m.csv"), None, 2, "--statistic must be one of median, min"),
    Case("calibrate-needs-measurements", ("calibrate", "--from", "pixel4", "--out", "{tmp}/p.toml"), None, 2,
         "give --measurements FILE and --name NAME"),
    Case("calibrate-suggest-zero", ("calibrate", "--suggest", "0", "--out", "{tmp}/a.jsonl"), None, 2, "--suggest"),
    Case("calibrate-suggest-toml-out", ("calibrate", "--suggest", "5", "--from", "pixel4", "--out", "{tmp}/a.toml"),
         None, 2, "a .jsonl file of archs"),
    Case("calibrate-suggest-and-measurements", ("calibrate", "--suggest", "5", "--measurements", "{m}", "--from",
                                                "pixel4", "--out", "{tmp}/a.jsonl"), _L, 2, "takes no --measurements"),
    Case("calibrate-suggest-bad-design", ("calibrate", "--suggest", "5", "--design", "A", "--from", "pixel4", "--out",
                                          "{tmp}/a.jsonl"), None, 2, "--design must be I or D"),
    Case("calibrate-suggest-unknown-space", ("calibrate", "--suggest", "5", "--space", "tiny-space", "--from", "pixel4",
                                             "--out", "{tmp}/a.jsonl"), None, 2, "unknown search space 'tiny-space'"),
    Case("calibrate-negative-spread", ("calibrate", "--measurements", "{m}", "--from", "pixel4", "--name", "x", "--out",
                                       "{tmp}/p.toml"),
         lambda t: {"m": str((t / "m.jsonl").write_text('{"latency_ms": 62, "spread": -0.1}\n') and t / "m.jsonl")},
         2, "line 1: spread must be a number >= 0"),
    Case("calibrate-absurd-latency", ("calibrate", "--measurements", "{m}", "--from", "host", "--name", "x", "--out",
                                      "{tmp}/p.toml"),  # the log-space fit overflowed: an internal error
         lambda t: {"m": str((t / "m.jsonl").write_text('{"arch": "mobilebert-tiny", "latency_ms": 1e308}\n')
                             and t / "m.jsonl")},
         2, "line 1: latency_ms 1e+308 is more than a day"),
    Case("latency-interval-above-one", ("latency", "--arch", "mobilebert", "--interval", "1.5"), None, 2,
         "--interval must be a probability between 0 and 1"),
    Case("search-confidence-above-one", ("search", "--device", "pixel4", "--budget", "62ms", "--confidence", "1.5",
                                         "--out", "{tmp}/run"), None, 2, "--confidence must be a probability"),
]

# ---- reserved for the search helper (nas/search/**, nas/cli/search.py, ...)
_SEARCH = ("search", "--device", "pixel4", "--budget", "62ms", "--space", "mobilebert-small", "--seed", "0")
_SMALL_RUN: list[Path] = []  # one real 64-trial run, made once and copied into each row's folder


def _profile_run(tmp: Path) -> dict[str, str]:
    """A run searched with --profile FILE for a device that is not a known name (the file has since gone)."""
    import json

    made = _search_run(tmp)
    run_json = Path(made["run"]) / "run.json"
    record = json.loads(run_json.read_text())
    record["options"]["device"] = "myphone"
    run_json.write_text(json.dumps(record))
    return made


def _search_run(tmp: Path) -> dict[str, str]:
    import shutil
    import subprocess
    import sys
    import tempfile

    if not _SMALL_RUN:
        made = Path(tempfile.mkdtemp(prefix="nas-bad-input-")) / "run"
        subprocess.run([sys.executable, "-m", "nas.cli", *_SEARCH, "--trials", "64", "--out", str(made)],
                       check=True, capture_output=True, timeout=300, cwd=REPO_ROOT)
        _SMALL_RUN.append(made)
    shutil.copytree(_SMALL_RUN[0], tmp / "run")
    (tmp / "taken").write_text("user data\n")
    return {"run": str(tmp / "run"), "file": str(tmp / "taken")}


def _search_run_without_journal(tmp: Path) -> dict[str, str]:
    """A finished run copied without its journal (trials.csv, best/ and pareto.html are there)."""
    values = _search_run(tmp)
    (Path(values["run"]) / "trials.jsonl").unlink()
    return values


def _search_run_with_empty_journal(tmp: Path) -> dict[str, str]:
    """A finished run whose journal was emptied (a full disk, a truncating copy); trials.csv still holds its trials."""
    values = _search_run(tmp)
    (Path(values["run"]) / "trials.jsonl").write_bytes(b"")
    return values


def _run_json(content: str, journal: bytes = b"") -> Setup:
    def make(tmp: Path) -> dict[str, str]:
        (tmp / "run").mkdir()
        (tmp / "run" / "run.json").write_text(content)
        (tmp / "run" / "trials.jsonl").write_bytes(journal)
        return {"run": str(tmp / "run")}

    return make


def _non_run_dir(tmp: Path) -> dict[str, str]:
    (tmp / "notes").mkdir()
    (tmp / "notes" / "todo.txt").write_text("mine\n")
    return {"dir": str(tmp / "notes")}


SEARCH_CASES: list[Case] = [
    # item 9: --out a regular file, under one, read-only; nothing on disk changed
    Case("search-out-is-a-file", (*_SEARCH, "--out", "{file}"), "regular_file", 2, "is a file", ("file",)),
    Case("search-out-under-a-file", (*_SEARCH, "--out", "{under_file}"), "regular_file", 2,
         "is a file, so nothing can be written under it", ("file",)),
    Case("search-out-read-only", (*_SEARCH, "--out", "{ro}"), "read_only_place", 2, "/proc/nas-bad-input-test/out"),
    Case("search-out-holds-other-files", (*_SEARCH, "--out", "{dir}"), _non_run_dir, 2,
         "non-empty directory that holds no run", ("dir",)),
    # item 7: resume never shrinks; resume of nothing is refused (documented in `nas search --help`)
    Case("search-resume-shrinks", (*_SEARCH, "--out", "{run}", "--trials", "10", "--resume"), _search_run, 2,
         "never shrinks", ("run",)),
    Case("search-resume-no-run", (*_SEARCH, "--out", "{dir}", "--resume"), "empty_dir", 2, "holds no search run"),
    Case("search-resume-other-seed", (*_SEARCH[:-1], "1", "--out", "{run}", "--trials", "64", "--resume"),
         _search_run, 2, "different options (seed: 0 → 1)", ("run",)),
    Case("probe-pareto-journal-missing", ("pareto", "{run}"), _search_run_without_journal, 2,
         "journal trials.jsonl is missing"),
    Case("probe-resume-journal-missing", (*_SEARCH, "--out", "{run}", "--trials", "80", "--resume"),
         _search_run_without_journal, 2, "journal trials.jsonl is missing", ("run",)),
    Case("probe-pareto-journal-empty", ("pareto", "{run}"), _search_run_with_empty_journal, 2,
         "journal trials.jsonl is empty"),  # said 'no trial yet' with exit 0, and --resume started over
    Case("probe-resume-journal-empty", (*_SEARCH, "--out", "{run}", "--trials", "80", "--resume"),
         _search_run_with_empty_journal, 2, "journal trials.jsonl is empty", ("run",)),
    Case("search-again-without-resume", (*_SEARCH, "--out", "{run}", "--trials", "64"), _search_run, 2,
         "pass --resume", ("run",)),
    # the executor, the estimator and the teacher
    Case("search-executor-unknown", (*_SEARCH, "--executor", "spark"), None, 2, "unknown executor 'spark'"),
    Case("search-ray-address-local", (*_SEARCH, "--ray-address", "10.0.0.1:6379"), None, 2,
         "--ray-address needs --executor ray"),
    Case("probe-ray-address-not-host-port", (*_SEARCH, "--executor", "ray", "--ray-address", "a:b:c"), None, 2,
         "is not HOST:PORT"),
    Case("probe-ray-address-unreachable", (*_SEARCH, "--executor", "ray", "--ray-address", "127.0.0.1:1"), None, 2,
         "cannot reach the Ray cluster at 127.0.0.1:1"),
    Case("probe-confirm-ray-address-unreachable", ("confirm", "{tmp}", "--ray-address", "127.0.0.1:1"), None, 2,
         "cannot reach the Ray cluster at 127.0.0.1:1"),
    Case("search-estimator-unknown", (*_SEARCH, "--estimator", "oracle"), None, 2, "unknown accuracy estimator"),
    Case("search-teacher-missing", (*_SEARCH, "--teacher", "{tmp}/nope"), None, 2, "no readable config.json"),
    Case("search-teacher-broken-config", (*_SEARCH, "--teacher", "{json}"), "broken_json", 2,
         "no readable config.json"),
    # item 9: `nas pareto` / `nas export` on damaged or foreign run directories
    Case("pareto-run-json-without-options", ("pareto", "{run}"), _run_json('{"seed": 0}'), 2,
         "no search options recorded"),
    Case("pareto-run-json-not-an-object", ("pareto", "{run}"), _run_json("[1, 2]"), 2, "expected a JSON object"),
    Case("pareto-run-json-broken", ("pareto", "{run}"), _run_json('{"options": '), 2, "not valid JSON"),
    Case("pareto-journal-binary", ("pareto", "{run}"),
         _run_json('{"options": {"budget_ms": 62.0}}', b"\xff\xfe\x00garbage\n"), 2, "not a trial record"),
    Case("pareto-not-a-run", ("pareto", "{dir}"), "empty_dir", 2, "not a search run directory"),
    Case("pareto-a-file", ("pareto", "{file}"), "regular_file", 2, "not a search run directory"),
    Case("export-pick-out-of-range", ("export", "{run}", "--pick", "999", "--to", "{tmp}/x"), _search_run, 2,
         "out of range"),
    Case("export-to-a-file", ("export", "{run}", "--to", "{file}"), _search_run, 2, "is a file", ("file",)),
    Case("export-tvm-of-a-profile-run", ("export", "{run}", "--tvm", "--to", "{tmp}/x"), _profile_run, 2,
         "pass its profile with --profile FILE"),
    Case("export-no-front-point-fast-enough", ("export", "{run}", "--max-latency", "0.001ms", "--to", "{tmp}/x"),
         _search_run, 2, "no front point within"),
]

# ---- the CLI, arch and space side (nas/cli/__init__.py, nas/cli/arch.py, search_spaces/**, nas_common/**)
CLI_CASES: list[Case] = [
    # item 10: every usage error is one line, exit 2, no Rich box
    Case("unknown-command", ("bogus",), None, 2, "No such command"),
    Case("unknown-option", ("arch", "show", "mobilebert", "--nope"), None, 2, "No such option"),
    Case("missing-option", ("search", "--device", "pixel4"), None, 2, "Missing option '--budget'"),
    Case("trials-0", ("search", "--device", "pixel4", "--budget", "62ms", "--trials", "0"), None, 2, "--trials"),
    Case("search-seq-len-0", ("search", "--device", "pixel4", "--budget", "62ms", "--seq-len", "0"), None, 2,
         "--seq-len"),
    Case("arch-seq-len-0", ("arch", "show", "mobilebert", "--seq-len", "0"), None, 2, "--seq-len"),
    Case("arch-seq-len-text", ("arch", "show", "mobilebert", "--seq-len", "many"), None, 2, "--seq-len"),
    Case("budget-no-unit", ("search", "--device", "pixel4", "--budget", "62"), None, 2, "not a latency"),
    # arch lookup
    Case("arch-unknown", ("arch", "show", "nosuch"), None, 2, "unknown architecture"),
    Case("arch-broken-json", ("arch", "show", "{json}"), "broken_json", 2, "not valid JSON"),
    Case("arch-contradiction", ("arch", "show", "{json}"), "contradicting_arch", 2, "do not divide"),
    Case("devices-broken-profile", ("devices", "--profile", "{toml}"), "broken_toml", 2, "broken.toml"),
    # item 9: `nas arch show DIR`
    Case("arch-show-empty-dir", ("arch", "show", "{dir}"), "empty_dir", 2,
         "no arch.json or config.json"),
    # item 12: an HF config.json, or a directory holding one, is an arch
    Case("arch-show-hf-dir", ("arch", "show", "{dir}"), "hf_model_dir", 0, "MHA:FFN"),
    Case("arch-show-hf-config", ("arch", "show", "{config}", "--json"), "hf_model_dir", 0, '"num_params"'),
    Case("hf-true-hidden-contradiction", ("arch", "show", "{dir}"), "hf_config_bad_true_hidden", 2,
         "true_hidden_size"),
    Case("hf-not-mobilebert", ("arch", "show", "{dir}"), "hf_config_not_mobilebert", 2, "model_type"),
    # item 5: sane upper bounds
    Case("arch-10000-layers", ("arch", "show", "{layers}"), "huge_arch", 2, "num_hidden_layers"),
    Case("arch-huge-width", ("arch", "show", "{wide}"), "huge_arch", 2, "hidden_size"),
    Case("arch-seq-len-over-positions", ("arch", "show", "mobilebert", "--seq-len", "100000"), None, 2,
         "max_position_embeddings"),
]



# ---- "beyond this list": a new user's further cases (issue 8), across every subcommand
def _user_export_dir(tmp: Path) -> dict[str, str]:
    values = _search_run(tmp)
    (tmp / "mine").mkdir()
    (tmp / "mine" / "arch.json").write_text('{"note": "my own hand-written arch"}\n')
    return {**values, "mine": str(tmp / "mine")}


def _existing_profile(tmp: Path) -> dict[str, str]:
    values = _latency_files(tmp)
    (tmp / "mine.toml").write_text("# my calibrated phone\n")
    (tmp / "foreign.csv").write_text("a,b\n1,2\n")
    return {**values, "profile": str(tmp / "mine.toml"), "foreign": str(tmp / "foreign.csv")}


def _vocab_without_unk(tmp: Path) -> dict[str, str]:
    values = _training_setup(tmp)
    (tmp / "vocab.txt").write_text("the\ncat\nsat\n")
    return {**values, "vocab": str(tmp / "vocab.txt")}


def _truncated_model(tmp: Path) -> dict[str, str]:
    """A finished model directory whose weights file was cut short (a copy interrupted, a full disk)."""
    from transformers import MobileBertForPreTraining

    from tests.distill_helpers import STUDENT_ARCH

    values = _training_setup(tmp)
    MobileBertForPreTraining(STUDENT_ARCH.to_hf_config()).save_pretrained(tmp / "cut")
    weights = tmp / "cut" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    (tmp / "SST-2").mkdir()
    rows = "sentence\tlabel\n" + "".join(f"a {'good' if i % 2 else 'bad'} film\t{i % 2}\n" for i in range(8))
    for split in ("train", "dev"):
        (tmp / "SST-2" / f"{split}.tsv").write_text(rows)
    return {**values, "cut": str(tmp / "cut")}


def _run_json_missing(tmp: Path) -> dict[str, str]:
    """A run whose run.json was deleted: only the journal is left."""
    (tmp / "run").mkdir()
    (tmp / "run" / "trials.jsonl").write_text("{}\n")
    return {"run": str(tmp / "run")}


_AF = arch_files
_SEARCH_AT = ("search", "--device", "pixel4", "--budget")
BEYOND_CASES: list[Case] = [
    # arch inputs, through the one resolver (nas arch show, --arch, --student)
    Case("arch-empty-name", ("arch", "show", ""), None, 2, "architecture is empty"),
    Case("arch-typo-field", ("arch", "show", "{typo}"), _AF, 2, "unknown field(s) hidden_sise"),
    Case("arch-json-list", ("arch", "show", "{list}"), _AF, 2, "expected a JSON object"),
    Case("arch-binary-file", ("arch", "show", "{binary}"), _AF, 2, "not valid JSON"),
    Case("arch-infinite-width", ("arch", "show", "{inf}"), _AF, 2,
         "intermediate_size must be a finite number, got inf"),
    Case("arch-per-layer-wrong-length", ("arch", "show", "{per_layer_short}"), _AF, 2, "2 per-layer values"),
    Case("arch-measurement-row-fields", ("arch", "show", "{row}"), _AF, 2, "unknown field(s) latency_ms"),
    Case("arch-true-hidden-size-consistent", ("arch", "show", "{row_ok}", "--json"), _AF, 0, '"num_params"'),
    Case("arch-preset-any-case", ("arch", "show", "MobileBERT-TINY", "--json"), None, 0, '"num_params"'),
    Case("arch-search-run-dir", ("arch", "show", "{run}", "--json"), fake_run(best=True), 0, '"num_params"'),
    Case("arch-search-run-without-best", ("arch", "show", "{run}"), fake_run(best=False), 2, "has no best/"),
    Case("hf-more-positions", ("arch", "show", "{dir}"), hf_variant(max_position_embeddings=1024), 2,
         "max_position_embeddings 1024 is not supported"),
    Case("hf-activation-unsupported", ("arch", "show", "{dir}"), hf_variant(hidden_act="gelu_new"), 2,
         "hidden_act must be one of"),
    Case("hf-dropout-ignored", ("arch", "show", "{dir}", "--json"), hf_variant(hidden_dropout_prob=0.5), 0,
         '"num_params"'),
    Case("latency-arch-10000-layers", ("latency", "--arch", "{layers}", "--device", "pixel4"), "huge_arch", 2,
         "num_hidden_layers 10,000"),
    Case("latency-arch-empty-dir", ("latency", "--arch", "{dir}", "--device", "pixel4"), "empty_dir", 2,
         "no arch.json or config.json"),
    Case("teacher-arch-hf-contradiction", ("teacher", "--arch", "{dir}", "--corpus", "{dir}", "--out", "{tmp}/t"),
         "hf_config_bad_true_hidden", 2, "true_hidden_size 100"),
    Case("distill-student-10000-layers", ("distill", "--student", "{layers}", "--out", "{tmp}/s"), "huge_arch", 2,
         "num_hidden_layers 10,000"),
    # usage errors of every kind are one line
    Case("no-arguments-is-help", (), None, 0, "Usage"),
    Case("arch-group-alone-is-help", ("arch",), None, 0, "show"),
    Case("arch-list-extra-argument", ("arch", "list", "foo"), None, 2, "unexpected extra argument"),
    Case("trials-not-a-number", (*_SEARCH_AT, "62ms", "--trials", "lots"), None, 2, "--trials"),
    Case("budget-nan", (*_SEARCH_AT, "nanms"), None, 2, "not a latency"),
    Case("probe-budget-negative", (*_SEARCH_AT, "-5ms"), None, 2, "must be positive"),
    Case("budget-minutes", (*_SEARCH_AT, "1 min"), None, 2, "not a latency"),
    Case("budget-below-fastest", (*_SEARCH_AT, "0.001ms", "--space", "mobilebert-small", "--out", "{tmp}/r"), None,
         2, "below the fastest"),
    Case("profile-missing-file", ("search", "--profile", "{tmp}/none.toml", "--budget", "62ms"), None, 2,
         "no such profile file"),
    Case("devices-profile-is-a-directory", ("devices", "--profile", "{tmp}"), None, 2, "is a directory"),
    # one broken user profile is named on stderr; the others, and the built-in devices, are still listed
    Case("probe-devices-one-user-profile-broken", ("devices",),
         lambda t: {"dir": str((t / "devices").mkdir() or (t / "devices" / "myphone.toml").write_text("[cost\n")
                               and t / "devices")}, 0, "warning: myphone is not listed",
         env=(("NAS_DEVICES_DIR", "{dir}"),)),
    # search spaces: bounds and conflicts explained
    Case("space-empty-name", (*_SEARCH_AT, "62ms", "--space", "", "--out", "{tmp}/r"), None, 2,
         "the search space is empty: give a name (mobilebert-family, mobilebert-small, supernet-minilm-384)"),
    Case("space-10000-layers", (*_SEARCH_AT, "62ms", "--space", "{space}", "--out", "{tmp}/r"),
         space_file("[dimensions]\nnum_hidden_layers = [4, 10000]\n"), 2, "above this tool's limit"),
    Case("probe-space-activation-typo", (*_SEARCH_AT, "62ms", "--space", "{space}", "--out", "{tmp}/r"),
         space_file('[dimensions]\nnum_hidden_layers = [4]\nhidden_act = ["relu", "gleu"]\n'), 2,
         "dimensions.hidden_act: 'gleu' is not one of relu, gelu"),
    Case("probe-space-dead-choice", (*_SEARCH_AT, "62ms", "--space", "{space}", "--out", "{tmp}/r"),
         space_file("[dimensions]\nnum_hidden_layers = [4]\nhidden_size = [512]\nintra_bottleneck_size = [128, 256]\n"
                    "num_attention_heads = [4, 7]\n"), 2, "num_attention_heads = 7 gives no valid architecture"),
    Case("probe-space-layers-as-words", (*_SEARCH_AT, "62ms", "--space", "{space}", "--out", "{tmp}/r"),
         space_file('[dimensions]\nnum_hidden_layers = [4, "twelve"]\n'), 2, "'twelve' is not a positive integer"),
    Case("space-fixed-and-dimension", (*_SEARCH_AT, "62ms", "--space", "{space}", "--out", "{tmp}/r"),
         space_file("[dimensions]\nnum_hidden_layers = [4]\n[fixed]\nnum_hidden_layers = 2\n"), 2,
         "both a dimension and fixed"),
    Case("space-is-a-directory", (*_SEARCH_AT, "62ms", "--space", "{tmp}", "--out", "{tmp}/r"), None, 2,
         "not a TOML file"),
    Case("finetune-model-without-weights", ("finetune", "--model", "{dir}", "--task", "sst2", "--out", "{tmp}/f",
                                            "--max-train-examples", "8"), "hf_model_dir", 2, "model.safetensors",
         marks=(pytest.mark.slow,)),  # reads GLUE and transformers first: ~10-25 s
    Case("search-out-empty-string", (*_SEARCH_AT, "62ms", "--out", ""), None, 2, "holds no run"),
    Case("search-journal-without-run-json", (*_SEARCH_AT, "62ms", "--out", "{run}", "--resume"),
         _run_json_missing, 2, "no run.json", ("run",)),
    # the data folder: a folder the user named is never silently replaced by the default
    Case("data-dir-env-typo", (*_FINETUNE[:-2], "--out", "{tmp}/o"), _T, 2, "$NAS_DATA_DIR",
         env=(("NAS_DATA_DIR", "{tmp}/typo"),)),
    Case("data-dir-is-a-file", (*_FINETUNE[:-2], "--data-dir", "{file}", "--out", "{tmp}/o"), _T, 2,
         "is a file, not a folder", ("file",)),
    Case("corpus-default-env-typo", (*_DISTILL_OUT[:-4], "--out", "{tmp}/s"), _T, 2, "$NAS_DATA_DIR",
         env=(("NAS_DATA_DIR", "{tmp}/typo"),)),
    # found here and fixed in other helpers' files (search, latency): pinned here
    Case("search-seed-negative", (*_SEARCH_AT, "62ms", "--seed", "-1", "--trials", "4", "--out", "{tmp}/r"), None, 2,
         "--seed"),
    Case("export-into-the-runs-best", ("export", "{run}", "--pick", "1", "--to", "{run}/best"), _search_run, 2,
         "--to", ("run",)),
    Case("export-over-a-users-file", ("export", "{run}", "--to", "{mine}"), _user_export_dir, 2, "--overwrite",
         ("mine",)),
    Case("calibrate-over-an-existing-profile", (*_CALIBRATE, "--out", "{profile}"), _existing_profile, 2,
         "--overwrite", ("profile",)),
    Case("calibrate-empty-name", ("calibrate", "--measurements", "{m}", "--from", "pixel4", "--name", "",
                                  "--out", "{tmp}/p.toml"), _L, 2, "name"),
    Case("measure-append-to-a-foreign-csv", (*_MEASURE, "--device", "host", "--repeat", "1", "--seq-len", "8",
                                             "--out", "{foreign}"), _existing_profile, 2, "measurements",
         ("foreign",)),
    Case("measure-threads-above-cores", (*_MEASURE, "--device", "host", "--threads", "100000", "--out",
                                         "{tmp}/m.csv"), None, 2, "--threads"),
    Case("pareto-of-an-empty-run", ("pareto", "{run}"), _run_json('{"options": {"budget_ms": 62.0}}'), 0,
         "no trial"),
    # found here and fixed in the distill helper's files: pinned here
    Case("teacher-init-from-and-arch", (*_TEACHER, "--init-from", "minilm", "--steps", "1", "--batch-size", "2",
                                        "--seq-len", "16", "--out", "{tmp}/t"), _T, 2, "--init-from"),
    Case("finetune-model-weights-truncated", ("finetune", "--model", "{cut}", "--task", "sst2", "--data-dir", "{tmp}",
                                              "--out", "{tmp}/o"), _truncated_model, 2, "model.safetensors"),
    Case("distill-teacher-weights-truncated", (*_DISTILL_OUT[:2], "mobilebert-tiny", "--teacher", "{cut}",
                                               "--corpus", "{corpus}", "--projection", "--out", "{tmp}/s"),
         _truncated_model, 2, "model.safetensors"),
    Case("distill-vocab-without-unk", (*_DISTILL_OUT, "--vocab", "{vocab}", "--steps-per-layer", "0",
                                       "--pd-steps", "1", "--batch-size", "2", "--seq-len", "16"),
         _vocab_without_unk, 2, "[UNK]"),
]


def _edited_journal(tmp: Path) -> dict[str, str]:
    """A run whose journal holds a trial with a negative latency (an edited record no search writes)."""
    import json

    from tests.confirm_helpers import make_run

    run = make_run(tmp / "run")
    journal = run / "trials.jsonl"
    lines = journal.read_text().splitlines()
    record = json.loads(lines[0])
    record["latency_ms"] = -1.0
    journal.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    return {"run": str(run)}


def _probe_files(tmp: Path) -> dict[str, str]:
    """An empty measurements CSV and one whose arch cell names no preset."""
    (tmp / "empty.csv").write_text("")
    (tmp / "weird.csv").write_text("arch,latency_ms\nmobilebertt,62\n")
    return {"empty": str(tmp / "empty.csv"), "weird": str(tmp / "weird.csv")}


# a held-out probe (2026-12-07): one case already failed cleanly (pinned so it stays so); a preset name in a
# measurements file's arch column read as a bad number before it was accepted
PROBE_CASES: list[Case] = [
    Case("probe-validate-measurements-empty", ("validate", "--device", "pixel4", "--measurements", "{empty}"),
         _probe_files, 2, "no header line"),
    Case("probe-calibrate-measurements-arch-not-a-preset",
         ("calibrate", "--from", "pixel4", "--measurements", "{weird}", "--name", "t", "--out", "{tmp}/p.toml"),
         _probe_files, 2, "line 2: arch 'mobilebertt' is not a preset"),
    # 10¹⁰ trials (a typo's extra zeros) would hold tens of TB: refused before the first trial, nothing written
    # a folder that is no supernet: named as such, not as a missing space.toml inside it
    Case("probe-supernet-score-not-a-supernet", ("supernet", "score", "{tmp}", "--arch", "mobilebert"), None, 2,
         "is not a supernet directory"),
    Case("probe-supernet-quality-not-a-supernet", ("supernet", "quality", "{tmp}", "--truth", "{tmp}/t.json"), None,
         2, "is not a supernet directory"),
    # a negative latency would have led the front: a record no search writes is a corrupt line, named
    Case("probe-pareto-journal-negative-latency", ("pareto", "{run}"), _edited_journal, 2,
         "trials.jsonl:1: not a trial record", ("run",)),
    Case("probe-search-trials-beyond-memory", (*_SEARCH_AT, "62ms", "--trials", "10000000000", "--out", "{tmp}/r"),
         None, 2, "would hold about"),
]

# ---- reserved for the confirm helper (nas/confirm/**, nas/cli/confirm.py): `nas confirm`
def _confirm_inputs(tmp: Path) -> dict[str, str]:
    """A tiny search run, teacher, corpora and GLUE folder (tests/confirm_helpers.py), a non-run folder and a
    run that already holds a confirmation."""
    from tests.confirm_helpers import make_inputs, make_run

    paths = make_inputs(tmp)
    (tmp / "not-a-run").mkdir()
    done = make_run(tmp / "done")
    (done / "confirmed.csv").write_text("arch_id,pick\n3,0\n")
    return {**paths, "not_run": str(tmp / "not-a-run"), "done": str(done)}


def _confirm_inputs_three_head_teacher(tmp: Path) -> dict[str, str]:
    """As `_confirm_inputs`, plus a 3-head teacher the run's 2-head students cannot learn attention from."""
    from transformers import MobileBertForPreTraining

    from tests.distill_helpers import TEACHER_ARCH

    paths = _confirm_inputs(tmp)
    config = TEACHER_ARCH.replace(intra_bottleneck_size=48, num_attention_heads=3).to_hf_config()
    MobileBertForPreTraining(config).save_pretrained(tmp / "teacher3")
    return {**paths, "teacher3": str(tmp / "teacher3")}


def _teacher_with_three_heads(tmp: Path) -> dict[str, str]:
    (tmp / "t3").mkdir()
    (tmp / "t3" / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 384, "vocab_size": 30522,
                                                          "num_attention_heads": 3, "num_hidden_layers": 6}))
    (tmp / "space.toml").write_text("[dimensions]\nnum_hidden_layers = [4, 6]\nnum_attention_heads = [2, 4]\n"
                                    "[fixed]\nintra_bottleneck_size = 128\n")
    return {"teacher": str(tmp / "t3"), "space": str(tmp / "space.toml")}


_CONFIRM_OPTS = ("--teacher", "{teacher}", "--corpus", "{corpus}", "--eval-corpus", "{eval}", "--data-dir", "{glue}")
_CONFIRM = ("confirm", "{run}", *_CONFIRM_OPTS, "--task", "sst2")
_CI = _confirm_inputs
CONFIRM_CASES: list[Case] = [
    # issue 30: a student distillation would refuse is refused before Ray starts, one line, never retried
    Case("confirm-student-heads-cannot-learn-from-teacher",
         ("confirm", "{run}", "--teacher", "{teacher3}", "--corpus", "{corpus}", "--eval-corpus", "{eval}",
          "--data-dir", "{glue}", "--task", "sst2"), _confirm_inputs_three_head_teacher, 2, "must divide one another"),
    Case("search-teacher-heads-fit-no-choice", ("search", "--device", "pixel4", "--budget", "62ms", "--teacher",
                                                "{teacher}", "--space", "{space}", "--out", "{tmp}/r"),
         _teacher_with_three_heads, 2, "teacher's 3 heads"),
    Case("confirm-not-a-search-run", ("confirm", "{not_run}", *_CONFIRM_OPTS, "--task", "sst2"), _CI, 2,
         "not a search run directory"),
    Case("confirm-top-zero", (*_CONFIRM, "--top", "0"), _CI, 2, "--top must be ≥ 1"),
    Case("confirm-missing-teacher", ("confirm", "{run}", "--corpus", "{corpus}", "--task", "sst2"), _CI, 2,
         "give --teacher"),
    Case("confirm-teacher-not-there", ("confirm", "{run}", "--teacher", "{tmp}/none", "--corpus", "{corpus}",
                                       "--eval-corpus", "{eval}", "--data-dir", "{glue}", "--task", "sst2"), _CI, 2,
         "no such directory"),
    Case("confirm-missing-corpus", ("confirm", "{run}", "--teacher", "{teacher}", "--task", "sst2"), _CI, 2,
         "give --corpus"),
    Case("confirm-unknown-task", ("confirm", "{run}", *_CONFIRM_OPTS, "--task", "cola"), _CI, 2, "unknown task"),
    Case("confirm-eval-is-the-corpus", ("confirm", "{run}", "--teacher", "{teacher}", "--corpus", "{corpus}",
                                        "--eval-corpus", "{corpus}", "--data-dir", "{glue}", "--task", "sst2"), _CI, 2,
         "held-out losses need other text"),
    Case("confirm-steps-not-a-rung-multiple", (*_CONFIRM, "--max-steps", "10"), _CI, 2, "multiple of 4"),
    Case("confirm-existing-result", ("confirm", "{done}", *_CONFIRM_OPTS, "--task", "sst2"), _CI, 2,
         "--overwrite", ("done",)),
    Case("confirm-resume-nothing", (*_CONFIRM, "--resume"), _CI, 2, "no confirmation to resume", ("run",)),
    Case("confirm-resume-and-overwrite", (*_CONFIRM, "--resume", "--overwrite"), _CI, 2, "contradict"),
]

# ---- reserved for the TFLite helper (issue 11: latency_models/tflite_backend.py, `--backend tflite`)
def _tflite_phrase(phrase: str) -> str:
    """Without the tflite extra, every tflite row stops at the same one line first."""
    from latency_models.tflite_backend import MISSING, available

    return phrase if available() else MISSING


TFLITE_CASES: list[Case] = [
    Case("measure-tflite-pixel4", (*_MEASURE, "--device", "pixel4", "--backend", "tflite", "--out", "{tmp}/m.csv"),
         None, 2, "the tflite backend times this machine, not pixel4"),
    Case("measure-tflite-thread-clock-two-threads", (*_MEASURE, "--device", "host", "--backend", "tflite", "--threads",
                                                     "2", "--clock", "thread", "--out", "{tmp}/m.csv"), None, 2,
         _tflite_phrase("--clock must be")),
    Case("measure-tflite-per-layer-arch", ("measure", "--arch", "{per_layer}", "--device", "host", "--backend",
                                           "tflite", "--out", "{tmp}/m.csv"), _latency_files, 2,
         _tflite_phrase("per-layer")),
    Case("measure-tflite-cache-limit-not-a-number", (*_MEASURE, "--device", "host", "--backend", "tflite", "--out",
                                                     "{tmp}/m.csv"), None, 2,
         _tflite_phrase("NAS_TFLITE_CACHE_GB must be a positive number of gigabytes"),
         env=(("NAS_TFLITE_CACHE_GB", "lots"), ("NAS_CACHE_DIR", "{tmp}/cache"))),
]

# ---- the I/O layer (issue 33): one row per class of damage it closes for every command
_HELD_LOCKS: list = []  # locks a setup holds for the rest of the test (as another process would)


def _io_files(tmp: Path) -> dict[str, str]:
    """An arch JSON saved by a Windows editor, measurements with an overflowing latency, a profile whose
    target TVM does not know, a run whose journal was cut mid-line, and a run held by a writer."""
    from nas_common.run_lock import RunLock
    from tests.confirm_helpers import make_run

    (tmp / "editor.json").write_bytes(b"\xef\xbb\xbf{\r\n  \"num_hidden_layers\": 4\r\n}\r\n")
    (tmp / "m.jsonl").write_text('{"num_hidden_layers": 4, "latency_ms": 1e400}\n')
    profile = (REPO_ROOT / "device_profiles" / "pixel4.toml").read_text().replace('kind = "llvm"', 'kind = "llvm9"')
    (tmp / "p.toml").write_text(profile)
    torn = make_run(tmp / "torn")
    with (torn / "trials.jsonl").open("ab") as handle:
        handle.write(b'{"id": 5, "late')
    held = make_run(tmp / "held")
    lock = RunLock(held)
    lock.acquire()
    _HELD_LOCKS.append(lock)
    return {"editor": str(tmp / "editor.json"), "m": str(tmp / "m.jsonl"), "profile": str(tmp / "p.toml"),
            "torn": str(torn), "held": str(held)}


_IO = _io_files
def _appended_and_strict(tmp: Path) -> dict[str, str]:
    """A measurements JSONL saved without a final newline, a tiny arch to measure into it, and a one-row
    measurements file (a Spearman of one row is undefined)."""
    (tmp / "nofinal.jsonl").write_text('{"num_hidden_layers": 4, "latency_ms": 10.0, "seq_len": 128, "batch": 1}')
    (tmp / "tiny.json").write_text(json.dumps({"num_hidden_layers": 2, "hidden_size": 128, "intra_bottleneck_size": 32,
                                               "num_attention_heads": 2, "intermediate_size": 64,
                                               "num_feedforward_networks": 1, "embedding_size": 64}))
    (tmp / "one.csv").write_text("num_hidden_layers,hidden_size,latency_ms\n4,512,30.0\n")
    return {"nofinal": str(tmp / "nofinal.jsonl"), "tiny": str(tmp / "tiny.json"), "one": str(tmp / "one.csv")}


IO_CASES: list[Case] = [
    # class 3: machine-readable output is strict JSON (an undefined correlation is null plus its reason)
    Case("io-3-validate-json-of-one-row-is-strict", ("validate", "--measurements", "{one}", "--device", "pixel4",
                                                     "--json"), _appended_and_strict, 0, '"spearman_reason"', ("one",)),
    # class 4: an append to a file written elsewhere (no final newline) leaves it readable row for row
    Case("io-4-measure-appends-after-a-line-without-newline", ("measure", "--device", "host", "--arch", "{tiny}",
                                                               "--seq-len", "16", "--repeat", "3", "--out",
                                                               "{nofinal}"), _appended_and_strict, 0, "1 row(s)"),
    Case("io-1-arch-json-with-bom-and-crlf", ("arch", "show", "{editor}", "--json"), _IO, 0, '"num_params"',
         ("editor",)),
    Case("io-2-measurement-latency-overflows", ("validate", "--measurements", "{m}", "--device", "pixel4"), _IO, 2,
         "must be a finite number, got inf", ("m",)),
    Case("io-5-pareto-of-a-torn-journal-changes-nothing", ("pareto", "{torn}", "--json"), _IO, 0, '"pick": 0',
         ("torn",)),
    Case("io-6-search-resume-on-a-held-run", (*_SEARCH_AT, "62ms", "--out", "{held}", "--resume"), _IO, 2,
         "is being written by process", ("held",)),
    Case("io-6-confirm-on-a-held-run", ("confirm", "{held}", "--task", "sst2"), _IO, 2,
         "is being written by process", ("held",)),
    Case("io-8-profile-target-tvm-does-not-know", ("latency", "--arch", "mobilebert", "--profile", "{profile}"), _IO,
         2, "must be a TVM target kind", ("profile",)),
    # a search space saved by a Windows editor is read (the refusal is the budget's, after the space loaded)
    Case("io-1-space-toml-with-bom-and-crlf", (*_SEARCH_AT, "0.001ms", "--space", "{space}", "--out", "{tmp}/r"),
         space_file("\ufeff[dimensions]\r\nnum_hidden_layers = [2, 4]\r\n"), 2, "below the fastest", ("space",)),
    Case("io-2-space-choice-inf", (*_SEARCH_AT, "62ms", "--space", "{space}", "--out", "{tmp}/r"),
         space_file("[dimensions]\nnum_hidden_layers = [2, inf]\n"), 2,
         "[dimensions]: key 'num_hidden_layers[1]' must be a finite number, got inf", ("space",)),
    Case("io-2-supernet-inline-arch-nan", ("supernet", "score", "{ens}", "--arch", '{{"num_hidden_layers": NaN}}',
                                           "--no-predictor"), _ensemble_setup, 2,
         "--arch: field num_hidden_layers must be a finite number, got nan", ("ens",)),
    # a vocabulary saved by a Windows editor is read token for token (its 30 522 tokens reach the model's check)
    Case("io-1-vocab-with-bom-and-crlf", ("finetune", "--model", "{small}", "--task", "sst2", "--data-dir", "{glue}",
                                          "--out", "{tmp}/o"), _editor_vocab, 2,
         "has 30522 tokens but the model", ("vocab",)),
    # an arch list (`nas measure --archs`, written by `nas calibrate --suggest`) with a NaN: one line, before a run
    Case("io-2-archs-line-nan", ("measure", "--archs", "{archs}", "--out", "{tmp}/m.csv"),
         lambda t: {"archs": str((t / "a.jsonl").write_text('mobilebert-tiny\n{"num_hidden_layers": NaN}\n')
                                 and t / "a.jsonl")}, 2,
         "a.jsonl: line 2: field num_hidden_layers must be a finite number, got nan", ("archs",)),
    Case("io-1-glue-tsv-not-utf8", ("finetune", "--model", "{student}", "--task", "sst2", "--data-dir", "{glue}",
                                    "--out", "{tmp}/o"), _glue_rows("sentence\tlabel\na good film\t1\n", raw=b"\xff"),
         2, "not UTF-8 text", ("glue",)),
]

# ---- reserved for the deploy helper (issue 35: nas/deploy/**, `nas export --model`, `nas evaluate`)
def _deploy_models(tmp: Path) -> dict[str, str]:
    """An encoder directory (as `nas distill` writes it), an SST-2 classifier directory (as `nas finetune` writes it,
    untrained: no row runs it), an export folder that holds a result, a lone .tflite, one exported for SST-2."""
    from transformers import MobileBertForSequenceClassification

    from nas.distill.finetune import name_outputs
    from nas.distill.vocab import resolve_vocab
    from tests.deploy_helpers import encoder_dir
    from tests.distill_helpers import STUDENT_ARCH

    encoder_dir(tmp / "encoder")
    classifier = MobileBertForSequenceClassification(STUDENT_ARCH.to_hf_config(num_labels=2))
    name_outputs(classifier.config, "sst2")
    classifier.save_pretrained(tmp / "sst2")
    (tmp / "sst2" / "vocab.txt").write_bytes(resolve_vocab(None).read_bytes())
    (tmp / "shipped").mkdir()
    (tmp / "shipped" / "app.json").write_text("{}\n")
    (tmp / "lone").mkdir()
    (tmp / "lone" / "model.tflite").write_bytes(b"TFL3")
    (tmp / "app").mkdir()
    (tmp / "app" / "model.tflite").write_bytes(b"TFL3")
    (tmp / "app" / "app.json").write_text(json.dumps({"output": {"name": "logits"}, "task": "sst2",
                                                      "sequence_length": 24}))
    (tmp / "notes.txt").write_text("not a model\n")
    (tmp / "run" / "best").mkdir(parents=True)  # a search run confirmed without --task: no fine-tuned winner
    (tmp / "run" / "best" / "confirmed.json").write_text(json.dumps({"row": {"arch_id": 7, "dev_steps": None}}))
    return {name: str(tmp / name) for name in ("encoder", "sst2", "shipped", "run")} | {
        "lone": str(tmp / "lone" / "model.tflite"), "app_tflite": str(tmp / "app" / "model.tflite"),
        "notes": str(tmp / "notes.txt")}


_DM = _deploy_models


def _copy_proxy_fit(path: Path) -> Path:
    from nas.accuracy import proxy

    path.write_bytes(proxy.FIT_FILE.read_bytes())
    return path


def _truncated_classifier(tmp: Path) -> dict[str, str]:
    """The SST-2 classifier with its weights cut short (a copy interrupted), and a two-row SST-2 dev set."""
    paths = _deploy_models(tmp)
    weights = Path(paths["sst2"]) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:4096])
    (tmp / "glue" / "SST-2").mkdir(parents=True)
    (tmp / "glue" / "SST-2" / "dev.tsv").write_text("sentence\tlabel\na fine film\t1\na dull one\t0\n")
    return paths
_EXPORT_TO = ("--to", "{tmp}/e")
DEPLOY_CASES: list[Case] = [
    Case("export-model-not-a-model-dir", ("export", "--model", "{tmp}", *_EXPORT_TO, "--onnx"), _DM, 2,
         "is not a model directory (no config.json)"),
    Case("export-model-is-a-file", ("export", "--model", "{notes}", *_EXPORT_TO, "--onnx"), _DM, 2,
         "is not a directory"),
    Case("export-model-without-head-asked-for-logits", ("export", "--model", "{encoder}", *_EXPORT_TO, "--onnx",
                                                        "--output", "logits"), _DM, 2, "has no task head"),
    Case("export-model-output-unknown", ("export", "--model", "{sst2}", *_EXPORT_TO, "--onnx", "--output", "probs"),
         _DM, 2, "--output must be one of"),
    Case("export-model-over-an-export", ("export", "--model", "{sst2}", "--to", "{shipped}", "--onnx"), _DM, 2,
         "--overwrite", ("shipped",)),
    Case("export-model-into-the-model", ("export", "--model", "{sst2}", "--to", "{sst2}/ship", "--onnx"), _DM, 2,
         "inside the model directory", ("sst2",)),
    Case("export-model-and-run", ("export", "{tmp}", "--model", "{sst2}", *_EXPORT_TO, "--onnx"), _DM, 2,
         "not both"),
    Case("export-model-nothing-asked", ("export", "--model", "{sst2}", *_EXPORT_TO), _DM, 2, "nothing to export"),
    Case("export-model-to-a-file-name", ("export", "--model", "{sst2}", "--to", "{tmp}/model.tflite"), _DM, 2,
         "--to is the directory the files are written in"),
    Case("export-run-to-a-file-name", ("export", "{tmp}", "--to", "{tmp}/pick.onnx", "--onnx"), None, 2,
         "give e.g. --to"),
    Case("export-model-seq-len-beyond-positions", ("export", "--model", "{sst2}", *_EXPORT_TO, "--onnx", "--seq-len",
                                                   "100000"), _DM, 2, "--seq-len must be between 8 and"),
    Case("export-model-with-pick", ("export", "--model", "{sst2}", "--pick", "1", *_EXPORT_TO, "--onnx"), _DM, 2,
         "--pick applies to a run directory"),
    Case("export-model-int8-full-of-an-encoder", ("export", "--model", "{encoder}", *_EXPORT_TO,
                                                  "--tflite-int8-full"), _DM, 2,
         _tflite_phrase("needs a fine-tuned model")),
    Case("export-run-with-model-only-option", ("export", "{tmp}", "--seq-len", "64", *_EXPORT_TO), None, 2,
         "--seq-len applies to --model"),
    Case("export-neither-run-nor-model", ("export", *_EXPORT_TO), None, 2, "give a run directory"),
    Case("evaluate-model-without-head", ("evaluate", "--model", "{encoder}", "--task", "sst2"), _DM, 2,
         "has no task head"),
    Case("evaluate-task-not-fine-tuned-on", ("evaluate", "--model", "{sst2}", "--task", "mrpc"), _DM, 2,
         "fine-tuned on sst2, not mrpc"),
    Case("evaluate-unknown-task", ("evaluate", "--model", "{sst2}", "--task", "cola"), _DM, 2, "unknown task"),
    Case("probe-evaluate-weights-truncated", ("evaluate", "--model", "{sst2}", "--task", "sst2", "--data-dir",
                                              "{tmp}/glue"), _truncated_classifier, 2, "could not be loaded"),
    Case("evaluate-not-a-model", ("evaluate", "--model", "{notes}", "--task", "sst2"), _DM, 2,
         "not a model directory, a .tflite or an .onnx file"),
    Case("evaluate-not-a-model-dir", ("evaluate", "--model", "{tmp}", "--task", "sst2"), _DM, 2,
         "is not a model directory"),
    Case("evaluate-tflite-without-app-json", ("evaluate", "--model", "{lone}", "--task", "sst2"), _DM, 2,
         "no app.json beside it"),
    Case("evaluate-tflite-of-another-task", ("evaluate", "--model", "{app_tflite}", "--task", "rte"), _DM, 2,
         "fine-tuned on sst2, not rte"),
    Case("export-model-unknown-device", ("export", "--model", "{sst2}", *_EXPORT_TO, "--onnx", "--device", "pixel99"),
         _DM, 2, "pixel99"),
    Case("export-run-with-device", ("export", "{tmp}", "--device", "pixel4", *_EXPORT_TO), None, 2,
         "--device applies to --model"),
    Case("export-model-run-confirmed-without-task", ("export", "--model", "{run}", *_EXPORT_TO, "--onnx"), _DM, 2,
         "was not fine-tuned (nas confirm ran without --task)"),
    Case("measure-model-missing", ("measure", "--backend", "tflite", "--model", "{tmp}/none.tflite"), None, 2,
         "no such file"),
    Case("measure-model-a-directory", ("measure", "--backend", "tflite", "--model", "{tmp}"), None, 2,
         "is a directory"),
    Case("measure-model-not-tflite", ("measure", "--backend", "tflite", "--model", "{notes}"), _DM, 2,
         "is not a .tflite file"),
    Case("measure-model-damaged", ("measure", "--backend", "tflite", "--model", "{lone}"), _DM, 2,
         _tflite_phrase("LiteRT cannot load it as a model")),
    Case("measure-model-torch-backend", ("measure", "--model", "{lone}"), _DM, 2, "use --backend tflite"),
    Case("measure-model-with-out", ("measure", "--backend", "tflite", "--model", "{lone}", "--out", "{tmp}/m.csv"),
         _DM, 2, "give no --arch, --archs, --out"),
    Case("measure-model-on-pixel4", ("measure", "--backend", "tflite", "--model", "{lone}", "--device", "pixel4"),
         _DM, 2, "times this machine, not pixel4"),
    Case("measure-arch-without-out", ("measure", "--arch", "mobilebert-tiny"), None, 2, "give --out FILE"),
]

# issue 34: the product command that writes nas/accuracy/proxy_fit.json (benchmarks call it, not the reverse)
ACCURACY_CASES: list[Case] = [
    Case("fit-proxy-truth-missing", ("accuracy", "fit-proxy", "{tmp}/none.json", "--out", "{tmp}/fit.json"), None, 2,
         "none.json"),
    Case("probe-fit-proxy-would-replace", ("accuracy", "fit-proxy", "{truth}", "--out", "{fit}"),
         lambda t: {"truth": str(_copy_proxy_fit(t / "truth.json")), "fit": str(_copy_proxy_fit(t / "fit.json"))}, 2,
         "already exists; pass --overwrite", ("fit",)),
    # issue 31 item 7: `nas supernet ship` and `--estimator predictor` (shipped root: the row's tmp folder)
    Case("ship-supernet-missing", ("supernet", "ship", "{tmp}/gone", "--name", "x"), _E, 2,
         "is not a supernet directory", env=(("NAS_SHIPPED_DIR", "{tmp}/shipped"),)),
    Case("ship-without-a-predictor", ("supernet", "ship", "{a}", "--name", "x"), _E, 2,
         "run `nas supernet score", ("a",), env=(("NAS_SHIPPED_DIR", "{tmp}/shipped"),)),
    Case("ship-name-exists", ("supernet", "ship", "{b}", "--name", "a"), _E, 2, "already holds a shipped predictor; "
         "pass --overwrite", ("a",), env=(("NAS_SHIPPED_DIR", "{tmp}"),)),
    Case("ship-bad-name", ("supernet", "ship", "{a}", "--name", "../up"), _E, 2, "--name '../up': use lower-case",
         env=(("NAS_SHIPPED_DIR", "{tmp}/shipped"),)),
    # held-out probe: $NAS_SHIPPED_DIR naming a file was an OSError's "File exists"
    Case("probe-ship-root-is-a-file", ("supernet", "ship", "{a}", "--name", "x"), _E, 2,
         "is a file, not a directory", env=(("NAS_SHIPPED_DIR", "{a}/supernet.json"),)),
    Case("search-predictor-none-shipped", ("search", "--device", "pixel4", "--budget", "62ms", "--estimator",
                                           "predictor", "--out", "{tmp}/run"), _E, 2,
         "no predictor is shipped", env=(("NAS_SHIPPED_DIR", "{plain}"),)),
    Case("search-predictor-unknown", ("search", "--device", "pixel4", "--budget", "62ms", "--estimator",
                                      "predictor", "--predictor", "nope", "--out", "{tmp}/run"), _E, 2,
         "--predictor nope: no such shipped predictor", env=(("NAS_SHIPPED_DIR", "{plain}"),)),
    Case("search-predictor-with-supernet-estimator", ("search", "--device", "pixel4", "--budget", "62ms",
                                                      "--estimator", "supernet", "--supernet", "{a}", "--predictor",
                                                      "x", "--out", "{tmp}/run"), _E, 2,
         "the supernet estimator does not take --predictor"),
]

ALL_CASES = (CLI_CASES + BEYOND_CASES + TRAINING_CASES + LATENCY_CASES + SEARCH_CASES + CONFIRM_CASES + TFLITE_CASES
             + IO_CASES + DEPLOY_CASES + DATA_FIT_CASES + ACCURACY_CASES + PROBE_CASES + bad_input_rows_outputs.CASES
             + bad_input_rows_damaged.CASES + bad_input_rows_options.CASES + bad_input_rows_probe_latency.CASES
             + bad_input_rows_probe_search.CASES + bad_input_rows_probe_training.CASES
             + bad_input_rows_probe_ship.CASES)


# ====================================================================== the test
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in ALL_CASES])
def test_bad_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.chdir(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    values = {"tmp": str(work)}
    if case.setup is not None:
        make = SETUPS[case.setup] if isinstance(case.setup, str) else case.setup
        values.update(make(work))
    argv = [arg.format(**values) for arg in case.argv]
    for name, value in case.env:
        monkeypatch.setenv(name, value.format(**values))
    before = {name: snapshot(Path(values[name])) for name in case.unchanged}
    capsys.readouterr()  # what the setup printed (e.g. transformers' save progress) is not the command's

    code, out, err = run_cli(argv, capsys)

    assert "Traceback" not in out + err, err
    assert code == case.code, f"exit {code}, expected {case.code}\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}"
    if case.code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), f"not one `error:` line:\n{err}"
        assert case.phrase.lower() in lines[0].lower(), lines[0]
        assert "╭" not in err and "│" not in err  # no Rich box
    else:
        assert case.phrase.lower() in (out + err).lower(), out + err
    for name, earlier in before.items():
        assert snapshot(Path(values[name])) == earlier, f"{name} ({values[name]}) was changed"


def test_every_setup_named_by_a_row_exists() -> None:
    for case in ALL_CASES:
        assert case.setup is None or callable(case.setup) or case.setup in SETUPS, case.id
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES), "row ids must be unique"


def test_no_traceback_from_a_subprocess(tmp_path: Path) -> None:
    """The installed entry point (not only `main` in-process) prints one line for a usage error."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "nas.cli", "arch", "show", "mobilebert", "--seq-len", "0"],
                            capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
                            env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
