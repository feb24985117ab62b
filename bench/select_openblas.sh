# Sourced by bench/run_*.sh: PyTorch at its best on the CPU (DESIGN.md "Benchmarks"). Debian's torch links
# libblas.so.3, which is the netlib reference BLAS unless the OpenBLAS (openmp) alternative is selected; this
# selects it (installing libopenblas0-openmp if missing, as root), picks the OpenBLAS kernels for this CPU and
# exports OPENBLAS_CORETYPE and OMP_NUM_THREADS=2. Exits the calling script if that cannot be done.
echo "== selecting OpenBLAS (openmp) for libblas.so.3 / liblapack.so.3"
if ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: libopenblas0-openmp is not installed and this is not root; install it and rerun" >&2
    exit 1
  fi
  apt-get install -y libopenblas0-openmp
fi
for library in libblas.so.3 liblapack.so.3; do
  group=$library-x86_64-linux-gnu
  choice=$(update-alternatives --query "$group" | sed -n 's/^Alternative: \(.*openblas-openmp.*\)$/\1/p' | head -1)
  if [[ -z "$choice" ]]; then
    echo "error: no openblas-openmp alternative for $group (update-alternatives --query $group)" >&2
    exit 1
  fi
  current=$(update-alternatives --query "$group" | sed -n 's/^Value: //p')
  if [[ "$current" != "$choice" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "error: $group points at $current, not $choice; run as root to switch it" >&2
      exit 1
    fi
    update-alternatives --set "$group" "$choice"
  fi
  echo "   $group -> $(readlink -f /usr/lib/x86_64-linux-gnu/$library)"
done
# The image may force Haswell kernels; use the AVX-512 ones where the CPU has them, else let OpenBLAS detect.
if grep -qw avx512f /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
else
  unset OPENBLAS_CORETYPE
fi
export OMP_NUM_THREADS=2
echo "   OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OMP_NUM_THREADS=$OMP_NUM_THREADS"
