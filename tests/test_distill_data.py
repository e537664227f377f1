"""Corpus → MLM/NSP examples, GLUE readers on the real files, metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nas.distill.data_corpus import MASK_PROB, PretrainingData, mask_tokens, read_paragraphs
from nas.distill.data_glue import read_split
from nas.distill.metrics import task_metrics
from nas.distill.vocab import load_tokenizer
from nas_common.errors import UserInputError
from nas_common.paths import data_dir
from tests.distill_helpers import write_corpus

GLUE = data_dir(sub="glue") or Path("glue (no data folder)")
needs_glue = pytest.mark.skipif(not GLUE.is_dir(), reason=f"GLUE data not found at {GLUE} (set NAS_DATA_DIR)")


def test_tokenizer_has_the_bert_uncased_vocab() -> None:
    tok = load_tokenizer(None)
    assert len(tok) == 30522 and tok.mask_token_id == 103 and tok.cls_token_id == 101
    assert tok("Hello", add_special_tokens=False)["input_ids"] == [7592]


def test_masking_rates() -> None:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 2000, (64, 128))
    masked, labels = mask_tokens(ids, torch.ones_like(ids), {0, 101, 102}, 103, 30522, gen)
    chosen = labels != -100
    assert chosen.float().mean().item() == pytest.approx(MASK_PROB, abs=0.01)
    assert (masked[chosen] == 103).float().mean().item() == pytest.approx(0.8, abs=0.03)
    assert (masked[chosen] == ids[chosen]).float().mean().item() == pytest.approx(0.1, abs=0.03)
    assert torch.equal(masked[~chosen], ids[~chosen])


def test_pretraining_batches(tmp_path: Path) -> None:
    data = PretrainingData(write_corpus(tmp_path / "c.txt"), load_tokenizer(None), 32, 8, seed=3)
    batch = data.batch(5)
    assert torch.equal(batch["input_ids"], data.batch(5)["input_ids"])  # a pure function of the step
    assert batch["input_ids"].shape[1] <= 32 and (batch["input_ids"][:, 0] == 101).all()
    nsp = [p.is_random_next for p in data.pairs]
    assert 0.3 < sum(nsp) / len(nsp) < 0.7
    assert (batch["token_type_ids"].sum(1) > 0).all()


def test_bad_corpus_paths(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        read_paragraphs(tmp_path / "missing.txt")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UserInputError, match="not UTF-8"):
        read_paragraphs(binary)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserInputError, match="no .txt"):
        read_paragraphs(empty)
    (tmp_path / "tiny.txt").write_text("one line only .\n")
    with pytest.raises(UserInputError, match="too small"):
        PretrainingData(tmp_path / "tiny.txt", load_tokenizer(None), 32, 4)


@needs_glue
@pytest.mark.parametrize(("task", "train", "dev"), [("mrpc", 3668, 408), ("sst2", 67349, 872),
                                                     ("rte", 2490, 277), ("stsb", 5749, 1500)])
def test_glue_readers_parse_the_real_files(task: str, train: int, dev: int) -> None:
    dev_rows = read_split(GLUE, task, "dev")
    assert len(dev_rows) == dev and len(read_split(GLUE, task, "train")) == train
    labels = {e.label for e in dev_rows}
    if task == "stsb":
        assert min(labels) >= 0 and max(labels) <= 5 and dev_rows[0].text_b
    else:
        assert labels == {0, 1}
    if task == "mrpc":
        assert not dev_rows[0].text_a.startswith("\ufeff") and dev_rows[0].text_b.startswith('"')


def test_glue_unknown_task(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="unknown task"):
        read_split(tmp_path, "cola", "dev")
    with pytest.raises(UserInputError, match="not found"):
        read_split(tmp_path, "sst2", "dev")


def test_metrics() -> None:
    logits = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    out = task_metrics("mrpc", logits, np.array([1, 0, 0, 1]))
    assert out == {"accuracy": 0.75, "f1": pytest.approx(0.8)}
    sts = task_metrics("stsb", np.array([1.0, 2.0, 3.0, 5.0]), np.array([0.1, 0.2, 0.3, 0.4]))
    assert sts["spearman"] == pytest.approx(1.0) and 0.9 < sts["pearson"] < 1.0



def test_masking_caps_predictions_per_sequence() -> None:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 2000, (16, 512))
    _, labels = mask_tokens(ids, torch.ones_like(ids), {0, 101, 102}, 103, 30522, gen, max_predictions=20)
    per_row = (labels != -100).sum(1)
    assert int(per_row.max()) == 20 and int(per_row.min()) >= 1  # 15 % of 512 ≈ 77 would be drawn uncapped
