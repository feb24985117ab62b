"""Per-sequence time and peak memory of seqjit's data commands at growing N (bench/run_scaling.sh drives it).

Usage: scaling.py SEQJIT DATA_DIR SOURCE_H5 MODEL COUNTS... ; prints the table and one JSON line per row to
DATA_DIR/scaling-cpu.jsonl. Each command runs twice on the same files and the second run counts (the compiled
program comes from the cache and the input from the page cache): its "run" time (load and compile excluded) over N.
"""
import json
import os
import re
import subprocess
import sys

import h5py
import numpy as np

def paths(data_dir, count):
    return [os.path.join(data_dir, f"{p}{count}.{e}") for p, e in (("x", "npy"), ("y", "npy"), ("d", "h5"))]


def prepare(data_dir, source, count):
    """xN.npy / yN.npy and dN.h5 (X_test, Y_test): the source's training sequences repeated up to N."""
    x_path, y_path, h5_path = paths(data_dir, count)
    with h5py.File(source, "r") as f:
        x, y = f["X_train"][:].astype(np.float32), f["Y_train"][:].astype(np.float32)
    reps = -(-count // len(x))
    x, y = np.concatenate([x] * reps)[:count], np.concatenate([y] * reps)[:count]
    np.save(x_path, x)
    np.save(y_path, y)
    with h5py.File(h5_path, "w") as f:
        f["X_test"], f["Y_test"] = x, y


if sys.argv[1] == "--prepare":
    prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    sys.exit(0)

seqjit, data_dir, source, model = sys.argv[1:5]
counts = [int(c) for c in sys.argv[5:]]
os.makedirs(data_dir, exist_ok=True)


def run(arguments):
    """(per-sequence ms from the command's time line, peak RSS in MB) of the second of two runs."""
    for _ in range(2):
        process = subprocess.Popen([seqjit] + arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            sys.exit(f"error: seqjit {' '.join(arguments)} failed:\n{output}")
    match = re.search(r"\(([0-9.]+) ms per sequence\)", output)
    if not match:
        sys.exit(f"error: no per-sequence time in the output of seqjit {' '.join(arguments)}:\n{output}")
    return float(match.group(1)), usage.ru_maxrss / 1024.0


weights = os.path.join(data_dir, "run", "weights.npz")
if not os.path.exists(weights):
    subprocess.run([seqjit, "train", model, "--data", source, "--out", os.path.join(data_dir, "run"), "--epochs", "1"],
                   check=True, stdout=subprocess.DEVNULL)
commands = {
    "grad": lambda x, y, d: ["grad", "--model", model, "--input", x, "--labels", y, "--weights", weights,
                             "--out", os.path.join(data_dir, "g.npz")],
    "predict": lambda x, y, d: ["predict", model, "--weights", weights, "--input", x,
                                "--out", os.path.join(data_dir, "p.npy")],
    "evaluate": lambda x, y, d: ["evaluate", model, "--weights", weights, "--data", d],
    "saliency": lambda x, y, d: ["attribute", model, "--weights", weights, "--input", x, "--method", "saliency",
                                 "--out", os.path.join(data_dir, "a.npy")],
}
rows = {name: [] for name in commands}
with open(os.path.join(data_dir, "scaling-cpu.jsonl"), "w") as jsonl:
    for count in counts:
        files = paths(data_dir, count)
        if not all(os.path.exists(p) for p in files):
            # In a process of its own: a child forked from this one would count its arrays in the peak RSS.
            subprocess.run([sys.executable, __file__, "--prepare", data_dir, source, str(count)], check=True)
        for name, arguments in commands.items():
            ms, rss = run(arguments(*files))
            rows[name].append((count, ms, rss))
            jsonl.write(json.dumps({"bench": "scaling", "model": model, "command": name, "count": count,
                                    "ms_per_sequence": ms, "peak_rss_mb": round(rss, 1)}) + "\n")

print(f"seqjit {model}: run time per sequence (load and compile excluded; attribute: compiling included, from the "
      f"cache) and peak RSS, by N")
print(f"{'command':<10}" + "".join(f"{'N=' + str(c):>24}" for c in counts) + f"{'spread':>9}")
for name, measured in rows.items():
    cells = "".join(f"{ms:>13.4f} ms {rss:>6.0f} MB" for _, ms, rss in measured)
    times = [ms for _, ms, _ in measured]
    print(f"{name:<10}{cells}{max(times) / min(times):>8.2f}x")
print("spread: the slowest per-sequence time over the fastest (the target is 1.2x or less)")
