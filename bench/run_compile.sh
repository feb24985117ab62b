#!/usr/bin/env bash
# Compile times in one command: every program the commands run (forward, train step, train step with the Fourier
# prior, saliency, DeepLIFT, incremental ISM's windows) of CNN-deep, CNN-dist and Basset, compiled into an empty
# compiled-program cache (cold), then loaded from it by a second process (warm). Prints the table and saves it to
# bench/results/compile-cpu.txt (+ .jsonl).
#
# Environment knobs: MODELS (default "cnn-deep cnn-dist basset"), BATCH (default 100), SEQJIT_BUILD_DIR (default
# <repo>/build), SEQJIT_BENCH_LOCK (set: build under `flock /tmp/seqjit-build.lock`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
MODELS=${MODELS:-"cnn-deep cnn-dist basset"}
BATCH=${BATCH:-100}
RESULTS=$ROOT/bench/results
PYTHON=/usr/bin/python3

source "$ROOT/bench/build_bench_target.sh"
build_bench_target bench_compile

mkdir -p "$RESULTS"
CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"' EXIT
models=()
for model in $MODELS; do models+=(--model "$model"); done
LOAD_AT_START=$(cut -d" " -f1-3 /proc/loadavg)
for phase in cold warm; do
  echo "== $phase"
  SEQJIT_CACHE_DIR=$CACHE "$BUILD/bin/bench_compile" "${models[@]}" --batch "$BATCH" --json "$CACHE/$phase.jsonl"
done

"$PYTHON" - "$CACHE" "$RESULTS/compile-cpu" "$LOAD_AT_START" "$(cut -d" " -f1-3 /proc/loadavg)" <<'PY'
import json, pathlib, platform, sys
cache, out, load_start, load_end = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rows = {}
for phase in ("cold", "warm"):
    for line in (cache / f"{phase}.jsonl").read_text().splitlines():
        r = json.loads(line)
        rows.setdefault((r["model"], r["program"]), {})[phase] = r
avx512 = "avx512f" in pathlib.Path("/proc/cpuinfo").read_text()
lines = [f"# compile times, seconds to a callable program; {'AVX-512' if avx512 else 'AVX2'} CPU, "
         f"load average {load_start} -> {load_end}",
         f"{'model':<10} {'program':<20} {'cold s':>8} {'MLIR s':>7} {'LLVM s':>7} {'warm ms':>8}"]
for (model, program), r in rows.items():
    cold, warm = r["cold"], r["warm"]
    assert not cold["cached"] and warm["cached"], (model, program, "cold must compile, warm must hit the cache")
    lines.append(f"{model:<10} {program:<20} {cold['seconds']:>8.2f} {cold['mlir_s']:>7.2f} {cold['llvm_s']:>7.2f} "
                 f"{warm['seconds'] * 1e3:>8.1f}")
text = "\n".join(lines) + "\n"
print(text, end="")
pathlib.Path(out + ".txt").write_text(text)
with open(out + ".jsonl", "w") as f:
    for r in rows.values():
        for phase in ("cold", "warm"):
            f.write(json.dumps(dict(r[phase], phase=phase)) + "\n")
PY
