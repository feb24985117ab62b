#!/usr/bin/env bash
# The forward benchmark in one command: seqjit vs PyTorch (OpenBLAS, 2 threads) per model, side by side, as ratios.
#
# Environment knobs: REPS (default 10), WARMUP (default 2, both sides), BASSET_REPS (default 3: seqjit's naive CPU loops make Basset slow),
# MODELS (default "cnn-deep cnn-dist basset"), SEQJIT_BUILD_DIR (default <repo>/build),
# SEQJIT_BENCH_LOCK (set: build under `flock /tmp/seqjit-build.lock`, for a shared build directory),
# SEQJIT_BENCH_DATA (where weights/input/output go; default <build>/bench-data).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
REPS=${REPS:-10}
WARMUP=${WARMUP:-2}
BASSET_REPS=${BASSET_REPS:-3}
MODELS=${MODELS:-"cnn-deep cnn-dist basset"}
DATA=${SEQJIT_BENCH_DATA:-$BUILD/bench-data}
RESULTS=$ROOT/bench/results
PYTHON=/usr/bin/python3 # Debian's python3-torch; a pyenv python3 on PATH may lack torch.

source "$ROOT/bench/build_bench_target.sh"
source "$ROOT/bench/relative_paths.sh"
build_bench_target bench_forward
build_bench_target bench_peak

# PyTorch at its best: OpenBLAS (openmp) behind libblas.so.3, the CPU's kernels, OMP_NUM_THREADS=2.
source "$ROOT/bench/select_openblas.sh"

mkdir -p "$RESULTS" "$DATA"
JSON=$RESULTS/forward-cpu.jsonl
: >"$JSON"
export LOAD_AT_START=$(cut -d" " -f1-3 /proc/loadavg) # Other work on the machine skews torch (2 threads) most.
status=0
# Alternate seqjit and torch model by model, so that machine noise (the other engineer's build) hits both.
for model in $MODELS; do
  reps=$REPS
  [[ $model == basset ]] && reps=$BASSET_REPS
  echo "== $model: seqjit ($reps reps)"
  "$BUILD/bin/bench_forward" --model "$model" --reps "$reps" --warmup "$WARMUP" --out-dir "$DATA" --json "$JSON"
  echo "== $model: torch ($reps reps)"
  "$PYTHON" "$ROOT/bench/torch_forward.py" --model "$model" --data "$DATA/$model" --reps "$reps" --warmup "$WARMUP" --threads 2 \
    --json "$JSON" || status=1
done

# The FMA peak last: its seconds of full-width FMAs on every core may lower the clock for what follows.
"$BUILD/bin/bench_peak" --threads 2 --json "$JSON"
PYTHONPATH="$ROOT/bench" "$PYTHON" - "$JSON" "$RESULTS/forward-cpu.txt" <<'EOF'
"""Formats the JSON lines of both sides as the comparison table."""
import datetime, json, sys
from bench_report import WORK_HEADER, machine_line, peak_line, peak_of, work_columns
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
seqjit = {r["model"]: r for r in rows if r["side"] == "seqjit"}
torch = {r["model"]: r for r in rows if r["side"] == "torch"}
peak = peak_of(rows)
lines = [f"# forward (eval), batch {next(iter(seqjit.values()))['batch']}, {datetime.datetime.now().isoformat(timespec='seconds')}",
         machine_line(),
         f"# torch {next(iter(torch.values()), {}).get('torch', '?')}, {next(iter(torch.values()), {}).get('threads', '?')} threads, "
         f"OpenBLAS openmp, OPENBLAS_CORETYPE={next(iter(torch.values()), {}).get('openblas_coretype') or '<unset>'}; "
         "torch time = faster of no_grad / inference_mode medians; "
         f"seqjit {next(iter(seqjit.values())).get('threads', '?')} threads",
         peak_line(peak),
         f"{'model':<10} {'reps':>4} {'seqjit ms':>10} {'torch ms':>10} {'torch/seqjit':>12} {'seqjit seq/s':>12} "
         f"{'torch seq/s':>11} {'compile s':>9} {'seqjit RSS MB':>13} {'torch RSS MB':>12} {'max rel err':>11}"
         + WORK_HEADER]
for model, s in seqjit.items():
    t = torch.get(model)
    if t is None:
        lines.append(f"{model:<10} {s['reps']:>4} {s['median_s'] * 1e3:>10.1f} {'(failed)':>10}")
        continue
    lines.append(f"{model:<10} {s['reps']:>4} {s['median_s'] * 1e3:>10.1f} {t['median_s'] * 1e3:>10.1f} "
                 f"{t['median_s'] / s['median_s']:>12.3f} {s['sequences_per_s']:>12.0f} {t['sequences_per_s']:>11.0f} "
                 f"{s['compile_s']:>9.2f} {s['peak_rss_mb']:>13.0f} {t['peak_rss_mb']:>12.0f} "
                 f"{t['max_rel_err_vs_seqjit']:>11.1e}" + work_columns(s, peak)
                 + ("" if t["outputs_agree"] else "  OUTPUTS DIFFER"))
lines.append("# ratio > 1 means seqjit is faster; RSS is each process's peak (torch's includes the interpreter and libtorch)")
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
EOF
record_relative_paths "$JSON"
echo "saved $RESULTS/forward-cpu.txt and $JSON"
exit $status
