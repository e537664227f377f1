#!/usr/bin/env bash
# Start (or continue) the proof experiment in the background, on the code of the plan's commit (the commit that
# added benchmarks/proof/plan.json), in a git worktree at ~/proof/code. Run from the repository root:
#     bash benchmarks/proof/background.sh            # supernet + students, both niced, logs in ~/proof/logs
# Stop it with: kill -- -$(cat ~/proof/pgid.supernet) -$(cat ~/proof/pgid.runner)   (both resume later)
set -euo pipefail
repo=$(git rev-parse --show-toplevel)
plan_commit=$(git -C "$repo" log --diff-filter=A --format=%H -- benchmarks/proof/plan.json | tail -1)
code=~/proof/code
mkdir -p ~/proof/logs
[ -d "$code" ] || git -C "$repo" worktree add -q --detach "$code" "$plan_commit"
[ "$(git -C "$code" rev-parse HEAD)" = "$plan_commit" ] || { echo "error: $code is not at the plan commit"; exit 2; }
export PYTHONPATH=$code PYTHON=$repo/.venv/bin/python OMP_NUM_THREADS=1
export NAS_DATA_DIR=${NAS_DATA_DIR:-$(cd "$repo/.." && pwd)/shared/data}
cd "$code"
setsid nice -n 10 bash benchmarks/proof/supernet.sh >> ~/proof/logs/supernet.log 2>&1 < /dev/null &
echo $! > ~/proof/pgid.supernet
setsid nice -n 10 "$PYTHON" -m benchmarks.proof.run --workers 1 >> ~/proof/logs/runner.log 2>&1 < /dev/null &
echo $! > ~/proof/pgid.runner
echo "started: supernet (pgid $(cat ~/proof/pgid.supernet)), students (pgid $(cat ~/proof/pgid.runner)); results in $code/benchmarks/results/proof.json"
