#!/usr/bin/env bash
# The main demo, on the CPU: generates the papers' synthetic Task 3, trains CNN-deep on it with an exponential and
# with a relu first layer (and exp with the Fourier attribution prior), trains ResidualBind-exp on the real IRF1
# ChIP-seq data, and prints the test AUROC/AUPR of each run. About 4 minutes on 2 cores after the build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${SEQJIT_DATA:-$root/data}"
[ -f "$data/IRF1_400_h3k27ac.h5" ] || { echo "demo: $data/IRF1_400_h3k27ac.h5 not found (set SEQJIT_DATA)"; exit 1; }
bash "$root/tools/build.sh"
seqjit="$root/build/bin/seqjit"
work="$root/build/demo"
# Each run of the demo trains from scratch: its own earlier run directories go (train refuses to overwrite a
# checkpoint without --resume).
rm -rf "$work"/task3-cnn-deep-exp "$work"/task3-cnn-deep-relu "$work"/task3-cnn-deep-exp-fourier \
  "$work"/irf1-residualbind-exp
mkdir -p "$work"
epochs="${SEQJIT_DEMO_EPOCHS:-4}"

echo "== Task 3 (Koo & Ploenzke 2021): 20,000 x 200 nt, positives carry 3-5 core motifs"
"$seqjit" generate-data task3 --out "$work/task3.h5" --seed 0 \
  --motifs "$data/motifs/JASPAR_CORE_2016_vertebrates.meme"
for run in exp relu exp-fourier; do
  activation="${run%%-*}"
  prior=()
  # Tseng et al.'s T = 150 for 1000 nt, scaled to 200 nt.
  [ "$run" = exp-fourier ] && prior=(--fourier-prior T=30,s=0.2,sigma=3,lambda=1)
  echo
  echo "== CNN-deep, first layer $run, on Task 3 ($epochs epochs)"
  "$seqjit" train cnn-deep --activation "$activation" "${prior[@]}" --data "$work/task3.h5" --epochs "$epochs" \
    --out "$work/task3-cnn-deep-$run"
done
echo
echo "== ResidualBind-exp on IRF1 ChIP-seq (2,724 training sequences x 400 nt; the quick recipe)"
"$seqjit" train residualbind --activation exp --data "$data/IRF1_400_h3k27ac.h5" --out "$work/irf1-residualbind-exp"

echo
echo "== test metrics (each run's test_metrics.json)"
/usr/bin/python3 - "$work" <<'PY'
import json, sys, pathlib
work = pathlib.Path(sys.argv[1])
print(f"{'run':<34} {'AUROC':>7} {'AUPR':>7}")
for name in ["task3-cnn-deep-exp", "task3-cnn-deep-relu", "task3-cnn-deep-exp-fourier", "irf1-residualbind-exp"]:
    m = json.loads((work / name / "test_metrics.json").read_text())
    print(f"{name:<34} {m['auroc']:>7.4f} {m['aupr']:>7.4f}")
print("(Koo & Ploenzke report test AUROC 0.982 for ResidualBind-exp on IRF1)")
PY
