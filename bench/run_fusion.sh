#!/usr/bin/env bash
# Kernel-fusion experiments in one command: the compiled forward pass, train step (BCE) and Fourier-prior train step
# of each model at every fusion level (none, epilogue, full: SEQJIT_FUSION, compiler/FusionLevel.h), side by side,
# on the same weights and data; the forward outputs and the losses of every level are checked equal to full's.
#
# Environment knobs: REPS (default 10), WARMUP (default 2), MODELS (default "cnn-deep cnn-dist residualbind";
# "all" for every stdlib model), TASKS (default "forward grad grad_fourier"), LEVELS (default "none epilogue full"),
# BATCH (default 100), SEQJIT_BUILD_DIR (default <repo>/build), SEQJIT_BENCH_LOCK (set: build under
# `flock /tmp/seqjit-build.lock`), SEQJIT_BENCH_DATA (default <build>/bench-data/fusion).
# With PROFILE=1 each timed program runs under the kernel profile too, and its table (runtime/core/KernelProfile.h)
# is saved beside the results as fusion-profile-<model>-<task>-<level>.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
REPS=${REPS:-10}
WARMUP=${WARMUP:-2}
MODELS=${MODELS:-"cnn-deep cnn-dist residualbind"}
TASKS=${TASKS:-"forward grad grad_fourier"}
LEVELS=${LEVELS:-"none epilogue full"}
BATCH=${BATCH:-100}
DATA=${SEQJIT_BENCH_DATA:-$BUILD/bench-data/fusion}
RESULTS=$ROOT/bench/results
PYTHON=/usr/bin/python3

source "$ROOT/bench/build_bench_target.sh"
source "$ROOT/bench/relative_paths.sh"
build_bench_target bench_forward
build_bench_target bench_gradient
build_bench_target bench_peak
build_bench_target seqjit
if [[ "$MODELS" == all ]]; then
  MODELS=$("$BUILD/bin/seqjit" models | awk 'NR > 1 && NF >= 4 && $2 ~ /^[0-9]+$/ { print $1 }' | tr '\n' ' ')
fi
for level in $LEVELS; do
  case "$level" in none | epilogue | full) ;; *) echo "run_fusion.sh: LEVELS holds '$level'; the levels are none, epilogue, full" >&2; exit 2 ;; esac
done

mkdir -p "$RESULTS" "$DATA"
JSON=$RESULTS/fusion-cpu.jsonl
: >"$JSON"
export LOAD_AT_START=$(cut -d" " -f1-3 /proc/loadavg)
# Levels alternate within each model and task, so that machine noise hits them alike.
for model in $MODELS; do
  for task in $TASKS; do
    for level in $LEVELS; do
      echo "== $model $task: fusion $level ($REPS reps)"
      rows=$DATA/$model-$task-$level.jsonl
      : >"$rows"
      profile_file=$RESULTS/fusion-profile-$model-$task-$level.txt
      if [[ "$task" == forward ]]; then
        run=("$BUILD/bin/bench_forward" --model "$model")
      else
        run=("$BUILD/bin/bench_gradient" --model "$model" --task "$task")
      fi
      SEQJIT_FUSION=$level SEQJIT_NUM_THREADS=2 SEQJIT_PROFILE=${PROFILE:-0} "${run[@]}" --batch "$BATCH" \
        --reps "$REPS" --warmup "$WARMUP" --out-dir "$DATA/$level" --json "$rows" \
        2> >(if [[ "${PROFILE:-0}" == 1 ]]; then tee "$profile_file" >&2; else cat >&2; fi)
      "$PYTHON" - "$rows" "$level" "$DATA/$level/$model" >>"$JSON" <<'EOF_PY'
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        row = json.loads(line)
        row.update(fusion=sys.argv[2], data_dir=sys.argv[3])
        print(json.dumps(row))
EOF_PY
    done
  done
done

"$BUILD/bin/bench_peak" --threads 2 --json "$JSON"
status=0
PYTHONPATH="$ROOT/bench" "$PYTHON" "$ROOT/bench/fusion_report.py" "$JSON" "$RESULTS/fusion-cpu.txt" || status=1
record_relative_paths "$JSON"
echo "saved $RESULTS/fusion-cpu.txt and $JSON"
exit $status
