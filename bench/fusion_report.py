"""The table of bench/run_fusion.sh: per model and task, the median ms at each fusion level side by side, the
speed-up of each level over none, each level's cold compile, and the check that every level computes what full does
(forward outputs: ||level - full|| / ||full||; losses: relative difference). Exits 1 where a level differs."""
import datetime
import json
import math
import sys

import numpy as np

from bench_report import machine_line, peak_line, peak_of

TOLERANCE = 1e-5  # float32, the same operations in the same order at every level: ~1e-7 expected
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
peak = peak_of(rows)
runs = {(r["model"], r["task"] if "task" in r else "forward", r["fusion"]): r for r in rows if r.get("side") == "seqjit"}
levels = [level for level in ("none", "epilogue", "full") if any(key[2] == level for key in runs)]
pairs = list(dict.fromkeys((model, task) for model, task, _ in runs))


def difference(run, reference, task):
    """How far `run`'s result is from `reference`'s: the forward output's relative norm, or the loss's."""
    if task == "forward":
        a = np.load(f"{run['data_dir']}/output.npy").astype(np.float64)
        b = np.load(f"{reference['data_dir']}/output.npy").astype(np.float64)
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))
    return abs(run["loss"] - reference["loss"]) / max(abs(reference["loss"]), 1e-12)


lines = [f"# fusion levels side by side: compiled programs of batch {next(iter(runs.values()))['batch']}, float32, "
         f"{datetime.datetime.now().isoformat(timespec='seconds')}",
         machine_line(),
         "# forward = inference; grad = BCE loss and gradient (batch norm on batch statistics); grad_fourier = grad + "
         "the Fourier attribution prior (double backprop)",
         "# none: every linalg op its own loop nest; epilogue: contraction kernels apply the elementwise op after "
         "them; full: elementwise chains fuse too (the default)",
         peak_line(peak),
         f"{'model':<13} {'task':<13}" + "".join(f" {level + ' ms':>12}" for level in levels)
         + "".join(f" {level + '/none':>14}" for level in levels if level != "none")
         + "".join(f" {'compile s ' + level:>18}" for level in levels) + f" {'max diff':>9}"]
status = 0
speedups = {}
for model, task in pairs:
    line = f"{model:<13} {task:<13}"
    present = {level: runs.get((model, task, level)) for level in levels}
    for level in levels:
        run = present[level]
        line += f" {run['median_s'] * 1e3:>12.2f}" if run else f" {'(failed)':>12}"
        status |= run is None
    for level in levels:
        if level == "none":
            continue
        if present[level] and present.get("none"):
            ratio = present["none"]["median_s"] / present[level]["median_s"]
            speedups.setdefault((task, level), []).append(ratio)
            line += f" {ratio:>14.3f}"
        else:
            line += f" {'-':>14}"
    for level in levels:
        line += f" {present[level]['compile_s']:>18.1f}" if present[level] else f" {'-':>18}"
    reference = present.get("full")
    worst = max((difference(run, reference, task) for run in present.values() if run and reference), default=0.0)
    line += f" {worst:>9.1e}"
    if worst > TOLERANCE:
        line += "  LEVELS DIFFER"
        status = 1
    lines.append(line)
for (task, level), values in sorted(speedups.items()):
    lines.append(f"# {task}: {level} over none, geometric mean {math.exp(sum(map(math.log, values)) / len(values)):.3f} "
                 f"over {len(values)} models")
lines.append("# ms = median per call of the program (2 kernel threads); level/none > 1 means the level is faster than "
             "no fusion; compile s = that level's compile (cold on the first run of a level, else from the cache); "
             f"max diff = the largest difference of a level's forward output or loss from full's (at most {TOLERANCE:g}); "
             "`ctest -R fusion-` checks every level against the reference interpreter")
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
sys.exit(status)
