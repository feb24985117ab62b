// bench_peak: the machine's measured FMA peak, the bound the other benchmarks' "% of peak" divides by. Each thread
// runs independent chains of vector FMAs (enough to cover the FMA units' latency) at the widest vector width the
// CPU executes (AVX-512, else AVX2), on 1 thread and on --threads threads at once; the best of --trials runs.
#include <fmt/format.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

/// Independent accumulators per thread: 2 FMA units x 4-5 cycles of latency need 10; 12 leaves room.
constexpr int kChains = 12;
constexpr int64_t kIterations = 20'000'000;

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

struct Width {
  const char *name;
  int lanes;
  float (*run)(int64_t);
};

/// GFLOP/s of `threads` threads running the chains at once (2 flops per lane per FMA).
double gflops(const Width &width, int threads) {
  std::vector<std::thread> workers;
  std::vector<float> sinks(static_cast<size_t>(threads));
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { sinks[static_cast<size_t>(t)] = width.run(kIterations); });
  for (std::thread &worker : workers)
    worker.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  volatile float keep = sinks[0];
  (void)keep;
  return 2.0 * width.lanes * kChains * static_cast<double>(kIterations) * threads / seconds / 1e9;
}

} // namespace

int main(int argc, char **argv) {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), trials = 5;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    std::string option = argv[i];
    if (option == "-h" || option == "--help") {
      std::printf("usage: bench_peak [--threads N] [--trials T] [--json FILE]\n"
                  "  The FMA peak in GFLOP/s at the widest vector width the CPU executes, on 1 and N threads\n"
                  "  (default: every hardware thread); the best of T trials (default 5). --json appends one object.\n");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_peak: %s needs a value\n", option.c_str());
      return 2;
    }
    std::string value = argv[++i];
    if (option == "--threads")
      threads = std::atoi(value.c_str());
    else if (option == "--trials")
      trials = std::atoi(value.c_str());
    else if (option == "--json")
      json = value;
    else {
      std::fprintf(stderr, "bench_peak: unknown option %s\n", option.c_str());
      return 2;
    }
    if ((option == "--threads" || option == "--trials") && std::atoi(value.c_str()) < 1) {
      std::fprintf(stderr, "bench_peak: %s must be a positive number, got '%s'\n", option.c_str(), value.c_str());
      return 2;
    }
  }
  __builtin_cpu_init();
  Width width = __builtin_cpu_supports("avx512f") ? Width{"AVX-512", 16, fmaChainsAvx512}
                                                  : Width{"AVX2", 8, fmaChainsAvx2};
  if (!__builtin_cpu_supports("avx512f") && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    std::fprintf(stderr, "bench_peak: the CPU has neither AVX-512 nor AVX2 with FMA\n");
    return 1;
  }
  double single = 0, all = 0;
  for (int trial = 0; trial < trials; ++trial) {
    single = std::max(single, gflops(width, 1));
    all = std::max(all, gflops(width, threads));
  }
  fmt::print("FMA peak ({}, float32): {:.1f} GFLOP/s on 1 thread, {:.1f} GFLOP/s on {} threads\n", width.name, single,
             all, threads);
  if (!json.empty()) {
    std::FILE *out = std::fopen(json.c_str(), "a");
    if (!out) {
      std::fprintf(stderr, "bench_peak: cannot write %s\n", json.c_str());
      return 1;
    }
    fmt::print(out, "{{\"side\": \"peak\", \"vector\": \"{}\", \"vector_bits\": {}, \"threads\": {}, "
                    "\"gflops\": {:.6g}, \"gflops_1_thread\": {:.6g}}}\n",
               width.name, width.lanes * 32, threads, all, single);
    std::fclose(out);
  }
  return 0;
}
