"""`nas supernet train` as a plain function: check the inputs and the output directory, build the elastic
model (its embeddings and heads start as the teacher's, nas/distill's `copy_shared_weights`), train, save."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from nas.distill import options as paper
from nas.distill.loop import CHECKPOINT, LOG
from nas.distill.options import check_non_negative, check_not_an_input, check_positive
from nas.distill.pipeline import check_device
from nas.distill.teacher import read_config
from nas.supernet import store
from nas.supernet.elastic import DEPTH_ORDERS, HEAD_LAYOUTS, ElasticMobileBert
from nas.supernet.sampler import check_rule
from nas.supernet.space import DEFAULT_SPACE, check_space, largest, maxima, smallest, supernet_arch
from nas.supernet.split import DEFAULT_SPLIT, PARTS, SPLITS, check_parts, check_workers, effective_split
from nas.supernet.split_train import check_parts_free, remove_parts, run_split
from nas.supernet.trainer import SupernetConfig, SupernetTrainer, plan
from nas_common.errors import UserInputError
from nas_common.io import read_text
from nas_common.paths import check_output_dir, remove_results
from search_spaces.space import DATA_DIR, SearchSpace

# Paper budget of one student (MobileBERT §4.2 and the official code): 24 layers × 10k layer-wise steps,
# then 500k pre-training distillation steps; the supernet keeps that split of its steps.
PAPER_STEPS = 24 * paper.PAPER_STEPS_PER_LAYER + paper.PAPER_PD_STEPS
PAPER_PD_FRACTION = paper.PAPER_PD_STEPS / PAPER_STEPS
RESULT_FILES = (store.META, CHECKPOINT, CHECKPOINT + ".tmp", LOG, store.WEIGHTS, store.SPACE, store.VOCAB, PARTS)


@dataclass
class SupernetOptions:
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
    device: str = "cpu"
    seed: int = 0
    vocab: str | None = None
    eval_corpus: str | None = None
    init_from: str | None = None  # a trained supernet directory of the same space: its weights start this run
    split: str = DEFAULT_SPLIT  # "bottleneck": one part per bottleneck width (nas/supernet/split.py)
    part: bool = False  # set by split_train for each part: --init-from is then sliced to the part's widths
    parts: tuple[str, ...] = ()  # --parts: train only these parts of a split supernet (others: other processes)
    progress: bool = True
    stop_after: int | None = None
    workers: int = 1  # --workers: a split supernet's parts in this many processes at once (workers.py)
    assemble: bool = True  # write the split supernet once every part is there (False in --workers' processes)
    memory_share: float = 1.0  # of the available memory, for the micro-batch plan (1/N in --workers' processes)
    checkpoint_on_interrupt: bool = True  # Ctrl-C, SIGTERM: each process finishes its step and saves a checkpoint


def _check(opts: SupernetOptions) -> tuple[SearchSpace, str]:
    check_device(opts.device)
    check_rule(opts.rule, opts.random_subnets)
    if opts.split not in SPLITS:
        raise UserInputError(f"--split must be one of {', '.join(SPLITS)}")
    check_positive(steps=opts.steps, batch_size=opts.batch_size, seq_len=opts.seq_len, lr=opts.lr,
                   max_predictions=opts.max_predictions, micro_batch_size=opts.micro_batch_size)
    check_non_negative(warmup=opts.warmup, checkpoint_every=opts.checkpoint_every, seed=opts.seed)
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
    space_path = _space_file(opts.space) if opts.space or not opts.init_from else Path(opts.init_from) / store.SPACE
    space = check_space(SearchSpace.load(space_path))
    opts.split = effective_split(opts.split, space, opts.init_from)  # "auto" becomes what this space allows
    check_parts(opts.parts, space, opts.split)
    check_workers(opts.workers, opts.split, opts.parts, opts.device)
    if opts.init_from and not opts.part:  # a part's source was checked against the whole split space
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
    return space, read_text(space_path)


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


def _inherited_state(source: ElasticMobileBert, part: ElasticMobileBert) -> dict[str, torch.Tensor]:
    """A split part's start from an unsplit supernet (few-shot NAS: sub-supernets inherit the one-shot weights):
    the source's slice at the part's widest sub-network, which has every weight of the part's model."""
    wanted = part.model.state_dict()
    tensors = source.subnet_tensors(largest(part.space))
    return {name: tensors[name].detach().clone() for name in wanted}


def _space_file(name: str | None) -> Path:
    """The TOML file of `--space` (a path, or a built-in space name); SearchSpace.load reports a bad one."""
    if not name:
        return DEFAULT_SPACE
    path = Path(name)
    builtin = DATA_DIR / f"{name}.toml"
    return builtin if not path.is_file() and not path.suffix and builtin.is_file() else path


def _micro_batch(opts: SupernetOptions, space: SearchSpace, teacher: Any, archs_per_step: int, world: int) -> int:
    """The requested micro-batch, or the largest that fits with `archs_per_step` sub-networks' activations at
    once (each counted as the largest's: an upper bound) — nas/distill/memory.py's estimate."""
    from nas.distill.memory import plan_micro_batch
    from nas.distill.models import student_config

    per_rank = math.ceil(opts.batch_size / world)
    if opts.micro_batch_size is not None:
        return min(opts.micro_batch_size, per_rank)
    config = student_config(largest(space))
    positions = min(opts.max_predictions, math.ceil(0.2 * opts.seq_len))
    params = supernet_arch(space).num_params()  # the optimiser's state is the supernet's
    memory = plan_micro_batch(config, opts.seq_len, positions, per_rank * archs_per_step, params,
                              teacher.config, None, what="the supernet's largest sub-network",
                              share=opts.memory_share)
    return max(1, min(per_rank, memory.micro_batch_size // archs_per_step))


def run_supernet(opts: SupernetOptions) -> dict[str, Any]:
    from nas.distill.data_corpus import PretrainingData
    from nas.distill.distributed import init_distributed
    from nas.distill.teacher import copy_shared_weights, load_teacher
    from nas.distill.vocab import load_tokenizer, resolve_vocab

    space, space_text = _check(opts)
    if opts.split != "none":
        if opts.overwrite and init_distributed(opts.device).is_main:
            if opts.parts:  # only this process's parts: the others belong to other processes
                remove_parts(opts.out / PARTS, opts.parts)
            else:
                remove_results(opts.out, RESULT_FILES)
        if opts.workers > 1:
            from nas.supernet.workers import run_workers

            return run_workers(opts, space, space_text, run_supernet)
        return run_split(opts, space, space_text, run_supernet)
    phases = plan(opts.schedule, opts.steps, opts.pd_fraction, maxima(space).layers)
    ctx = init_distributed(opts.device)
    if opts.batch_size < ctx.world_size:
        raise UserInputError(f"--batch-size {opts.batch_size} is smaller than the {ctx.world_size} processes")
    vocab = opts.vocab or (str(Path(opts.init_from) / store.VOCAB) if opts.init_from else None)
    tokenizer = load_tokenizer(vocab)
    # The global batch in every process (the trainer takes this process's rows of it): masks and padding are
    # then those of a single-process run, whatever the number of processes.
    data = PretrainingData(opts.corpus, tokenizer, opts.seq_len, opts.batch_size, opts.seed,
                           max_predictions=opts.max_predictions)
    if ctx.is_main and opts.overwrite:
        remove_results(opts.out, RESULT_FILES)
    teacher = load_teacher(opts.teacher)
    if teacher.config.hidden_size != maxima(space).hidden:
        raise UserInputError(f"the space's hidden_size {maxima(space).hidden} differs from the teacher's "
                             f"{teacher.config.hidden_size}")
    torch.manual_seed(opts.seed)
    elastic = ElasticMobileBert(space, opts.depth_order, head_layout=opts.head_layout)
    copied = copy_shared_weights(elastic.model, teacher)
    init_from = None
    if opts.init_from:  # every weight, the embeddings and heads included, from the trained supernet
        source, source_meta = store.load(opts.init_from)
        elastic.model.load_state_dict(_inherited_state(source, elastic) if opts.part else source.model.state_dict())
        init_from = {"directory": str(Path(opts.init_from).resolve()), "steps_done": source_meta.get("steps_done"),
                     "rule": source_meta.get("options", {}).get("rule")}
    elastic.to(opts.device)
    teacher.to(opts.device)
    if ctx.is_main:
        opts.out.mkdir(parents=True, exist_ok=True)
    archs_per_step = 1 if opts.rule == "largest" else opts.random_subnets + 2
    micro = _micro_batch(opts, space, teacher, archs_per_step, ctx.world_size)
    cfg = SupernetConfig(opts.out, opts.lr, opts.warmup, rule=opts.rule, random_subnets=opts.random_subnets,
                         seed=opts.seed, init_from=init_from["directory"] if init_from else None,
                         micro_batch_size=micro, checkpoint_every=opts.checkpoint_every,
                         device=opts.device, progress=opts.progress, stop_after=opts.stop_after,
                         checkpoint_on_interrupt=opts.checkpoint_on_interrupt)
    trainer = SupernetTrainer(elastic, teacher, phases, data, cfg, ctx)
    start = time.time()
    result = trainer.run(opts.resume)
    details = {"teacher": opts.teacher if opts.teacher == "minilm" else str(Path(opts.teacher).resolve()),
               "eval_corpus": str(Path(opts.eval_corpus).resolve()) if opts.eval_corpus else None,
               "steps_done": result["steps_done"], "seconds": round(time.time() - start, 1),
               "training_seconds": result["training_seconds"],  # over every --resume'd invocation
               "phases": [(p.name, p.kind, p.steps) for p in phases], "copied_from_teacher": copied,
               "init_from": init_from,
               "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()}}
    if not result["finished"] or not ctx.is_main:
        return details
    if opts.eval_corpus:
        from nas.supernet.api import Supernet

        supernet = Supernet(opts.out, elastic, details, opts.device, teacher)
        supernet.__dict__["tokenizer"] = tokenizer  # the directory holds no vocab.txt yet
        batches = supernet.eval_batches(opts.eval_corpus)
        ends = {"largest": largest(space), "smallest": smallest(space)}
        losses = supernet.subnet_losses(list(ends.values()), batches)
        details["held_out"] = dict(zip(ends, losses, strict=True))
    store.save(elastic, opts.out, space_text, resolve_vocab(vocab), details)
    return details
