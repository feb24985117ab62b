#!/usr/bin/env bash
# Cost linear in the work: per-sequence time and peak memory of `seqjit grad`, `predict`, `evaluate` and
# `attribute --method saliency` at N = 100, 1,000 and 100,000 sequences (Task 3's training sequences repeated), the
# commands streaming their input a batch at a time. No PyTorch side: the figure is seqjit's spread across N.
#
# Usage: bench/run_scaling.sh [--record]
#   prints the table; --record also saves it to bench/results/scaling-cpu.txt (+ .jsonl there).
# Environment knobs: MODEL (default cnn-dist), COUNTS (default "100 1000 100000"), TASK3_DATA (default
# <build>/bench-data/task3.h5, generated if missing), SEQJIT_BUILD_DIR (default <repo>/build; bin/seqjit must be
# built already), SEQJIT_BENCH_DATA (inputs, run directory and JSON lines; default <build>/bench-data/scaling).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
SEQJIT=$BUILD/bin/seqjit
MODEL=${MODEL:-cnn-dist}
COUNTS=${COUNTS:-"100 1000 100000"}
TASK3_DATA=${TASK3_DATA:-$BUILD/bench-data/task3.h5}
DATA=${SEQJIT_BENCH_DATA:-$BUILD/bench-data/scaling}
RESULTS=$ROOT/bench/results
PYTHON=/usr/bin/python3

source "$ROOT/bench/record_and_data.sh"
parse_record_option 2,11 "$@"
require_seqjit_and_task3
source "$ROOT/bench/relative_paths.sh"

# shellcheck disable=SC2086
table=$("$PYTHON" "$ROOT/bench/scaling.py" "$SEQJIT" "$DATA" "$TASK3_DATA" "$MODEL" $COUNTS)
load="load average $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores, vector width: $(grep -q avx512f /proc/cpuinfo && echo AVX-512 || echo AVX2)"
printf '%s\n%s\n' "$table" "$load"
if [[ $RECORD == 1 ]]; then
  printf '%s\n%s\n' "$table" "$load" >"$RESULTS/scaling-cpu.txt"
  cp "$DATA/scaling-cpu.jsonl" "$RESULTS/scaling-cpu.jsonl"
  record_relative_paths "$RESULTS/scaling-cpu.txt" "$RESULTS/scaling-cpu.jsonl"
  echo "recorded in bench/results/scaling-cpu.txt"
fi
