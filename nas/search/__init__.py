"""`nas search`: the ask/tell loop and its run directory.

`run` runs a search end to end (set up the run, run the controller, write the results). The loop is
`controller` (a strategy from `nas.strategies` asks for archs, `evaluator` scores them on the `executor`,
`journal` records each `trial`); `run_dir`, `results` and `pareto` read and write the run directory and its
front; `budget` parses latency budgets; `ray_session` starts the Ray runtime the executor and `nas confirm` share.
"""
