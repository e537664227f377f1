"""Put a finished confirmation into the run: `confirmed.csv`, `best/` re-chosen from the confirmed results
(with `best/confirmed.json` saying why), `pareto.html` redrawn with the measured points, and a `confirmed`
record in run.json."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from nas.confirm import table
from nas.confirm.plan import ConfirmOptions
from nas_common.writing import write_json


def publish(options: ConfirmOptions, rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Write everything; returns the summary (also stored as run.json["confirmed"])."""
    from nas.accuracy.resolution import Estimate
    from nas.export.train_guide import export_pick
    from nas.report import rewrite_report
    from nas.search.results import load_trials
    from nas.search.run_dir import read_run, recorded_options, write_run

    run = Path(options.run)
    table.write(run, rows)
    table.drop_stopped_models(options, rows)
    record = read_run(run)
    chosen = table.winner(rows)
    summary: dict[str, Any] = {
        "finished": datetime.datetime.now().isoformat(timespec="seconds"), "seconds": round(seconds, 1),
        "task": options.task, "rungs": list(options.rungs), "schedule": options.schedule,
        "warm_start": "supernet" if options.supernet else "teacher", "trials": len(rows),
        "survived": sum(r["status"] == "survived" for r in rows), "failed": sum(r["status"] == "failed" for r in rows),
        "best": None, "estimator_pick0": options.candidates[0].arch_id if options.candidates else None}
    failed_ids = [int(r["arch_id"]) for r in rows if r["status"] == "failed"]
    summary["partial"] = bool(failed_ids)
    summary["failed_trials"] = failed_ids
    if chosen is not None:
        trials = {t.id: t for t in load_trials(run)}
        best = trials[int(chosen["arch_id"])]
        search_options = recorded_options(record, run)
        export_pick(best, run / "best", run, search_options, Estimate.from_record(record))
        note = {"chosen_from": "confirmed.csv (nas confirm)", "arch_id": best.id, "measured": table.measured(chosen),
                "row": chosen, "partial": bool(failed_ids),
                "compared": f"{len(rows) - len(failed_ids)} of {len(rows)} confirmed points"
                            + (f" (trials {', '.join(map(str, failed_ids))} failed)" if failed_ids else "")}
        write_json(run / "best" / "confirmed.json", note)
        summary["best"] = {"arch_id": best.id, "pick": int(chosen["pick"]), "measured": table.measured(chosen)}
    record["confirmed"] = summary
    write_run(run, record)
    rewrite_report(run)
    return summary
