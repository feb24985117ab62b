// The machine's FMA peak, measured: what "% of peak" divides by (bench/ and the kernel profile). Each thread runs
// independent chains of vector FMAs, enough to cover the FMA units' latency, at the widest vector width the CPU
// executes (AVX-512, else AVX2).
#pragma once

#include <cstdint>

namespace seqjit {

struct FmaPeak {
  const char *vector = "none"; ///< "AVX-512", "AVX2", or "none" where the CPU has neither (then gflops is 0)
  int vectorBits = 0;
  int threads = 1;
  double gflops = 0; ///< float32, an FMA counting two operations per lane
};

/// The best of `trials` runs of `threads` threads each doing `iterations` rounds of the chains at once. A round is
/// 12 FMAs per thread: 20,000,000 rounds take about 0.1 s at 2.5 GHz.
FmaPeak measureFmaPeak(int threads, int64_t iterations = 20'000'000, int trials = 5);

} // namespace seqjit
