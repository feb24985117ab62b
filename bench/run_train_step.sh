#!/usr/bin/env bash
# The train-step benchmark in one command: one gradient step (BCE, and BCE + Fourier attribution prior) of seqjit
# vs PyTorch (OpenBLAS, 2 threads) per model, on the same weights, input and labels, as ratios; the losses of the
# two sides are checked equal.
#
# Environment knobs: REPS (default 10), WARMUP (default 2, both sides), MODELS (default "cnn-deep cnn-dist cnn-50 residualbind"),
# TASKS (default "grad grad_fourier"), the prior's FREQ_LIMIT (default 30: the paper's T=150 for 1000 nt scaled to
# the models' 200 nt), SOFTNESS (0.2), SIGMA (3), LAMBDA (1), SEQJIT_BUILD_DIR (default <repo>/build),
# SEQJIT_BENCH_LOCK (set: build under `flock /tmp/seqjit-build.lock`, for a shared build directory),
# SEQJIT_BENCH_DATA (where weights/input/labels go; default <build>/bench-data/train-step).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
REPS=${REPS:-10}
WARMUP=${WARMUP:-2}
MODELS=${MODELS:-"cnn-deep cnn-dist cnn-50 residualbind"}
TASKS=${TASKS:-"grad grad_fourier"}
FREQ_LIMIT=${FREQ_LIMIT:-30}
SOFTNESS=${SOFTNESS:-0.2}
SIGMA=${SIGMA:-3}
LAMBDA=${LAMBDA:-1}
DATA=${SEQJIT_BENCH_DATA:-$BUILD/bench-data/train-step}
RESULTS=$ROOT/bench/results
PYTHON=/usr/bin/python3 # Debian's python3-torch; a pyenv python3 on PATH may lack torch.

source "$ROOT/bench/build_bench_target.sh"
source "$ROOT/bench/relative_paths.sh"
build_bench_target bench_gradient
build_bench_target bench_peak

source "$ROOT/bench/select_openblas.sh"

mkdir -p "$RESULTS" "$DATA"
JSON=$RESULTS/train-step-cpu.jsonl
: >"$JSON"
export LOAD_AT_START=$(cut -d" " -f1-3 /proc/loadavg) # Other work on the machine skews torch (2 threads) most.
status=0
# Alternate seqjit and torch model by model and task by task, so that machine noise hits both; one process per
# task, so that each peak RSS is that task's own.
for model in $MODELS; do
  for task in $TASKS; do
    echo "== $model $task: seqjit ($REPS reps)"
    SEQJIT_NUM_THREADS=2 "$BUILD/bin/bench_gradient" --model "$model" --task "$task" --reps "$REPS" --warmup "$WARMUP" \
      --fourier-prior "T=$FREQ_LIMIT,s=$SOFTNESS,sigma=$SIGMA,lambda=$LAMBDA" --out-dir "$DATA" --json "$JSON"
    echo "== $model $task: torch ($REPS reps)"
    "$PYTHON" "$ROOT/bench/torch_train_step.py" --model "$model" --data "$DATA/$model" --tasks "$task" --bn batch \
      --reps "$REPS" --warmup "$WARMUP" --threads 2 --freq-limit "$FREQ_LIMIT" --softness "$SOFTNESS" \
      --sigma "$SIGMA" --lambda "$LAMBDA" --json "$JSON" || status=1
  done
done

# The FMA peak last: its seconds of full-width FMAs on every core may lower the clock for what follows.
"$BUILD/bin/bench_peak" --threads 2 --json "$JSON"
PYTHONPATH="$ROOT/bench" "$PYTHON" - "$JSON" "$RESULTS/train-step-cpu.txt" <<'EOF_PY' || status=1
"""Formats the JSON lines of both sides as the comparison table; exits 1 if a pair of losses differs."""
import datetime, json, math, sys
from bench_report import WORK_HEADER, machine_line, peak_line, peak_of, work_columns
TOLERANCE = 1e-4  # relative; float32 on both sides, the sums in different orders: ~1e-6 expected
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
seqjit = {(r["model"], r["task"]): r for r in rows if r["side"] == "seqjit"}
torch = {(r["model"], r["task"]): r for r in rows if r["side"] == "torch"}
any_torch = next(iter(torch.values()), {})
prior = next((r for r in seqjit.values() if r["task"] == "grad_fourier"), None)
peak = peak_of(rows)
lines = [f"# train step (loss + gradient for every trainable parameter), batch {next(iter(seqjit.values()))['batch']}, "
         f"float32, batch norm on batch statistics, dropout off, {datetime.datetime.now().isoformat(timespec='seconds')}",
         machine_line(),
         f"# torch {any_torch.get('torch', '?')}, {any_torch.get('threads', '?')} threads, OpenBLAS openmp, "
         f"OPENBLAS_CORETYPE={any_torch.get('openblas_coretype') or '<unset>'}, torch.autograd.grad; "
         f"seqjit {next(iter(seqjit.values())).get('threads', '?')} threads (one compiled program per task, its loop nests on the kernel threads)",
         "# grad = BCE on the logits; grad_fourier = BCE + lambda * Fourier attribution prior (double backprop)"
         + (f", T={prior['freq_limit']} (the paper's 150 for 1000 nt, scaled to 200 nt), s={prior['softness']}, "
            f"sigma={prior['sigma']}, lambda={prior['lambda']}" if prior else ""),
         peak_line(peak),
         f"{'model':<12} {'task':<13} {'reps':>4} {'seqjit ms':>10} {'torch ms':>9} {'torch/seqjit':>12} "
         f"{'compile s':>9} {'seqjit MB':>9} {'torch MB':>8} {'seqjit loss':>12} {'torch loss':>12} {'loss rel diff':>13}"
         + WORK_HEADER + " load"]
ratios = {}
status = 0
for key, s in seqjit.items():
    model, task = key
    t = torch.get(key)
    head = f"{model:<12} {task:<13} {s['reps']:>4} {s['median_s'] * 1e3:>10.1f}"
    if t is None:
        lines.append(f"{head} {'(failed)':>9}")
        status = 1
        continue
    ratio = t["median_s"] / s["median_s"]
    ratios.setdefault(task, []).append(ratio)
    difference = abs(s["loss"] - t["loss"]) / max(abs(t["loss"]), 1e-12)
    agree = difference <= TOLERANCE
    status |= not agree
    lines.append(f"{head} {t['median_s'] * 1e3:>9.1f} {ratio:>12.3f} {s['compile_s']:>9.1f} {s['peak_rss_mb']:>9.0f} "
                 f"{t['peak_rss_mb']:>8.0f} {s['loss']:>12.8f} {t['loss']:>12.8f} {difference:>13.1e}"
                 + work_columns(s, peak) + f" {t.get('load_average', '?').split()[0]:>5}" + ("" if agree else "  LOSSES DIFFER")
                 + ("  NOISY (a side's median > 2x its min)"
                    if max(r["median_s"] / r["min_s"] for r in (s, t)) > 2 else ""))
for task, values in ratios.items():
    lines.append(f"# {task}: torch/seqjit geometric mean {math.exp(sum(map(math.log, values)) / len(values)):.3f} "
                 f"over {len(values)} models")
lines.append("# ratio > 1 means seqjit is faster; ms = median per step; compile s = seqjit's cold compile of that "
             "task's program; MB = each process's peak RSS (torch's includes the interpreter and libtorch); "
             f"losses must agree to {TOLERANCE:g} relative; load = 1-minute load average after torch's run: torch's 2 "
             "OpenMP threads slow down many times over when a third process takes a core, so a load well above 2 (torch's own "
             "two threads) means the ratio is not to be believed: rerun on a quiet machine")
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
sys.exit(status)
EOF_PY
record_relative_paths "$JSON"
echo "saved $RESULTS/train-step-cpu.txt and $JSON"
exit $status
