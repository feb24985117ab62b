#!/usr/bin/env bash
# Installs the Debian packages seqjit needs (idempotent) and builds it in build/ (Release, Ninja).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=/usr/lib/llvm-19/lib/cmake/mlir > "$root/build-configure.log" 2>&1 ||
  { cat "$root/build-configure.log"; exit 1; }
rm -f "$root/build-configure.log"
cmake --build "$root/build" -- -j"$(nproc)"
