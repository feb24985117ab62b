# Writes .npy/.npz fixtures with numpy for NpyTest: element i of every array is a formula of its flat index.
"""Usage: npy_fixtures.py DIR

Values (flat C-order index i) that the C++ test recomputes independently:
  f32: arange(24, float32).reshape(2,3,4) * 0.5 - 3      f64: arange(10) * 0.1 (shape (10,))
  i8:  (arange(12) - 6).reshape(3,4) as int8             u8:  arange(6) * 40 (uint8)
  i16: arange(6) * -1000                                 i32: arange(6) * 100000 - 7
  i64: arange(6) * 3000000000 (values above 2^31)        u32: arange(6) * 700000000
  u64: arange(6) * 5                                     b1:  arange(7) % 3 == 0
  scalar: 0-d float64 2.5                                v2, v3: f32 written as format 2.0 / 3.0
  npz (savez) and npz_compressed (savez_compressed): a=f32, b=i8, c=b1, d=f64
"""
import os
import sys

import numpy as np

out = sys.argv[1]
f32 = np.arange(24, dtype=np.float32).reshape(2, 3, 4) * np.float32(0.5) - np.float32(3)
arrays = {
    "f32": f32,
    "f64": np.arange(10) * 0.1,
    "i8": (np.arange(12) - 6).reshape(3, 4).astype(np.int8),
    "u8": (np.arange(6) * 40).astype(np.uint8),
    "i16": (np.arange(6) * -1000).astype(np.int16),
    "i32": (np.arange(6) * 100000 - 7).astype(np.int32),
    "i64": (np.arange(6) * 3000000000).astype(np.int64),
    "u32": (np.arange(6) * 700000000).astype(np.uint32),
    "u64": (np.arange(6) * 5).astype(np.uint64),
    "b1": np.arange(7) % 3 == 0,
    "scalar": np.array(2.5),
}
for name, array in arrays.items():
    np.save(os.path.join(out, name + ".npy"), array)
for version in (2, 3):
    with open(os.path.join(out, "v%d.npy" % version), "wb") as f:
        np.lib.format.write_array(f, f32, version=(version, 0))
np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(os.path.join(out, "bigendian.npy"), np.arange(4, dtype=">f4"))
np.save(os.path.join(out, "complex.npy"), np.arange(4).astype(np.complex64))
members = dict(a=f32, b=arrays["i8"], c=arrays["b1"], d=arrays["f64"])
np.savez(os.path.join(out, "plain.npz"), **members)
np.savez_compressed(os.path.join(out, "compressed.npz"), **members)
print("ok")
