#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds seqjit and runs every test (unit, lit/FileCheck, PyTorch interop).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build.sh"
cd "$root/build"
# The tests' compiled programs are cached in the build tree, not in the user's cache.
export SEQJIT_CACHE_DIR="$root/build/test-cache"
ctest --output-on-failure -j"$(nproc)" --timeout 900
