#!/usr/bin/python3
"""The GPU benchmark's table: seqjit and torch medians per (benchmark, model, task) from RESULTS/gpu-*.jsonl, with
torch/seqjit ratios (above 1: seqjit faster) and their geometric mean. Exits 1 if a pair is incomplete or a torch
side reported outputs that differ from seqjit's.

Usage: gpu_report.py RESULTS_DIR
"""

import datetime
import json
import math
import os
import sys


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv):
    results = argv[0]
    table, ratios, status = [], [], 0
    for part, key in (("forward", None), ("train-step", "task"), ("attribution", "method")):
        pairs = {}
        for row in rows(os.path.join(results, f"gpu-{part}.jsonl")):
            pairs.setdefault((row["model"], row.get(key, "forward") if key else "forward"), {})[row["side"]] = row
        for (model, task), sides in pairs.items():
            seqjit, torch = sides.get("seqjit"), sides.get("torch")
            if not seqjit or not torch:
                table.append(f"{part:<12} {model:<9} {task:<16} incomplete: {sorted(sides)}")
                status = 1
                continue
            agrees = torch.get("outputs_agree", torch.get("maps_agree", True))
            if not agrees:
                status = 1
            ratio = torch["median_s"] / seqjit["median_s"]
            ratios.append(ratio)
            table.append(f"{part:<12} {model:<9} {task:<16} {seqjit['median_s'] * 1e3:>10.3f} "
                         f"{torch['median_s'] * 1e3:>10.3f} {ratio:>12.2f}{'' if agrees else '  OUTPUTS DIFFER'}")
    torch_version = next((r.get("torch") for r in rows(os.path.join(results, "gpu-forward.jsonl"))
                          if r["side"] == "torch"), "?")
    print(f"# GPU benchmark, {datetime.datetime.now().isoformat(timespec='seconds')}: seqjit on CUDA vs torch "
          f"{torch_version} + cuDNN (benchmark mode, no TF32), float32, medians of the timed reps")
    print(f"{'benchmark':<12} {'model':<9} {'task':<16} {'seqjit ms':>10} {'torch ms':>10} {'torch/seqjit':>12}")
    print("\n".join(table))
    if ratios:
        print(f"# geometric mean of torch/seqjit over {len(ratios)} pairs: "
              f"{math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
