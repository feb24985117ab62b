#include "runtime/core/FmaPeak.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace seqjit {

namespace {

/// Independent accumulators per thread: 2 FMA units x 4-5 cycles of latency need 10; 12 leaves room.
constexpr int kChains = 12;

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float fmaChainsAvx2(int64_t iterations) {
  __m256 chains[kChains];
  for (int c = 0; c < kChains; ++c)
    chains[c] = _mm256_set1_ps(static_cast<float>(c));
  const __m256 scale = _mm256_set1_ps(0.999999f), shift = _mm256_set1_ps(1e-6f);
  for (int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c)
      chains[c] = _mm256_fmadd_ps(chains[c], scale, shift);
  __m256 sum = chains[0];
  for (int c = 1; c < kChains; ++c)
    sum = _mm256_add_ps(sum, chains[c]);
  return _mm256_cvtss_f32(sum);
}

__attribute__((target("avx512f"))) float fmaChainsAvx512(int64_t iterations) {
  __m512 chains[kChains];
  for (int c = 0; c < kChains; ++c)
    chains[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512 scale = _mm512_set1_ps(0.999999f), shift = _mm512_set1_ps(1e-6f);
  for (int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c)
      chains[c] = _mm512_fmadd_ps(chains[c], scale, shift);
  __m512 sum = chains[0];
  for (int c = 1; c < kChains; ++c)
    sum = _mm512_add_ps(sum, chains[c]);
  return _mm512_cvtss_f32(sum);
}
#endif

/// GFLOP/s of `threads` threads running `chains` at once (2 flops per lane per FMA).
double gflops(float (*chains)(int64_t), int lanes, int threads, int64_t iterations) {
  std::vector<std::thread> workers;
  std::vector<float> sinks(static_cast<size_t>(threads));
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { sinks[static_cast<size_t>(t)] = chains(iterations); });
  for (std::thread &worker : workers)
    worker.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  volatile float keep = sinks[0];
  (void)keep;
  return 2.0 * lanes * kChains * static_cast<double>(iterations) * threads / seconds / 1e9;
}

} // namespace

FmaPeak measureFmaPeak(int threads, int64_t iterations, int trials) {
  FmaPeak peak;
  peak.threads = std::max(1, threads);
#if defined(__x86_64__)
  __builtin_cpu_init();
  float (*chains)(int64_t) = nullptr;
  if (__builtin_cpu_supports("avx512f")) {
    peak.vector = "AVX-512";
    peak.vectorBits = 512;
    chains = fmaChainsAvx512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    peak.vector = "AVX2";
    peak.vectorBits = 256;
    chains = fmaChainsAvx2;
  }
  if (chains)
    for (int trial = 0; trial < std::max(1, trials); ++trial)
      peak.gflops = std::max(peak.gflops, gflops(chains, peak.vectorBits / 32, peak.threads, iterations));
#endif
  return peak;
}

} // namespace seqjit
