#!/usr/bin/env bash
# Build the proof experiment's teacher (benchmarks/proof/teacher.json) unless it is already in place: the two
# `nas teacher` commands of nas/distill/README.md, on one thread (a two-thread build differs in its last bits),
# then its sha256 checked against teacher.json. About 6 minutes on 2 cores. Run from the repository root.
set -euo pipefail
repo=$(git rev-parse --show-toplevel)
T=$HOME/.cache/nas/teachers/minilm-384
# amendment 1's build, and amendment 2's rebuilds on machines whose floating point gives other last bits
want=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1]))
print(' '.join(b['model_safetensors_sha256'] for b in [d['teacher'], *d.get('rebuilds', [])]))" \
  "$repo/benchmarks/proof/teacher.json")
have() {
  [ -f "$T/model.safetensors" ] || return 1
  local got; got=$(sha256sum "$T/model.safetensors" | cut -d' ' -f1)
  [[ " $want " == *" $got "* ]]
}
if have; then echo "teacher in place: $T"; exit 0; fi
export NAS_DATA_DIR=${NAS_DATA_DIR:-$(cd "$repo/.." && pwd)/shared/data} OMP_NUM_THREADS=1
C=$NAS_DATA_DIR/corpus
nas="$repo/.venv/bin/nas"
"$nas" teacher --init-from minilm --freeze-encoder --steps 200 --lr 5e-3 --warmup 10 --batch-size 32 --seq-len 64 \
  --corpus "$C/wikitext2-valid.txt" --eval-corpus "$C/wikitext2-test.txt" --checkpoint-every 50 \
  --out "$T/stage1-heads" --overwrite
"$nas" teacher --init-from "$T/stage1-heads" --steps 60 --lr 1e-3 --warmup 6 --batch-size 32 --seq-len 64 \
  --corpus "$C/wikitext2-valid.txt" --eval-corpus "$C/wikitext2-test.txt" --checkpoint-every 50 --out "$T" --overwrite
have || { echo "error: the teacher built here is not teacher.json's (sha256 $(sha256sum "$T/model.safetensors" | cut -c1-12)…): this machine computes another teacher; see benchmarks/proof/README.md, amendments 1 and 2"; exit 2; }
echo "teacher built and checked: $T"
