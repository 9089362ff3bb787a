#!/usr/bin/env bash
# The prepared GPU check: one command for a GPU machine, at most 9 minutes of wall time in all.
#
#   bash scripts/gpu_check.sh [OUT]     (OUT: default $OUT, else results/gpu_check)
#
# 1. installs what the machine's Python lacks from the wheelhouse in .whl/ (scripts/wheelhouse.sh),
#    when there is one, into /tmp/site (nothing is fetched from the network);
# 2. runs the tests marked gpu (GPU forward equals CPU forward; a few train steps stay finite);
# 3. benchmarks the paper-size forward and train step against the GPU's own matmul peak;
# 4. trains the default-model candidate (config/models.yaml: avici-gpu-v1) for the rest of the
#    budget and exports it; RESUME_FROM=DIR (an earlier check's OUT/run, carried along, split
#    files and all) continues that run instead of starting afresh;
# and leaves in OUT only files of at most 15 MiB (larger ones are split: cat PART-* > FILE).
# BUDGET_S (default 540) is the whole budget; GPU_CHECK_TINY=1 runs every step at toy sizes, so
# the script can be tried on a CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
OUT=${1:-${OUT:-results/gpu_check}}
BUDGET_S=${BUDGET_S:-540}
MODEL=avici-gpu-v1
REGISTRY=config/models.yaml
mkdir -p "$OUT"
log() { echo "[gpu_check $(($(date +%s) - start)) s] $*" | tee -a "$OUT/gpu_check.log"; }

if compgen -G ".whl/*.whl" > /dev/null; then
  log "installing $(ls .whl/*.whl | wc -l) wheel(s) from .whl/"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl >> "$OUT/gpu_check.log" 2>&1 || log "wheel install FAILED"
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
python3 -c "import jax; print('devices:', jax.devices())" 2>&1 | tee -a "$OUT/gpu_check.log"

log "tests marked gpu"
python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py 2>&1 | tail -15 \
  | tee "$OUT/gpu_tests.log"

log "benchmark"
tiny=()
if [ "${GPU_CHECK_TINY:-0}" = 1 ]; then tiny=(--tiny); fi
python3 benchmarks/bench_gpu.py "${tiny[@]}" --out "$OUT/bench.json" 2>&1 | tee "$OUT/bench.md"

if [ "${GPU_CHECK_TINY:-0}" = 1 ]; then  # a toy entry of the same shape as the real one
  MODEL=gpu-check-tiny
  REGISTRY=$OUT/tiny-models.yaml
  python3 - "$REGISTRY" <<'PY'
import sys, yaml
entry = yaml.safe_load(open("config/models.yaml"))["models"]["avici-gpu-v1"]
entry["hparams"].update(n_vars=[3, 5], batch_size_unit=12, dim=16, layers=1, num_heads=2,
                        key_size=4, widening=2, pool_size=8, checkpoint_every=20, eval_every=20,
                        log_every=5, val_n_datasets=4, val_n_vars=[5], n_workers=1)
yaml.safe_dump({"models": {"gpu-check-tiny": entry}}, open(sys.argv[1], "w"))
PY
fi

if [ -n "${RESUME_FROM:-}" ] && [ -d "$RESUME_FROM" ] && [ ! -d "$OUT/run" ]; then
  cp -r "$RESUME_FROM" "$OUT/run" && rm -f "$OUT/run/final.json" "$OUT/run/.lock"
  for first in "$OUT"/run/*.part-00; do
    [ -e "$first" ] || continue
    whole=${first%.part-00}
    cat "$whole".part-* > "$whole" && rm "$whole".part-*
  done
  log "resuming from $RESUME_FROM"
fi

minutes=$(python3 -c "print(max(0.5, ($BUDGET_S - ($(date +%s) - $start) - 90) / 60))")
log "training $MODEL for $minutes min"
python3 -m avici_core train --config "$REGISTRY" --model "$MODEL" --out "$OUT/run" \
  --max-minutes "$minutes" 2>&1 | tail -5 | tee -a "$OUT/gpu_check.log"
python3 -m avici_core export-model "$MODEL" --registry "$REGISTRY" --run "$OUT/run" \
  --out "$OUT/export" 2>&1 | tail -3 | tee -a "$OUT/gpu_check.log"

find "$OUT" -type f -size +15M | while read -r big; do
  split -b 15M -d "$big" "$big.part-" && rm "$big" && log "split $big into $big.part-*"
done
log "done"
