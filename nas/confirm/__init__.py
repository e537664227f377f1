"""`nas confirm`: distil and fine-tune the K best front points of a search run for real, as Ray Tune trials
under ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020), and put the
measured results beside the estimates.

    plan.py     what to confirm: the run's front points, the rungs (distillation step budgets), the options
    trial.py    one trial: distil up to each rung, held-out losses, a short fine-tune on high rungs, checkpoints
    tuning.py   Ray (local or a cluster) and the Tune `Tuner` with `ASHAScheduler`, new or restored
    table.py    `confirmed.csv` in the run, and reading it back for `nas pareto`, pareto.html and best/
"""
