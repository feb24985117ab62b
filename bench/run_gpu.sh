#!/usr/bin/env bash
# The GPU benchmark in one command: seqjit's programs on CUDA against PyTorch + cuDNN on the same GPU, in the same
# run, float32 on both sides (no TF32): forward (cnn-deep, cnn-dist, basset), train step without and with the
# Fourier prior (cnn-deep, cnn-dist, cnn-50), and attribution (saliency, integrated gradients, DeepSHAP, ISM, incremental
# ISM; cnn-deep, cnn-dist). Every pair's outputs are checked against each other before timing. Ratios are
# torch/seqjit (above 1: seqjit faster), printed and saved to $RESULTS/gpu.txt with the JSON lines in gpu-*.jsonl.
#
# Needs a GPU: SEQJIT_REQUIRE_GPU makes seqjit fail rather than fall back to the CPU.
# Knobs: REPS (default 20), WARMUP (3), PYTHON (python3, with torch built for CUDA), SEQJIT_BUILD_DIR (<repo>/build),
# RESULTS (<repo>/bench/results), SEQJIT_BENCH_DATA (<build>/bench-data-gpu).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
REPS=${REPS:-20}
WARMUP=${WARMUP:-3}
PYTHON=${PYTHON:-python3}
RESULTS=${RESULTS:-$ROOT/bench/results}
DATA=${SEQJIT_BENCH_DATA:-$BUILD/bench-data-gpu}
export SEQJIT_DEVICE=cuda SEQJIT_REQUIRE_GPU=1

mkdir -p "$RESULTS" "$DATA"
for part in forward train-step attribution; do : >"$RESULTS/gpu-$part.jsonl"; done
status=0
for model in cnn-deep cnn-dist basset; do
  echo "== forward $model"
  "$BUILD/bin/bench_forward" --model "$model" --reps "$REPS" --warmup "$WARMUP" --out-dir "$DATA" \
    --json "$RESULTS/gpu-forward.jsonl"
  "$PYTHON" "$ROOT/bench/torch_forward.py" --model "$model" --data "$DATA/$model" --reps "$REPS" --warmup "$WARMUP" \
    --device cuda --json "$RESULTS/gpu-forward.jsonl" || status=1
done
for model in cnn-deep cnn-dist cnn-50; do
  for task in grad grad_fourier; do
    echo "== train step $model $task"
    "$BUILD/bin/bench_gradient" --model "$model" --task "$task" --reps "$REPS" --warmup "$WARMUP" \
      --fourier-prior "T=30,s=0.2,sigma=3,lambda=1" --out-dir "$DATA/train-step" --json "$RESULTS/gpu-train-step.jsonl"
    "$PYTHON" "$ROOT/bench/torch_train_step.py" --model "$model" --data "$DATA/train-step/$model" --tasks "$task" \
      --bn batch --reps "$REPS" --warmup "$WARMUP" --device cuda --freq-limit 30 --softness 0.2 --sigma 3 --lambda 1 \
      --json "$RESULTS/gpu-train-step.jsonl" || status=1
  done
done
for model in cnn-deep cnn-dist; do
  echo "== attribution $model"
  "$BUILD/bin/bench_attribution" --model "$model" --sequences 10 --reps "$REPS" --warmup "$WARMUP" \
    --out-dir "$DATA/attribution" --json "$RESULTS/gpu-attribution.jsonl"
  activation=$("$PYTHON" -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if '\"seqjit\"' in l][-1]['activation'])" "$RESULTS/gpu-attribution.jsonl")
  "$PYTHON" "$ROOT/bench/torch_attribution.py" --model "$model" --data "$DATA/attribution/$model" \
    --activation "$activation" --reps "$REPS" --warmup "$WARMUP" --device cuda \
    --json "$RESULTS/gpu-attribution.jsonl" || status=1
done
"$PYTHON" "$ROOT/bench/gpu_report.py" "$RESULTS" | tee "$RESULTS/gpu.txt" || status=1
exit $status
