"""A tiny search run, teacher, corpora and GLUE folder for the tests of `nas confirm` (seconds per trial)."""

from __future__ import annotations

import json
from pathlib import Path

from nas.search.trial import Trial
from tests.distill_helpers import STUDENT_ARCH, tiny_models, write_corpus

# Front points of the fake run: (layers, intermediate size, latency ms, estimate); more layers, better estimate.
FRONT = ((1, 32, 1.0, 0.50), (2, 32, 2.0, 0.60), (3, 32, 3.0, 0.70), (3, 64, 4.0, 0.80))
OVER_BUDGET = (4, 64, 50.0)


def make_run(run: Path) -> Path:
    """A `nas search` run directory (run.json + trials.jsonl) whose front is FRONT, within 10 ms."""
    run.mkdir(parents=True)
    trials = [Trial.new(i, 0, STUDENT_ARCH.replace(num_hidden_layers=layers, intermediate_size=width), ms, est)
              for i, (layers, width, ms, est) in enumerate(FRONT)]
    layers, width, ms = OVER_BUDGET
    trials.append(Trial.new(len(trials), 0, STUDENT_ARCH.replace(num_hidden_layers=layers, intermediate_size=width),
                            ms, float("nan")))
    (run / "trials.jsonl").write_text("".join(json.dumps(t.to_json()) + "\n" for t in trials))
    options = {"budget_ms": 10.0, "device": "pixel4", "strategy": "nsga2", "estimator": "proxy", "trials": 5}
    (run / "run.json").write_text(json.dumps({"options": options, "seed": 0, "references": [],
                                              "estimator": {"name": "proxy", "quality": "test"}}))
    return run


def make_inputs(tmp: Path) -> dict[str, str]:
    """A tiny teacher (32 wide, as the students), corpora and an SST-2 folder; paths by name."""
    teacher, _ = tiny_models()
    teacher.save_pretrained(tmp / "teacher")
    glue = tmp / "glue" / "SST-2"
    glue.mkdir(parents=True)
    rows = "sentence\tlabel\n" + "".join(f"a {'good' if i % 2 else 'bad'} film {i}\t{i % 2}\n" for i in range(40))
    for split in ("train", "dev"):
        (glue / f"{split}.tsv").write_text(rows)
    return {"teacher": str(tmp / "teacher"), "corpus": str(write_corpus(tmp / "corpus.txt")),
            "eval": str(write_corpus(tmp / "eval.txt", paragraphs=40, seed=1)), "glue": str(tmp / "glue"),
            "run": str(make_run(tmp / "run"))}


def toy_args(paths: dict[str, str], *extra: str) -> list[str]:
    return ["confirm", paths["run"], "--teacher", paths["teacher"], "--corpus", paths["corpus"], "--eval-corpus",
            paths["eval"], "--task", "sst2", "--data-dir", paths["glue"], "--batch-size", "4", "--seq-len", "24",
            "--finetune-examples", "16", "--finetune-epochs", "1", *extra]
