"""`best/TRAIN.md` works as written: its toy-size commands, run one after another, finish (issue 8 item 13)."""

import os
import shlex
import subprocess
import sys

import pytest

from nas.export.train_guide import commands

NAS = [sys.executable, "-c", "from nas.cli import main; main()"]


@pytest.mark.slow
def test_toy_commands_of_train_md_finish(tmp_path, nas_data_dir):
    env = {**os.environ, "NAS_DATA_DIR": str(nas_data_dir)}
    run = tmp_path / "run"
    subprocess.run([*NAS, "search", "--device", "pixel4", "--budget", "30ms", "--trials", "64", "--out", str(run)],
                   check=True, capture_output=True, env=env, cwd=tmp_path)
    lines = commands((run / "best" / "TRAIN.md").read_text(), "Toy sizes")
    assert [shlex.split(line)[1] for line in lines] == ["teacher", "distill", "finetune"]
    for line in lines:
        args = shlex.split(line)
        assert args[0] == "nas"
        result = subprocess.run([*NAS, *args[1:]], capture_output=True, text=True, env=env, cwd=tmp_path,
                                timeout=1500)
        assert result.returncode == 0, f"{line}\n{result.stderr[-3000:]}"
    assert (run / "best-sst2-toy" / "metrics.json").is_file()


def test_the_toy_teacher_is_laptop_sized(tmp_path):
    """The toy commands train a ~5 M-parameter teacher (2 layers), not the paper's 300 M+ IB-BERT (which needed
    6.8 GB): its Adam training stays well under 2 GB."""
    from search_spaces.arch import Arch

    run = tmp_path / "run"
    subprocess.run([*NAS, "search", "--device", "pixel4", "--budget", "30ms", "--trials", "32", "--out", str(run)],
                   check=True, capture_output=True, cwd=tmp_path)
    teacher_line = commands((run / "best" / "TRAIN.md").read_text(), "Toy sizes")[0]
    toy = Arch.load(shlex.split(teacher_line)[shlex.split(teacher_line).index("--arch") + 1])
    paper = Arch.load(run / "best" / "teacher.json")
    assert toy.hidden_size == paper.hidden_size and toy.num_attention_heads == paper.num_attention_heads
    assert toy.num_params() < 10_000_000 < 300_000_000 < paper.num_params()


@pytest.mark.parametrize(("student_heads", "teacher_heads"), [(2, 4), (4, 4), (6, 2), (12, 4)])
def test_the_guides_teachers_have_heads_the_student_maps_to(student_heads: int, teacher_heads: int) -> None:
    """IB-BERT's 4 heads where the student's count maps to them; else the nearest count that does (a 6-head pick
    of the default space could not learn from a 4-head teacher: `nas distill` refused TRAIN.md's own commands)."""
    from nas.export.train_guide import TOY_TEACHER_SHAPE, heads_for, teacher_arch
    from search_spaces.arch import Arch
    from search_spaces.teacher_fit import heads_compatible

    student = Arch.from_dict({"hidden_size": 384, "embedding_size": 384, "num_hidden_layers": 4,
                              "intra_bottleneck_size": 192, "num_attention_heads": student_heads,
                              "intermediate_size": 512})
    for teacher in (teacher_arch(384), teacher_arch(384).replace(**TOY_TEACHER_SHAPE)):
        fitted = heads_for(teacher, student)
        assert fitted.num_attention_heads == teacher_heads and heads_compatible(student_heads, teacher_heads)
        assert fitted.replace(num_attention_heads=4) == teacher  # nothing else changed
