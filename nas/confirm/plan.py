"""What `nas confirm` trains: the K best front points of a search run, the rungs, and every option, checked
before Ray starts (bad input is one line, exit 2).

Rungs are distillation step budgets: `max_steps / rf^(R-1), …, max_steps / rf, max_steps` for R rungs and
reduction factor rf, the milestones of Ray Tune's `ASHAScheduler(grace_period=rungs[0], max_t=max_steps,
reduction_factor=rf)`. At each rung a trial reports its held-out distillation losses; on the top
`dev_rungs` rungs it also fine-tunes briefly and reports the dev metric. ASHA ranks trials within a rung by
the held-out MLM cross-entropy (`heldout_mlm`, lower is better): the one measure every rung has, and
comparable across architectures (the transfer terms depend on each student's layer map).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas.supernet.ensemble import members
from nas_common.errors import UserInputError

CONFIRM_DIR = "confirm"  # under the run: tune/ (Ray Tune's experiment) and models/ (one directory a trial)
EXPERIMENT = "tune"
MODELS = "models"
METRIC = "heldout_mlm"
TIME_ATTR = "distill_steps"
SCHEDULES = ("akt", "jkt", "pkt")
# Primary dev metric per task (GLUE's: Wang et al. 2019, Table 1 lists F1/accuracy for MRPC and
# Pearson/Spearman for STS-B; we rank by the first of each).
PRIMARY = {"sst2": "accuracy", "rte": "accuracy", "mrpc": "f1", "stsb": "pearson"}


@dataclass(frozen=True)
class Candidate:
    """A front point to confirm: its search trial id, front pick number, estimate and arch."""

    arch_id: int
    pick: int
    estimate: float
    latency_ms: float
    arch: dict[str, Any]


@dataclass(frozen=True)
class ConfirmOptions:
    run: str
    teacher: str
    corpus: str
    eval_corpus: str
    task: str
    glue_dir: str
    top: int
    max_steps: int
    rungs: tuple[int, ...]
    dev_rungs: int = 1
    schedule: str = "akt"
    batch_size: int = 16
    seq_len: int = 64
    lr: float = 1e-3
    warmup: int = 10
    finetune_epochs: float = 1.0
    finetune_lr: float = 1e-4
    finetune_batch_size: int = 32
    finetune_examples: int | None = 2000
    seed: int = 0
    torch_device: str = "cpu"
    threads: int = 1  # torch threads in each trial (one Ray CPU each)
    supernet: str | None = None  # the run's supernet: each student starts from its inherited weights
    candidates: tuple[Candidate, ...] = field(default=())

    @property
    def dev_from(self) -> int:
        """The smallest rung (in steps) that also reports the dev metric."""
        return self.rungs[max(0, len(self.rungs) - self.dev_rungs)] if self.dev_rungs else self.max_steps + 1

    @property
    def reduction_factor(self) -> int:
        return self.rungs[1] // self.rungs[0] if len(self.rungs) > 1 else 2

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConfirmOptions:
        data = dict(data)
        data["rungs"] = tuple(data["rungs"])
        data["candidates"] = tuple(Candidate(**c) for c in data.get("candidates", ()))
        return cls(**data)


def make_rungs(max_steps: int, rungs: int, reduction_factor: int) -> tuple[int, ...]:
    if max_steps < 1:
        raise UserInputError(f"--max-steps must be ≥ 1, got {max_steps}")
    if rungs < 1:
        raise UserInputError(f"--rungs must be ≥ 1, got {rungs}")
    if reduction_factor < 2:
        raise UserInputError(f"--reduction-factor must be ≥ 2, got {reduction_factor}")
    scale = reduction_factor ** (rungs - 1)
    if max_steps % scale:
        raise UserInputError(f"--max-steps {max_steps} must be a multiple of {scale} (reduction factor "
                             f"{reduction_factor} to the power rungs − 1) so that every rung is a whole step count")
    return tuple(max_steps // reduction_factor ** k for k in reversed(range(rungs)))


def candidates(run: Path, top: int) -> tuple[tuple[Candidate, ...], dict[str, Any]]:
    """The `top` best front points of the search run (fewer when the front is smaller) and its run.json."""
    from nas.search.results import front, load_trials
    from nas.search.run_dir import read_run, recorded_options

    if top < 1:
        raise UserInputError(f"--top must be ≥ 1, got {top}")
    record = read_run(run)
    budget = recorded_options(record, run)["budget_ms"]
    points = front(load_trials(run), budget)
    if not points:
        raise UserInputError(f"{run}: no trial within the budget of {budget:g} ms, so nothing to confirm")
    chosen = tuple(Candidate(t.id, k, float(t.accuracy), t.latency_ms, t.arch.to_dict())
                   for k, t in enumerate(points[:top]))
    return chosen, record


def supernet_of(record: dict[str, Any]) -> str | None:
    """The run's supernet directory when it was searched with `--estimator supernet` (recorded in run.json)."""
    options = record.get("options") or {}
    if options.get("estimator") != "supernet":
        return None
    path = (options.get("estimator_options") or {}).get("supernet")
    if not path or not Path(path).is_dir():
        raise UserInputError(f"the run was searched with the supernet at {path!r}, which is not there any more; "
                             "nothing to warm-start from")
    return str(members(Path(path))[0].resolve())  # an ensemble's students start from its first member's weights


def split_budget(schedule: str, layers: int, steps: int) -> tuple[int, int]:
    """(steps_per_layer, pd_steps) with L·steps_per_layer + pd_steps = steps: AKT is one phase; JKT and PKT
    spend half the budget on the layer-wise transfer (rounded down to whole steps a layer), then PD."""
    if schedule == "akt":
        return 0, steps
    per_layer = steps // (2 * layers)
    return per_layer, steps - per_layer * layers


def check_students(options: ConfirmOptions) -> None:
    """Every student must be able to learn from the teacher: the distillation's own validation
    (`nas.distill.layer_map.check_pair`: one vocabulary, equal widths, mappable heads), before any trial."""
    from nas.distill.layer_map import check_pair
    from nas.distill.teacher import read_config
    from search_spaces.arch import MAX_POSITION_EMBEDDINGS, Arch

    if not Path(options.teacher).is_dir():
        kind = "a file, not a directory" if Path(options.teacher).exists() else "no such directory"
        raise UserInputError(f"--teacher {options.teacher}: {kind} (give a `nas teacher` directory)")
    teacher = read_config(options.teacher)
    positions = min(MAX_POSITION_EMBEDDINGS, getattr(teacher, "max_position_embeddings", MAX_POSITION_EMBEDDINGS))
    if options.seq_len > positions:
        raise UserInputError(f"--seq-len {options.seq_len} exceeds the {positions} positions the teacher and the "
                             "students have (max_position_embeddings)")
    for c in options.candidates:
        arch = Arch.from_dict(c.arch, source=f"trial {c.arch_id}")
        try:
            check_pair(arch.to_hf_config(), teacher)
        except UserInputError as err:
            raise UserInputError(f"front point trial {c.arch_id} cannot learn from the teacher: {err} (search with "
                                 "--teacher DIR so that the front fits it)") from None


def check_files(corpus: str | None, eval_corpus: str | None, task: str, glue: Path | None) -> tuple[str, str, str]:
    """The training corpus, the held-out corpus (default: the data folder's wikitext2-test.txt) and the
    task, checked; the GLUE dev split is read once so that a missing file fails before Ray starts."""
    from nas.distill.data_corpus import check_has_text
    from nas.distill.data_glue import check_task, read_split
    from nas_common.paths import corpus_path

    task = check_task(task)
    corpus = corpus_path(corpus, in_data=None, why="the distillation corpus")
    if not Path(corpus).exists():
        raise UserInputError(f"--corpus {corpus}: no such file or folder")
    eval_corpus = corpus_path(eval_corpus, "--eval-corpus", in_data="wikitext2-test.txt",
                              why="held-out text for the rungs' losses")
    if not Path(eval_corpus).is_file():
        raise UserInputError(f"--eval-corpus {eval_corpus}: no such file")
    if Path(eval_corpus).resolve() == Path(corpus).resolve():
        raise UserInputError("--eval-corpus is the training --corpus: held-out losses need other text")
    check_has_text(corpus, "--corpus")  # empty, binary or not UTF-8: refused here, not inside every trial
    check_has_text(eval_corpus, "--eval-corpus")
    if glue is None:
        raise UserInputError("give --data-dir PATH (the GLUE folder; or set NAS_DATA_DIR)")
    read_split(glue, task, "dev")
    return str(Path(corpus).resolve()), str(Path(eval_corpus).resolve()), task
