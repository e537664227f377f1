#!/usr/bin/env bash
# The proof's supernet (benchmarks/proof/plan.json "estimators"): run 17's recipe (nas/supernet/README.md) on the
# plan's teacher. Run again to continue: it resumes from each part's last checkpoint. SEED=1 trains the seed-1
# supernet (run 18's recipe) the plan also judges. PYTHON names the interpreter (default: .venv/bin/python); the
# code is the checkout this script is in (run it from a worktree of the plan's commit, as benchmarks/proof/README.md says).
set -euo pipefail
cd "$(dirname "$0")/../.."
SEED=${SEED:-0}
DATA=${NAS_DATA_DIR:-../shared/data}
OUT=~/.cache/nas/supernets/proof-seed$SEED
RESUME=(); [ -d "$OUT" ] && RESUME=(--resume)
"${PYTHON:-.venv/bin/python}" -m nas.cli supernet train --teacher ~/.cache/nas/teachers/minilm-384 --corpus "$DATA/corpus/wikitext2-valid.txt" \
  --eval-corpus "$DATA/corpus/wikitext2-test.txt" --steps 9600 --schedule jkt --pd-fraction 0.5 --rule sandwich \
  --random-subnets 2 --depth-order spread --head-layout prefix --batch-size 16 --seq-len 64 --max-predictions 20 \
  --lr 1e-3 --warmup 10 --seed "$SEED" --split bottleneck --workers 2 --out "$OUT" "${RESUME[@]}"
