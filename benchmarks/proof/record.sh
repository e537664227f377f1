#!/usr/bin/env bash
# Record the proof's progress in this checkout: copy the runner's results (the worktree at ~/proof/code writes
# them), regenerate the proof README's tables, the fresh students' truth file and the results index, run the
# tests that read them, and commit those files alone. Safe while the lane runs (it only reads the store).
#     bash benchmarks/proof/record.sh            # from the repository root, .venv installed
set -euo pipefail
repo=$(git rev-parse --show-toplevel)
cd "$repo"
py=.venv/bin/python
source_file=~/proof/code/benchmarks/results/proof.json
[ -f "$source_file" ] || { echo "error: no $source_file (start the experiment: bash benchmarks/proof/background.sh)"; exit 2; }
cp "$source_file" benchmarks/results/proof.json
"$py" -m benchmarks.proof.table --readme > /dev/null
"$py" -m benchmarks.index > /dev/null
"$py" -m pytest -q tests/test_docs.py tests/test_proof_table.py tests/test_default_estimator.py
files=(benchmarks/results/proof.json benchmarks/results/proof_fresh_truth.json benchmarks/proof/README.md
       benchmarks/results/README.md)
# re-distilled students (lane.py's restore; amendment 2's equivalence check)
[ -f benchmarks/results/proof_restored.json ] && files+=(benchmarks/results/proof_restored.json)
if git diff --quiet -- "${files[@]}" && [ -z "$(git ls-files --others -- "${files[@]}")" ]; then
  echo "nothing new to record"
  exit 0
fi
done_jobs=$("$py" - <<'PY'
import json
from benchmarks.proof.table import pooled, settings_ids
records = pooled(json.load(open("benchmarks/results/proof.json"))["records"])  # amendment 2
sid = settings_ids()[0]["proof"]
print(sum(1 for key in records if key.startswith(f"proof/{sid}/")))
PY
)
git add -- "${files[@]}"
git commit -q -m "proof: $done_jobs of 90 proof jobs recorded" -- "${files[@]}"
git log --oneline -1
