#!/usr/bin/env bash
# Start (or continue) the proof experiment in the background, on the code of the plan's commit (the commit that
# added benchmarks/proof/plan.json), in a git worktree at ~/proof/code. Run from the repository root:
#     bash benchmarks/proof/background.sh            # niced, logs in ~/proof/logs, one job per core
# Before the estimator is frozen (no benchmarks/proof/freeze.json): the supernet and the runner's students.
# After it (freeze.json committed, and copied into the worktree here):
#   until confirmed.json holds both budgets: the runner's proof students beside `nas confirm --top 4` on each
#   pick-0 run (commit confirmed.json, then run this again);
#   after that one lane (lane.py), PROOF_WORKERS jobs at once (default 2): the groups of PROOF_GROUPS in order
#   (default fresh,proof: the 16 fresh students, then the proof students and confirmed winners, seed by seed),
#   each student's fine-tunes right after its distillation, re-creating first any recorded student whose weights
#   a pending fine-tune needs (restore.py).
# Stop (every training saves a checkpoint; all resume later):
#     for f in ~/proof/pgid.*; do kill -TERM -- -"$(cat "$f")"; done
set -euo pipefail
repo=$(git rev-parse --show-toplevel)
plan_commit=$(git -C "$repo" log --diff-filter=A --format=%H -- benchmarks/proof/plan.json | tail -1)
code=~/proof/code
mkdir -p ~/proof/logs
[ -d "$code" ] || git -C "$repo" worktree add -q --detach "$code" "$plan_commit"
[ "$(git -C "$code" rev-parse HEAD)" = "$plan_commit" ] || { echo "error: $code is not at the plan commit"; exit 2; }
export PYTHONPATH=$code PYTHON=$repo/.venv/bin/python OMP_NUM_THREADS=1
export NAS_DATA_DIR=${NAS_DATA_DIR:-$(cd "$repo/.." && pwd)/shared/data}
start() {  # start NAME COMMAND...: a niced background job in its own process group, its log in ~/proof/logs
  local name=$1; shift
  setsid nice -n 10 "$@" >> ~/proof/logs/"$name".log 2>&1 < /dev/null &
  echo $! > ~/proof/pgid."$name"
  echo "started $name (pgid $!), log ~/proof/logs/$name.log"
}
if pgrep -f "benchmarks.proof.run|confirm_picks.py|proof/lane.py|nas.cli (supernet train|distill|finetune|confirm)" > /dev/null; then
  echo "error: the experiment (or another training) is running: stop it first"; exit 2
fi
rm -f ~/proof/pgid.*
if [ ! -f "$repo/benchmarks/proof/freeze.json" ]; then
  cd "$code"
  start supernet bash benchmarks/proof/supernet.sh
  start runner "$PYTHON" -m benchmarks.proof.run --workers 1
  exit 0
fi
[ -f "$code/benchmarks/proof/freeze.json" ] || cp "$repo/benchmarks/proof/freeze.json" "$code/benchmarks/proof/"
cmp -s "$repo/benchmarks/proof/freeze.json" "$code/benchmarks/proof/freeze.json" \
  || { echo "error: $code/benchmarks/proof/freeze.json differs from the committed one"; exit 2; }
# A fresh machine has the committed records but no store of its own: start from them.
[ -f "$code/benchmarks/results/proof.json" ] || cp "$repo/benchmarks/results/proof.json" "$code/benchmarks/results/"
confirmed=$repo/benchmarks/proof/confirmed.json
done_budgets=$(grep -c '"confirmed-' "$confirmed" 2>/dev/null || true)
cd "$repo"
if [ "${done_budgets:-0}" -lt 2 ]; then
  cd "$code"
  start runner "$PYTHON" -m benchmarks.proof.run --workers 1 --only proof
  cd "$repo"
  start confirm "$PYTHON" benchmarks/proof/confirm_picks.py --confirm-only
else
  bash "$repo/benchmarks/proof/teacher.sh"   # a fresh machine: rebuild the teacher (checked by its sha256)
  start lane "$PYTHON" benchmarks/proof/lane.py --groups "${PROOF_GROUPS:-fresh,proof}" --workers "${PROOF_WORKERS:-2}"
fi
