# Sourced by the bench/run_*.sh scripts: build_bench_target TARGET builds one CMake target in $BUILD, under
# `flock /tmp/seqjit-build.lock` with -j2 when SEQJIT_BENCH_LOCK is set (a build directory shared with others).
build_bench_target() {
  echo "== building $1 in $BUILD"
  if [[ -n "${SEQJIT_BENCH_LOCK:-}" ]]; then
    flock /tmp/seqjit-build.lock cmake --build "$BUILD" --target "$1" -- -j2
  else
    cmake --build "$BUILD" --target "$1"
  fi
}
