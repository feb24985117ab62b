#!/usr/bin/env bash
# The train-epoch benchmark in one command: wall time of whole training epochs (shuffled mini-batches, dropout on,
# BCE + backward + Adam lr 1e-3, then the validation pass) of `seqjit train` vs PyTorch (OpenBLAS, 2 threads,
# bench/torch_train_epoch.py) per model, same model, data, batch size and number of epochs, as ratios.
# cnn-deep and cnn-dist train on Task 3 (200 nt; generated with `seqjit generate-data task3 --seed 0` if missing),
# residualbind on IRF1_400_h3k27ac.h5; first-layer activation exp. Each side's figure is the median epoch time over
# epochs 2..E (epoch 1 alone if E = 1); seqjit's cold compile is not in its epochs and is shown on its own. Each
# row also shows seqjit's GFLOP/s and % of the FMA peak (bench_peak, run last) of the counted work of an epoch, the
# kernels' vector width and both sides' peak memory.
#
# Usage: bench/run_train_epoch.sh [--record]
#   prints the table; --record also saves it to bench/results/train-epoch-cpu.txt (+ .jsonl there); without it
#   the JSON lines go to the data directory only.
# Environment knobs: EPOCHS (default 3), MODELS (default "cnn-deep cnn-dist residualbind"), BATCH (100),
# VALID_BATCH (torch's validation batch, 2048), ACTIVATION (exp), SEED (0), TASK3_DATA (default
# <build>/bench-data/task3.h5), IRF1_DATA (default $SEQJIT_DATA or the repository's data/, IRF1_400_h3k27ac.h5; residualbind's data, every
# other model trains on Task 3), SEQJIT_BUILD_DIR (default <repo>/build; bin/seqjit must be built already: this
# script builds only bench_peak), SEQJIT_BENCH_LOCK (set: build under `flock /tmp/seqjit-build.lock`), SEQJIT_BENCH_DATA (run directories and JSON lines; default <build>/bench-data/train-epoch).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SEQJIT_BUILD_DIR:-$ROOT/build}
SEQJIT=$BUILD/bin/seqjit
EPOCHS=${EPOCHS:-3}
MODELS=${MODELS:-"cnn-deep cnn-dist residualbind"}
BATCH=${BATCH:-100}
VALID_BATCH=${VALID_BATCH:-2048}
ACTIVATION=${ACTIVATION:-exp}
SEED=${SEED:-0}
TASK3_DATA=${TASK3_DATA:-$BUILD/bench-data/task3.h5}
IRF1_DATA=${IRF1_DATA:-${SEQJIT_DATA:-$ROOT/data}/IRF1_400_h3k27ac.h5}
DATA=${SEQJIT_BENCH_DATA:-$BUILD/bench-data/train-epoch}
RESULTS=$ROOT/bench/results
PYTHON=/usr/bin/python3 # Debian's python3-torch; a pyenv python3 on PATH may lack torch.

source "$ROOT/bench/record_and_data.sh"
parse_record_option 2,16 "$@"
require_seqjit_and_task3

source "$ROOT/bench/build_bench_target.sh"
build_bench_target bench_peak
source "$ROOT/bench/select_openblas.sh"
source "$ROOT/bench/relative_paths.sh"

mkdir -p "$DATA"
JSON=$DATA/train-epoch-cpu.jsonl
: >"$JSON"
export LOAD_AT_START=$(cut -d" " -f1-3 /proc/loadavg) # Other work on the machine skews torch (2 threads) most.
status=0
# Alternate seqjit and torch model by model, so that machine noise hits both; one process per side and model.
for model in $MODELS; do
  if [[ $model == residualbind ]]; then data=$IRF1_DATA; else data=$TASK3_DATA; fi
  run=$DATA/$model
  rm -rf "$run"
  mkdir -p "$run"
  echo "== $model on $(basename "$data"): seqjit train ($EPOCHS epochs)"
  # The peak resident memory of the seqjit process, as torch_train_epoch.py reports its own.
  if "$PYTHON" -c 'import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0))
sys.exit(code)' "$run/peak_rss_mb" "$SEQJIT" train "$model" --activation "$ACTIVATION" --data "$data" --epochs "$EPOCHS" --batch "$BATCH" \
       --seed "$SEED" --threads 2 --plateau off --patience 0 --out "$run" 2>&1 | tee "$run/train.log"; then
    "$PYTHON" - "$run" "$model" "$data" "$JSON" <<'EOF_PY' || status=1
"""One JSON line for the seqjit side from the run directory's history.json and the train command's log."""
import json, re, statistics, sys
run, model, data, out = sys.argv[1:]
log = open(f"{run}/train.log", errors="replace").read().replace("\r", "\n")
history = json.load(open(f"{run}/history.json"))
epochs = history["epochs"]
seconds = [e["seconds"] for e in epochs]
timed = seconds[1:] or seconds
compiled = re.search(r"compiling: \d+ programs? in ([0-9.]+) s", log)
header = re.search(r"(\d+) training sequences x (\d+) nt, (\d+) validation", log)
batch = re.search(r"; batch (\d+);", log)
work = re.search(r"(\d+) multiply-adds per sequence", log)
record = {"side": "seqjit", "model": model, "data": data,
          "train_sequences": int(header.group(1)) if header else None,
          "length": int(header.group(2)) if header else None,
          "valid_sequences": int(header.group(3)) if header else None,
          "batch": int(batch.group(1)) if batch else None, "epochs": len(epochs),
          "epoch_seconds": seconds, "median_s": statistics.median(timed), "min_s": min(timed),
          "compile_s": float(compiled.group(1)) if compiled else None,
          "train_loss": epochs[-1]["train"]["loss"], "valid_loss": epochs[-1]["validation"].get("loss"),
          "peak_rss_mb": float(open(f"{run}/peak_rss_mb").read()),
          "load_average": " ".join(open("/proc/loadavg").read().split()[:3])}
if work and header and batch:
    # An epoch's counted work: 3 forward-pass equivalents per trained sequence (the last partial batch is dropped),
    # 1 per validation sequence.
    trained = int(header.group(1)) // int(batch.group(1)) * int(batch.group(1))
    record["flops"] = 2.0 * int(work.group(1)) * (3 * trained + int(header.group(3)))
open(out, "a").write(json.dumps(record) + "\n")
EOF_PY
  else
    echo "error: seqjit train $model failed (log: $run/train.log)" >&2
    status=1
  fi
  echo "== $model on $(basename "$data"): torch ($EPOCHS epochs)"
  "$PYTHON" "$ROOT/bench/torch_train_epoch.py" --model "$model" --data "$data" --epochs "$EPOCHS" --batch "$BATCH" \
    --valid-batch "$VALID_BATCH" --activation "$ACTIVATION" --threads 2 --seed "$SEED" --json "$JSON" || status=1
done

# The FMA peak last: its seconds of full-width FMAs on every core may lower the clock for what follows.
"$BUILD/bin/bench_peak" --threads 2 --json "$JSON" || status=1
TABLE=$DATA/train-epoch-cpu.txt
PYTHONPATH="$ROOT/bench" "$PYTHON" - "$JSON" "$TABLE" "$VALID_BATCH" <<'EOF_PY' || status=1
"""Formats the JSON lines of both sides as the comparison table."""
import datetime, json, math, os, subprocess, sys
from bench_report import WORK_HEADER, peak_line, peak_of, work_columns
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
peak = peak_of(rows)
rows = [r for r in rows if r["side"] != "peak"]
for r in rows:
    if r["side"] == "seqjit" and "flops" in r and peak:
        r["vector_bits"] = peak["vector_bits"]
seqjit = {r["model"]: r for r in rows if r["side"] == "seqjit"}
torch = {r["model"]: r for r in rows if r["side"] == "torch"}
models = list(dict.fromkeys(r["model"] for r in rows))
any_torch = next(iter(torch.values()), {})
any_row = next(iter(rows), {})
cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True, text=True).stdout.strip()
load_start = os.environ.get("LOAD_AT_START", "?")
lines = [f"# train epoch (shuffled mini-batches of {any_row.get('batch', '?')}, last partial batch dropped; dropout on, "
         f"batch norm on batch statistics; BCE on the logits + backward + Adam lr 1e-3; then the validation pass), "
         f"float32, first-layer activation exp, {datetime.datetime.now().isoformat(timespec='seconds')}",
         f"# {cpu}; {os.cpu_count()} CPUs; load average at start {load_start}, "
         f"at end {' '.join(open('/proc/loadavg').read().split()[:3])}",
         f"# torch {any_torch.get('torch', '?')}, {any_torch.get('threads', '?')} threads, OpenBLAS openmp, "
         f"OPENBLAS_CORETYPE={any_torch.get('openblas_coretype') or '<unset>'}, torch.optim.Adam, validation batch "
         f"{sys.argv[3]} (loss only); seqjit train --threads 2 (the validation pass in chunks, the train step's loop nests on the kernel threads), "
         "validation loss + AUROC/AUPR/Pearson/Spearman",
         peak_line(peak) + "; an epoch counts 3 passes per trained sequence and 1 per validation sequence",
         f"{'model':<13} {'data':<22} {'train seqs':>10} {'batch':>5} {'epochs':>6} {'seqjit s/ep':>11} "
         f"{'torch s/ep':>10} {'torch/seqjit':>12} {'compile s':>9} {'seqjit loss':>11} {'torch loss':>10} "
         f"{'load s/t':>9} {'seqjit MB':>9} {'torch MB':>8}" + WORK_HEADER]
ratios = []
for model in models:
    s, t = seqjit.get(model), torch.get(model)
    any_side = s or t
    head = (f"{model:<13} {os.path.basename(any_side['data']):<22} {any_side['train_sequences']:>10} "
            f"{any_side['batch']:>5} {any_side['epochs']:>6}")
    if s is None or t is None:
        lines.append(f"{head} {'(seqjit failed)' if s is None else '(torch failed)':>11}")
        continue
    ratio = t["median_s"] / s["median_s"]
    ratios.append(ratio)
    compile_s = f"{s['compile_s']:.1f}" if s.get("compile_s") is not None else "?"
    lines.append(f"{head} {s['median_s']:>11.2f} {t['median_s']:>10.2f} {ratio:>12.3f} {compile_s:>9} "
                 f"{s['train_loss']:>11.4f} {t['train_loss']:>10.4f} "
                 f"{s['load_average'].split()[0] + '/' + t['load_average'].split()[0]:>9}"
                 f" {s.get('peak_rss_mb', float('nan')):>9.0f} {t.get('peak_rss_mb', float('nan')):>8.0f}"
                 + work_columns(s, peak)
                 + ("  NOISY (a side's median > 2x its min)"
                    if max(r["median_s"] / r["min_s"] for r in (s, t)) > 2 else ""))
if ratios:
    lines.append(f"# torch/seqjit geometric mean {math.exp(sum(map(math.log, ratios)) / len(ratios)):.3f} "
                 f"over {len(ratios)} models")
lines.append("# ratio > 1 means seqjit is faster; s/ep = median wall time of one epoch over epochs 2..E (epoch 1 "
             "alone if E = 1), training steps + validation pass; compile s = seqjit's cold compile of the train step "
             "and forward pass (`compiled in`), not in any epoch; loss = mean train loss of the last epoch (the two "
             "sides start from different initialisations and shuffles, so these differ: a sanity check only)")
lines.append("# seqjit reads each batch from the HDF5 file during the epoch; torch has the whole split in memory as "
             "float32 tensors, loaded before timing; MB = each process's peak RSS (seqjit's includes compiling, "
             "where the cache did not hold the programs; torch's the interpreter and libtorch)")
lines.append("# load s/t = 1-minute load average after seqjit's / torch's run: torch's 2 OpenMP threads slow down "
             "many times over when a third process takes a core, so a load well above 2 (torch's own two threads) "
             "means the ratio is not to be believed: rerun on a quiet machine")
try:
    busy = float(load_start.split()[0]) > 1.0
except ValueError:
    busy = False
if busy:
    lines.append(f"# WARNING: the machine was busy when the run started (1-minute load {load_start.split()[0]}): "
                 "these figures are not to be recorded")
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
if any(m not in seqjit or m not in torch for m in models):
    sys.exit(1)
EOF_PY
if [[ $RECORD -eq 1 ]]; then
  mkdir -p "$RESULTS"
  cp "$TABLE" "$RESULTS/train-epoch-cpu.txt"
  cp "$JSON" "$RESULTS/train-epoch-cpu.jsonl"
  record_relative_paths "$RESULTS/train-epoch-cpu.jsonl"
  echo "saved $RESULTS/train-epoch-cpu.txt and $RESULTS/train-epoch-cpu.jsonl"
else
  echo "table in $TABLE, JSON lines in $JSON (not recorded: pass --record to save them to $RESULTS)"
fi
exit $status
