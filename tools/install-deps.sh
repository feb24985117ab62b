#!/usr/bin/env bash
# Installs every Debian 12 package seqjit needs to build, test and benchmark; safe to run again.
set -euo pipefail
packages=(
  build-essential cmake ninja-build git pkg-config
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  libfmt-dev libcli11-dev libgtest-dev libgmock-dev libhdf5-dev libhts-dev nlohmann-json3-dev zlib1g-dev libzstd-dev
  libcairo2-dev fonts-dejavu-core
  python3 python3-numpy python3-h5py python3-torch libopenblas0-openmp
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "seqjit: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
