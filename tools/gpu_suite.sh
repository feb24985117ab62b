#!/usr/bin/env bash
# The GPU suite in one command, on a machine with an NVIDIA GPU and a driver for CUDA 12 or later:
#   1. the tests of compiled programs with SEQJIT_DEVICE=cuda: every program (forward, train step with and without
#      the Fourier prior, input gradients, DeepLIFT, incremental ISM) against the reference interpreter
#      (CudaRuntimeTest), every op and its VJPs (JitOpsTest), the models' forward passes and gradients, train steps,
#      training runs with checkpoints, and the attribution maps;
#   2. the GPU benchmark against PyTorch + cuDNN (bench/run_gpu.sh).
# SEQJIT_REQUIRE_GPU is set, so nothing silently falls back to the CPU. Logs and results go to $RESULTS
# (default bench/results): gpu-suite.log, gpu.txt and the benchmark's JSON lines.
#
#   bash tools/gpu_suite.sh                       # where seqjit is built (bash tools/build.sh)
#   bash tools/gpu_suite.sh --bundle FILE.tar.xz  # on a GPU machine without seqjit's build dependencies, with the
#                                                 # binaries packed by tools/gpu_bundle.sh on the build machine
#   ONLY=tests|bench bash tools/gpu_suite.sh ...  # one half, to split the run into two shorter commands
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
RESULTS=${RESULTS:-$ROOT/bench/results}
JOBS=${JOBS:-$(nproc)}
TESTS="CudaRuntimeTest JitOpsTest JitForwardTest JitGradientTest TrainStepTest TrainerTest AttributionTest \
DeepLiftTest IncrementalMutagenesisTest"

if [[ ${1:-} == --bundle ]]; then
  [[ -f ${2:-} ]] || { echo "usage: $0 [--bundle FILE.tar.xz]" >&2; exit 2; }
  mkdir -p "$BUILD"
  tar -xJf "$2" -C "$BUILD"
  export LD_LIBRARY_PATH=$BUILD/bundle-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export CUDA_HOME=$BUILD/bundle-cuda
fi
command -v "${CC:-cc}" >/dev/null ||
  echo "warning: no C compiler (${CC:-cc}): no compiled program (CPU or CUDA) can be linked here; the tests will fail" >&2
export SEQJIT_DEVICE=cuda SEQJIT_REQUIRE_GPU=1
mkdir -p "$RESULTS"
LOG=$RESULTS/gpu-suite.log
: >"$LOG"
{ echo "# GPU suite, $(date -Iseconds)"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; } \
  | tee -a "$LOG"

# The test binaries run side by side (each compiles its programs on the CPU, then queues them on the one GPU). The
# fallback tests are left out: they exercise machines without a GPU, and the CLI at the build machine's path.
run_test() {
  local name=$1 log
  log=$(mktemp)
  if "$BUILD/bin/$name" --gtest_filter=-CudaFallbackTest.* --gtest_brief=1 >"$log" 2>&1; then
    echo "PASSED $name"
  else
    echo "FAILED $name"
  fi
  sed "s/^/[$name] /" "$log"
  rm -f "$log"
}
export -f run_test
export BUILD
status=0
if [[ ${ONLY:-tests} == tests ]]; then
  printf '%s\n' $TESTS | xargs -P "$JOBS" -I{} bash -c 'run_test {}' >>"$LOG" 2>&1 || status=1
  grep -E '^(PASSED|FAILED) ' "$LOG"
  grep -q '^FAILED ' "$LOG" && status=1
fi
if [[ ${ONLY:-bench} == bench ]]; then
  set -o pipefail
  RESULTS=$RESULTS bash "$ROOT/bench/run_gpu.sh" 2>&1 | tee -a "$LOG" || status=1
fi
echo "GPU suite: $([[ $status == 0 ]] && echo passed || echo FAILED); log in $LOG" | tee -a "$LOG"
exit $status
