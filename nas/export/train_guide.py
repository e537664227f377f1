"""A front point as something to train: `arch.json` + `config.json` (via `nas.export.formats`), `teacher.json` and a
`TRAIN.md` whose commands work as written.

MobileBERT's feature-map transfer needs the student's inter-block width to equal the teacher's (Sun et al.,
ACL 2020, §3: "IB-BERT", the teacher, shares the student's inter-block width for exactly this reason).
So the guide gives a teacher of the pick's width: IB-BERT_LARGE as in the paper's Table 1 (24 layers,
inverted bottleneck 1024, FFN 4096, 4 heads, the `ib-bert-large` preset) with `hidden_size` set to the
pick's; with `nas search --teacher DIR` the whole front already has that teacher's width, and the guide uses
DIR. An existing teacher of another width is the `--projection` alternative.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from nas.accuracy.resolution import Estimate
from nas.search.trial import Trial
from nas_common.errors import UserInputError
from nas_common.writing import write_text
from search_spaces.arch import Arch

# The toy sizes: check that the sequence runs, in minutes on a CPU (the models learn nothing). The toy teacher
# is IB-BERT at the pick's width cut to 2 layers with a 128 bottleneck and FFN 512 (about 5 M parameters, where
# the paper's 24-layer teacher has over 300 M and needs several GB to train): laptop-sized.
TOY_TEACHER_SHAPE = {"num_hidden_layers": 2, "intra_bottleneck_size": 128, "intermediate_size": 512}
TOY_TEACHER_FILE = "teacher-toy.json"
TOY_TEACHER = "--steps 1 --batch-size 2 --seq-len 16 --warmup 0"
TOY_DISTILL = "--steps-per-layer 1 --pd-steps 1 --batch-size 2 --seq-len 16 --warmup 0"
TOY_FINETUNE = "--epochs 1 --max-train-examples 8 --batch-size 4 --seq-len 16"

GUIDE = """# Train this architecture

Trial {trial} of run `{run}`: predicted latency {latency:.1f} ms on {device} (budget {budget:g} ms),
{params:,} parameters, {layers} layers, {width} wide.
Estimated quality: {estimate}. That is an estimate of a loss, not an accuracy; its ± is the measured
scatter about trained students ({source}).
How far to trust that estimate, as measured: {quality}.

Progressive knowledge transfer from an IB-BERT teacher, as in the MobileBERT paper (Sun et al., ACL 2020).
The teacher must have this student's inter-block width ({width}); {teacher_note}

The corpus is `$NAS_DATA_DIR/corpus` (set NAS_DATA_DIR, or add `--corpus PATH` to `nas teacher` and
`nas distill`); GLUE is `$NAS_DATA_DIR/glue` (or `--data-dir`). Run from the directory `nas search` ran in.
{measured_with}
## Paper scale (GPU days: see nas/distill/README.md)

```
{paper}
```

## Toy sizes (checks the sequence in minutes on a CPU; the models learn nothing)

The toy teacher (`teacher-toy.json`, without `--teacher`) is the teacher above cut to 2 layers: about 5 M
parameters, well under 2 GB of memory to train.

```
{toy}
```

## A teacher of another width

With a teacher you already have (e.g. `nas teacher --init-from minilm`, 384 wide), add `--projection` to
`nas distill`: a trained Linear maps the student's layer outputs to the teacher's width for the
feature-map loss (it is dropped after distillation). The paper's recipe is the equal-width teacher above.

`config.json` here loads with `transformers.MobileBertConfig.from_pretrained("{student}")`;
`arch.json` is the same architecture in this tool's terms (`nas arch show {student}/arch.json`).
"""


def teacher_arch(width: int) -> Arch:
    """IB-BERT_LARGE (paper Table 1) with the inter-block width `width`."""
    from search_spaces.presets import PRESETS

    return PRESETS["ib-bert-large"].arch.replace(hidden_size=width)


def heads_for(teacher: Arch, student: Arch) -> Arch:
    """`teacher` with a head count every student layer's can be mapped to (attention transfer: one count divides
    the other, search_spaces/teacher_fit.py) and that divides its attention width: its own (the paper's 4) where
    that maps, else the nearest such count (e.g. 2 for a 6-head student)."""
    from search_spaces.teacher_fit import heads_compatible

    student_heads = {student.layer_value("num_attention_heads", i) for i in range(student.num_hidden_layers)}
    own = int(teacher.layer_value("num_attention_heads", 0))
    for heads in sorted(range(1, 4 * own + 1), key=lambda h: (abs(math.log(h / own)), h)):
        if not all(heads_compatible(s, heads) for s in student_heads):
            continue
        try:
            return teacher.replace(num_attention_heads=heads)
        except UserInputError:  # does not divide the teacher's attention width
            continue
    return teacher  # 1 head always maps and divides: not reached


def sequence(student: Path, teacher: str, teacher_json: Path | None, toy: bool) -> list[str]:
    """The command lines: (teacher,) distill, fine-tune; `toy` adds the toy sizes and a `-toy` suffix."""
    suffix = "-toy" if toy else ""
    lines = []
    if teacher_json is not None:
        teacher = f"{teacher}{suffix}"
        arch_file = teacher_json.with_name(TOY_TEACHER_FILE) if toy else teacher_json
        lines.append(f"nas teacher --arch {arch_file} --out {teacher} {TOY_TEACHER if toy else ''}")
    distilled = f"{student}-distilled{suffix}"
    lines.append(f"nas distill --student {student} --teacher {teacher} --schedule pkt --out {distilled} "
                 f"{TOY_DISTILL if toy else ''}")
    lines.append(f"nas finetune --model {distilled} --task sst2 --out {student}-sst2{suffix} "
                 f"{TOY_FINETUNE if toy else ''}")
    return [line.rstrip() for line in lines]


# The shipped predictor was ranked against students of the MiniLM-384 teacher (benchmarks/proof): the guide names
# that recipe, so that a user can train a pick the way its estimate was checked.
MEASURED_WITH_PREDICTOR = """
## The recipe this estimate was checked on (CPU hours)

The shipped predictor's quality above is its rank against students distilled from the MiniLM-384 teacher (384
wide, 6 layers: build it with the commands in nas/distill/README.md, "A competent small CPU teacher") at the
settings of the fresh students in benchmarks/proof/plan.json (about half an hour on one core). A student {width}
wide distils from it without `--projection`:

```
{commands}
```
"""
FRESH_LAYER_STEPS = 480  # benchmarks/proof/plan.json distillation.fresh.layer_steps, spread evenly over the layers
FRESH_DISTILL = ("--corpus $NAS_DATA_DIR/corpus/wikitext2-valid.txt "
                 "--eval-corpus $NAS_DATA_DIR/corpus/wikitext2-test.txt "
                 "--schedule jkt --pd-steps 480 --batch-size 16 --seq-len 64 --lr 1e-3 --warmup 10")
FRESH_FINETUNE = "--epochs 2 --lr 1e-4 --batch-size 32 --seq-len 64 --max-train-examples 2000"
MINILM_TEACHER = "$HOME/.cache/nas/teachers/minilm-384"  # where nas/distill/README.md's commands build it
MINILM_WIDTH = 384


def checked_on_minilm(options: dict[str, Any]) -> bool:
    """Whether the run's estimator is the predictor whose quality was measured on MiniLM-teacher students (the
    default, `proof-seed0`): another shipped predictor was checked on its own students, if at all."""
    from nas.accuracy.default import DEFAULT_PREDICTOR

    chosen = (options.get("estimator_options") or {}).get("predictor", DEFAULT_PREDICTOR)
    return options.get("estimator") == "predictor" and chosen == DEFAULT_PREDICTOR


def measured_recipe(student: Path, layers: int) -> str:
    """The distil and fine-tune lines of the recipe the shipped predictor was checked on, for `student`."""
    return "\n".join([
        f"nas distill --student {student} --teacher {MINILM_TEACHER} --steps-per-layer {FRESH_LAYER_STEPS // layers} "
        f"{FRESH_DISTILL} --out {student}-minilm",
        f"nas finetune --model {student}-minilm --task sst2 {FRESH_FINETUNE} --out {student}-minilm-sst2"])


def write_guide(trial: Trial, to: Path, run: Path, options: dict[str, Any], estimate: Estimate) -> Path:
    """`TRAIN.md` (and, without a given teacher, `teacher.json`) in `to`; `estimate` says what the trial's
    score is (its loss, units and scatter)."""
    width = trial.arch.hidden_size
    given = options.get("teacher")
    teacher_json: Path | None = None
    if given:
        teacher = str(given)
        teacher_note = f"this run was searched for the teacher `{given}` (`nas search --teacher`), which has it."
    else:
        teacher_json = to / "teacher.json"
        paper_teacher = heads_for(teacher_arch(width), trial.arch)
        paper_teacher.save(teacher_json)
        heads_for(teacher_arch(width).replace(**TOY_TEACHER_SHAPE), trial.arch).save(to / TOY_TEACHER_FILE)
        teacher = f"{to}-teacher"
        heads = paper_teacher.layer_value("num_attention_heads", 0)
        teacher_note = ("`teacher.json` here is IB-BERT_LARGE (paper Table 1: 24 layers, inverted bottleneck "
                        f"1024, FFN 4096, 4 heads) at width {width}; train it first."
                        + ("" if heads == 4 else f" It has {heads} heads instead of 4: attention transfer maps "
                           "teacher heads to student heads only when one count divides the other, and this "
                           f"student has {trial.arch.num_attention_heads}."))
    text = GUIDE.format(
        trial=trial.id, run=run, latency=trial.latency_ms, device=options["device"], budget=options["budget_ms"],
        estimate=estimate.phrase(trial.accuracy), source=estimate.source if estimate.scatter else "not measured",
        quality=estimate.quality, params=trial.params,
        layers=trial.arch.num_hidden_layers,
        width=width, teacher_note=teacher_note, student=to,
        measured_with=MEASURED_WITH_PREDICTOR.format(
            width=width, commands=measured_recipe(to, trial.arch.num_hidden_layers))
        if checked_on_minilm(options) and width == MINILM_WIDTH else "",
        paper="\n".join(sequence(to, teacher, teacher_json, toy=False)),
        toy="\n".join(sequence(to, teacher, teacher_json, toy=True)))
    path = to / "TRAIN.md"
    write_text(path, text)
    return path


def commands(guide: str, section: str) -> list[str]:
    """The command lines of the code block under the heading that starts with `section`."""
    match = re.search(rf"^## {re.escape(section)}.*?\n```\n(.*?)```", guide, flags=re.S | re.M)
    return [line for line in match.group(1).splitlines() if line.strip()] if match else []


def export_pick(trial: Trial, to: Path, run: Path, options: dict[str, Any], estimate: Estimate) -> Path:
    """A front point as `arch.json`, `config.json`, `teacher.json` and `TRAIN.md` in `to`."""
    from nas.export.formats import export_config

    export_config(trial.arch, to)
    write_guide(trial, to, run, options, estimate)
    return to
