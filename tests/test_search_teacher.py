"""`nas search --teacher DIR`: every student the search proposes can be distilled from that teacher, by the
distillation's own validation (`nas.distill.layer_map.check_pair`), so `nas confirm` never meets a student
it must refuse (the README's small CPU sequence with the 12-head MiniLM teacher once picked an 8-head one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nas.cli import main
from nas.distill.layer_map import check_pair
from nas_common.errors import UserInputError
from search_spaces.arch import Arch


def _teacher(tmp: Path, heads: int, layers: int = 6, width: int = 384) -> Path:
    """A teacher directory as `nas teacher --init-from minilm` writes it (config only: the search reads no
    weights)."""
    from transformers import BertConfig

    path = tmp / f"teacher-{heads}h"
    BertConfig(hidden_size=width, num_attention_heads=heads, num_hidden_layers=layers, intermediate_size=1536,
               vocab_size=30522).save_pretrained(path)
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0), capsys.readouterr().err


def test_every_trial_of_a_teacher_search_passes_the_distillations_validation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from transformers import AutoConfig

    teacher = _teacher(tmp_path, heads=12)
    run = tmp_path / "run"
    code, err = _run(["search", "--device", "pixel4", "--budget", "8ms", "--teacher", str(teacher), "--trials", "200",
                      "--seed", "0", "--out", str(run)], capsys)
    assert code == 0, err
    teacher_config = AutoConfig.from_pretrained(teacher, local_files_only=True)
    trials = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
    heads = set()
    for trial in trials:
        student = Arch.from_dict(trial["arch"]).to_hf_config()
        check_pair(student, teacher_config)  # raises UserInputError for a student distillation would refuse
        heads.add(student.num_attention_heads)
    assert heads and all(12 % h == 0 for h in heads), heads  # each divides the teacher's 12 (no 8)


def test_the_check_refuses_what_the_search_now_excludes() -> None:
    """The validation the test above relies on does refuse an 8-head student of a 12-head teacher."""
    from transformers import BertConfig

    teacher = BertConfig(hidden_size=384, num_attention_heads=12, num_hidden_layers=6, vocab_size=30522)
    student = Arch.from_dict({"hidden_size": 384, "num_attention_heads": 8, "intra_bottleneck_size": 128,
                              "num_hidden_layers": 4}).to_hf_config()
    with pytest.raises(UserInputError, match="must divide one another"):
        check_pair(student, teacher)


def test_a_teacher_no_head_count_of_the_space_can_learn_from_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = tmp_path / "space.toml"
    space.write_text("[dimensions]\nnum_hidden_layers = [4, 6]\nnum_attention_heads = [2, 4]\n"
                     "[fixed]\nintra_bottleneck_size = 128\n")
    code, err = _run(["search", "--device", "pixel4", "--budget", "62ms", "--teacher", str(_teacher(tmp_path, 3)),
                      "--space", str(space), "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "teacher's 3 heads" in err
