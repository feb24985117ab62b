#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds seqjit and runs every test (unit, lit/FileCheck, PyTorch interop).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build.sh"
cd "$root/build"
ctest --output-on-failure -j"$(nproc)" --timeout 900
