"""One set of supernet weights trained and saved: the whole of an unsplit `nas supernet train`, and what a split
run does once per part (split_train.py, workers.py). It builds the elastic model (its embeddings and heads start
as the teacher's, nas/distill's `copy_shared_weights`, or every weight from `--init-from`), trains it from its
start or its checkpoint, and saves it. It calls nothing of the pipeline above it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nas.supernet import store
from nas.supernet.api import Supernet
from nas.supernet.elastic import ElasticMobileBert
from nas.supernet.options import RESULT_FILES, SupernetOptions, record
from nas.supernet.space import largest, maxima, smallest, supernet_arch
from nas.supernet.trainer import SupernetConfig, SupernetTrainer, plan
from nas_common.errors import UserInputError
from nas_common.paths import remove_results
from search_spaces.space import SearchSpace


@dataclass(frozen=True)
class OneRun:
    """What the pipeline decides for one set of weights, never the user: the space it trains (and that space's
    file text), whether it is a part of a split supernet, and its share of the memory."""

    space: SearchSpace
    space_text: str
    part: bool = False  # a part of a split supernet: --init-from (an unsplit supernet) is sliced to its widths
    memory_share: float = 1.0  # of the available memory, for the micro-batch plan (1/N in --workers' processes)


def train_one(opts: SupernetOptions, run: OneRun) -> dict[str, Any]:
    """Train `run.space`'s elastic model with `opts` (validated; opts.out is this set of weights' directory) and,
    once finished, save it there; the details that supernet.json records."""
    from nas.distill.data_corpus import PretrainingData
    from nas.distill.distributed import init_distributed
    from nas.distill.teacher import copy_shared_weights, load_teacher
    from nas.distill.vocab import load_tokenizer, resolve_vocab

    space = run.space
    phases = plan(opts.schedule, opts.steps, opts.pd_fraction, maxima(space).layers)
    ctx = init_distributed(opts.torch_device)
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
        elastic.model.load_state_dict(inherited_state(source, elastic) if run.part else source.model.state_dict())
        init_from = {"directory": str(Path(opts.init_from).resolve()), "steps_done": source_meta.get("steps_done"),
                     "rule": source_meta.get("options", {}).get("rule")}
    elastic.to(opts.torch_device)
    teacher.to(opts.torch_device)
    if ctx.is_main:
        opts.out.mkdir(parents=True, exist_ok=True)
    archs_per_step = 1 if opts.rule == "largest" else opts.random_subnets + 2
    micro = _micro_batch(opts, space, teacher, archs_per_step, ctx.world_size, run.memory_share)
    cfg = SupernetConfig(opts.out, opts.lr, opts.warmup, rule=opts.rule, random_subnets=opts.random_subnets,
                         seed=opts.seed, init_from=init_from["directory"] if init_from else None,
                         micro_batch_size=micro, checkpoint_every=opts.checkpoint_every,
                         torch_device=opts.torch_device, progress=opts.progress, stop_after=opts.stop_after,
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
               "options": record(opts, part=run.part, memory_share=run.memory_share)}
    if not result["finished"] or not ctx.is_main:
        return details
    if opts.eval_corpus:  # the directory holds no vocab.txt yet: the supernet is given the training tokenizer
        supernet = Supernet(opts.out, elastic, details, opts.torch_device, teacher, tokenizer)
        batches = supernet.eval_batches(opts.eval_corpus)
        ends = {"largest": largest(space), "smallest": smallest(space)}
        losses = supernet.subnet_losses(list(ends.values()), batches)
        details["held_out"] = dict(zip(ends, losses, strict=True))
    store.save(elastic, opts.out, run.space_text, resolve_vocab(vocab), details)
    return details


def inherited_state(source: ElasticMobileBert, part: ElasticMobileBert) -> dict[str, torch.Tensor]:
    """A split part's start from an unsplit supernet (few-shot NAS: sub-supernets inherit the one-shot weights):
    the source's slice at the part's widest sub-network, which has every weight of the part's model."""
    wanted = part.model.state_dict()
    tensors = source.subnet_tensors(largest(part.space))
    return {name: tensors[name].detach().clone() for name in wanted}


def _micro_batch(opts: SupernetOptions, space: SearchSpace, teacher: Any, archs_per_step: int, world: int,
                 memory_share: float) -> int:
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
                              share=memory_share)
    return max(1, min(per_rank, memory.micro_batch_size // archs_per_step))
