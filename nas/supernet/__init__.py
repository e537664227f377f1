"""The weight-sharing MobileBERT supernet (issue 9): one elastic MobileBERT at the teacher's width, trained with
the paper's distillation on sampled sub-networks; a sub-network's held-out losses score an arch.

Modules, one job each: `space` (the restricted search space and its maxima), `elastic` (weight slicing),
`sampler` (sandwich rule), `teacher_once` (one teacher pass per batch), `trainer` (the loop), `options` (what
the user sets for `nas supernet train`, validated into a plan), `recipes` (recipes/*.toml), `pipeline` (`nas
supernet train`, one way down: validate → train → assemble), `workers` (a split supernet's parts in processes),
`split_train` (its parts in turn, then assemble), `train_one` (one set of weights), `evaluate` (held-out
losses), `store` (the directory), `score` (`nas supernet score`), `api` (the public interface: load_supernet,
Supernet, extract). Training
code reuses nas/distill's losses, layer map, LAMB, data and gradient accumulation. See README.md.
Nothing here is imported by `nas search` unless `--estimator supernet`.
"""
