"""How well do the accuracy estimators rank real students? (issue 9, item 6)

Ground truth (`estimator_rank_truth.py`, archs in `estimator_rank_archs.py`): 16 students at the MiniLM
teacher's width (384), each distilled standalone with `nas distill` under the same budget and data seed,
then fine-tuned on SST-2. GT1 = held-out PD loss on fixed wikitext2-test batches (lower is better),
GT2 = SST-2 dev accuracy. The estimators — (a) the supernet's inherited-weight estimate, (b) its accuracy
predictor, (c) the proxy, (d) the parameter count — are correlated against both (Spearman and Kendall,
scipy), within each data seed; equal-size pairs ordered correctly; paired seed noise beside neighbour gaps;
estimator throughput; supernet time per step vs distilling the largest subnet alone.

The ground truth is hours of CPU: every finished job is written at once to
benchmarks/results/estimator_rank_truth.json (committed) and a re-run skips it. Child processes run a
snapshot of the committed code (git archive HEAD) so that edits made meanwhile cannot mix two protocols
into one ground truth; the settings id covers budget, teacher weights, held-out set and distill code.

Usage: NAS_DATA_DIR=../shared/data nice -n 5 python -m benchmarks.estimator_rank [--teacher DIR]
    [--supernet DIR] [--seeds 0,1] [--workers 2] [--stop-at 08:50] [--no-truth] [--quick]
    [--layer-steps 480 --pd-steps 480]      # a larger budget: its own settings id, its own ground truth
    [--schedule pkt --steps-per-layer 80 --pd-steps 480]   # the paper's schedule, as nas distill runs it
Writes benchmarks/results/estimator_rank.json, or `--report NAME` (the report; `partial` with counts until every job
is done).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import estimator_rank_truth as truth
from benchmarks.data_folder import data_folder
from benchmarks.estimator_rank_archs import ARCHS
from benchmarks.estimator_rank_jobs import Job, Store, job_key, priority, run_jobs

ROOT = truth.ROOT
RESULTS = ROOT / "benchmarks/results"
CACHE = Path.home() / ".cache/nas"
CODE_PATHS = ["nas", "nas_common", "search_spaces", "latency_models", "device_profiles"]


def default_teacher() -> Path:
    """A teacher cached by the distill work (~/.cache/nas/teachers/*), else this benchmark's own."""
    shared = sorted(p for p in (CACHE / "teachers").glob("*") if (p / "model.safetensors").is_file())
    return shared[-1] if shared else CACHE / "estimator_rank/teacher-minilm-400"


def code_digest() -> str:
    """The committed distillation code the ground truth is made with."""
    listing = subprocess.run(["git", "ls-tree", "-r", "HEAD", "nas/distill", "nas/cli/distill.py"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout
    return hashlib.sha256(listing.encode()).hexdigest()[:10]


def snapshot(work: Path) -> Path:
    """`git archive HEAD` of the packages, once per code digest."""
    target = work / f"code-{code_digest()}"
    if not (target / "nas/__init__.py").is_file():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", "HEAD", *CODE_PATHS], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def ground_truth(args: argparse.Namespace, store: Store, budget: truth.Budget, sid: str, data: Path) -> None:
    work = Path(args.work) / sid
    work.mkdir(parents=True, exist_ok=True)
    digest = sid.rsplit("-", 1)[1]
    kept = Path(args.work) / f"code-{digest}"
    if digest != code_digest() and not (kept / "nas/__init__.py").is_file():
        raise SystemExit(f"settings id {sid} was made with distillation code {digest}, whose snapshot is gone")
    truth.ROOT = kept if digest != code_digest() else snapshot(Path(args.work))  # children run the snapshot
    teacher = Path(args.teacher)
    corpus, test, glue = data / "corpus/wikitext2-valid.txt", data / "corpus/wikitext2-test.txt", data / "glue"
    archs = ARCHS[:2] if args.quick else ARCHS
    by_key = {b.key: b.arch for b in archs}
    seeds = [int(s) for s in args.seeds.split(",")]
    if not store.data["settings"].get(sid, {}).get("teacher_mlm_ce"):
        store.put_settings(sid, {"teacher_mlm_ce": truth.teacher_mlm_ce(teacher, test, budget.seq_len)})

    def distill_job(key: str, seed: int) -> dict:
        seconds, losses = truth.distill(by_key[key], work / f"{key}-s{seed}", teacher, corpus, test, budget, seed)
        return {"seconds": seconds, "heldout": losses, "body_params": body_params(by_key[key]),
                "params": by_key[key].num_params()}

    def finetune_job(key: str, seed: int) -> dict:
        student = work / f"{key}-s{seed}"
        redistilled = 0.0
        if not (student / "model.safetensors").is_file():  # distilled in another session: redo it
            redistilled = truth.distill(by_key[key], student, teacher, corpus, test, budget, seed)[0]
        seconds, metrics = truth.finetune(student, glue, budget, seed)
        return {"seconds": seconds, "redistill_seconds": redistilled, "sst2_accuracy": metrics["dev"]["accuracy"],
                "train_seconds": metrics["train_seconds"]}

    jobs = []
    kinds = set(args.kinds.split(","))
    for kind, key, seed in priority(list(by_key), seeds, args.noise_archs):
        if kind not in kinds:
            continue
        run = (lambda k=key, s=seed: distill_job(k, s)) if kind == "distill" else (
            lambda k=key, s=seed: finetune_job(k, s))
        needs = [job_key(sid, "distill", key, seed)] if kind == "finetune" else []
        jobs.append(Job(job_key(sid, kind, key, seed), run, needs))
    deadline = None
    if args.stop_at:
        hour, minute = (int(x) for x in args.stop_at.split(":"))
        now = datetime.datetime.now(datetime.UTC)
        stop = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if stop <= now:  # a time already past today means tomorrow's (a run that spans midnight)
            stop += datetime.timedelta(days=1)
        deadline = stop.timestamp()
    run_jobs(jobs, store, args.workers, deadline, lambda line: print(f"[{time.strftime('%H:%M:%S')}] {line}",
                                                                      flush=True))


def body_params(arch: object) -> int:
    from nas.accuracy.proxy import body_params as count

    return count(arch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default=None, help="Teacher directory (default: see default_teacher).")
    parser.add_argument("--supernet", default=None, help="A trained supernet directory (nas supernet train).")
    parser.add_argument("--work", default=str(CACHE / "estimator_rank/work"))
    parser.add_argument("--seeds", default="0,1", help="Data seeds; every arch is distilled on each.")
    parser.add_argument("--noise-archs", type=int, default=4, help="Archs given the 2nd seed early.")
    parser.add_argument("--workers", type=int, default=1, help="Jobs at a time (each child uses 1 thread).")
    parser.add_argument("--kinds", default="distill,finetune", help="Which jobs this runner takes: distill, "
                        "finetune or both (a second runner may take the fine-tunes; they share the store safely).")
    parser.add_argument("--stop-at", default=None, help="UTC HH:MM after which no new job starts.")
    parser.add_argument("--no-truth", action="store_true", help="Only report on the ground truth recorded.")
    parser.add_argument("--no-predictor", action="store_true", help="With --supernet: leave out the accuracy "
                        "predictor (its fit is most of the scoring time).")
    parser.add_argument("--quick", action="store_true", help="2 archs, a tiny budget (smoke test).")
    parser.add_argument("--torch-device", default="cpu", help="cpu, or cuda for the students' training (a GPU).")
    parser.add_argument("--settings-id", default=None, help="Report on the ground truth recorded under this id "
                        "(with --no-truth: e.g. one made with earlier distillation code).")
    parser.add_argument("--refit-proxy", action="store_true", help="Refit nas/accuracy/proxy_fit.json on GT1 "
                        "(by `nas accuracy fit-proxy`).")
    parser.add_argument("--report", default=None, help="The report's file name under benchmarks/results (default "
                        "estimator_rank.json): name a variant's report so that it does not replace the main one.")
    parser.add_argument("--layer-steps", type=int, default=None, help="JKT steps of every student (default "
                        f"{truth.Budget.layer_steps}; a multiple of 60 so that every depth 2-6 divides it).")
    parser.add_argument("--pd-steps", type=int, default=None, help=f"PD steps (default {truth.Budget.pd_steps}).")
    parser.add_argument("--steps-per-layer", type=int, default=None, help="Instead of --layer-steps: this many "
                        "layer-wise steps per layer, so deeper students get more (with --schedule pkt: the paper's).")
    parser.add_argument("--schedule", choices=("jkt", "pkt"), default=None, help="The students' distillation "
                        "schedule (default jkt, the supernet's; pkt: the paper's and nas distill's default).")
    parser.add_argument("--record-quality", default=None, metavar="REPORT", help="Only record in its supernet's "
                        "directory what an earlier report (a file under benchmarks/results) measured of it.")
    args = parser.parse_args()
    if args.record_quality:
        recorded = json.loads((RESULTS / args.record_quality).read_text())
        record_supernet_quality(recorded["supernet"]["directory"], recorded, recorded["settings"]["budget"],
                                args.record_quality)
        return
    args.teacher = args.teacher or str(default_teacher())
    data = data_folder()
    budget = dataclasses.replace(truth.QUICK if args.quick else truth.Budget(), device=args.torch_device)
    if args.layer_steps is not None:
        budget = dataclasses.replace(budget, layer_steps=args.layer_steps)
    if args.schedule is not None:
        budget = dataclasses.replace(budget, schedule=args.schedule)
    if args.steps_per_layer is not None:
        budget = dataclasses.replace(budget, steps_per_layer=args.steps_per_layer)
    if args.pd_steps is not None:
        budget = dataclasses.replace(budget, pd_steps=args.pd_steps)
    suffix = "_quick" if args.quick else ""
    store = Store(RESULTS / f"estimator_rank_truth{suffix}.json")
    sid = args.settings_id or truth.settings_id(budget, Path(args.teacher)) + "-" + code_digest()
    if args.settings_id and sid not in store.data["settings"]:
        raise SystemExit(f"no ground truth recorded under settings id {sid}")
    if args.settings_id and not args.no_truth:
        made = truth.settings_id(budget, Path(args.teacher))
        if made != sid.rsplit("-", 1)[0]:
            raise SystemExit(f"--settings-id {sid}: this budget and teacher make {made}; pass the budget it was "
                             f"recorded with ({store.data['settings'][sid].get('budget')})")
    if not args.settings_id:
        store.put_settings(sid, {"budget": truth.asdict(budget), "teacher": args.teacher,
                                 "eval": {"corpus": "wikitext2-test", "by": "nas distill --eval-corpus",
                                          "max_predictions": truth.MAX_PREDICTIONS},
                                 "code": {"distill_digest": code_digest()}})
    if not args.no_truth:
        ground_truth(args, store, budget, sid, data)
    from benchmarks.estimator_rank_report import report

    if args.refit_proxy:
        refit_proxy(store, sid)
    report_name = args.report or f"estimator_rank{suffix}.json"
    if Path(report_name).name != report_name or not report_name.endswith(".json"):
        raise SystemExit(f"--report {report_name}: a file name ending in .json, no folder")
    result = report(store, sid, args, data, RESULTS / report_name)
    if args.supernet:
        record_supernet_quality(args.supernet, result, store.data["settings"][sid]["budget"], report_name)


def refit_proxy(store: Store, sid: str) -> None:
    """Fit the proxy on GT1 of the first seed (the most archs; comparisons within one seed are paired): the
    losses go to a file that the product command `nas accuracy fit-proxy` fits and writes proxy_fit.json from."""
    import tempfile

    from benchmarks.estimator_rank_archs import by_key
    from benchmarks.estimator_rank_report import truths

    gt1, _ = truths(store, sid)
    seed = min(gt1)
    archs = by_key()
    keys = sorted(gt1[seed])
    partial = len(keys) < len(archs)
    note = (f"partial ({len(keys)} of {len(archs)} archs)" if partial else "") + \
        f"; fitted on data seed {seed}, {Path(store.path).name} settings {sid}"
    rows = {"note": note.lstrip("; "), "data": [{"arch": archs[k].to_dict(), "loss": gt1[seed][k]} for k in keys]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gt1.json"
        path.write_text(json.dumps(rows) + "\n")
        subprocess.run([sys.executable, "-m", "nas.cli", "accuracy", "fit-proxy", str(path), "--overwrite"],
                       check=True, cwd=ROOT)


def record_supernet_quality(directory: str, result: dict, budget: dict, report_name: str) -> None:
    """The measured rank correlation of the supernet estimator, into the supernet directory (its `quality`), by
    the product command `nas supernet quality` (run in-process: the supernet the report loaded is reused)."""
    import tempfile

    from nas.accuracy.supernet import record_quality
    from nas_common.errors import UserInputError

    seed = min(result["per_seed"])
    losses = result["ground_truth"]["gt1"][seed]
    archs = {b.key: b.arch for b in ARCHS}
    truth_file = {"note": f"GT1 of data seed {seed}, report {report_name}", "students": truth.students_label(budget),
                  "archs": len(ARCHS), "measured_by": "benchmarks/estimator_rank.py", "date": result["date"],
                  "seed": seed, "budget": budget,
                  "data": [{"key": k, "arch": archs[k].to_dict(), "loss": losses[k]} for k in sorted(losses)]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gt1.json"
        path.write_text(json.dumps(truth_file) + "\n")
        try:
            record = record_quality(Path(directory), path, overwrite=True,
                                    predictor="predictor" in result["estimates"])
        except UserInputError as error:  # e.g. fewer than 3 students in the supernet's space: nothing to record
            print(f"quality not recorded: {error}")
            return
    print(f"recorded in {directory}: {record['text']}")

if __name__ == "__main__":
    main()
