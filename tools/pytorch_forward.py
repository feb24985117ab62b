#!/usr/bin/python3
"""Runs the PyTorch twin of a stdlib model on the same weights and sequences as `seqjit forward`, and
compares its outputs with seqjit's: the demo's proof that seqjit computes what PyTorch computes.

usage: pytorch_forward.py --model NAME --activation ACT --weights W.npz --input D.h5 --key X_test --seqjit Y.npy
"""
import argparse
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import torch_models  # noqa: E402  (the twins live with the tests that check them)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--key", default="X_test")
    parser.add_argument("--seqjit", required=True, help="seqjit's outputs (.npy) to compare with")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with h5py.File(args.input, "r") as f:
        x = torch.from_numpy(np.asarray(f[args.key], dtype=np.float32))
    model = torch_models.build(args.model, x.shape[2], 0, args.activation)
    weights = np.load(args.weights)
    model.load_state_dict({k: torch.from_numpy(weights[k]) for k in weights.files}, strict=False)
    model.eval()
    with torch.no_grad():
        y = model(x).numpy()
    ours = np.load(args.seqjit)
    error = np.abs(ours - y).max() / max(np.abs(y).max(), 1e-30)
    print(f"pytorch twin of {args.model}: outputs {y.shape}; max |seqjit - pytorch| / max |pytorch| = {error:.2e}")
    return 0 if error <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
