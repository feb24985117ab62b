# Checks with numpy the .npy/.npz files NpyTest wrote; exits non-zero (with the reason) on any mismatch.
"""Usage: check_npy.py DIR

Expects (flat C-order index i):
  out_f32.npy: float32 shape (2,3,4), value i * 0.25 - 1
  out_f64.npy: float64 shape (5,),    value i / 3 (computed in double)
  out_scalar.npy: float32 0-d array 7.5
  out.npz: float32 entries 'conv.weight' (4,2,3) i * 0.125, 'conv.bias' (4,) -i, 'empty' shape (0,)
"""
import os
import sys

import numpy as np

out = sys.argv[1]
failures = []


def expect(name, array, dtype, shape, values):
    if array.dtype != np.dtype(dtype):
        failures.append("%s: dtype %s, expected %s" % (name, array.dtype, dtype))
    if array.shape != shape:
        failures.append("%s: shape %s, expected %s" % (name, array.shape, shape))
    elif not np.array_equal(array, np.asarray(values, dtype=dtype).reshape(shape)):
        failures.append("%s: values differ: %s" % (name, array.ravel()[:10]))


expect("out_f32.npy", np.load(os.path.join(out, "out_f32.npy")), np.float32, (2, 3, 4),
       np.arange(24, dtype=np.float32) * np.float32(0.25) - np.float32(1))
expect("out_f64.npy", np.load(os.path.join(out, "out_f64.npy")), np.float64, (5,), np.arange(5) / 3.0)
expect("out_scalar.npy", np.load(os.path.join(out, "out_scalar.npy")), np.float32, (), 7.5)
with np.load(os.path.join(out, "out.npz")) as npz:
    if sorted(npz.files) != ["conv.bias", "conv.weight", "empty"]:
        failures.append("out.npz: keys %s" % sorted(npz.files))
    else:
        expect("conv.weight", npz["conv.weight"], np.float32, (4, 2, 3), np.arange(24) * 0.125)
        expect("conv.bias", npz["conv.bias"], np.float32, (4,), -np.arange(4))
        expect("empty", npz["empty"], np.float32, (0,), [])
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok")
