# Writes an HDF5 fixture with h5py for Hdf5Test and OneHotTest; element values are formulas of the flat index.
"""Usage: hdf5_fixtures.py FILE

  X_test  float32 (3,4,5): one-hot, base at position p of example n is (n + p) % 4
  Y_test  int8 (3,1): [-1, 0, 1]
  wide    float64 (2,3): i * 0.25 - 0.5
  counts  uint16 (4,): i * 1000
  group/inner int32 (2,2): i - 2
  names   variable-length strings (not numeric)
  X_bad   float32 (2,4,3): one-hot except example 1, position 2 which is (1, 1, 0, 0)
"""
import sys

import h5py
import numpy as np

x = np.zeros((3, 4, 5), dtype=np.float32)
for n in range(3):
    for p in range(5):
        x[n, (n + p) % 4, p] = 1
bad = np.zeros((2, 4, 3), dtype=np.float32)
bad[:, 0, :] = 1
bad[1, 1, 2] = 1
with h5py.File(sys.argv[1], "w") as f:
    f["X_test"] = x
    f["Y_test"] = np.array([[-1], [0], [1]], dtype=np.int8)
    f["wide"] = (np.arange(6) * 0.25 - 0.5).reshape(2, 3)
    f["counts"] = (np.arange(4) * 1000).astype(np.uint16)
    f.create_group("group")["inner"] = (np.arange(4) - 2).astype(np.int32).reshape(2, 2)
    f["names"] = np.array([b"a", b"bc"], dtype=h5py.string_dtype())
    f["X_bad"] = bad
print("ok")
