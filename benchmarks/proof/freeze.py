"""Freeze the proof's estimator and fix everything that depends on it (plan.json "estimators", "searched",
"fresh"), before any of those students is distilled:

    python -m benchmarks.proof.freeze --supernet ~/.cache/nas/supernets/proof-seed0   # then commit freeze.json

1. the supernet's predictor is fitted (`nas supernet score`, 300 evaluations) and every file of the supernet
   and its predictor is checksummed;
2. pick 0 of `nas search --estimator supernet` at each budget (runs under ~/.cache/nas/proof/runs/);
3. the 16 fresh archs are drawn (design.draw_fresh: seed 31, no estimator consulted), excluding the proof's
   own archs and each search's top 4 front points (`nas confirm --top 4` may pick any of them);
4. every frozen estimator scores the fresh archs: the supernet (held-out MLM loss of each inherited
   sub-network) and its predictor, body parameters, the proxy.

`--dry-run` does step 3 without a supernet (excluding only the baselines and naive choices) and prints it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.estimator_rank_archs import ARCHS as EARLIER_TRUTH
from benchmarks.proof import design
from nas_common.io import file_sha256

FREEZE = design.HERE / "freeze.json"
RUNS = Path.home() / ".cache" / "nas" / "proof" / "runs"
NAS = [sys.executable, "-m", "nas.cli"]


def _nas(*args: str) -> str:
    result = subprocess.run([*NAS, *args], capture_output=True, text=True, cwd=design.ROOT)
    if result.returncode != 0:
        sys.exit(f"error: nas {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def checksums(directory: Path) -> dict[str, str]:
    """sha256 of every file of a supernet directory but its resumable training state."""
    return {str(p.relative_to(directory)): file_sha256(p) for p in sorted(directory.rglob("*"))
            if p.is_file() and "checkpoint" not in p.name}


def search_pick(supernet: Path, budget: float) -> dict[str, Any]:
    run = RUNS / f"pick-{budget:g}ms"
    args = ["search", "--device", design.DEVICE, "--budget", f"{budget:g}ms", "--space", str(design.SPACE_FILE),
            "--teacher", str(design.TEACHER_DIR), "--estimator", "supernet", "--supernet", str(supernet),
            "--seed", "0", "--out", str(run)]
    if run.exists():
        args.append("--resume")
    _nas(*args)
    front = json.loads(_nas("pareto", str(run), "--json"))
    return {"run": str(run), "front": front}


def front_archs(front: Any) -> list[dict[str, Any]]:
    rows = front["front"] if isinstance(front, dict) and "front" in front else front
    return [row["arch"] for row in rows]


def score_fresh(supernet: Path | None, fresh: list[dict[str, Any]]) -> dict[str, Any]:
    from nas.accuracy import get_estimator
    from nas.accuracy.proxy import body_params
    from search_spaces.arch import Arch

    archs = [Arch.from_dict(d["arch"]) for d in fresh]
    scores: dict[str, Any] = {
        "body_params": {d["key"]: body_params(a) for d, a in zip(fresh, archs, strict=True)},
        "proxy": {d["key"]: float(s) for d, s in zip(fresh, get_estimator("proxy").estimate(archs), strict=True)},
    }
    if supernet is not None:
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for d in fresh:
                path = Path(tmp) / f"{d['key']}.json"
                path.write_text(json.dumps(d["arch"]))
                files += ["--arch", str(path)]
            rows = [json.loads(line) for line in _nas("supernet", "score", str(supernet), *files, "--json").splitlines()
                    if line.startswith("{")]
        scores["supernet_rows"] = {d["key"]: row for d, row in zip(fresh, rows, strict=True)}
    return scores


def freeze(supernet: Path | None) -> dict[str, Any]:
    from search_spaces.arch import Arch

    plan = json.loads(design.PLAN.read_text())
    archs = design.space_archs()
    millis = design.frozen_ms(archs)
    exclude = {b.key for b in EARLIER_TRUTH}
    exclude |= {design.arch_key(Arch(**s["arch"])) for s in plan["baselines"]["shapes"].values()}
    exclude |= set(plan["searched"]["naive"]["at"].values())
    record: dict[str, Any] = {"plan_sha256": file_sha256(design.PLAN),
                              "code": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                                     cwd=design.ROOT).stdout.strip()}
    if supernet is not None:
        with tempfile.TemporaryDirectory() as tmp:  # fits the predictor once, scoring an arch of the space
            first = Arch(**next(iter(plan["baselines"]["shapes"].values()))["arch"])
            (Path(tmp) / "arch.json").write_text(json.dumps(first.to_dict()))
            _nas("supernet", "score", str(supernet), "--arch", str(Path(tmp) / "arch.json"))
        record["supernet"] = {"dir": str(supernet), "sha256": checksums(supernet)}
        picks = {}
        for budget in design.BUDGETS_MS:
            found = search_pick(supernet, budget)
            front = front_archs(found["front"])
            exclude |= {design.arch_key(Arch.from_dict(a)) for a in front[:4]}
            pick = Arch.from_dict(front[0])
            picks[f"pick0-{budget:g}ms"] = {"arch": pick.to_dict(), "key": design.arch_key(pick),
                                            "predicted_ms": round(float(design.frozen_ms([pick])[0]), 2),
                                            "run": found["run"]}
        record["picks"] = picks
    record["fresh"] = design.draw_fresh(archs, millis, exclude)
    record["fresh_scores"] = score_fresh(supernet, record["fresh"])
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--supernet", type=Path, help="The trained supernet directory (plan: run 17's recipe).")
    parser.add_argument("--dry-run", action="store_true", help="Draw without a supernet; print, write nothing.")
    args = parser.parse_args()
    if args.dry_run:
        print(json.dumps(freeze(None), indent=1))
        return
    if args.supernet is None or not (args.supernet / "supernet.json").is_file():
        sys.exit("error: --supernet DIR must be a finished supernet (supernet.json missing)")
    if FREEZE.exists():
        sys.exit(f"error: {FREEZE} exists: the estimator is frozen once")
    record = freeze(args.supernet)
    FREEZE.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {FREEZE}: commit it before any fresh student or pick is distilled")


if __name__ == "__main__":
    main()
