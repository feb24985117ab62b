#!/usr/bin/env bash
# The attribution benchmark in one command: saliency, integrated gradients, DeepSHAP and ISM (naive and incremental) of
# seqjit vs PyTorch (OpenBLAS, 2 threads; PyTorch's ISM is naive) per model, side by side, as ratios; the maps of both
# sides must agree.
#
# Environment knobs: REPS (default 3), WARMUP (default 1), MODELS (default "cnn-deep cnn-dist basset"), SEQUENCES (IG
# and ISM, default 10; Basset, 600 nt and 35x CNN-deep's work per sequence, takes BASSET_SEQUENCES, default 2),
# SEQJIT_BUILD_DIR (default <repo>/build), SEQJIT_BENCH_LOCK (set: build under
# `flock /tmp/seqjit-build.lock`), SEQJIT_BENCH_DATA (default <build>/bench-data).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
REPS=${REPS:-3}
WARMUP=${WARMUP:-1}
MODELS=${MODELS:-"cnn-deep cnn-dist basset"}
SEQUENCES=${SEQUENCES:-10}
BASSET_SEQUENCES=${BASSET_SEQUENCES:-2}
DATA=${SEQJIT_BENCH_DATA:-$BUILD/bench-data}/attribution
RESULTS=$ROOT/bench/results
PYTHON=/usr/bin/python3 # Debian's python3-torch; a pyenv python3 on PATH may lack torch.

source "$ROOT/bench/build_bench_target.sh"
build_bench_target bench_attribution
build_bench_target bench_peak
source "$ROOT/bench/select_openblas.sh"

mkdir -p "$RESULTS" "$DATA"
JSON=$RESULTS/attribution-cpu.jsonl
: >"$JSON"
export LOAD_AT_START=$(cut -d" " -f1-3 /proc/loadavg)
status=0
for model in $MODELS; do
  echo "== $model: seqjit"
  sequences=$SEQUENCES
  [ "$model" = basset ] && sequences=$BASSET_SEQUENCES
  "$BUILD/bin/bench_attribution" --model "$model" --sequences "$sequences" --reps "$REPS" --warmup "$WARMUP" \
    --out-dir "$DATA" --json "$JSON"
  activation=$("$PYTHON" -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if '\"seqjit\"' in l][-1]['activation'])" "$JSON")
  echo "== $model: torch"
  "$PYTHON" "$ROOT/bench/torch_attribution.py" --model "$model" --data "$DATA/$model" --activation "$activation" \
    --reps "$REPS" --warmup "$WARMUP" --threads 2 --json "$JSON" || status=1
done

# The FMA peak last: its seconds of full-width FMAs on every core may lower the clock for what follows.
"$BUILD/bin/bench_peak" --threads 2 --json "$JSON" || status=1
PYTHONPATH="$ROOT/bench" "$PYTHON" - "$JSON" "$RESULTS/attribution-cpu.txt" <<'PY'
"""Formats the JSON lines of both sides as the comparison table."""
import datetime, json, sys
from bench_report import WORK_HEADER, machine_line, peak_line, peak_of, work_columns
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
peak = peak_of(rows)
seqjit = {(r["model"], r["method"]): r for r in rows if r["side"] == "seqjit"}
torch = {(r["model"], r["method"]): r for r in rows if r["side"] == "torch"}
first = next(iter(seqjit.values()))
lines = [f"# attribution maps of output 0 (eval mode), {datetime.datetime.now().isoformat(timespec='seconds')}; "
         f"IG: {first['references']} dinucleotide-shuffled references x {first['steps']} steps; DeepSHAP: "
         f"the same references; ISM: 3 L mutants",
         machine_line(),
         f"# torch {next(iter(torch.values()), {}).get('torch', '?')}, 2 threads (OpenBLAS openmp); seqjit all cores "
         "(chunks of ceil(100 / cores) sequences side by side)",
         peak_line(peak) + "; saliency and IG count 2 passes per model input, DeepSHAP 3, naive ISM 1 per mutant, "
         "incremental ISM none",
         f"{'model':<9} {'method':<15} {'seqs':>5} {'seqjit s':>9} {'torch s':>9} {'torch/seqjit':>12} "
         f"{'seqjit seq/s':>12} {'torch seq/s':>11} {'rel err':>8} {'seqjit MB':>9} {'torch MB':>8}" + WORK_HEADER]
for key, s in seqjit.items():
    t = torch.get(key)
    if t is None:
        lines.append(f"{key[0]:<9} {key[1]:<15} {s['sequences']:>5} {s['median_s']:>9.3f} {'(failed)':>9}")
        continue
    lines.append(f"{key[0]:<9} {key[1]:<15} {s['sequences']:>5} {s['median_s']:>9.3f} {t['median_s']:>9.3f} "
                 f"{t['median_s'] / s['median_s']:>12.3f} {s['sequences_per_s']:>12.1f} {t['sequences_per_s']:>11.1f} "
                 f"{t['rel_err_vs_seqjit']:>8.1e} {s['peak_rss_mb']:>9.0f} {t['peak_rss_mb']:>8.0f}"
                 + work_columns(s, peak) + ("" if t["maps_agree"] else "  MAPS DIFFER")
                 + (f"  (rel err against torch in {t['reference']})" if t.get("reference", "float32") != "float32"
                    else ""))
lines.append("# ratio > 1 means seqjit is faster; medians over the reps; rel err = ||torch - seqjit|| / ||torch|| (ISM: "
             "the larger of ||torch|| and the wild-type outputs' scale over the map; a map where float32 "
             "torch differs, by a near-tie in a max pool or at a relu's kink, against torch in float64 if nearer); "
             "MB = each process's peak RSS over its model's methods so far (torch's includes the interpreter and "
             "libtorch)")
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
PY
echo "saved $RESULTS/attribution-cpu.txt and $JSON"
exit $status
