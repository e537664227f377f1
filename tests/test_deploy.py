"""Shipping a trained model (issue 35): `nas finetune` keeps it, `nas export --model` converts it with its task head,
`nas evaluate` scores each format on the same dev examples.

The acceptance check: a tiny classifier fine-tuned for a few steps, exported, and the file's logits compared with
torch on real tokenised sentences padded to the export's length — and with torch on the same sentences unpadded
(the attention mask is honoured). Tolerance: `RELATIVE` × the largest |logit|. Measured here: 2e-7 relative
(fp32, ε = 1.2e-7, through a few dozen reductions of width ≤ 64); 1e-5 leaves 50× for another summation order
(XNNPACK, onnxruntime, another CPU). The tiny model's logits are small (about 0.005) and move by about 6e-4 of
their size when the mask is ignored — 60× the tolerance — so the check can fail (asserted).
TFLite needs the `tflite` extra (skips without it, and converting takes ~40 s here: slow); ONNX needs only the
dev extra (onnx, onnxscript; onnxruntime where installed, else onnx's reference evaluator).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from nas.deploy.app import INPUTS, encode
from nas.distill.data_glue import read_split
from tests.bad_input_support import run_cli
from tests.deploy_helpers import encoder_dir, fine_tuned

SEQ = 24
RELATIVE = 1e-5


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> tuple[Path, Path]:
    """(a tiny SST-2 classifier written by `nas finetune`, its GLUE root)."""
    return fine_tuned(tmp_path_factory.mktemp("deploy"), SEQ)


def _torch(model_dir: Path):
    from nas.deploy.model_dir import load_module, read_model_dir

    return load_module(read_model_dir(model_dir), "logits")


def _run_torch(module, inputs: dict[str, np.ndarray]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return module(*(torch.from_numpy(inputs[n]) for n in INPUTS)).numpy()


def _check_padding(run_file, model_dir: Path, glue: Path) -> float:
    """The file's logits on dev sentences padded to SEQ equal torch's, padded and unpadded; the largest error."""
    from nas.distill.vocab import load_tokenizer

    tokenizer = load_tokenizer(model_dir)
    module = _torch(model_dir)
    examples = read_split(glue, "sst2", "dev")
    padded = encode(tokenizer, examples, SEQ)
    lengths = padded["attention_mask"].sum(1)
    assert lengths.min() < lengths.max() < SEQ  # real sentences of several lengths, all padded
    expected = _run_torch(module, padded)
    scale = float(np.abs(expected).max())
    tolerance = RELATIVE * scale
    worst = 0.0
    for row, length in enumerate(lengths):
        got = run_file({n: padded[n][row:row + 1] for n in INPUTS})
        unpadded = _run_torch(module, {n: padded[n][row:row + 1, :length] for n in INPUTS})
        worst = max(worst, float(np.abs(got - expected[row:row + 1]).max()), float(np.abs(got - unpadded).max()))
    assert worst <= tolerance, (worst, tolerance)
    # the check can fail: the same sentences with the mask ignored give other logits
    ignored = _run_torch(module, {**padded, "attention_mask": np.ones_like(padded["attention_mask"])})
    assert float(np.abs(ignored - expected).max()) > 10 * tolerance
    return worst


def test_finetune_keeps_a_loadable_classifier(classifier) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model_dir, _ = classifier
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    assert model.config.finetuning_task == "sst2"
    assert model.config.id2label == {0: "negative", 1: "positive"}
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert tokenizer.model_max_length == SEQ and tokenizer("a film")["input_ids"][0] == tokenizer.cls_token_id
    assert (model_dir / "vocab.txt").is_file() and (model_dir / "metrics.json").is_file()


def test_evaluate_of_the_directory_repeats_finetunes_dev_metric(classifier, capsys) -> None:
    """`nas evaluate` (padding to the length) scores what `nas finetune` (padding to the batch) measured."""
    model_dir, glue = classifier
    code, out, err = run_cli(["evaluate", "--model", str(model_dir), "--task", "sst2", "--data-dir", str(glue),
                              "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    recorded = json.loads((model_dir / "metrics.json").read_text())["dev"]
    assert result["models"][0]["metrics"] == pytest.approx(recorded, abs=1e-12)
    assert result["examples"] == 20 and result["sequence_length"] == SEQ


def test_onnx_logits_match_torch_with_padding(classifier, tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxscript", reason="needs the dev extra (onnx, onnxscript)")
    from nas.export.formats import onnx_session

    model_dir, glue = classifier
    out = tmp_path / "ship"
    code, stdout, err = run_cli(["export", "--model", str(model_dir), "--to", str(out), "--onnx"], capsys)
    assert code == 0, err
    assert "trained weights" in stdout and "untrained" not in stdout
    run, _ = onnx_session(out / "model.onnx")
    _check_padding(run, model_dir, glue)
    app = json.loads((out / "app.json").read_text())
    assert app["labels"] == ["negative", "positive"] and app["task"] == "sst2" and app["sequence_length"] == SEQ
    assert app["tokenizer"]["special_tokens"]["pad"]["id"] == 0 and (out / "vocab.txt").is_file()
    assert "trained weights" in json.loads((out / "export.json").read_text())["onnx"]["weights"]


@pytest.mark.slow
def test_tflite_logits_match_torch_with_padding(classifier, tmp_path: Path, capsys) -> None:
    """The acceptance test: `nas export --model --tflite-int8` of a fine-tuned classifier; fp32 logits equal
    torch's on padded sentences; `nas evaluate` gives the same accuracy for the directory and the fp32 file."""
    pytest.importorskip("litert_torch", reason="needs the tflite extra (litert-torch): README, 'Your own phone'")
    pytest.importorskip("ai_edge_litert", reason="needs the tflite extra (ai-edge-litert)")
    from latency_models.tflite_backend import input_shapes, signature_runner

    model_dir, glue = classifier
    out = tmp_path / "ship"
    code, stdout, err = run_cli(["export", "--model", str(model_dir), "--to", str(out), "--tflite-int8"], capsys)
    assert code == 0, err
    assert input_shapes(out / "model.tflite") == {n: [1, SEQ] for n in INPUTS}
    _check_padding(signature_runner(out / "model.tflite"), model_dir, glue)
    code, stdout, err = run_cli(["evaluate", "--model", str(model_dir), "--model", str(out / "model.tflite"),
                                 "--model", str(out / "model_int8.tflite"), "--task", "sst2", "--data-dir", str(glue),
                                 "--json"], capsys)
    assert code == 0, err
    result = json.loads(stdout)
    torch_row, fp32_row, _ = result["models"]
    assert fp32_row["metrics"] == torch_row["metrics"]
    fp32, int8 = result["comparisons"]
    assert fp32["predictions_differ"] == 0 and "interval95" in int8["metrics"]["accuracy"]
    # each written .tflite's latency measured on this machine, recorded beside the prediction (issue 35 item 5)
    measured = json.loads((out / "export.json").read_text())["latency"]["measured_here"]
    assert set(measured) == {"model.tflite", "model_int8.tflite"}
    assert all(m["median_ms"] > 0 and "this machine" in m["what"] for m in measured.values())
    assert measured["model.tflite"]["again"] == f"nas measure --backend tflite --model {out / 'model.tflite'}"


def test_export_prints_and_records_the_predicted_latency_as_a_prediction(classifier, tmp_path: Path,
                                                                          capsys) -> None:
    """Item 5: the export states the predicted latency of the model's architecture on the target device at the
    export's length, labelled a prediction, with the interval `nas latency` gives for that architecture."""
    pytest.importorskip("onnxscript", reason="needs the dev extra (onnx, onnxscript)")
    model_dir, _ = classifier
    out = tmp_path / "ship"
    code, stdout, err = run_cli(["export", "--model", str(model_dir), "--to", str(out), "--onnx", "--device",
                                 "pixel4"], capsys)
    assert code == 0, err
    code, said, err = run_cli(["latency", "--arch", str(model_dir), "--seq-len", str(SEQ), "--json"], capsys)
    assert code == 0, err
    expected = json.loads(said)
    (line,) = [x for x in stdout.splitlines() if x.startswith("predicted latency on pixel4")]
    assert "a prediction, not a measurement" in line and f"seq {SEQ}" in line
    assert f"{expected['latency_ms']:.1f} ms, 90% interval {expected['interval']['lower_ms']:.1f}-" in line
    for record in (json.loads((out / "export.json").read_text())["latency"],
                   json.loads((out / "app.json").read_text())["latency"]):
        predicted = record["predicted"]
        assert predicted["what"].startswith("prediction") and "not a measurement" in predicted["what"]
        assert predicted["device"] == "pixel4" and predicted["seq_len"] == SEQ
        assert predicted["latency_ms"] == pytest.approx(expected["latency_ms"], abs=1e-3)
        assert predicted["interval"] == pytest.approx({**expected["interval"]}, abs=1e-3)
        assert "measured_here" not in record  # no .tflite written: nothing measured
    assert "measured host latency" not in stdout


def test_a_confirmed_run_names_its_winners_fine_tuned_model(classifier, tmp_path: Path) -> None:
    """`--model RUN` (or RUN/best) after `nas confirm --task`: the winner's fine-tuned model, found from the run."""
    import shutil

    from nas.deploy.model_dir import read_model_dir
    from nas_common.errors import UserInputError

    model_dir, _ = classifier
    run = tmp_path / "run"
    tuned = run / "confirm" / "models" / "7" / "model" / "dev-24"
    shutil.copytree(model_dir, tuned)
    (run / "best").mkdir()
    (run / "best" / "config.json").write_text("{}\n")  # best/ holds the untrained arch's config too
    note = {"arch_id": 7, "row": {"arch_id": 7, "dev_steps": 24.0, "task": "sst2",
                                  "model_dir": "/elsewhere/confirm/models/7/model"}}
    (run / "best" / "confirmed.json").write_text(json.dumps(note))
    for named in (run, run / "best"):
        trained = read_model_dir(named)
        assert trained.directory == tuned and trained.task == "sst2" and "trial 7" in trained.via
    shutil.rmtree(tuned)
    with pytest.raises(UserInputError, match="fine-tuned model .* is missing"):
        read_model_dir(run)


def test_evaluate_compares_torch_and_onnx_on_the_same_examples(classifier, tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxruntime", reason="evaluating an ONNX file needs the onnx extra (onnxruntime)")
    model_dir, glue = classifier
    out = tmp_path / "ship"
    assert run_cli(["export", "--model", str(model_dir), "--to", str(out), "--onnx"], capsys)[0] == 0
    code, stdout, err = run_cli(["evaluate", "--model", str(model_dir), "--model", str(out / "model.onnx"),
                                 "--task", "sst2", "--data-dir", str(glue)], capsys)
    assert code == 0, err
    assert "model.onnx" in stdout and "accuracy +0.00 points" in stdout and "0 of 20 predictions differ" in stdout
    assert "example" in err  # the progress bar over the dev set


def test_evaluate_onnx_without_onnxruntime_says_how_to_install(tmp_path: Path, capsys, monkeypatch) -> None:
    from nas.deploy.evaluate import ONNX_MISSING

    (tmp_path / "model.onnx").write_bytes(b"")
    (tmp_path / "app.json").write_text(json.dumps({"output": {"name": "logits"}, "task": "sst2",
                                                   "sequence_length": SEQ}))
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what find_spec reports for a missing package
    code, _, err = run_cli(["evaluate", "--model", str(tmp_path / "model.onnx"), "--task", "sst2"], capsys)
    assert code == 2 and err.strip() == f"error: {ONNX_MISSING}"
    assert "pip install -e '.[onnx]'" in err


def test_export_model_without_the_tflite_extra_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    import latency_models.tflite_backend as tflite_backend

    monkeypatch.setattr(tflite_backend, "available", lambda: False)
    model = encoder_dir(tmp_path / "encoder")
    capsys.readouterr()  # what saving the model printed
    code, _, err = run_cli(["export", "--model", str(model), "--to", str(tmp_path / "x"), "--tflite"], capsys)
    assert code == 2 and err.strip() == f"error: {tflite_backend.MISSING}", err
    assert not (tmp_path / "x").exists()


def test_paired_difference_and_its_interval() -> None:
    """Known outcomes: the second model fixes 6 errors and makes 2 new ones on 200 examples."""
    from scipy import stats

    from nas.deploy.paired import compare

    labels = np.array([i % 2 for i in range(200)])
    right = np.ones(200, dtype=bool)
    right[:20] = False  # the reference: 180 of 200 right
    other_right = right.copy()
    other_right[:6] = True
    other_right[100:102] = False
    logits = lambda ok: np.eye(2)[np.where(ok, labels, 1 - labels)]  # noqa: E731
    result = compare("sst2", logits(right), logits(other_right), labels)
    accuracy = result["metrics"]["accuracy"]
    assert accuracy["difference"] == pytest.approx(4 / 200)
    per_example = other_right.astype(float) - right.astype(float)
    half = 1.959963984540054 * per_example.std(ddof=1) / np.sqrt(200)
    assert accuracy["interval95"] == pytest.approx([4 / 200 - half, 4 / 200 + half])
    assert accuracy["mcnemar_p"] == pytest.approx(2 * stats.binom.cdf(2, 8, 0.5))
    assert result["predictions_differ"] == 8
    same = compare("stsb", np.arange(50.0)[:, None], np.arange(50.0)[:, None], np.arange(50.0))
    assert same["metrics"]["pearson"]["interval95"] == [0.0, 0.0]
