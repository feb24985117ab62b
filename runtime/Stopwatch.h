// Wall-clock seconds for the times the CLI and the benchmarks report (load, compile, run).
#pragma once

#include <chrono>

namespace seqjit {

/// Seconds since `start` on the steady clock.
inline double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace seqjit
