"""Which students a teacher can distil: the constraints of MobileBERT's layer-wise transfer, in one place.

Feature-map transfer compares the student's and the teacher's layer outputs, so their inter-block widths
must be equal (Sun et al., ACL 2020, §3: IB-BERT shares the student's inter-block width for this reason);
attention transfer compares per-head attention maps, so one head count must divide the other (the
teacher's heads are averaged in groups, or repeated); both share one vocabulary. `nas distill` refuses a
student that breaks one of these (`nas/distill/layer_map.py`, `pipeline.py`), and `nas search --teacher`
restricts its space by the same predicates, so every front point can be distilled from that teacher.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas_common.errors import UserInputError
from nas_common.paths import read_json
from search_spaces.family import VOCAB_SIZE
from search_spaces.space import SearchSpace


@dataclass(frozen=True)
class TeacherShape:
    width: int  # inter-block width (hidden_size)
    heads: int
    layers: int
    vocab_size: int


def heads_compatible(student_heads: int, teacher_heads: int) -> bool:
    """Attention transfer can map the heads: one count divides the other."""
    return teacher_heads % student_heads == 0 or student_heads % teacher_heads == 0


def read_teacher_shape(teacher: str | Path) -> TeacherShape:
    """The shape of a teacher directory (or its config.json), read without loading weights."""
    path = Path(teacher)
    config_path = path / "config.json" if path.is_dir() else path
    if not config_path.is_file():
        raise UserInputError(f"--teacher {teacher}: not a teacher directory (no readable config.json)")
    try:
        config = read_json(config_path)
    except UserInputError as err:
        raise UserInputError(f"--teacher {teacher}: not a teacher directory (no readable config.json: {err})") from None
    if not isinstance(config, dict):
        raise UserInputError(f"--teacher {teacher}: config.json is not a JSON object")
    values = {}
    for key in ("hidden_size", "num_attention_heads", "num_hidden_layers", "vocab_size"):
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise UserInputError(f"--teacher {teacher}: config.json has no positive integer {key}")
        values[key] = value
    return TeacherShape(values["hidden_size"], values["num_attention_heads"], values["num_hidden_layers"],
                        values["vocab_size"])


def _heads_fit(choice: Any, teacher_heads: int) -> bool:
    heads = choice if isinstance(choice, tuple) else (choice,)
    return all(heads_compatible(int(h), teacher_heads) for h in heads)


def restrict_to_teacher(space: SearchSpace, teacher: TeacherShape) -> SearchSpace:
    """`space` narrowed to the students `teacher` can distil: `hidden_size` fixed to its width, head counts
    that divide or are divided by its heads, its vocabulary. One line when nothing in the space fits."""
    space = _at_width(space, teacher.width)
    vocab = space.fixed.get("vocab_size", VOCAB_SIZE)
    if vocab != teacher.vocab_size:
        raise UserInputError(f"the teacher's vocabulary ({teacher.vocab_size}) differs from the students' ({vocab}): "
                             "distillation needs one vocabulary")
    choices = space.dimensions.get("num_attention_heads")
    if choices is None:
        fixed = space.fixed.get("num_attention_heads")
        if fixed is not None and not _heads_fit(fixed, teacher.heads):
            raise UserInputError(f"search space {space.name!r} fixes num_attention_heads = {fixed}, which the "
                                 f"teacher's {teacher.heads} heads cannot be mapped to (one must divide the other)")
        return space
    kept = tuple(c for c in choices if _heads_fit(c, teacher.heads))
    if not kept:
        raise UserInputError(f"no head count of search space {space.name!r} ({', '.join(map(str, choices))}) can "
                             f"learn from the teacher's {teacher.heads} heads (one must divide the other)")
    return dataclasses.replace(space, dimensions={**space.dimensions, "num_attention_heads": kept})


def _at_width(space: SearchSpace, width: int) -> SearchSpace:
    choices = space.dimensions.get("hidden_size")
    if choices is None:
        fixed = space.fixed.get("hidden_size")
        if fixed is not None and fixed != width:
            raise UserInputError(f"the teacher is {width} wide but search space {space.name!r} fixes hidden_size "
                                 f"= {fixed}")
        return dataclasses.replace(space, fixed={**space.fixed, "hidden_size": width})
    if width not in choices:
        raise UserInputError(f"the teacher is {width} wide, not a hidden_size of search space {space.name!r} "
                             f"({', '.join(map(str, choices))}); give a --space that has it")
    return dataclasses.replace(space, dimensions={**space.dimensions, "hidden_size": (width,)})
