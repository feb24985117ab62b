#!/usr/bin/env bash
# The main demo, on the CPU: compiles ResidualBind with an exponential first layer, runs it on the 779 real
# IRF1 ChIP-seq test sequences with the weights of its PyTorch twin, and checks that PyTorch agrees.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${SEQJIT_DATA:-$root/../shared/data}/IRF1_400_h3k27ac.h5"
bash "$root/tools/build.sh"
seqjit="$root/build/bin/seqjit"
work="$root/build/demo"
mkdir -p "$work"
[ -f "$data" ] || { echo "demo: $data not found (set SEQJIT_DATA to the folder holding IRF1_400_h3k27ac.h5)"; exit 1; }

echo "== the model zoo"
"$seqjit" models
echo
echo "== PyTorch's ResidualBind-exp weights, saved as a state_dict .npz"
/usr/bin/python3 "$root/tests/python/torch_models.py" export --model residualbind --length 400 --outputs 1 \
  --activation exp --batch 1 --seed 1 --out "$work/torch"
echo
echo "== seqjit forward on the IRF1 test set (JIT-compiled for the CPU)"
"$seqjit" forward --model residualbind --activation exp --weights "$work/torch/weights.npz" \
  --input "$data" --key X_test --out "$work/residualbind_irf1_test.npy"
echo
echo "== the same weights and sequences through PyTorch"
/usr/bin/python3 "$root/tools/pytorch_forward.py" --model residualbind --activation exp \
  --weights "$work/torch/weights.npz" --input "$data" --key X_test --seqjit "$work/residualbind_irf1_test.npy"
echo
echo "== a model file, compiled on the fly (examples/tiny_exp_cnn.cpp)"
"$seqjit" forward --model "$root/examples/tiny_exp_cnn.cpp" --input "$data" --key X_test \
  --out "$work/tiny_exp_cnn_irf1_test.npy"
