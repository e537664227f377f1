"""MobileBERT distillation protocol (Sun et al., ACL 2020, arXiv 2004.02984, and its official code).

Modules, one job each: `vocab` and `data_corpus` (MLM + NSP examples), `data_glue` (task readers),
`losses`, `layer_map` (teacher ↔ student layers and heads), `teacher`, `schedules` (PKT/JKT/AKT),
`lamb` (optimiser), `trainer` (phases, checkpoints, resume), `finetune`, `metrics`, `distributed`.
Torch is imported only inside these modules, never by `nas/cli/distill.py` at import time.
"""
