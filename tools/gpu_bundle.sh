#!/usr/bin/env bash
# Packs what tools/gpu_suite.sh runs, for a GPU machine without seqjit's build dependencies (LLVM/MLIR 19, HDF5,
# htslib, fmt): the test and benchmark binaries of build/, every shared library they load from this machine but the
# C and C++ runtimes (a GPU machine's own, as new or newer, serve), and libdevice. Run after bash tools/build.sh:
#   bash tools/gpu_bundle.sh [OUT]      # default gpu-bundle/seqjit-gpu.tar.xz (git-ignored)
# and there:  bash tools/gpu_suite.sh --bundle gpu-bundle/seqjit-gpu.tar.xz
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
OUT=${1:-$ROOT/gpu-bundle/seqjit-gpu.tar.xz}
BINARIES="CudaRuntimeTest JitOpsTest JitForwardTest JitGradientTest TrainStepTest TrainerTest AttributionTest \
DeepLiftTest IncrementalMutagenesisTest bench_forward bench_gradient bench_attribution"
LIBDEVICE=$(ls "${CUDA_HOME:-/usr/local/cuda}"/nvvm/libdevice/libdevice.10.bc 2>/dev/null || true)
[[ -n "$LIBDEVICE" ]] || { echo "error: no libdevice.10.bc under ${CUDA_HOME:-/usr/local/cuda}/nvvm/libdevice" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/bundle-lib" "$stage/bundle-cuda/nvvm/libdevice"
for binary in $BINARIES; do
  [[ -x "$BUILD/bin/$binary" ]] || { echo "error: $BUILD/bin/$binary is missing: build first" >&2; exit 1; }
  strip -o "$stage/bin/$binary" "$BUILD/bin/$binary"
done
for binary in $BINARIES; do ldd "$BUILD/bin/$binary"; done | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libpthread|libdl|librt|libgcc_s|libstdc\+\+|ld-linux-x86-64)\.so' |
  while read -r library; do cp -L "$library" "$stage/bundle-lib/"; done
cp "$LIBDEVICE" "$stage/bundle-cuda/nvvm/libdevice/"
mkdir -p "$(dirname "$OUT")"
# -9e: 2.5 MB smaller than -6, for 50 s more.
tar -C "$stage" -cf - . | xz -T0 -9e >"$OUT"
echo "$OUT: $(du -h "$OUT" | cut -f1) ($(ls "$stage/bundle-lib" | wc -l) shared libraries)"
