"""`nas supernet extract` and `score`: an extracted sub-network is a `transformers` model equal to the supernet's
sub-network, `nas distill --student D` starts from its weights, `nas finetune --model D` fine-tunes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nas.cli import main
from nas.supernet.api import load_supernet
from tests.supernet_helpers import inline, toy_inputs, train_argv

torch.set_num_threads(1)
SUBNET = {"num_hidden_layers": 2, "intra_bottleneck_size": 8, "num_attention_heads": 2, "intermediate_size": 16,
          "num_feedforward_networks": 1}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()  # only this command's output
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], Path]:
    paths = toy_inputs(tmp_path_factory.mktemp("supernet_inputs"))
    out = tmp_path_factory.mktemp("supernet") / "sn"
    with pytest.raises(SystemExit) as exit_info:
        main(train_argv(paths, out, "--steps", "2", "--eval-corpus", str(paths["corpus"])))
    assert exit_info.value.code == 0
    return paths, out


def test_extracted_model_loads_and_equals_the_subnet(trained: tuple[dict[str, Path], Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from transformers import MobileBertForPreTraining

    _, supernet_dir = trained
    out = tmp_path / "sub"
    code, _, err = _run(["supernet", "extract", str(supernet_dir), "--arch", inline(**SUBNET), "--out", str(out)],
                        capsys)
    assert code == 0, err
    assert json.loads((out / "arch.json").read_text())["num_hidden_layers"] == 2
    model = MobileBertForPreTraining.from_pretrained(out, attn_implementation="eager").eval()
    supernet = load_supernet(supernet_dir)
    arch = supernet.space.to_arch({**supernet.space.to_point(supernet.space.sample(__import__("numpy").random
                                                                                   .default_rng(0))), **SUBNET})
    batch = supernet.eval_batches(batches=1, batch_size=3)[0]
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        want = supernet.elastic.view(arch)(**inputs)
        got = model(**inputs)
    torch.testing.assert_close(got.prediction_logits, want.prediction_logits, atol=1e-5, rtol=0)
    code, _, err = _run(["supernet", "extract", str(supernet_dir), "--arch", inline(**SUBNET), "--out", str(out)],
                        capsys)
    assert code == 2 and "--overwrite" in err and err.count("\n") == 1
    code, _, err = _run(["supernet", "extract", str(supernet_dir), "--arch", inline(num_hidden_layers=9),
                         "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "not a choice" in err and not (tmp_path / "x").exists()


def test_distill_starts_from_the_extracted_weights(trained: tuple[dict[str, Path], Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from safetensors.torch import load_file

    from nas.distill import pipeline
    from nas.distill.options import RunOptions
    from nas.supernet.api import extract

    paths, supernet_dir = trained
    supernet = load_supernet(supernet_dir)
    arch = supernet.space.to_arch({**supernet.space.to_point(supernet.space.sample(__import__("numpy").random
                                                                                   .default_rng(0))), **SUBNET})
    sub = extract(supernet, arch, tmp_path / "sub")
    seen: dict[str, dict[str, torch.Tensor]] = {}

    class Recorder(pipeline.Trainer):  # records the student's weights when training would start
        def run(self, resume: bool = False) -> list:
            seen["start"] = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            return []

    monkeypatch.setattr(pipeline, "Trainer", Recorder)
    opts = RunOptions(str(paths["corpus"]), tmp_path / "student", batch_size=4, seq_len=24, max_predictions=4,
                      micro_batch_size=4, progress=False)
    details = pipeline.run_distill(pipeline.resolve_student(str(sub)), str(paths["teacher"]), "jkt", 1, 1, opts,
                                   warm_start=str(sub))
    assert details["warm_start"] == str(sub)
    inherited = load_file(sub / "model.safetensors")
    assert all(torch.equal(seen["start"][k], v) for k, v in inherited.items())
    cold = pipeline.run_distill(arch, str(paths["teacher"]), "jkt", 1, 1,
                                RunOptions(**{**opts.__dict__, "out": tmp_path / "cold"}))
    assert cold["warm_start"] is None
    name = "mobilebert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(seen["start"][name], inherited[name])


def test_distill_and_finetune_cli_on_an_extracted_model(trained: tuple[dict[str, Path], Path], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    paths, supernet_dir = trained
    sub = tmp_path / "sub"
    assert _run(["supernet", "extract", str(supernet_dir), "--arch", inline(**SUBNET), "--out", str(sub)],
                capsys)[0] == 0
    code, _, err = _run(["distill", "--student", str(sub), "--teacher", str(paths["teacher"]), "--corpus",
                         str(paths["corpus"]), "--schedule", "jkt", "--steps-per-layer", "1", "--pd-steps", "1",
                         "--batch-size", "4", "--seq-len", "24", "--max-predictions", "4", "--warmup", "1",
                         "--out", str(tmp_path / "student")], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "student" / "nas_distill.json").read_text())["warm_start"] == str(sub)
    glue = tmp_path / "glue" / "SST-2"
    glue.mkdir(parents=True)
    rows = ["sentence\tlabel"] + [f"{'good fun film' if i % 2 else 'dull bad plot'} {i}\t{i % 2}" for i in range(16)]
    for split in ("train", "dev"):
        (glue / f"{split}.tsv").write_text("\n".join(rows) + "\n")
    code, _, err = _run(["finetune", "--model", str(sub), "--task", "sst2", "--data-dir", str(tmp_path / "glue"),
                         "--epochs", "1", "--batch-size", "8", "--seq-len", "16", "--out", str(tmp_path / "ft")],
                        capsys)
    assert code == 0, err
    assert "accuracy" in json.loads((tmp_path / "ft" / "metrics.json").read_text())["dev"]


def test_score_prints_one_line_per_arch(trained: tuple[dict[str, Path], Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _, supernet_dir = trained
    archs = [inline(**SUBNET), inline(num_hidden_layers=1)]
    code, out, err = _run(["supernet", "score", str(supernet_dir), "--no-predictor",
                           *[a for x in archs for a in ("--arch", x)]], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(" mlm " in line for line in lines)
    assert "an estimate whose measured quality is: not measured for these weights" in err  # a fresh supernet
    code, out, _ = _run(["supernet", "score", str(supernet_dir), "--arch", archs[0], "--json", "--measure",
                         "distill", "--no-predictor"], capsys)
    row = json.loads(out)
    assert code == 0 and row["measure"] == "distill" and row["score"] == row["losses"]["distill"] > 0
    assert row["quality"].startswith("not measured for --measure distill")
    assert row["arch_fields"]["num_hidden_layers"] == 2
    code, _, err = _run(["supernet", "score", str(supernet_dir), "--arch", archs[0], "--measure", "bleu"], capsys)
    assert code == 2 and err.count("\n") == 1
