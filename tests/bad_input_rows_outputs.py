"""Rows of `tests/test_bad_input.py` (the held-out probe of 2026-12-07, group: outputs): see that file's docstring for
what a row checks. Setups used only here are defined here."""

from __future__ import annotations

from pathlib import Path

from tests.bad_input_support import Case

# The options `tests/test_bad_input.py`'s `_search_run` searched its run with (a resume must give them again).
_SEARCH = ("search", "--device", "pixel4", "--budget", "62ms", "--space", "mobilebert-small", "--seed", "0")
_NOT_UTF8 = "bad\udcffname"  # how Python reads the argument $'bad\xffname' (a byte that is not UTF-8)


def _search_run(tmp: Path) -> dict[str, str]:
    """The shared real run (made once: tests/test_bad_input.py), a broken TOML and output paths not yet there."""
    from tests.test_bad_input import _search_run as shared_run  # imported late: that module imports this one

    return _with_extras(tmp, shared_run(tmp))


def _run_of_unknown_device(tmp: Path) -> dict[str, str]:
    """The run, as if searched with --profile FILE for a device this installation does not know."""
    from tests.test_bad_input import _profile_run  # imported late: that module imports this one

    return _with_extras(tmp, _profile_run(tmp))


def _with_extras(tmp: Path, values: dict[str, str]) -> dict[str, str]:
    (tmp / "broken.toml").write_text("name = 'x'\n[target\n")
    return {**values, "toml": str(tmp / "broken.toml"), "ex": str(tmp / "ex"), "bad": str(tmp / _NOT_UTF8)}


def _run_with_best_a_file(tmp: Path) -> dict[str, str]:
    """The run, its best/ folder replaced by a file."""
    import shutil

    values = _search_run(tmp)
    best = Path(values["run"]) / "best"
    shutil.rmtree(best)
    best.write_text("x\n")
    return values


def _not_utf8_out(tmp: Path) -> dict[str, str]:
    return {"bad": str(tmp / _NOT_UTF8), "bad_file": str(tmp / f"{_NOT_UTF8}.jsonl")}


def _supernet_without_vocab(tmp: Path) -> dict[str, str]:
    """A tiny supernet (untrained: written as `nas supernet train` saves one) whose vocab.txt is gone."""
    from nas.supernet import store
    from nas.supernet.elastic import ElasticMobileBert
    from search_spaces.space import SearchSpace
    from tests.supernet_helpers import SPACE_TOML

    (tmp / "space.toml").write_text(SPACE_TOML)
    (tmp / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")
    elastic = ElasticMobileBert(SearchSpace.load(tmp / "space.toml"))
    store.save(elastic, tmp / "sn", SPACE_TOML, tmp / "vocab.txt", {"teacher": str(tmp / "teacher")})
    (tmp / "sn" / store.VOCAB).unlink()
    return {"sn": str(tmp / "sn"), "x": str(tmp / "x")}


def _teacher_inputs(tmp: Path) -> dict[str, str]:
    from tests.distill_helpers import write_corpus

    return {"corpus": str(write_corpus(tmp / "corpus.txt")), "out": str(tmp / "t" / "teacher"), "t": str(tmp / "t")}


_TEACHER = ("teacher", "--arch", "mobilebert-tiny", "--steps", "1", "--batch-size", "2", "--seq-len", "16")

CASES: list[Case] = [
    # 1: an output name that is not UTF-8 is refused by the one output check, before any work
    Case("probe11-search-out-not-utf8", ("search", "--device", "pixel4", "--budget", "62ms", "--trials", "5",
                                         "--estimator", "params", "--out", "{bad}"), _not_utf8_out, 2,
         "not valid UTF-8", ("bad",)),  # exit 1 (UnicodeEncodeError) after writing run.json, trials, part of best/
    Case("probe11-export-to-not-utf8", ("export", "{run}", "--to", "{bad}"), _search_run, 2, "not valid UTF-8",
         ("bad", "run")),  # exit 1 after writing arch.json, config.json, ...
    Case("probe11-calibrate-suggest-out-not-utf8", ("calibrate", "--suggest", "5", "--from", "pixel4", "--out",
                                                    "{bad_file}"), _not_utf8_out, 2, "not valid UTF-8",
         ("bad_file",)),
    # 2: the device or profile of `export --tvm` is resolved before a file is written
    Case("probe11-export-tvm-unknown-device-writes-nothing", ("export", "{run}", "--to", "{ex}", "--tvm"),
         _run_of_unknown_device, 2, "not a known device", ("ex", "run")),
    Case("probe11-export-tvm-broken-profile-writes-nothing", ("export", "{run}", "--to", "{ex}", "--tvm", "--profile",
                                                              "{toml}"), _search_run, 2, "not valid TOML",
         ("ex", "run")),
    # 3: `supernet extract` reads the supernet's vocabulary before writing the sub-network
    Case("probe11-supernet-extract-vocab-missing", ("supernet", "extract", "{sn}", "--arch",
                                                    '{{"num_hidden_layers": 1}}', "--out", "{x}"),
         _supernet_without_vocab, 2, "vocab.txt: no such file", ("x", "sn")),
    # 4: a resumed search checks where its results go before the first new trial
    Case("probe11-search-resume-best-is-a-file", (*_SEARCH, "--trials", "80", "--resume", "--out", "{run}"),
         _run_with_best_a_file, 2, "best is a file", ("run",)),  # ran the trials, then failed on best/
    # 5: options the chosen export does not use are refused, not ignored
    Case("probe11-export-run-calibration-examples", ("export", "{run}", "--to", "{ex}", "--calibration-examples", "5"),
         _search_run, 2, "--calibration-examples applies to --model", ("ex",)),
    Case("probe11-export-model-calibration-without-int8-full",
         ("export", "--model", "{tmp}", "--to", "{tmp}/y", "--onnx", "--calibration-examples", "5"), None, 2,
         "add --tflite-int8-full"),
    Case("probe11-export-profile-without-tvm", ("export", "{run}", "--to", "{ex}", "--profile", "{toml}"),
         _search_run, 2, "--profile applies to --tvm", ("ex",)),
    # 6: `nas teacher` refused after creating --out leaves no empty folder behind
    Case("probe11-teacher-corpus-missing-leaves-no-out", (*_TEACHER, "--corpus", "{tmp}/none.txt", "--out", "{out}"),
         _teacher_inputs, 2, "does not exist", ("out", "t")),
    Case("probe11-teacher-vocab-missing-leaves-no-out", (*_TEACHER, "--corpus", "{corpus}", "--vocab",
                                                         "{tmp}/none.txt", "--out", "{out}"),
         _teacher_inputs, 2, "not found", ("out", "t")),
    Case("probe11-distill-corpus-missing-leaves-no-out", ("distill", "--student", "mobilebert-tiny", "--schedule",
                                                          "none", "--corpus", "{tmp}/none.txt", "--out", "{out}"),
         _teacher_inputs, 2, "does not exist", ("out", "t")),
    Case("probe11-export-model-data-dir-without-int8-full",
         ("export", "--model", "{tmp}", "--to", "{tmp}/y", "--onnx", "--data-dir", "{tmp}"), None, 2,
         "--data-dir applies to --tflite-int8-full"),
]
