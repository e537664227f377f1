"""What a user sets for `nas supernet train` (`SupernetOptions`) and its checks.

`validate` never changes the options it is given: it returns a `RunPlan`, a new value holding the validated
options (`--split auto` resolved to what the space allows), the space the run trains and that space's text.
What the pipeline decides per part (a part's directory, steps and memory share) is not an option: see
train_one.OneRun and split_train.py.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from nas.distill import options as paper
from nas.distill.data_corpus import check_has_text
from nas.distill.loop import CHECKPOINT, LOG
from nas.distill.memory import check_global_batch
from nas.distill.options import check_non_negative, check_not_an_input, check_positive
from nas.distill.pipeline import check_device
from nas.distill.teacher import read_config
from nas.supernet import store
from nas.supernet.elastic import DEPTH_ORDERS, HEAD_LAYOUTS
from nas.supernet.sampler import check_rule
from nas.supernet.space import DEFAULT_SPACE, check_space, maxima, supernet_arch
from nas.supernet.split import DEFAULT_SPLIT, PARTS, SPLITS, check_parts, check_workers, effective_split
from nas_common.errors import UserInputError
from nas_common.io import read_text
from nas_common.paths import check_output_dir
from search_spaces.space import DATA_DIR, SearchSpace

# Paper budget of one student (MobileBERT §4.2 and the official code): 24 layers × 10k layer-wise steps,
# then 500k pre-training distillation steps; the supernet keeps that split of its steps.
PAPER_STEPS = 24 * paper.PAPER_STEPS_PER_LAYER + paper.PAPER_PD_STEPS
PAPER_PD_FRACTION = paper.PAPER_PD_STEPS / PAPER_STEPS
RESULT_FILES = (store.META, CHECKPOINT, CHECKPOINT + ".tmp", LOG, store.WEIGHTS, store.SPACE, store.VOCAB, PARTS)


@dataclass(frozen=True)
class SupernetOptions:
    """The options of `nas supernet train`, as the user (the CLI, a recipe, a benchmark or a test) sets them."""

    teacher: str
    corpus: str
    out: Path
    space: str | None = None
    steps: int = PAPER_STEPS
    schedule: str = "jkt"
    pd_fraction: float = PAPER_PD_FRACTION
    rule: str = "sandwich"
    random_subnets: int = 2
    depth_order: str = "spread"
    head_layout: str = "prefix"
    batch_size: int = paper.PAPER_BATCH
    micro_batch_size: int | None = None  # None: the largest that fits in memory (nas/distill/memory.py)
    seq_len: int = paper.PAPER_SEQ_LEN
    max_predictions: int = paper.PAPER_MAX_PREDICTIONS
    lr: float = paper.PAPER_LR
    warmup: int = paper.PAPER_WARMUP
    checkpoint_every: int = paper.PAPER_CHECKPOINT_EVERY
    resume: bool = False
    overwrite: bool = False
    torch_device: str = "cpu"  # --torch-device: cpu or cuda
    seed: int = 0
    vocab: str | None = None
    eval_corpus: str | None = None
    init_from: str | None = None  # a trained supernet directory of the same space: its weights start this run
    split: str = DEFAULT_SPLIT  # "bottleneck": one part per bottleneck width (nas/supernet/split.py)
    parts: tuple[str, ...] = ()  # --parts: train only these parts of a split supernet (others: other processes)
    progress: bool = True
    stop_after: int | None = None  # stop after this many of the run's steps, as if killed (tests)
    workers: int = 1  # --workers: a split supernet's parts in this many processes at once (workers.py)
    checkpoint_on_interrupt: bool = True  # Ctrl-C, SIGTERM: each process finishes its step and saves a checkpoint


@dataclass(frozen=True)
class RunPlan:
    """A validated run: its options (`split` resolved), the space it trains and the text of that space's file."""

    opts: SupernetOptions
    space: SearchSpace
    space_text: str

    @property
    def split(self) -> bool:
        return self.opts.split != "none"


def record(opts: SupernetOptions, **internal: Any) -> dict[str, Any]:
    """The options as supernet.json records them (its keys since format 1: the torch device as "device"), with
    a part's internal settings after them."""
    values = {("device" if f.name == "torch_device" else f.name): getattr(opts, f.name) for f in fields(opts)}
    return {k: str(v) if isinstance(v, Path) else v for k, v in {**values, **internal}.items()}


def validate(opts: SupernetOptions) -> RunPlan:
    """Check every option against each other, the inputs and OUT (one line each, before any work)."""
    check_device(opts.torch_device)
    check_rule(opts.rule, opts.random_subnets)
    if opts.split not in SPLITS:
        raise UserInputError(f"--split must be one of {', '.join(SPLITS)}")
    check_positive(steps=opts.steps, batch_size=opts.batch_size, seq_len=opts.seq_len, lr=opts.lr,
                   max_predictions=opts.max_predictions, micro_batch_size=opts.micro_batch_size,
                   workers=opts.workers)
    check_non_negative(warmup=opts.warmup, checkpoint_every=opts.checkpoint_every, seed=opts.seed)
    if not 0.0 <= opts.pd_fraction <= 1.0:  # NaN too (a recipe's `nan`, or --pd-fraction nan)
        raise UserInputError(f"--pd-fraction must be a share of the steps between 0 and 1, got {opts.pd_fraction!r}")
    check_global_batch(opts.batch_size, opts.seq_len, copies=opts.workers)
    if opts.depth_order not in DEPTH_ORDERS:
        raise UserInputError(f"--depth-order must be one of {', '.join(DEPTH_ORDERS)}")
    if opts.head_layout not in HEAD_LAYOUTS:
        raise UserInputError(f"--head-layout must be one of {', '.join(HEAD_LAYOUTS)}")
    if opts.resume and opts.overwrite:
        raise UserInputError("--resume and --overwrite contradict each other: choose one")
    check_not_an_input(opts.out, teacher=opts.teacher if opts.teacher != "minilm" else None, corpus=opts.corpus,
                       eval_corpus=opts.eval_corpus, space=opts.space if opts.space and Path(opts.space).exists()
                       else None, init_from=opts.init_from)
    if opts.init_from and store.is_split(store.read_meta(opts.init_from)):  # read_meta: one line if not a supernet
        raise UserInputError(f"--init-from {opts.init_from}: a split supernet; give a supernet with one set of weights")
    space_path = space_file(opts.space) if opts.space or not opts.init_from else Path(opts.init_from) / store.SPACE
    space = check_space(SearchSpace.load(space_path).check_every_choice_used(str(space_path)))
    opts = replace(opts, split=effective_split(opts.split, space, opts.init_from))  # "auto": what this space allows
    check_parts(opts.parts, space, opts.split)
    check_workers(opts.workers, opts.split, opts.parts, opts.torch_device)
    if opts.init_from:
        _check_init_from(Path(opts.init_from), space, opts.depth_order, opts.head_layout)
    some_parts = opts.split != "none" and bool(opts.parts)  # one of several processes sharing OUT
    if opts.resume:
        marker = opts.out / (CHECKPOINT if opts.split == "none" else PARTS)
        if not marker.exists() and not some_parts:  # --parts: the processes may start together, before any part
            raise UserInputError(f"--resume: no checkpoint at {marker}")
    elif some_parts:
        check_output_dir(opts.out, overwrite=True)  # a usable folder; other processes' parts may already be there
        check_parts_free(opts.out / PARTS, opts.parts, opts.overwrite)
    else:
        check_output_dir(opts.out, opts.overwrite, result_files=RESULT_FILES)
    teacher_config = read_config(opts.teacher) if opts.teacher != "minilm" else None
    width = maxima(space).hidden
    if teacher_config is not None and teacher_config.hidden_size != width:
        raise UserInputError(f"the space's hidden_size {width} differs from the teacher's {teacher_config.hidden_size}:"
                             " a supernet lives at its teacher's inter-block width")
    for path in (opts.corpus, opts.eval_corpus):
        if path and not Path(path).exists():
            raise UserInputError(f"corpus {path} does not exist")
    if opts.eval_corpus:
        check_has_text(opts.eval_corpus, "--eval-corpus")
    return RunPlan(opts, space, read_text(space_path))


def check_parts_free(root: Path, parts: tuple[str, ...], overwrite: bool) -> None:
    """A fresh `--parts` run (no --resume) on DIR/parts: refused when one of its own parts is already there, since
    other processes' parts are expected beside it and must not be touched."""
    if (root.parent / store.WEIGHTS).exists():  # an unsplit supernet: parts beside it would mix two supernets
        raise UserInputError(f"--out {root.parent} already holds a supernet with one set of weights; choose another "
                             "directory, or replace it with a run without --parts and with --overwrite (nothing was "
                             "changed)")
    held = [p for p in parts if (root / p).is_dir() and any((root / p).iterdir())]
    if held and not overwrite:
        raise UserInputError(f"--out {root.parent} already holds part {', '.join(held)}; pass --resume to continue "
                             "it, --overwrite to replace it (other parts are kept), or choose another directory "
                             "(nothing was changed)")


def _check_init_from(directory: Path, space: SearchSpace, depth_order: str, head_layout: str) -> None:
    """`--init-from` must hold a supernet of the same shape (space maxima), layer order and head layout as this
    run's."""
    meta = store.read_meta(directory)
    source = check_space(SearchSpace.load(directory / store.SPACE))
    if supernet_arch(source) != supernet_arch(space):
        raise UserInputError(f"--init-from {directory}: its space's maxima differ from this run's space")
    if meta.get("depth_order", "spread") != depth_order:
        raise UserInputError(f"--init-from {directory} keeps layers in {meta.get('depth_order')!r} order, this run "
                             f"in {depth_order!r}: give --depth-order {meta.get('depth_order')}")
    if store.head_layout(meta) != head_layout:
        raise UserInputError(f"--init-from {directory} lays heads out {store.head_layout(meta)!r}, this run "
                             f"{head_layout!r}: give --head-layout {store.head_layout(meta)}")


def space_file(name: str | None) -> Path:
    """The TOML file of `--space` (a path, a built-in space name or the default space's name,
    supernet-minilm-384); SearchSpace.load reports a bad one."""
    if not name or (not Path(name).suffix and name == SearchSpace.load(DEFAULT_SPACE).name):
        return DEFAULT_SPACE
    path = Path(name)
    builtin = DATA_DIR / f"{name}.toml"
    return builtin if not path.is_file() and not path.suffix and builtin.is_file() else path
